/* The container process itself: limits, identity, environment, exec. */
#ifndef NBX_PROCESS_H
#define NBX_PROCESS_H

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
 * execve() of process.args, searching $PATH of the container's environment for a name without
 * '/' (execvp's search minus its /bin/sh fallback for ENOEXEC). Returns only on failure: the exit
 * code (127 not found, 126 cannot execute) with nbx_err in docker's words.
 */
int process_exec(const struct nbx_spec *s);

#endif
