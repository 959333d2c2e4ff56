/*
 * The container's side of the setup, in order (see native/README.md):
 *   wait for GO -> become container root -> cgroup ns -> hostname -> lo up ->
 *   rootfs mount -> mounts -> devices -> pivot_root -> masks -> read-only root -> rlimits ->
 *   cwd/user/caps -> env -> READY/ACK -> unblock signals -> exec.
 * Every step before exec reports failure to the parent, which turns it into exit code 125.
 */
#include "child.h"
#include "devices.h"
#include "masks.h"
#include "mounts.h"
#include "namespaces.h"
#include "process.h"
#include "rootfs.h"
#include "spec.h"
#include "sync.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int sync_fd = -1;

static void __attribute__((noreturn)) fail(int code, const char *stage)
{
	sync_send_err(sync_fd, code, stage, nbx_err);
	_exit(code);
}

#define SETUP(call)                        \
	do {                               \
		if ((call) < 0)            \
			fail(125, "setup"); \
	} while (0)

/*
 * Descriptors the caller leaked to us must not reach the container. Marking them close-on-exec
 * (not closing) keeps ours usable until exec.
 */
static void cloexec_inherited_fds(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	DIR *d = opendir("/proc/self/fd"); /* kernels < 5.11 */
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (fd > 2 && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

/*
 * As host root the map is 0 -> 1000000 and our host uid 0 is unmapped (we appear as
 * nobody): become the namespace's root so files we create are owned by mapped ids.
 */
static int become_root(void)
{
	if (setresgid(0, 0, 0) < 0)
		return nbx_fail_errno("setresgid 0 in the user namespace (is gid 0 mapped?)");
	if (setresuid(0, 0, 0) < 0)
		return nbx_fail_errno("setresuid 0 in the user namespace (is uid 0 mapped?)");
	/* Denied ("deny" in setgroups) with a single-id map: harmless, there are no groups to drop. */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return nbx_fail_errno("setgroups");
	return 0;
}

static void reset_signals(void)
{
	sigset_t none;
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	/* Ignored signals survive exec; the container starts with the defaults, as under docker. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void child_main(const struct nbx_spec *s, const struct ns_plan *p, int fd)
{
	sync_fd = fd;
	/* Until exec: if the runtime dies, so do we (its death also closes the socket). */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	cloexec_inherited_fds();
	if (sync_expect(fd, SYNC_GO) < 0)
		_exit(125); /* the parent failed (it reports) or died */

	if (p->userns)
		SETUP(become_root());
	/* After the parent put us in our cgroups: the namespace's root is our own cgroup. */
	if ((p->new_mask & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		SETUP(nbx_fail_errno("unshare the cgroup namespace"));
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		SETUP(nbx_fail_errno("sethostname %s", s->hostname));
	if (p->new_mask & CLONE_NEWNET)
		SETUP(ns_loopback_up());

	int rootfd = rootfs_mount(s);
	SETUP(rootfd);
	SETUP(mounts_setup(s, rootfd));
	SETUP(devices_setup(s, rootfd));
	close(rootfd);
	SETUP(rootfs_pivot(s->root_path));
	SETUP(masks_apply(s));
	SETUP(rootfs_finish(s));

	SETUP(process_limits(s));
	SETUP(process_identity(s));
	process_environment(s);
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		SETUP(nbx_fail_errno("prctl PR_SET_NO_NEW_PRIVS"));

	/* Let the parent write the pid file: once the command runs, the file is there. */
	if (sync_send(fd, SYNC_READY) < 0 || sync_expect(fd, SYNC_ACK) < 0)
		_exit(125);
	/* Credentials changed since the first prctl, which clears the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	reset_signals();
	int code = process_exec(s);
	fail(code, "exec");
}
