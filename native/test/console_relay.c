/*
 * Test tool, not installed: the receiving end of --console-socket, as a terminal emulator would
 * be. `nbx-console-relay SOCKET -- RUNTIME ARGS...` listens on SOCKET, runs the runtime, takes
 * the pty master it sends (SCM_RIGHTS) and relays: its stdin -> master, master -> its stdout.
 * Lines on fd 3 (when open) are commands: "winsize ROWS COLS" sets the master's window size.
 * Exits with the runtime's exit code (128+N for a signal) once the output is drained.
 */
#include "../src/fdpass.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "nbx-console-relay: %s: %s\n", what, strerror(errno));
	exit(125);
}

static int exit_code(int st)
{
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void copy(int from, int to, int *open_flag)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof buf);
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		*open_flag = 0; /* EOF, or EIO: the last slave descriptor is closed */
		return;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno != EINTR)
			return;
		off += w > 0 ? w : 0;
	}
}

static void control(int ctl, int master, int *ctl_open)
{
	static char line[256];
	static size_t len;
	ssize_t n = read(ctl, line + len, sizeof line - 1 - len);
	if (n <= 0) {
		*ctl_open = 0;
		return;
	}
	len += (size_t)n;
	char *nl;
	while ((nl = memchr(line, '\n', len))) {
		*nl = 0;
		unsigned rows, cols;
		if (master >= 0 && sscanf(line, "winsize %u %u", &rows, &cols) == 2) {
			struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
			if (ioctl(master, TIOCSWINSZ, &ws) < 0)
				die("TIOCSWINSZ");
		}
		len -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, len);
	}
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[2], "--")) {
		fprintf(stderr, "usage: nbx-console-relay SOCKET -- COMMAND [ARG...]\n");
		return 125;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
	unlink(argv[1]);
	int lst = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lst < 0 || bind(lst, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lst, 1) < 0)
		die("listen on the console socket");

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	int ctl_open = fcntl(3, F_GETFD) >= 0;
	if (ctl_open)
		fcntl(3, F_SETFD, FD_CLOEXEC);
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		/* A test that gives up kills us: the runtime (and so its container) goes too. */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		sigprocmask(SIG_UNBLOCK, &mask, NULL);
		execv(argv[3], argv + 3);
		die("exec");
	}

	int master = -1, conn = -1, in_open = 1, master_open = 0, status = 0, exited = 0;
	/* The runtime may be gone before we took the master it sent: go on until that is drained. */
	while (!(exited && master >= 0 && !master_open)) {
		struct pollfd p[5] = {
			{.fd = sfd, .events = POLLIN},
			{.fd = conn >= 0 || master >= 0 ? -1 : lst, .events = POLLIN},
			{.fd = conn >= 0 ? conn : -1, .events = POLLIN},
			{.fd = master_open ? master : -1, .events = POLLIN},
			{.fd = in_open && master_open ? 0 : -1, .events = POLLIN},
		};
		struct pollfd c = {.fd = ctl_open ? 3 : -1, .events = POLLIN};
		struct pollfd all[6];
		memcpy(all, p, sizeof p);
		all[5] = c;
		/* After the runtime exited, drain what is left without blocking. */
		if (poll(all, 6, exited ? 100 : -1) <= 0) {
			if (exited)
				break;
			continue;
		}
		if (all[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si && waitpid(child, &status, WNOHANG) == child)
				exited = 1;
		}
		if (all[1].revents & POLLIN)
			conn = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
		if (all[2].revents & (POLLIN | POLLHUP)) {
			master = fd_recv(conn);
			close(conn);
			conn = -1;
			master_open = master >= 0;
		}
		if (all[3].revents & (POLLIN | POLLHUP | POLLERR))
			copy(master, 1, &master_open);
		if (all[4].revents & (POLLIN | POLLHUP))
			copy(0, master, &in_open);
		if (all[5].revents & (POLLIN | POLLHUP))
			control(3, master, &ctl_open);
	}
	unlink(argv[1]);
	return exit_code(status);
}
