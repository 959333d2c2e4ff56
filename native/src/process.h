/* The container process itself: limits, identity, environment, exec. */
#ifndef NBX_PROCESS_H
#define NBX_PROCESS_H

#include <stddef.h>

struct nbx_spec;

/*
 * process.rlimits, never raising a hard limit; late, so a low RLIMIT_NOFILE cannot starve the
 * setup of descriptors. -1 with nbx_err.
 */
int process_limits(const struct nbx_spec *s);

/* chdir(process.cwd), umask, then groups, gid, uid and capabilities. -1 with nbx_err. */
int process_identity(const struct nbx_spec *s);

/* clearenv() + process.env. */
void process_environment(const struct nbx_spec *s);

/*
 * The file process.args[0] names, as execve() would run it: itself if it has a '/', else found in
 * $PATH of the container's environment (execvp's search minus its /bin/sh fallback for ENOEXEC),
 * into OUT. 0, or the exit code (127 not found, 126 cannot execute) with nbx_err in docker's
 * words. Called before the runtime reports the container started too, so that a command that
 * is not there fails the start (as runc's lookup before its exec fifo), not the running container.
 */
int process_resolve(const struct nbx_spec *s, char *out, size_t len);

/* execve() of process.args as PATH (what process_resolve found). Returns only on failure: its exit code. */
int process_exec(const struct nbx_spec *s, const char *path);

#endif
