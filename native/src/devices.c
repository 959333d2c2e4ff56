/* See devices.h. */
#include "devices.h"
#include "paths.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int add_device(int rootfd, const struct nbx_device *d)
{
	char dest[PATH_MAX], target[32];
	struct stat st;
	if (path_clean(d->path, dest) < 0)
		return nbx_fail("device %s: the path must be absolute, without \"..\"", d->path);
	if (d->type == 'p') {
		/* FIFOs need no privilege: make a fresh one. */
		char *slash = strrchr(dest, '/');
		*slash = 0;
		int parent = root_resolve(rootfd, dest[0] ? dest : "/", true, false);
		*slash = '/';
		if (parent < 0)
			return nbx_fail_errno("device %s", d->path);
		int rc = mkfifoat(parent, slash + 1, 0666);
		close(parent);
		return rc < 0 && errno != EEXIST ? nbx_fail_errno("device %s: mkfifo", d->path) : 0;
	}
	if (stat(d->path, &st) < 0)
		return nbx_fail_errno("device %s: the host has no such node to bind", d->path);
	bool want_blk = d->type == 'b';
	if (want_blk ? !S_ISBLK(st.st_mode) : !S_ISCHR(st.st_mode))
		return nbx_fail("device %s: the host's node is not a %s device", d->path, want_blk ? "block" : "character");
	if ((d->major >= 0 && (int64_t)major(st.st_rdev) != d->major) ||
	    (d->minor >= 0 && (int64_t)minor(st.st_rdev) != d->minor))
		return nbx_fail("device %s: the host's node is %u:%u, not %lld:%lld", d->path, major(st.st_rdev),
				minor(st.st_rdev), (long long)d->major, (long long)d->minor);
	int fd = root_resolve(rootfd, dest, true, true);
	if (fd < 0)
		return nbx_fail_errno("device %s: create", d->path);
	fd_path(fd, target);
	int rc = mount(d->path, target, NULL, MS_BIND, NULL);
	close(fd);
	return rc < 0 ? nbx_fail_errno("device %s: bind mount", d->path) : 0;
}

static int own_dev_mount(const struct nbx_spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		char dest[PATH_MAX];
		if (path_clean(s->mounts[i].destination, dest) == 0 && !strcmp(dest, "/dev"))
			return strcmp(s->mounts[i].type, "bind") != 0;
	}
	return 0;
}

static int dev_symlinks(int rootfd)
{
	static const struct {
		const char *name, *target;
	} links[] = {
		{"fd", "/proc/self/fd"},
		{"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"},
	};
	struct stat st;
	int dev = root_resolve(rootfd, "/dev", false, false);
	if (dev < 0)
		return nbx_fail_errno("open /dev");
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		if (symlinkat(links[i].target, dev, links[i].name) < 0 && errno != EEXIST) {
			nbx_fail_errno("symlink /dev/%s", links[i].name);
			close(dev);
			return -1;
		}
	/* With a private devpts, /dev/ptmx must lead to its ptmx, not the host's. */
	if (fstatat(dev, "pts", &st, 0) == 0 && S_ISDIR(st.st_mode) &&
	    symlinkat("pts/ptmx", dev, "ptmx") < 0 && errno != EEXIST) {
		nbx_fail_errno("symlink /dev/ptmx");
		close(dev);
		return -1;
	}
	close(dev);
	return 0;
}

int devices_setup(const struct nbx_spec *s, int rootfd)
{
	for (size_t i = 0; i < s->ndevices; i++)
		if (add_device(rootfd, &s->devices[i]) < 0)
			return -1;
	return own_dev_mount(s) ? dev_symlinks(rootfd) : 0;
}
