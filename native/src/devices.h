/* /dev inside the container: device nodes and the standard symlinks. */
#ifndef NBX_DEVICES_H
#define NBX_DEVICES_H

struct nbx_spec;

/*
 * linux.devices: a user namespace cannot mknod, so each device is the host's node at the same
 * path bind-mounted onto an empty file (what crun does rootless). Then, when the config mounts
 * its own /dev, the symlinks fd, stdin, stdout, stderr and ptmx. -1 with nbx_err.
 */
int devices_setup(const struct nbx_spec *s, int rootfd);

#endif
