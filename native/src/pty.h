/*
 * process.terminal: a pty from the container's own devpts instance, handed to the caller the
 * OCI way (--console-socket: the master goes over a unix socket with SCM_RIGHTS, as runc/crun).
 */
#ifndef NBX_PTY_H
#define NBX_PTY_H

struct nbx_spec;

/*
 * The connection to the caller's console socket, made by the runtime before the container
 * exists (the path is the caller's, unreachable after pivot_root); the container process
 * inherits it (close-on-exec) and sends the master over it. -1 without a terminal.
 */
extern int pty_console_fd;

/*
 * In the runtime, before clone/fork: checks that process.terminal and --console-socket go
 * together and connects to SOCKET_PATH. -1 with nbx_err.
 */
int pty_prepare(const struct nbx_spec *s, const char *socket_path);

/* In the runtime once the child has its copy. */
void pty_parent_close(void);

/*
 * In the container, with its /dev/pts mounted and / pivoted, as container root: opens
 * /dev/pts/ptmx, gives the slave to process.user and process.consoleSize to it, sends the master
 * to the caller, then makes the slave our controlling terminal (new session) and stdin, stdout,
 * stderr. -1 with nbx_err.
 */
int pty_setup(const struct nbx_spec *s);

#endif
