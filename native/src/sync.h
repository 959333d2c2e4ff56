/*
 * The parent <-> child protocol over a SOCK_SEQPACKET socketpair (one message per send, and
 * close-on-exec: a successful execve closes the child's end, so EOF after READY means the
 * command is running).
 *
 *   parent -> child  GO     maps written, cgroups joined: carry on
 *   child  -> parent READY  set up, about to exec: the parent writes the pid file
 *   parent -> child  ACK    pid file written: exec
 *   child  -> parent ERR    setup or exec failed: exit code, stage, one line; then the child exits
 *   child  -> parent PID    exec only: the pid of the process forked into the target's pid
 *                           namespace (in exit_code), which is the one to wait for
 */
#ifndef NBX_SYNC_H
#define NBX_SYNC_H

#include "util.h"

enum { SYNC_GO = 'G', SYNC_READY = 'R', SYNC_ACK = 'A', SYNC_ERR = 'E', SYNC_PID = 'P' };

struct sync_msg {
	char kind;
	int exit_code;
	char stage[8];
	char msg[NBX_ERRLEN];
};

int sync_pair(int sv[2]);
int sync_send(int fd, char kind);
int sync_send_err(int fd, int exit_code, const char *stage, const char *msg);
int sync_send_pid(int fd, int pid);
/* 1: a message, 0: EOF (peer closed/exec'd), -1: error. EINTR is retried. */
int sync_recv(int fd, struct sync_msg *m);
/* Blocks for one message of KIND; -1 on EOF or anything else. */
int sync_expect(int fd, char kind);

#endif
