/* The runtime's wait for the process it set up, shared by `run` (pid 1) and `exec`. */
#ifndef NBX_SUPERVISE_H
#define NBX_SUPERVISE_H

#include "status.h"

#include <sys/types.h>

/*
 * Until PID (our child, being set up on the other end of FD: sync.h) has exited: answers its
 * READY by writing PID_FILE (if any) and ACK, records a SYNC_ERR it sends, and forwards every
 * signal read from SIGFD to it but SIGCHLD, which reaps it. R gets its exit code (128+N for a
 * signal), or 125 naming WHAT when it exited before its exec without a word. FD and SIGFD stay
 * open.
 */
void supervise(pid_t pid, int fd, int sigfd, const char *pid_file, const char *what, struct nbx_result *r);

#endif
