/*
 * See rootfs.h. Must run in the child's own mount namespace only: a pivot_root + detach in a
 * namespace shared with the parent re-roots the parent too (STACK.md).
 */
#include "rootfs.h"
#include "mounts.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * EACCES here nearly always means the caller's directory modes: the mounts are made by
 * container root (host uid = its mapping), which must be able to search every directory
 * above the layers and root.path. Say so, since the bare errno does not.
 */
int rootfs_access_error(const struct nbx_spec *s, const char *fmt, const char *path)
{
	int err = errno;
	nbx_fail_errno(fmt, path);
	if (err != EACCES)
		return -1;
	size_t n = strlen(nbx_err);
	for (size_t i = 0; i < s->nuid_maps; i++)
		if (s->uid_maps[i].container_id == 0) {
			snprintf(nbx_err + n, sizeof nbx_err - n,
				 " (container root is host uid %u: it must be able to search every directory above the layers and root.path)",
				 s->uid_maps[i].host_id);
			return -1;
		}
	snprintf(nbx_err + n, sizeof nbx_err - n,
		 " (container root must be able to search every directory above the layers and root.path)");
	return -1;
}

bool rootfs_overlay_needed(const struct nbx_spec *s)
{
	return s->ov_lower && (s->ov_upper || strchr(s->ov_lower, ':'));
}

bool rootfs_is_fuse(const struct nbx_spec *s)
{
	return s->ov_fuse && rootfs_overlay_needed(s);
}

char *rootfs_overlay_options(const struct nbx_spec *s, const char *extra)
{
	const char *dirs[] = {s->ov_lower, s->ov_upper, s->ov_work};
	/* ',' separates mount options and '\' escapes: such paths would be misparsed. */
	for (size_t i = 0; i < 3; i++)
		if (dirs[i] && strpbrk(dirs[i], ",\\")) {
			nbx_fail("mount overlay on %s: layer path \"%s\" contains ',' or '\\'", s->root_path, dirs[i]);
			return NULL;
		}
	if (s->ov_upper)
		return xasprintf("lowerdir=%s,upperdir=%s,workdir=%s%s", s->ov_lower, s->ov_upper, s->ov_work, extra);
	return xasprintf("lowerdir=%s%s", s->ov_lower, extra);
}

static int overlay_mount(const struct nbx_spec *s)
{
	/*
	 * userxattr: we are in a user namespace (always, also as root), where overlay may only use
	 * user.overlay.* xattrs for whiteouts/opaque dirs (kernel >= 5.11).
	 * volatile (an upper thrown away with the container, as podman does for --rm): without it the
	 * overlay's end syncs the whole filesystem that holds the upper dir, which under other I/O
	 * was most of the cost of a short run (35 ms against 16 ms on a loaded machine).
	 */
	char *opts = rootfs_overlay_options(s, s->ov_upper && s->ov_volatile ? ",userxattr,volatile" : ",userxattr");
	if (!opts)
		return -1;
	/* The kernel takes one page of options. */
	if (strlen(opts) >= 4096) {
		free(opts);
		return nbx_fail("mount overlay on %s: layer paths too long for one page of mount options", s->root_path);
	}
	int rc = mount("overlay", s->root_path, "overlay", 0, opts);
	free(opts);
	if (rc < 0)
		return rootfs_access_error(s, "mount overlay on %s", s->root_path);
	return 0;
}

int rootfs_mount(const struct nbx_spec *s)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return nbx_fail_errno("make / rprivate");
	if (rootfs_is_fuse(s)) {
		/*
		 * fuse-overlayfs is already mounted here: the runtime parent started it before GO
		 * (fuse_overlay.c). The rprivate above cut its propagation link to the daemon's
		 * namespace. Without an upper dir the view must be read-only, as the kernel's is.
		 */
		if (!s->ov_upper && remount_readonly(s->root_path) < 0)
			return -1;
	} else if (s->ov_lower && !rootfs_overlay_needed(s)) {
		/*
		 * Overlay refuses a lone lower layer without an upper ("at least 2 lowerdir are
		 * needed"): a read-only bind of that layer is the same view.
		 */
		if (mount(s->ov_lower, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
			return rootfs_access_error(s, "bind mount the layer on %s", s->root_path);
		if (remount_readonly(s->root_path) < 0)
			return -1;
	} else if (s->ov_lower) {
		if (overlay_mount(s) < 0)
			return -1;
	} else if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		return rootfs_access_error(s, "bind mount %s on itself", s->root_path);
	}
	/* Opened after mounting, so it is the new mount's root and not the directory beneath. */
	int fd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return nbx_fail_errno("open root %s", s->root_path);
	return fd;
}

int rootfs_pivot(const char *root)
{
	if (chdir(root) < 0)
		return nbx_fail_errno("chdir %s", root);
	/*
	 * pivot_root(".", "."): the old root ends up stacked on the new one at "/", no put_old
	 * directory needed inside the image; detaching "." then drops the old root (crun/runc).
	 */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return nbx_fail_errno("pivot_root %s", root);
	if (umount2(".", MNT_DETACH) < 0)
		return nbx_fail_errno("detach the old root");
	if (chdir("/") < 0)
		return nbx_fail_errno("chdir /");
	return 0;
}

int rootfs_finish(const struct nbx_spec *s)
{
	return s->root_readonly ? remount_readonly("/") : 0;
}
