/*
 * The fuse driver (annotation io.nestbox.overlay.driver "fuse"): the container's root is a
 * fuse-overlayfs mount, for kernels whose overlay cannot be mounted in a user namespace
 * (< 5.11, no `userxattr`). The daemon is the runtime's child, never the container's:
 *
 *  - it joins the container's user namespace (so it is container root and ownership inside is
 *    as with the kernel's overlay) and mount namespace, makes root.path a shared bind mount
 *    there, then moves to a mount namespace of its own (a copy, whose root.path is a peer) and
 *    mounts fuse-overlayfs on root.path: the mount propagates into the container's namespace.
 *    It must not stay in the container's mount namespace: pivot_root re-roots every process of
 *    that namespace into the new root, where the daemon's absolute paths (/proc/self/fd/N, the
 *    upper dir) would resolve inside its own file system;
 *  - it is not in the container's pid namespace (the container's `ps` does not see it) and not
 *    in its cgroups;
 *  - the parent waits until the mount shows in /proc/CHILD/mountinfo before it sends GO; after
 *    the container's exit it stops the daemon (SIGTERM, then SIGKILL) and reaps it. The
 *    daemon's mount namespace, and the mount in it, go with it. If the runtime dies, the
 *    daemon gets SIGTERM (parent-death signal).
 */
#ifndef NBX_FUSE_OVERLAY_H
#define NBX_FUSE_OVERLAY_H

#include <stdbool.h>
#include <sys/types.h>

struct nbx_spec;

struct fuse_overlay {
	char *bin; /* absolute path of fuse-overlayfs */
	pid_t pid; /* the daemon; -1 when none runs */
};

#define FUSE_OVERLAY_INIT {.bin = NULL, .pid = -1}

/*
 * Finds fuse-overlayfs on the runtime's PATH. -1 with nbx_err
 * "fuse-overlayfs not found: install the fuse-overlayfs package".
 */
int fuse_overlay_find(struct fuse_overlay *f);

/*
 * Starts the daemon for the container process CHILD (created, mapped, waiting for GO) and
 * returns once the overlay is mounted on root.path in CHILD's mount namespace. USERNS: CHILD
 * runs in a user namespace (the daemon then becomes its root). -1 with nbx_err; a daemon that
 * was started is then stopped already.
 */
int fuse_overlay_start(struct fuse_overlay *f, const struct nbx_spec *s, pid_t child, bool userns);

/* Stops the daemon (SIGTERM, SIGKILL after a grace period), reaps it. Nothing when none runs. */
void fuse_overlay_stop(struct fuse_overlay *f);

#endif
