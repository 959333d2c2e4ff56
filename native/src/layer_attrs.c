/*
 * `nestbox-runtime layer apply|xattrs --dir DIR`: what node cannot do to a layer directory
 * (mknod, setxattr, listxattr), run by the extraction and commit workers inside the keeper
 * namespace, once per layer (native/README.md "Layer attributes").
 *
 * apply: stdin is a list of NUL-terminated fields, one record after another:
 *   "w" PATH          an overlay whiteout (char device 0/0) at PATH; where the kernel refuses it
 *                     (before 5.8), an empty ".wh.NAME" file, which fuse-overlayfs reads
 *   "o" PATH          directory PATH opaque: user.overlay.opaque=y (what the kernel overlay reads
 *                     with userxattr, and fuse-overlayfs too); where the file system has no user
 *                     xattrs, the ".wh..wh..opq" file fuse-overlayfs reads
 *   "x" PATH NAME HEX extended attribute NAME of PATH (not followed) set to the hex-coded value
 * PATH is relative to DIR and reached without a symbolic link (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS). The parent's times are kept when an entry is made in it. Prints one line
 * per attribute the kernel refused ("refused NAME<TAB>PATH<TAB>reason"), which the caller reports;
 * anything else that fails ends the run (exit 1, one line naming the record).
 *
 * xattrs: prints every extended attribute under DIR (symlinks not followed, DIR itself included
 * as "."): PATH NAME HEX, each NUL-terminated, for the commit's tar.
 */
#include "layer_attrs.h"
#include "subcmd.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define XATTR_MAX 65536

static int root_fd = -1;

/* PATH under the layer's root, no symlink on the way, no escape. */
static int open_beneath(const char *path, int flags)
{
	struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
	if (fd < 0 && (errno == EXDEV || errno == ELOOP))
		errno = ELOOP;
	return fd;
}

/* The failure to open what a record names: a symlink on the way or an escape is said so. */
static int open_failed(const char *what, const char *path)
{
	if (errno == ELOOP)
		return nbx_fail("apply: %s %s: the path goes through a symbolic link or out of the layer", what, path);
	return nbx_fail_errno("apply: %s %s: open", what, path);
}

/* Splits PATH into its parent (opened O_DIRECTORY) and last name. */
static int open_parent(const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	if (!**name || !strcmp(*name, ".") || !strcmp(*name, ".."))
		return errno = EINVAL, -1;
	char *parent = slash ? strndup(path, (size_t)(slash - path)) : xstrdup(".");
	int fd = open_beneath(parent, O_RDONLY | O_DIRECTORY);
	free(parent);
	return fd;
}

/*
 * Makes NAME in DIRFD with MAKE, keeping the directory's times (they came from the tar).
 * -1 with errno from MAKE; -2 when the times could not be put back.
 */
static int make_keeping_times(int dirfd, const char *name, int (*make)(int, const char *))
{
	struct stat st;
	if (fstat(dirfd, &st) < 0 || make(dirfd, name) < 0)
		return -1;
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	return futimens(dirfd, ts) < 0 ? -2 : 0;
}

static int mknod_whiteout(int dirfd, const char *name)
{
	return mknodat(dirfd, name, S_IFCHR, makedev(0, 0));
}

static int create_empty(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
	return fd < 0 ? -1 : close(fd);
}

static char *wh_name;
static int create_wh_file(int dirfd, const char *name)
{
	(void)name;
	return create_empty(dirfd, wh_name);
}

static int whiteout(const char *path)
{
	const char *name;
	int dirfd = open_parent(path, &name);
	if (dirfd < 0)
		return open_failed("whiteout", path);
	int rc = make_keeping_times(dirfd, name, mknod_whiteout);
	if (rc == -1 && errno == EPERM) {
		wh_name = xasprintf(".wh.%s", name);
		rc = make_keeping_times(dirfd, name, create_wh_file);
		free(wh_name);
	}
	int err = errno;
	close(dirfd);
	errno = err;
	if (rc == -2)
		return nbx_fail_errno("apply: whiteout %s: keep its directory's times", path);
	return rc < 0 ? nbx_fail_errno("apply: whiteout %s", path) : 0;
}

static int opaque(const char *path)
{
	int fd = open_beneath(path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return open_failed("opaque directory", path);
	int rc = fsetxattr(fd, "user.overlay.opaque", "y", 1, 0);
	if (rc < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
		rc = make_keeping_times(fd, ".wh..wh..opq", create_empty) == 0 ? 0 : -1;
	int err = errno;
	close(fd);
	errno = err;
	return rc < 0 ? nbx_fail_errno("apply: opaque directory %s", path) : 0;
}

static int unhex(const char *hex, unsigned char *out, size_t *len)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > XATTR_MAX)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	*len = n / 2;
	return 0;
}

static int set_xattr(const char *path, const char *name, const char *hex)
{
	static unsigned char value[XATTR_MAX];
	size_t len;
	if (unhex(hex, value, &len) < 0)
		return nbx_fail("apply: xattr %s of %s: the value is not hex", name, path);
	const char *last;
	int dirfd = !strcmp(path, ".") ? dup(root_fd) : open_parent(path, &last);
	if (dirfd < 0)
		return open_failed("xattr of", path);
	/* the entry itself, not followed, through its already resolved directory */
	char *at = !strcmp(path, ".") ? xasprintf("/proc/self/fd/%d", dirfd) : xasprintf("/proc/self/fd/%d/%s", dirfd, last);
	int rc = lsetxattr(at, name, value, len, 0);
	int err = errno;
	free(at);
	close(dirfd);
	if (rc == 0)
		return 0;
	/* what the kernel refuses in a user namespace (trusted.*, security.* but capabilities,
	 * user.* on a symlink or device) is the caller's warning, not a failure */
	if (err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == EACCES || err == EINVAL) {
		printf("refused %s\t%s\t%s\n", name, path, strerror(err));
		return 0;
	}
	errno = err;
	return nbx_fail_errno("apply: xattr %s of %s", name, path);
}

/* One NUL-terminated field of stdin (a copy), or NULL at the end of input / when it ends inside a record. */
static char *field(int *ended)
{
	static char *buf;
	static size_t cap;
	errno = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', stdin);
	if (n <= 0) {
		*ended = 1;
		return NULL;
	}
	if (buf[n - 1] != '\0') {
		*ended = 0;
		return NULL;
	}
	return xstrdup(buf);
}

static int apply(void)
{
	for (;;) {
		int ended = 0;
		char *kind = field(&ended), *path = NULL, *name = NULL, *hex = NULL;
		if (!kind && ended)
			return 0;
		int rc = -1;
		if (kind && (path = field(&ended))) {
			if (!strcmp(kind, "w"))
				rc = whiteout(path);
			else if (!strcmp(kind, "o"))
				rc = opaque(path);
			else if (!strcmp(kind, "x") && (name = field(&ended)) && (hex = field(&ended)))
				rc = set_xattr(path, name, hex);
			else if (strcmp(kind, "x"))
				nbx_fail("apply: unknown record kind \"%.16s\"", kind);
		}
		if (rc < 0 && !nbx_err[0])
			nbx_fail("apply: the list ends inside a record");
		free(kind);
		free(path);
		free(name);
		free(hex);
		if (rc < 0)
			return -1;
	}
}

static void put_hex(const unsigned char *v, ssize_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (ssize_t i = 0; i < n; i++) {
		putchar(digits[v[i] >> 4]);
		putchar(digits[v[i] & 15]);
	}
}

static size_t root_len;

static int dump_one(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	static char names[XATTR_MAX];
	static unsigned char value[XATTR_MAX];
	ssize_t n = llistxattr(fpath, names, sizeof names);
	if (n < 0) {
		if (errno == ENOTSUP || errno == EOPNOTSUPP)
			return 0;
		return nbx_fail_errno("xattrs: list %s", fpath), 1;
	}
	const char *rel = fpath[root_len] ? fpath + root_len + 1 : ".";
	for (const char *name = names; name < names + n; name += strlen(name) + 1) {
		ssize_t len = lgetxattr(fpath, name, value, sizeof value);
		if (len < 0 && errno == ENODATA)
			continue; /* removed meanwhile (a running container) */
		if (len < 0)
			return nbx_fail_errno("xattrs: read %s of %s", name, fpath), 1;
		fputs(rel, stdout);
		putchar('\0');
		fputs(name, stdout);
		putchar('\0');
		put_hex(value, len);
		putchar('\0');
	}
	return 0;
}

static int dump(const char *dir)
{
	root_len = strlen(dir);
	int rc = nftw(dir, dump_one, 64, FTW_PHYS | FTW_MOUNT);
	if (rc < 0)
		return nbx_fail_errno("xattrs: walk %s", dir);
	return rc ? -1 : 0;
}

int layer_main(int argc, char **argv)
{
	const char *dir = NULL, *v;
	const char *mode = argc >= 3 ? argv[2] : "";
	if (strcmp(mode, "apply") && strcmp(mode, "xattrs")) {
		nbx_fail("usage: layer apply|xattrs --dir DIR");
		subcmd_die("layer");
	}
	for (int i = 3; i < argc; i++) {
		if ((v = subcmd_option(argc, argv, &i, "--dir", "layer")))
			dir = v;
		else {
			nbx_fail("unexpected argument %s", argv[i]);
			subcmd_die("layer");
		}
	}
	if (!dir || dir[0] != '/') {
		nbx_fail("--dir DIR (an absolute path) is required");
		subcmd_die("layer");
	}
	/* a trailing slash would make every relative path start with "/" */
	char *root = xstrdup(dir);
	for (size_t n = strlen(root); n > 1 && root[n - 1] == '/'; n--)
		root[n - 1] = '\0';
	int rc;
	if (!strcmp(mode, "xattrs")) {
		rc = dump(root);
	} else {
		root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = root_fd < 0 ? nbx_fail_errno("apply: open %s", root) : apply();
	}
	if (fflush(stdout) != 0 && rc == 0)
		rc = nbx_fail_errno("%s: write stdout", mode);
	free(root);
	if (rc < 0)
		subcmd_die("layer");
	return 0;
}
