/*
 * --init (annotation io.nestbox.init "true"): the container's pid 1 stays the runtime's own
 * code, like tini or catatonit, and the command runs as its child. It reaps every process that
 * ends up as its child (orphans of double forks included), forwards the termination and job
 * signals to the command, and exits with the command's exit code, or 128+N when a signal N
 * killed it.
 */
#ifndef NBX_INIT_H
#define NBX_INIT_H

struct nbx_spec;

/*
 * Called in the container instead of the exec, fully set up (identity, environment): forks the
 * command, which execs process.args as COMMAND (process_resolve's file; an exec failure goes to
 * the runtime over SYNC_FD, as without init), and stays in the wait loop. Never returns.
 */
void init_main(const struct nbx_spec *s, int sync_fd, const char *command) __attribute__((noreturn));

#endif
