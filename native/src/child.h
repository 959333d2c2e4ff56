/* The container process between clone() and execve(). */
#ifndef NBX_CHILD_H
#define NBX_CHILD_H

struct nbx_spec;
struct ns_plan;

/*
 * Runs in the cloned child: waits for the parent's GO, sets up the container and execs the
 * command. Never returns; failures go to the parent over SYNC_FD as one line.
 */
void child_main(const struct nbx_spec *s, const struct ns_plan *p, int sync_fd) __attribute__((noreturn));

#endif
