/*
 * See exec.h. Three processes, as runc's exec: the runtime (P) stays in the caller's namespaces
 * and waits; a joiner (C) forked from it is put in the target's cgroups, joins its namespaces and
 * forks the process (G) with CLONE_PARENT, so G is P's child and, having been forked after the
 * pid namespace was joined, a member of the container's pid namespace. C sends G's pid and exits;
 * G waits for a second GO (sent once P has that pid) before it goes on with the setup.
 */
#include "exec.h"
#include "cgroup_join.h"
#include "namespaces.h"
#include "process.h"
#include "seccomp.h"
#include "pty.h"
#include "spec.h"
#include "supervise.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* The join order: user first (its privileges let us join the rest), mount last (it moves our root). */
static const struct {
	const char *name;
	int type;
} ns_order[] = {
	{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},	      {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
	{"pid", CLONE_NEWPID},	 {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};
#define NNS (sizeof ns_order / sizeof ns_order[0])


/* Alive and not a zombie (a zombie has no namespaces left to join). */
static int is_running(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static int not_running(pid_t pid)
{
	return nbx_fail("container process %d is not running", (int)pid);
}

/* Opens the target's namespaces that differ from ours; fds[i] = -1 where they are the same. */
static int open_namespaces(pid_t pid, int fds[NNS])
{
	for (size_t i = 0; i < NNS; i++)
		fds[i] = -1;
	for (size_t i = 0; i < NNS; i++) {
		char path[64], self[64];
		struct stat theirs, ours;
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns_order[i].name);
		snprintf(self, sizeof self, "/proc/self/ns/%s", ns_order[i].name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ESRCH)
				return not_running(pid);
			return nbx_fail_errno("open %s", path);
		}
		if (fstat(fd, &theirs) == 0 && stat(self, &ours) == 0 && theirs.st_ino == ours.st_ino &&
		    theirs.st_dev == ours.st_dev) {
			close(fd);
			continue;
		}
		fds[i] = fd;
	}
	return 0;
}

static void close_namespaces(int fds[NNS])
{
	for (size_t i = 0; i < NNS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void __attribute__((noreturn)) child_fail(int fd, int code, const char *stage)
{
	sync_send_err(fd, code, stage, nbx_err);
	_exit(code);
}

/* G: the new process, in every namespace of the container, placed in its cgroups. */
static void __attribute__((noreturn)) process_main(const struct nbx_spec *s, int fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* Until the runtime has our pid from the joiner, our messages would come before it. */
	if (sync_expect(fd, SYNC_GO) < 0)
		_exit(125);
	if ((s->terminal && pty_setup(s) < 0) || process_limits(s) < 0)
		child_fail(fd, 125, "setup");
	/* As in run (child.c): without no_new_privs the filter goes on while we have CAP_SYS_ADMIN. */
	if (s->seccomp && !s->no_new_privs && seccomp_apply(s->seccomp) < 0)
		child_fail(fd, 125, "setup");
	if (process_identity(s) < 0)
		child_fail(fd, 125, "setup");
	process_environment(s);
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		nbx_fail_errno("prctl PR_SET_NO_NEW_PRIVS");
		child_fail(fd, 125, "setup");
	}
	/* as in run (child.c): a command that is not there fails before the exec counts as started */
	char command[PATH_MAX];
	int missing = process_resolve(s, command, sizeof command);
	if (missing)
		child_fail(fd, missing, "exec");
	if (sync_send(fd, SYNC_READY) < 0 || sync_expect(fd, SYNC_ACK) < 0)
		_exit(125);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* cleared by the credential change */
	signals_reset();
	if (s->seccomp && s->no_new_privs && seccomp_apply(s->seccomp) < 0)
		child_fail(fd, 125, "setup");
	int code = process_exec(s, command);
	child_fail(fd, code, "exec");
}

/* C: joins, forks G as the runtime's child, tells the runtime G's pid, exits. */
static void __attribute__((noreturn)) joiner_main(const struct nbx_spec *s, pid_t target, int nsfds[NNS], int fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	cloexec_fds_from(3);
	if (sync_expect(fd, SYNC_GO) < 0)
		_exit(125);
	for (size_t i = 0; i < NNS; i++) {
		if (nsfds[i] < 0)
			continue;
		if (setns(nsfds[i], ns_order[i].type) < 0) {
			nbx_fail_errno("setns %s namespace of process %d", ns_order[i].name, (int)target);
			child_fail(fd, 125, "setup");
		}
		close(nsfds[i]);
	}
	/*
	 * As container root from here (as host root our own uid is unmapped in there), so what the
	 * setup makes (the pty slave) belongs to an id of the container. Needs the user namespace.
	 */
	if (nsfds[0] >= 0 && ns_become_root() < 0)
		child_fail(fd, 125, "setup");
	/* The exit signal of a CLONE_PARENT child is ours (SIGCHLD): the runtime gets it. */
	pid_t g = (pid_t)syscall(SYS_clone, (unsigned long)CLONE_PARENT, NULL, NULL, NULL, NULL);
	if (g < 0) {
		/* ENOMEM: the pid namespace's init has exited since we looked. */
		if (errno == ENOMEM)
			not_running(target);
		else
			nbx_fail_errno("fork into the namespaces of process %d", (int)target);
		child_fail(fd, 125, "setup");
	}
	if (g == 0)
		process_main(s, fd);
	_exit(sync_send_pid(fd, g) < 0 ? 125 : 0);
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* GO to the joiner, then its PID or its error. Returns G's pid, or -1 with R set. */
static pid_t start_joiner(pid_t c, int fd, const struct strv *cgroups, struct nbx_result *r)
{
	struct sync_msg m;
	if (cgroup_join_dirs(c, cgroups) < 0 || sync_send(fd, SYNC_GO) < 0) {
		result_set_error(r, 125, "setup", nbx_err);
		kill_and_reap(c);
		return -1;
	}
	int got = sync_recv(fd, &m);
	reap(c);
	if (got == 1 && m.kind == SYNC_PID) {
		pid_t g = (pid_t)m.exit_code;
		if (sync_send(fd, SYNC_GO) == 0)
			return g;
		nbx_fail_errno("exec: start the process");
		result_set_error(r, 125, "setup", nbx_err);
		kill_and_reap(g);
		return -1;
	}
	if (got == 1 && m.kind == SYNC_ERR)
		result_set_error(r, m.exit_code, "setup", m.msg);
	else
		result_set_error(r, 125, "setup", "exec: the process joining the container exited without a word");
	return -1;
}

void exec_run(const struct nbx_spec *s, const struct exec_opts *o, struct nbx_result *r)
{
	int nsfds[NNS], sv[2], sigfd;
	struct strv cgroups = {0};
	sigset_t mask;
	memset(r, 0, sizeof *r);

	/* Everything about the target is read now, from the host's view, before anything is joined. */
	if (!is_running(o->target)) {
		not_running(o->target);
		result_set_error(r, 125, "setup", nbx_err);
		return;
	}
	if (open_namespaces(o->target, nsfds) < 0 || cgroup_dirs_of(o->target, &cgroups) < 0 || !is_running(o->target)) {
		/* Gone while we looked: say so, whatever failed (its fds may even be of a new process). */
		if (!is_running(o->target))
			not_running(o->target);
		result_set_error(r, 125, "setup", nbx_err);
		close_namespaces(nsfds);
		return;
	}
	if (nsfds[0] < 0 && geteuid() != 0) {
		result_set_error(r, 125, "setup", "exec: the container has no user namespace of its own: joining it needs root");
		close_namespaces(nsfds);
		return;
	}
	if (pty_prepare(s, o->console_socket) < 0 || sync_pair(sv) < 0) {
		result_set_error(r, 125, "setup", nbx_err);
		close_namespaces(nsfds);
		return;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&mask, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		nbx_fail_errno("signalfd");
		result_set_error(r, 125, "setup", nbx_err);
		close_namespaces(nsfds);
		return;
	}
	pid_t c = fork();
	if (c < 0) {
		nbx_fail_errno("fork");
		result_set_error(r, 125, "setup", nbx_err);
		close_namespaces(nsfds);
		return;
	}
	if (c == 0) {
		close(sv[0]);
		close(sigfd);
		joiner_main(s, o->target, nsfds, sv[1]);
	}
	close(sv[1]);
	pty_parent_close();
	close_namespaces(nsfds);
	pid_t g = start_joiner(c, sv[0], &cgroups, r);
	if (g > 0)
		supervise(g, sv[0], sigfd, o->pid_file, "the exec'd process", r);
	close(sv[0]);
	close(sigfd);
}
