/* Writing the container's uid/gid maps from the parent. */
#ifndef NBX_IDMAP_H
#define NBX_IDMAP_H

#include <sys/types.h>

struct nbx_spec;

/*
 * Maps the user namespace of PID (a fresh child, waiting) from linux.uidMappings/gidMappings.
 * -1 with nbx_err.
 */
int idmap_apply(pid_t pid, const struct nbx_spec *s);

#endif
