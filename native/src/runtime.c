/*
 * Parent side. The runtime stays the container's parent for its whole life: it forwards the
 * usual termination/job signals to the container's pid 1 and reports how it ended.
 *
 * Signals are blocked and read through a signalfd from before clone(), so none is lost between
 * clone and the wait loop and there is no handler racing with waitpid().
 */
#include "runtime.h"
#include "child.h"
#include "cgroup.h"
#include "fuse_overlay.h"
#include "idmap.h"
#include "namespaces.h"
#include "pty.h"
#include "rootfs.h"
#include "spec.h"
#include "supervise.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/*
 * fork()-like clone: the child continues here on a copy of our stack. Fine for a single-threaded
 * process that only calls async-signal-safe-enough code in the child (crun does the same).
 * The argument order differs on s390; everything else takes (flags, stack, ...).
 */
static pid_t clone_child(int flags)
{
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}


static void run(const struct nbx_spec *s, const struct run_opts *o, struct nbx_result *r, struct fuse_overlay *fo)
{
	struct ns_plan plan;
	sigset_t mask;
	int sv[2], sigfd;

	if (pty_prepare(s, o->console_socket) < 0) {
		result_set_error(r, 125, "setup", nbx_err);
		return;
	}
	/* Before anything is created: a missing fuse-overlayfs is the caller's to fix. */
	if (rootfs_is_fuse(s) && fuse_overlay_find(fo) < 0) {
		result_set_error(r, 125, "setup", nbx_err);
		return;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&mask, forwarded[i]);
	if (ns_plan_make(s, &plan) < 0 || sync_pair(sv) < 0 || ns_join_paths(s) < 0) {
		result_set_error(r, 125, "setup", nbx_err);
		return;
	}
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		nbx_fail_errno("signalfd");
		result_set_error(r, 125, "setup", nbx_err);
		return;
	}

	pid_t pid = clone_child(plan.clone_flags);
	if (pid < 0) {
		nbx_fail_errno("clone (namespaces: 0x%x)", plan.clone_flags);
		result_set_error(r, 125, "setup", nbx_err);
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		close(sigfd);
		child_main(s, &plan, sv[1]);
	}
	close(sv[1]);
	pty_parent_close();
	int fd = sv[0];

	/*
	 * While the child waits: it must be mapped, placed and scored before it runs anything, and
	 * with the fuse driver its root must be mounted (by the daemon, see fuse_overlay.h).
	 */
	if (((plan.new_mask & CLONE_NEWUSER) && idmap_apply(pid, s) < 0) || cgroup_place(pid, s) < 0 ||
	    oom_score_set(pid, s) < 0 || (rootfs_is_fuse(s) && fuse_overlay_start(fo, s, pid, plan.userns) < 0) ||
	    sync_send(fd, SYNC_GO) < 0) {
		result_set_error(r, 125, "setup", nbx_err);
		kill_and_reap(pid);
		close(fd);
		return;
	}

	/* Setup phase and life: messages until EOF (exec done), signals throughout. */
	supervise(pid, fd, sigfd, o->pid_file, "the container process", r);
	close(fd);
	close(sigfd);
}

void runtime_run(const struct nbx_spec *s, const struct run_opts *o, struct nbx_result *r)
{
	struct fuse_overlay fo = FUSE_OVERLAY_INIT;
	memset(r, 0, sizeof *r);
	run(s, o, r, &fo);
	/* The container is gone (or never ran): its fuse daemon goes too, before the status. */
	fuse_overlay_stop(&fo);
	free(fo.bin);
}
