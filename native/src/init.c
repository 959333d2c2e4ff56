/* See init.h. */
#include "init.h"
#include "process.h"
#include "spec.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the runtime forwards to pid 1, passed on to the command (SIGCHLD is ours). */
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

#define TITLE "nestbox-init"

/*
 * pid 1 is a fork of the runtime: its command line would show the runtime's arguments (host
 * paths) to `ps` in the container. Overwrite them in place (the kernel reads the original
 * argument area) and name the thread.
 */
static void set_title(void)
{
	char buf[4096];
	prctl(PR_SET_NAME, TITLE, 0, 0, 0);
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* no /proc in this container: nothing shows the arguments anyway */
	ssize_t n, len = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		len += n;
	close(fd);
	if (len > (ssize_t)sizeof TITLE) {
		memset(program_invocation_name, 0, (size_t)len - 1);
		memcpy(program_invocation_name, TITLE, sizeof TITLE - 1);
	}
}

static void __attribute__((noreturn)) command_main(const struct nbx_spec *s, int sync_fd, const char *command)
{
	/* If init goes (no own pid namespace: nothing else takes the command down), so does it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (s->terminal && isatty(0)) {
		/*
		 * The foreground process group of the terminal is the command's, so ^C and SIGWINCH
		 * from the terminal go to it and not to init (which would pass them on a second time).
		 * SIGTTOU blocked, tcsetpgrp from a background group goes through (signals_reset unblocks).
		 */
		sigset_t ttou;
		sigemptyset(&ttou);
		sigaddset(&ttou, SIGTTOU);
		sigprocmask(SIG_BLOCK, &ttou, NULL);
		if (setpgid(0, 0) < 0 || tcsetpgrp(0, getpid()) < 0) {
			nbx_fail_errno("init: make the command the terminal's foreground process group");
			sync_send_err(sync_fd, 125, "setup", nbx_err);
			_exit(125);
		}
	}
	signals_reset();
	int code = process_exec(s, command);
	sync_send_err(sync_fd, code, "exec", nbx_err);
	_exit(code);
}

void init_main(const struct nbx_spec *s, int sync_fd, const char *command)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&set, forwarded[i]);
	/*
	 * Blocked signals are queued even for the pid 1 of a namespace, which drops those it has no
	 * handler for; the runtime blocked these before clone, so none sent since is lost.
	 */
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGCHLD, SIG_DFL); /* not ignored: ignoring would reap without telling us */
	/* Without a pid namespace of our own we are not pid 1: orphans must still come to us. */
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	/* Before the fork: the command may look at /proc/1 as soon as it runs. */
	set_title();
	pid_t cmd = fork();
	if (cmd < 0) {
		nbx_fail_errno("init: fork the command");
		sync_send_err(sync_fd, 125, "setup", nbx_err);
		_exit(125);
	}
	if (cmd == 0)
		command_main(s, sync_fd, command);
	/* The runtime learns that the exec happened from EOF: only the command may hold the socket. */
	close(sync_fd);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig < 0)
			continue; /* EINTR: nothing is caught, but be safe */
		if (sig != SIGCHLD) {
			kill(cmd, sig);
			continue;
		}
		/* SIGCHLD coalesces: reap everything that has ended, the command included. */
		int st;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
			if (w != cmd)
				continue;
			_exit(WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
		}
	}
}
