/* The config's mounts, in order, under the container root (before pivot_root). */
#ifndef NBX_MOUNTS_H
#define NBX_MOUNTS_H

struct nbx_spec;

/*
 * Performs every entry of "mounts" under ROOTFD (an fd of the container's root mount), creating
 * missing mount points. -1 with nbx_err ("mount proc on /proc: Operation not permitted").
 */
int mounts_setup(const struct nbx_spec *s, int rootfd);

/*
 * The flags a remount of the mount at FD must keep: nosuid/nodev/noexec/ro/atime that the kernel
 * locked when the mount was copied into our less privileged namespace (dropping one is EPERM).
 */
unsigned long mount_kept_flags(int fd);

/* Remounts the mount at PATH read-only, keeping its locked flags. */
int remount_readonly(const char *path);

#endif
