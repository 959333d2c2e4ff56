/* See sync.h. */
#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int sync_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return nbx_fail_errno("socketpair");
	return 0;
}

static int send_msg(int fd, const struct sync_msg *m)
{
	ssize_t n;
	/* MSG_NOSIGNAL: a dead peer must give EPIPE, not kill us with SIGPIPE. */
	do
		n = send(fd, m, sizeof *m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *m ? 0 : -1;
}

int sync_send(int fd, char kind)
{
	struct sync_msg m;
	memset(&m, 0, sizeof m);
	m.kind = kind;
	return send_msg(fd, &m);
}

int sync_send_err(int fd, int exit_code, const char *stage, const char *msg)
{
	struct sync_msg m;
	memset(&m, 0, sizeof m);
	m.kind = SYNC_ERR;
	m.exit_code = exit_code;
	strncpy(m.stage, stage, sizeof m.stage - 1);
	strncpy(m.msg, msg, sizeof m.msg - 1);
	return send_msg(fd, &m);
}

int sync_send_pid(int fd, int pid)
{
	struct sync_msg m;
	memset(&m, 0, sizeof m);
	m.kind = SYNC_PID;
	m.exit_code = pid;
	return send_msg(fd, &m);
}

int sync_recv(int fd, struct sync_msg *m)
{
	ssize_t n;
	do
		n = recv(fd, m, sizeof *m, 0);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof *m)
		return -1;
	m->stage[sizeof m->stage - 1] = 0;
	m->msg[sizeof m->msg - 1] = 0;
	return 1;
}

int sync_expect(int fd, char kind)
{
	struct sync_msg m;
	return sync_recv(fd, &m) == 1 && m.kind == kind ? 0 : -1;
}
