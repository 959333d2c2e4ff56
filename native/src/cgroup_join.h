/*
 * exec: the cgroups of a running process, as directories on the host's cgroup mounts, so a new
 * process can be put in the same ones (v1 hierarchies and the v2 one alike).
 */
#ifndef NBX_CGROUP_JOIN_H
#define NBX_CGROUP_JOIN_H

#include "spec.h"

#include <sys/types.h>

/*
 * The cgroup directories of PID in the hierarchies where it is not in the same cgroup as we are
 * (joining the others changes nothing), read from /proc/PID/cgroup and our mountinfo. Must run
 * in the host's mount and cgroup namespaces. A hierarchy that is not mounted here is skipped.
 * -1 with nbx_err.
 */
int cgroup_dirs_of(pid_t pid, struct strv *out);

/* Writes PID into DIR/cgroup.procs for each of DIRS. -1 with nbx_err. */
int cgroup_join_dirs(pid_t pid, const struct strv *dirs);

#endif
