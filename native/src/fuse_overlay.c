/*
 * See fuse_overlay.h for the design. The parent (runtime) side: find the binary, fork the
 * helper that becomes the daemon, wait for the mount, stop the daemon. The helper side: join
 * the container's namespaces, prepare the propagation, exec fuse-overlayfs.
 */
#include "fuse_overlay.h"
#include "mountinfo.h"
#include "namespaces.h"
#include "rootfs.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 10000 /* fuse-overlayfs mounts in a few ms; this is for a stuck one */
#define STOP_GRACE_MS 2000     /* after SIGTERM, before SIGKILL */
#define HELPER_TAG "nestbox-runtime: " /* marks the helper's own errors in the daemon's log */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int fuse_overlay_find(struct fuse_overlay *f)
{
	const char *path = getenv("PATH");
	char *dirs = xstrdup(path && *path ? path : DEFAULT_PATH), *dir = dirs, *next;
	struct stat st;
	for (; dir; dir = next) {
		next = strchr(dir, ':');
		if (next)
			*next++ = 0;
		char *cand = xasprintf("%s/fuse-overlayfs", *dir ? dir : ".");
		char abs[PATH_MAX];
		/* Absolute: the helper execs it after joining another mount namespace (cwd "/"). */
		if (access(cand, X_OK) == 0 && stat(cand, &st) == 0 && S_ISREG(st.st_mode) && realpath(cand, abs)) {
			f->bin = xstrdup(abs);
			free(cand);
			free(dirs);
			return 0;
		}
		free(cand);
	}
	free(dirs);
	return nbx_fail("fuse-overlayfs not found: install the fuse-overlayfs package");
}

/* The helper reports its own failure as one tagged line in the log, then exits. */
static void __attribute__((noreturn)) helper_fail(int log)
{
	dprintf(log, HELPER_TAG "%s\n", nbx_err);
	_exit(125);
}

#define HELPER(call)                     \
	do {                             \
		if ((call) < 0)          \
			helper_fail(log); \
	} while (0)

/*
 * The forked helper: USERFD/MNTFD are the container's namespaces (USERFD -1: none to join),
 * LOG the memfd that becomes the daemon's stdout and stderr. Never returns.
 */
static void __attribute__((noreturn)) helper(const struct fuse_overlay *f, const struct nbx_spec *s, const char *opts,
					     int userfd, bool userns, int mntfd, int log, pid_t parent)
{
	const char *root = s->root_path;
	/* Out of the caller's process group: a terminal's ^C is for the container, not for us. */
	setsid();
	if (userfd >= 0 && setns(userfd, CLONE_NEWUSER) < 0)
		HELPER(nbx_fail_errno("fuse-overlayfs: join the container's user namespace"));
	if (userns)
		HELPER(ns_become_root());
	if (setns(mntfd, CLONE_NEWNS) < 0)
		HELPER(nbx_fail_errno("fuse-overlayfs: join the container's mount namespace"));
	/*
	 * In the container's mount namespace: cut all propagation (nothing may reach the host),
	 * then make root.path a shared mount, so that the copy of it in the namespace we create
	 * next is its peer: the daemon's mount there propagates back to the container.
	 */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		HELPER(nbx_fail_errno("fuse-overlayfs: make / rprivate"));
	if (mount(root, root, NULL, MS_BIND, NULL) < 0)
		HELPER(rootfs_access_error(s, "fuse-overlayfs: bind mount %s on itself", root));
	if (mount(NULL, root, NULL, MS_SHARED, NULL) < 0)
		HELPER(nbx_fail_errno("fuse-overlayfs: make %s shared", root));
	if (unshare(CLONE_NEWNS) < 0)
		HELPER(nbx_fail_errno("fuse-overlayfs: unshare a mount namespace"));

	/* fuse-overlayfs would only say "cannot mount": name the device and who must open it. */
	int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		HELPER(nbx_fail("open /dev/fuse: %s (the fuse overlay driver needs it readable and writable by container root)",
				strerror(errno)));
	close(dev);

	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		HELPER(nbx_fail_errno("fuse-overlayfs: set up stdio"));
	cloexec_fds_from(3);
	/* After the last credential change, which clears it. SIGTERM: libfuse unmounts and exits. */
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() != parent)
		_exit(125);
	/* libfuse installs its SIGTERM handler only over the default disposition. */
	signals_reset();
	char *argv[] = {"fuse-overlayfs", "-f", "-o", (char *)opts, (char *)root, NULL};
	execve(f->bin, argv, environ);
	HELPER(nbx_fail_errno("exec %s", f->bin));
	_exit(125);
}

/* The last line of the daemon's log (its error), without fuse-overlayfs's own prefix. */
static void last_log_line(int log, char *out, size_t n)
{
	struct stat st;
	char buf[2048];
	off_t from = fstat(log, &st) == 0 && st.st_size > (off_t)sizeof buf - 1 ? st.st_size - (off_t)sizeof buf + 1 : 0;
	ssize_t len = pread(log, buf, sizeof buf - 1, from);
	buf[len > 0 ? len : 0] = 0;
	size_t end = strlen(buf);
	while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == ' '))
		buf[--end] = 0;
	char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (!strncmp(line, "fuse-overlayfs: ", 16))
		line += 16;
	snprintf(out, n, "%s", line);
}

/* The daemon exited before the mount showed: say why, from its log or its status. */
static int startup_error(const struct nbx_spec *s, int log, int status)
{
	char line[NBX_ERRLEN];
	last_log_line(log, line, sizeof line);
	if (!strncmp(line, HELPER_TAG, strlen(HELPER_TAG)))
		return nbx_fail("%s", line + strlen(HELPER_TAG));
	if (line[0])
		return nbx_fail("mount fuse-overlayfs on %s: %s", s->root_path, line);
	if (WIFSIGNALED(status))
		return nbx_fail("mount fuse-overlayfs on %s: fuse-overlayfs killed by signal %d", s->root_path, WTERMSIG(status));
	return nbx_fail("mount fuse-overlayfs on %s: fuse-overlayfs exited with status %d before mounting", s->root_path,
			WEXITSTATUS(status));
}

/* /proc/PID/ns/NAME; -1 when it is our own namespace (nothing to join), -2 with nbx_err. */
static int ns_fd(pid_t pid, const char *name)
{
	char path[64], self[64];
	struct stat a, b;
	snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, name);
	snprintf(self, sizeof self, "/proc/self/ns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &a) < 0) {
		nbx_fail_errno("fuse-overlayfs: open %s", path);
		if (fd >= 0)
			close(fd);
		return -2;
	}
	if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Polls CHILD's mountinfo until the fuse mount is on TARGET, the daemon exits, or time is up. */
static int wait_for_mount(const struct nbx_spec *s, pid_t child, const char *target, int mi, pid_t daemon, int log)
{
	long deadline = now_ms() + START_TIMEOUT_MS;
	for (;;) {
		int seen = mountinfo_has(mi, target, "fuse");
		if (seen < 0)
			return nbx_fail_errno("read /proc/%d/mountinfo", (int)child);
		if (seen)
			return 0;
		int status;
		if (waitpid(daemon, &status, WNOHANG) == daemon) {
			startup_error(s, log, status);
			return -2; /* reaped */
		}
		long left = deadline - now_ms();
		if (left <= 0)
			return nbx_fail("mount fuse-overlayfs on %s: no mount after %d s", s->root_path, START_TIMEOUT_MS / 1000);
		/* A mount table change wakes us at once; the slice bounds how late we see an exit. */
		struct pollfd p = {.fd = mi, .events = POLLPRI};
		poll(&p, 1, left < 10 ? (int)left : 10);
	}
}

int fuse_overlay_start(struct fuse_overlay *f, const struct nbx_spec *s, pid_t child, bool userns)
{
	char target[PATH_MAX], mipath[64];
	int userfd = -1, mntfd = -1, mi = -1, log = -1, rc = -1;
	char *opts = NULL;
	if (!realpath(s->root_path, target))
		return nbx_fail_errno("root.path %s", s->root_path);
	if (!(opts = rootfs_overlay_options(s, "")))
		return -1;
	snprintf(mipath, sizeof mipath, "/proc/%d/mountinfo", (int)child);
	if (userns && (userfd = ns_fd(child, "user")) == -2)
		goto out;
	if ((mntfd = ns_fd(child, "mnt")) < 0) {
		if (mntfd == -1)
			nbx_fail("fuse-overlayfs: the container has no mount namespace of its own");
		goto out;
	}
	/* Opened before the fork, so the mount cannot happen unnoticed before we poll. */
	if ((mi = open(mipath, O_RDONLY | O_CLOEXEC)) < 0) {
		nbx_fail_errno("open %s", mipath);
		goto out;
	}
	if ((log = memfd_create("fuse-overlayfs-log", MFD_CLOEXEC)) < 0) {
		nbx_fail_errno("memfd_create");
		goto out;
	}
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		nbx_fail_errno("fork for fuse-overlayfs");
		goto out;
	}
	if (pid == 0)
		helper(f, s, opts, userfd, userns, mntfd, log, parent);
	rc = wait_for_mount(s, child, target, mi, pid, log);
	if (rc == 0) {
		f->pid = pid;
	} else if (rc == -1) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	rc = rc == 0 ? 0 : -1;
out:
	if (userfd >= 0)
		close(userfd);
	if (mntfd >= 0)
		close(mntfd);
	if (mi >= 0)
		close(mi);
	if (log >= 0)
		close(log);
	free(opts);
	return rc;
}

void fuse_overlay_stop(struct fuse_overlay *f)
{
	if (f->pid <= 0)
		return;
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	/* SIGTERM: libfuse closes the device, unmounts and exits (the container is gone already). */
	kill(f->pid, SIGTERM);
	long deadline = now_ms() + STOP_GRACE_MS;
	pid_t got;
	while ((got = waitpid(f->pid, NULL, WNOHANG)) == 0 || (got < 0 && errno == EINTR)) {
		long left = deadline - now_ms();
		if (left <= 0) {
			kill(f->pid, SIGKILL);
			while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
				;
			break;
		}
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000L};
		sigtimedwait(&chld, NULL, &ts); /* SIGCHLD is blocked: woken by any child's exit */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	f->pid = -1;
}
