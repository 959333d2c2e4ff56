/*
 * nestbox-runtime exec: start one more process in a running container, found by the pid of one of
 * its processes (its pid 1, as the pid file of `run` gives it):
 *
 *   nestbox-runtime exec --pid PID (--process FILE | -- CMD [ARG...]) [--console-socket PATH]
 *                        [--status-file FILE] [--pid-file FILE]
 *
 * It joins every namespace of PID that differs from ours (the user namespace first, so the
 * others are joined with container root's privileges), its cgroups, and its root; then the
 * process is set up as `run` sets up the command (cwd, rlimits, user, capabilities,
 * no_new_privs, environment, terminal) and exec'd. The runtime stays its parent, forwards
 * signals, and exits with its exit code; status and pid files as with `run`.
 */
#ifndef NBX_EXEC_H
#define NBX_EXEC_H

#include "status.h"

#include <sys/types.h>

struct nbx_spec;

struct exec_opts {
	pid_t target;
	const char *pid_file;       /* may be NULL */
	const char *console_socket; /* may be NULL */
};

/* Runs the process to completion and fills R like runtime_run. Never exits itself. */
void exec_run(const struct nbx_spec *s, const struct exec_opts *o, struct nbx_result *r);

/* The `exec` subcommand (argv[1] == "exec"): parses, runs, reports; returns the exit code. */
int exec_main(int argc, char **argv);

#endif
