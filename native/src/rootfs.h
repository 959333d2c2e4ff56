/* The container's root: overlay (or a bind of root.path), pivot_root, read-only root. */
#ifndef NBX_ROOTFS_H
#define NBX_ROOTFS_H

struct nbx_spec;

/*
 * Makes "/" rprivate (nothing we mount propagates to the host), then mounts the root on
 * root.path: overlay when the io.nestbox.overlay.* annotations are present, else a recursive
 * bind of root.path onto itself (pivot_root needs a mount point). Returns an O_PATH fd of the
 * mounted root, or -1 with nbx_err.
 */
int rootfs_mount(const struct nbx_spec *s);

/* chdir(root); pivot_root(".", "."); detach the old root; chdir("/"). -1 with nbx_err. */
int rootfs_pivot(const char *root);

/* root.readonly: remount "/" read-only (after the masks, which need to create nothing). */
int rootfs_finish(const struct nbx_spec *s);

#endif
