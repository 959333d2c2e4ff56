/* See console.h. */
#include "console.h"
#include "../fdpass.h"
#include "listen.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

int console_listen(const char *name)
{
	return unix_listen(name, 1);
}

int console_receive(int listen_fd)
{
	int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return errno == EAGAIN ? -2 : nbx_fail_errno("accept on the console socket");
	int master = fd_recv(conn);
	int err = errno;
	close(conn);
	if (master < 0) {
		errno = err;
		return err == EBADMSG ? nbx_fail("console socket: no pty master received") : nbx_fail_errno("console socket: recvmsg");
	}
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	return master;
}

void console_resize(int master, unsigned rows, unsigned cols)
{
	if (master < 0 || rows == 0 || cols == 0)
		return;
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	ioctl(master, TIOCSWINSZ, &ws);
}
