/* The parent side of `run`: create the container, drive its setup, wait for it. */
#ifndef NBX_RUNTIME_H
#define NBX_RUNTIME_H

#include "status.h"

struct nbx_spec;

struct run_opts {
	const char *pid_file; /* may be NULL */
	const char *console_socket; /* --console-socket: where the pty master goes; may be NULL */
};

/*
 * Runs the container to completion and fills R: the container's own exit code, 128+N for a
 * signal, or 125/126/127 with a one-line error and the stage that failed. Never exits itself.
 */
void runtime_run(const struct nbx_spec *s, const struct run_opts *o, struct nbx_result *r);

#endif
