/* See supervise.h. */
#include "supervise.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void record_error(struct nbx_result *r, const struct sync_msg *m)
{
	result_set_error(r, m->exit_code, strcmp(m->stage, "exec") ? "setup" : "exec", m->msg);
}

void supervise(pid_t pid, int fd, int sigfd, const char *pid_file, const char *what, struct nbx_result *r)
{
	int sock_open = 1, acked = 0, status = 0;
	struct sync_msg m;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
		if (poll(pfd, sock_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			nbx_fail_errno("poll");
			result_set_error(r, 125, "setup", nbx_err);
			kill_and_reap(pid);
			return;
		}
		if (sock_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (sync_recv(fd, &m) <= 0) {
				sock_open = 0; /* exec'd, or gone */
			} else if (m.kind == SYNC_ERR) {
				record_error(r, &m);
			} else if (m.kind == SYNC_READY) {
				if (pid_file && pidfile_write(pid_file, pid) < 0) {
					result_set_error(r, 125, "setup", nbx_err);
					kill_and_reap(pid);
					return;
				}
				acked = sync_send(fd, SYNC_ACK) == 0;
			}
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof si) != sizeof si)
				continue;
			if ((int)si.ssi_signo != SIGCHLD)
				kill(pid, (int)si.ssi_signo);
			else if (waitpid(pid, &status, WNOHANG) == pid) /* others (newuidmap) are reaped where run */
				break;
		}
	}
	/* An error sent just before exiting is still in the socket. */
	while (sock_open) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 0) <= 0 || sync_recv(fd, &m) <= 0)
			break;
		if (m.kind == SYNC_ERR)
			record_error(r, &m);
	}
	if (r->stage)
		return; /* it said why it exited */
	if (WIFSIGNALED(status)) {
		r->signal = WTERMSIG(status);
		r->exit_code = 128 + r->signal;
	} else if (!acked) {
		/* exited before its exec without a word: should not happen, but never report success */
		char msg[NBX_ERRLEN];
		snprintf(msg, sizeof msg, "%s exited during setup", what);
		result_set_error(r, 125, "setup", msg);
	} else {
		r->exit_code = WEXITSTATUS(status);
	}
}
