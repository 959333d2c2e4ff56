/*
 * The container's side of the setup, in order (see native/README.md):
 *   wait for GO -> become container root -> cgroup ns -> hostname -> lo up ->
 *   rootfs mount -> mounts -> devices -> pivot_root -> masks -> read-only root -> rlimits ->
 *   cwd/user/caps -> env -> no_new_privs -> READY/ACK -> seccomp -> (init) -> unblock signals -> exec.
 * Every step before exec reports failure to the parent, which turns it into exit code 125.
 */
#include "child.h"
#include "devices.h"
#include "init.h"
#include "masks.h"
#include "mounts.h"
#include "namespaces.h"
#include "process.h"
#include "pty.h"
#include "rootfs.h"
#include "seccomp.h"
#include "spec.h"
#include "sync.h"
#include "util.h"

#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

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

void child_main(const struct nbx_spec *s, const struct ns_plan *p, int fd)
{
	sync_fd = fd;
	/* Until exec: if the runtime dies, so do we (its death also closes the socket). */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* Descriptors the caller leaked to us must not reach the container. */
	cloexec_fds_from(3);
	if (sync_expect(fd, SYNC_GO) < 0)
		_exit(125); /* the parent failed (it reports) or died */

	if (p->userns)
		SETUP(ns_become_root());
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
	if (s->terminal)
		SETUP(pty_setup(s));

	SETUP(process_limits(s));
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the capabilities go. */
	if (s->seccomp && !s->no_new_privs)
		SETUP(seccomp_apply(s->seccomp));
	SETUP(process_identity(s));
	process_environment(s);
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		SETUP(nbx_fail_errno("prctl PR_SET_NO_NEW_PRIVS"));

	/* A command that is not there fails the start, before the pid file says it runs. */
	char command[PATH_MAX];
	int missing = process_resolve(s, command, sizeof command);
	if (missing)
		fail(missing, "exec");
	/* Let the parent write the pid file: once the command runs, the file is there. */
	if (sync_send(fd, SYNC_READY) < 0 || sync_expect(fd, SYNC_ACK) < 0)
		_exit(125);
	/* Credentials changed since the first prctl, which clears the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/*
	 * Last, so the filter only has to allow what the command does (and execve), but before the
	 * init forks: every process of the container runs under it, its pid 1 too (as tini under docker).
	 */
	if (s->seccomp && s->no_new_privs && seccomp_apply(s->seccomp) < 0)
		fail(125, "setup");
	if (s->init)
		init_main(s, fd, command);
	/* The container starts with the default dispositions and an empty mask, as under docker. */
	signals_reset();
	int code = process_exec(s, command);
	fail(code, "exec");
}
