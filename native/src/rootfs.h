/* The container's root: overlay (or a bind of root.path), pivot_root, read-only root. */
#ifndef NBX_ROOTFS_H
#define NBX_ROOTFS_H

#include <stdbool.h>

struct nbx_spec;

/* An overlay is mounted: an upper dir, or more than one lower (one lower alone is a bind). */
bool rootfs_overlay_needed(const struct nbx_spec *s);

/* The overlay is fuse-overlayfs (io.nestbox.overlay.driver "fuse"), mounted by the parent. */
bool rootfs_is_fuse(const struct nbx_spec *s);

/*
 * "lowerdir=..,upperdir=..,workdir=.." + EXTRA (e.g. ",userxattr"), malloc'd; NULL with nbx_err
 * when a layer path contains ',' or '\' (it would be misparsed).
 */
char *rootfs_overlay_options(const struct nbx_spec *s, const char *extra);

/*
 * nbx_fail_errno(FMT, PATH), and on EACCES the hint that container root (host uid N) must be
 * able to search every directory above the layers and root.path. Returns -1.
 */
int rootfs_access_error(const struct nbx_spec *s, const char *fmt, const char *path);

/*
 * Makes "/" rprivate (nothing we mount propagates to the host), then mounts the root on
 * root.path: overlay when the io.nestbox.overlay.* annotations are present, else a recursive
 * bind of root.path onto itself (pivot_root needs a mount point). With the fuse driver the
 * overlay is already there (made by fuse-overlayfs before GO): nothing is mounted. Returns an O_PATH fd of the
 * mounted root, or -1 with nbx_err.
 */
int rootfs_mount(const struct nbx_spec *s);

/* chdir(root); pivot_root(".", "."); detach the old root; chdir("/"). -1 with nbx_err. */
int rootfs_pivot(const char *root);

/* root.readonly: remount "/" read-only (after the masks, which need to create nothing). */
int rootfs_finish(const struct nbx_spec *s);

#endif
