/* See pty.h. */
#include "pty.h"
#include "fdpass.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int pty_console_fd = -1;

int pty_prepare(const struct nbx_spec *s, const char *socket_path)
{
	if (s->terminal && !socket_path)
		return nbx_fail("process.terminal needs --console-socket (the pty master is sent there)");
	if (!s->terminal && socket_path)
		return nbx_fail("--console-socket %s given but process.terminal is false", socket_path);
	if (!s->terminal)
		return 0;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof addr.sun_path)
		return nbx_fail("--console-socket %s: path too long (at most %zu bytes)", socket_path, sizeof addr.sun_path - 1);
	strcpy(addr.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nbx_fail_errno("console socket: socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		nbx_fail_errno("connect to console socket %s", socket_path);
		close(fd);
		return -1;
	}
	pty_console_fd = fd;
	return 0;
}

void pty_parent_close(void)
{
	if (pty_console_fd >= 0)
		close(pty_console_fd);
	pty_console_fd = -1;
}

int pty_setup(const struct nbx_spec *s)
{
	/* The ptmx of the devpts instance mounted for the container, not the host's /dev/ptmx. */
	int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return nbx_fail_errno("process.terminal: open /dev/pts/ptmx (the config must mount a devpts on /dev/pts)");
	int slave = -1;
	if (unlockpt(master) < 0) {
		nbx_fail_errno("process.terminal: unlockpt");
		goto fail;
	}
	/* By the master, not by a path: nothing in the rootfs can stand in for the slave. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		nbx_fail_errno("process.terminal: open the pty slave (TIOCGPTPEER)");
		goto fail;
	}
	if (fchown(slave, s->uid, s->gid) < 0) {
		nbx_fail_errno("process.terminal: chown the pty slave to %u:%u", s->uid, s->gid);
		goto fail;
	}
	if (s->console_rows && s->console_cols) {
		struct winsize ws = {.ws_row = (unsigned short)s->console_rows, .ws_col = (unsigned short)s->console_cols};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0) {
			nbx_fail_errno("process.terminal: set consoleSize");
			goto fail;
		}
	}
	if (fd_send(pty_console_fd, master) < 0) {
		nbx_fail_errno("process.terminal: send the pty master to the console socket");
		goto fail;
	}
	close(master);
	close(pty_console_fd);
	pty_console_fd = -1;
	if (setsid() < 0)
		return nbx_fail_errno("process.terminal: setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return nbx_fail_errno("process.terminal: make the pty the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return nbx_fail_errno("process.terminal: dup2 the pty slave to %d", fd);
	close(slave);
	return 0;
fail:
	if (slave >= 0)
		close(slave);
	close(master);
	return -1;
}
