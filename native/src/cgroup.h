/* Placing the container process in its cgroups, and its OOM score: resource settings the parent applies. */
#ifndef NBX_CGROUP_H
#define NBX_CGROUP_H

#include <sys/types.h>

struct nbx_spec;

/*
 * Writes PID into DIR/cgroup.procs for each directory of the io.nestbox.cgroup.paths annotation.
 * Done by the parent while the child waits, so the process is charged before it runs anything.
 */
int cgroup_place(pid_t pid, const struct nbx_spec *s);

/*
 * process.oomScoreAdj, written by the parent to /proc/PID/oom_score_adj before GO: once the
 * child changes its credentials it is not dumpable and its /proc files belong to global root,
 * which container root cannot write. The exec'd command inherits the value.
 */
int oom_score_set(pid_t pid, const struct nbx_spec *s);

#endif
