/* The shim's state, shared by main.c (start-up) and serve.c (the container's life). */
#ifndef NBX_SHIM_SHIM_H
#define NBX_SHIM_SHIM_H

#include "attach.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MAX_CGROUPS 16

struct opts {
	const char *dir, *bundle, *runtime, *id;
	char *cgroups[MAX_CGROUPS];
	int ncgroups;
	bool stdin_pipe, wait_attach, terminal;
	/* exec mode: `RUNTIME exec` of PROCESS into the container whose pid 1 is EXEC_PID; the
	 * bundle is the container's (its config.json carries the seccomp filter) */
	const char *exec_pid, *process;
	bool cleanup; /* remove DIR and what the shim wrote there once the clients have the exit */
};

struct shim {
	struct opts o;
	int sync_fd;  /* handshake pipe, -1 once answered */
	int log_fd;
	int out_fd, err_fd;  /* read ends of the container's stdout/stderr, -1 at EOF */
	int in_fd;           /* write end of the container's stdin (pipe, or the pty master's dup), -1 when closed */
	int console_fd;      /* --terminal: listening for the runtime's pty master, -1 once received */
	int tty_fd;          /* --terminal: the pty master, the container's only output, -1 at EOF */
	unsigned rows, cols; /* the last size asked for: applied when the master arrives */
	char *in_buf;
	size_t in_len;
	bool in_end;         /* a client asked to close stdin once the buffer is written */
	int sig_fd, ino_fd;
	bool watching;       /* for the runtime's pid file */
	pid_t runtime;
	int runtime_status;
	bool runtime_done;
	pid_t container;
	struct attach at;
};

/* One line to the starter, then the pipe is closed (see main.c). */
void handshake(struct shim *s, const char *error, const char *exit_line);
/* Forks the runtime with the container's stdio; the shim keeps the other ends. -1 with nbx_err. */
int start_runtime(struct shim *s);
/* The poll loop: until the runtime is reaped and every output stream reached EOF. */
void serve(struct shim *s);
/* exit.json, the exit frame to attach clients, the handshake if still due; then clients go. */
void finish(struct shim *s);

#endif
