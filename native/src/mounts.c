/*
 * OCI mounts: options -> mount flags + data, bind mounts with their remount, and two fallbacks
 * for what a user namespace cannot mount itself (sysfs of a netns we do not own).
 */
#include "mounts.h"
#include "paths.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ATIME_FLAGS (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)
/* The per-mount flags a bind mount can only get through a remount. */
#define BIND_REMOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | ATIME_FLAGS)

struct mopts {
	unsigned long flags;       /* MS_* to set */
	unsigned long propagation; /* MS_PRIVATE etc., applied by a second mount() */
	bool atime_given;
	char data[1024];           /* the rest: mode=, size=, newinstance, ... */
};

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} flag_opts[] = {
	{"ro", false, MS_RDONLY},	  {"rw", true, MS_RDONLY},
	{"nosuid", false, MS_NOSUID},	  {"suid", true, MS_NOSUID},
	{"nodev", false, MS_NODEV},	  {"dev", true, MS_NODEV},
	{"noexec", false, MS_NOEXEC},	  {"exec", true, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS},  {"async", true, MS_SYNCHRONOUS},
	{"dirsync", false, MS_DIRSYNC},	  {"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK},	  {"noatime", false, MS_NOATIME},
	{"atime", true, MS_NOATIME},	  {"nodiratime", false, MS_NODIRATIME},
	{"diratime", true, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME},
	{"bind", false, MS_BIND},	  {"rbind", false, MS_BIND | MS_REC},
};

static const struct {
	const char *name;
	unsigned long flag;
} prop_opts[] = {
	{"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
	{"shared", MS_SHARED},		   {"rshared", MS_SHARED | MS_REC},
	{"slave", MS_SLAVE},		   {"rslave", MS_SLAVE | MS_REC},
	{"unbindable", MS_UNBINDABLE},	   {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int parse_options(const struct nbx_mount *m, struct mopts *o)
{
	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < m->options.n; i++) {
		const char *opt = m->options.v[i];
		bool known = false;
		for (size_t k = 0; !known && k < sizeof flag_opts / sizeof flag_opts[0]; k++) {
			if (strcmp(opt, flag_opts[k].name))
				continue;
			known = true;
			if (flag_opts[k].flag & ATIME_FLAGS)
				o->atime_given = true;
			if (flag_opts[k].clear)
				o->flags &= ~flag_opts[k].flag;
			else
				o->flags |= flag_opts[k].flag;
		}
		for (size_t k = 0; !known && k < sizeof prop_opts / sizeof prop_opts[0]; k++)
			if (!strcmp(opt, prop_opts[k].name)) {
				known = true;
				o->propagation = prop_opts[k].flag;
			}
		if (known)
			continue;
		if (!strcmp(opt, "idmap") || !strcmp(opt, "ridmap") || !strcmp(opt, "tmpcopyup"))
			return nbx_fail("mount %s: option %s is not supported", m->destination, opt);
		size_t len = strlen(o->data);
		int n = snprintf(o->data + len, sizeof o->data - len, "%s%s", len ? "," : "", opt);
		if (n < 0 || (size_t)n >= sizeof o->data - len)
			return nbx_fail("mount %s: options too long", m->destination);
	}
	return 0;
}

unsigned long mount_kept_flags(int fd)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ST_RDONLY, MS_RDONLY},	    {ST_NOSUID, MS_NOSUID},	    {ST_NODEV, MS_NODEV},
		{ST_NOEXEC, MS_NOEXEC},	    {ST_NOATIME, MS_NOATIME},	    {ST_NODIRATIME, MS_NODIRATIME},
		{ST_RELATIME, MS_RELATIME}, /* 4096 vs 1 << 21: the ST_ and MS_ values differ here */
	};
	struct statvfs sv;
	unsigned long f = 0;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (sv.f_flag & map[i].st)
			f |= map[i].ms;
	if (!(f & (MS_NOATIME | MS_RELATIME)))
		f |= MS_STRICTATIME; /* without it a remount would default to relatime */
	return f;
}

/* MS_REMOUNT|MS_BIND of the mount at FD with FLAGS plus what must be kept. */
static int remount_fd(int fd, unsigned long flags, bool atime_given)
{
	char target[32];
	unsigned long kept = mount_kept_flags(fd);
	if (atime_given)
		kept &= ~ATIME_FLAGS;
	else
		flags &= ~ATIME_FLAGS;
	fd_path(fd, target);
	return mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | kept, NULL);
}

int remount_readonly(const char *path)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return nbx_fail_errno("remount %s read-only", path);
	int rc = remount_fd(fd, MS_RDONLY, false);
	if (rc < 0)
		nbx_fail_errno("remount %s read-only", path);
	close(fd);
	return rc;
}

/* Read-only all the way down an rbind (kernel >= 5.12); older kernels: the top mount only. */
static void setattr_recursive_ro(int fd)
{
#ifdef SYS_mount_setattr
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
#else
	(void)fd;
#endif
}

/* Opens the mount point DEST under the root, creating it (a file when FILE). */
static int open_target(int rootfd, const char *dest, bool file, const char *what)
{
	int fd = root_resolve(rootfd, dest, true, file);
	if (fd < 0)
		return nbx_fail_errno("%s: create mount point %s", what, dest);
	return fd;
}

static int bind_mount(int rootfd, const char *dest, const char *src, const struct mopts *o)
{
	struct stat st;
	char target[32], what[PATH_MAX + 32];
	snprintf(what, sizeof what, "bind mount %s", src);
	if (stat(src, &st) < 0)
		return nbx_fail_errno("bind mount %s on %s", src, dest);
	int fd = open_target(rootfd, dest, !S_ISDIR(st.st_mode), what);
	if (fd < 0)
		return -1;
	fd_path(fd, target);
	int rc = mount(src, target, NULL, MS_BIND | (o->flags & MS_REC), NULL);
	close(fd);
	if (rc < 0)
		return nbx_fail_errno("bind mount %s on %s", src, dest);
	if (!(o->flags & BIND_REMOUNT_FLAGS))
		return 0;
	/* Reopen: the new fd is the root of the bind mount, not the dentry under it. */
	if ((fd = root_resolve(rootfd, dest, false, false)) < 0)
		return nbx_fail_errno("bind mount %s on %s: reopen", src, dest);
	rc = remount_fd(fd, o->flags & BIND_REMOUNT_FLAGS, o->atime_given);
	if (rc == 0 && (o->flags & MS_REC) && (o->flags & MS_RDONLY))
		setattr_recursive_ro(fd);
	close(fd);
	if (rc < 0)
		return nbx_fail_errno("remount %s on %s", src, dest);
	return 0;
}

static int is_cgroup2_host(void)
{
	struct statfs sf;
	return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static int fs_mount(int rootfd, const char *dest, const struct nbx_mount *m, struct mopts *o)
{
	char target[32];
	const char *type = m->type;
	if (!strcmp(type, "cgroup")) {
		/* cgroup v1 hierarchies cannot be mounted in a user namespace; cgroup2 can. */
		if (!is_cgroup2_host())
			return nbx_fail("mount cgroup on %s: only supported on cgroup v2 hosts (bind-mount instead)", dest);
		type = "cgroup2";
	}
	int fd = open_target(rootfd, dest, false, type);
	if (fd < 0)
		return -1;
	fd_path(fd, target);
	int rc = mount(m->source ? m->source : type, target, type, o->flags, o->data[0] ? o->data : NULL);
	int err = errno;
	close(fd);
	if (rc < 0 && err == EPERM && !strcmp(type, "sysfs")) {
		/*
		 * sysfs needs CAP_SYS_ADMIN over the network namespace: with a joined netns owned by
		 * another user namespace, show the host's /sys read-only instead (crun does the same).
		 */
		o->flags |= MS_BIND | MS_REC | MS_RDONLY;
		return bind_mount(rootfd, dest, "/sys", o);
	}
	if (rc < 0) {
		errno = err;
		return nbx_fail_errno("mount %s on %s", type, dest);
	}
	return 0;
}

int mounts_setup(const struct nbx_spec *s, int rootfd)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct nbx_mount *m = &s->mounts[i];
		char dest[PATH_MAX], target[32];
		struct mopts o;
		if (path_clean(m->destination, dest) < 0)
			return nbx_fail("mount %s: the destination must be absolute, without \"..\"", m->destination);
		if (parse_options(m, &o) < 0)
			return -1;
		int rc = !strcmp(m->type, "bind") || (o.flags & MS_BIND) ? bind_mount(rootfd, dest, m->source, &o)
									 : fs_mount(rootfd, dest, m, &o);
		if (rc < 0)
			return -1;
		if (o.propagation) {
			int fd = root_resolve(rootfd, dest, false, false);
			if (fd < 0)
				return nbx_fail_errno("mount %s: reopen", dest);
			fd_path(fd, target);
			rc = mount(NULL, target, NULL, o.propagation, NULL);
			close(fd);
			if (rc < 0)
				return nbx_fail_errno("set propagation of %s", dest);
		}
	}
	return 0;
}
