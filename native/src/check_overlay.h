/*
 * `nestbox-runtime check overlay --dir DIR`: which overlay driver works for the calling user on
 * DIR's file system. In a forked child with a user namespace that maps only the caller (written
 * by itself after `deny` to setgroups) and a mount namespace, it mounts the kernel's overlay
 * with `userxattr` on lower/upper/work/merged dirs made in a temporary directory under DIR, and
 * does what containers need of it: create a file, copy up, whiteout, opaque dir. The temporary
 * directory is removed afterwards.
 *
 * Prints `kernel` (it all works: kernel >= 5.11) or `fuse` (the kernel's reason on stderr,
 * one line) and returns 0; returns 125 with one line on stderr when the probe itself fails
 * (DIR unusable, no user namespaces).
 */
#ifndef NBX_CHECK_OVERLAY_H
#define NBX_CHECK_OVERLAY_H

int check_overlay(const char *dir);

#endif
