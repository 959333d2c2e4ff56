/* See check_overlay.h. */
#include "check_overlay.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The probe child's exit codes; its reason goes through a pipe. */
enum { PROBE_KERNEL = 0, PROBE_REFUSED = 1, PROBE_BROKEN = 2 };

static int write_proc_self(const char *file, const char *text)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/%s", file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nbx_fail_errno("open %s", path);
	int rc = write_all(fd, text, strlen(text));
	int err = errno;
	close(fd);
	errno = err;
	return rc < 0 ? nbx_fail_errno("write %s", path) : 0;
}

static void __attribute__((noreturn)) child_exit(int out, int code)
{
	if (code != PROBE_KERNEL)
		dprintf(out, "%s", nbx_err);
	_exit(code);
}

/* One operation on the mounted overlay; a failure means the kernel's overlay is not usable. */
#define TRY(call, what)                                                             \
	do {                                                                        \
		if ((call) < 0) {                                                   \
			nbx_fail_errno("%s in the kernel overlay on %s", what, merged); \
			child_exit(out, PROBE_REFUSED);                             \
		}                                                                   \
	} while (0)

static void __attribute__((noreturn)) probe_child(const char *base, int out)
{
	char map[64], merged[4096], opts[4096 + 64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		nbx_fail_errno("unshare user and mount namespaces");
		child_exit(out, PROBE_BROKEN);
	}
	snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
	if (write_proc_self("uid_map", map) < 0 || write_proc_self("setgroups", "deny") < 0)
		child_exit(out, PROBE_BROKEN);
	snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
	if (write_proc_self("gid_map", map) < 0)
		child_exit(out, PROBE_BROKEN);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		nbx_fail_errno("make / rprivate");
		child_exit(out, PROBE_BROKEN);
	}
	snprintf(merged, sizeof merged, "%s/merged", base);
	snprintf(opts, sizeof opts, "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work,userxattr", base, base, base);
	if (mount("overlay", merged, "overlay", 0, opts) < 0) {
		nbx_fail_errno("mount overlay (userxattr) on %s", merged);
		child_exit(out, PROBE_REFUSED);
	}
	if (chdir(merged) < 0) {
		nbx_fail_errno("chdir %s", merged);
		child_exit(out, PROBE_BROKEN);
	}
	int fd;
	TRY(fd = open("new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), "create a file");
	close(fd);
	TRY(fd = open("d/f", O_WRONLY | O_APPEND | O_CLOEXEC), "copy up a lower file");
	TRY(write_all(fd, "x", 1), "copy up a lower file");
	close(fd);
	TRY(unlink("g"), "remove a lower file (whiteout)");
	TRY(rmdir("o"), "remove a lower directory (whiteout)");
	TRY(mkdir("o", 0755), "make an opaque directory");
	child_exit(out, PROBE_KERNEL);
}

/* rm -rf of our own tree, including the overlay's mode-0 work dir (chmod'ed first). */
static int remove_tree(int parent, const char *name)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0);
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && remove_tree(dirfd(d), e->d_name) < 0)
			rc = -1;
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
		rc = -1;
	return rc;
}

/* lower/{d/f, g, o/}, upper/, work/, merged/ under BASE. */
static int make_dirs(const char *base)
{
	static const char *dirs[] = {"lower", "lower/d", "lower/o", "upper", "work", "merged"};
	static const char *files[] = {"lower/d/f", "lower/g"};
	char path[4096];
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", base, dirs[i]);
		if (mkdir(path, 0755) < 0)
			return nbx_fail_errno("mkdir %s", path);
	}
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", base, files[i]);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return nbx_fail_errno("create %s", path);
		close(fd);
	}
	return 0;
}

/* Runs the probe child; its exit code, its reason in nbx_err. */
static int run_probe(const char *base)
{
	int p[2], status = 0;
	if (pipe2(p, O_CLOEXEC) < 0) {
		nbx_fail_errno("pipe");
		return PROBE_BROKEN;
	}
	pid_t pid = fork();
	if (pid < 0) {
		nbx_fail_errno("fork");
		close(p[0]);
		close(p[1]);
		return PROBE_BROKEN;
	}
	if (pid == 0) {
		close(p[0]);
		probe_child(base, p[1]);
	}
	close(p[1]);
	char reason[NBX_ERRLEN];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof reason - 1 && (n = read(p[0], reason + len, sizeof reason - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	reason[len] = 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status)) {
		nbx_fail("the probe was killed by signal %d", WTERMSIG(status));
		return PROBE_BROKEN;
	}
	snprintf(nbx_err, sizeof nbx_err, "%s", reason);
	return WEXITSTATUS(status) <= PROBE_BROKEN ? WEXITSTATUS(status) : PROBE_BROKEN;
}

int check_overlay(const char *dir)
{
	char *base = xasprintf("%s/.overlay-probe-XXXXXX", dir);
	if (!mkdtemp(base)) {
		fprintf(stderr, "nestbox-runtime: check overlay: create a directory in %s: %s\n", dir, strerror(errno));
		free(base);
		return 125;
	}
	int result = make_dirs(base) < 0 ? PROBE_BROKEN : run_probe(base);
	char reason[NBX_ERRLEN];
	snprintf(reason, sizeof reason, "%s", nbx_err);
	if (remove_tree(AT_FDCWD, base) < 0 && result != PROBE_BROKEN) {
		nbx_fail_errno("remove %s", base);
		snprintf(reason, sizeof reason, "%s", nbx_err);
		result = PROBE_BROKEN;
	}
	free(base);
	switch (result) {
	case PROBE_KERNEL:
		printf("kernel\n");
		return 0;
	case PROBE_REFUSED:
		printf("fuse\n");
		fprintf(stderr, "nestbox-runtime: kernel overlay unusable in a user namespace: %s\n", reason);
		return 0;
	default:
		fprintf(stderr, "nestbox-runtime: check overlay: %s\n", reason);
		return 125;
	}
}
