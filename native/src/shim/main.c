/*
 * nestbox-shim: the parent of one container, independent of the service that started it
 * (DESIGN.md "Processes"; the idea of podman's conmon).
 *
 *   nestbox-shim --dir DIR --bundle BUNDLE --runtime PATH [--cgroup DIR]... [--stdin]
 *                [--terminal] [--wait-attach] [--exec-pid PID --process FILE] [--cleanup] ID
 *
 * It double-forks into a session of its own, becomes a child subreaper, and runs
 * `RUNTIME run --bundle BUNDLE --status-file DIR/status.json --pid-file DIR/pid ID` with the
 * container's stdout/stderr on pipes it reads (stdin: a pipe fed from attach clients with
 * --stdin, else /dev/null). It keeps no descriptor of its starter except the handshake pipe
 * (its stdout), which it closes after one line; so it survives SIGKILL of every service.
 *
 * Handshake: one JSON line on stdout, then EOF: {"pid":N,"startTime":T} once the container runs
 * (its pid file exists) or, with --wait-attach, as soon as the attach socket listens and the
 * runtime is started (its output is then held in the pipes until the first client connects, so
 * that client sees all of it; after 10 s without one it is read anyway);
 * {"pid":N,"startTime":T,"exited":true,"exit":{exit.json's}} if the run ended before; {"error":"..."}
 * if the shim itself could not start. The shim's own exit code only says whether it daemonized.
 * Files in DIR: see record.h (shim.json, exit.json), log.h (ctr.log), attach.h (attach.sock),
 * console.h (console.sock, with --terminal). The container's life: serve.c.
 */
#include "attach.h"
#include "shim.h"
#include "console.h"
#include "log.h"
#include "record.h"
#include "../util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage_fail(const char *msg)
{
	fprintf(stderr, "nestbox-shim: %s\nusage: nestbox-shim --dir DIR --bundle BUNDLE --runtime PATH [--cgroup DIR]... [--stdin] [--terminal] [--wait-attach] [--exec-pid PID --process FILE] [--cleanup] ID\n", msg);
	exit(125);
}

static const char *value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		char msg[96];
		snprintf(msg, sizeof msg, "%s needs a value", argv[*i]);
		usage_fail(msg);
	}
	return argv[++*i];
}

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--dir"))
			o->dir = value(argc, argv, &i);
		else if (!strcmp(a, "--bundle"))
			o->bundle = value(argc, argv, &i);
		else if (!strcmp(a, "--runtime"))
			o->runtime = value(argc, argv, &i);
		else if (!strcmp(a, "--cgroup")) {
			if (o->ncgroups == MAX_CGROUPS)
				usage_fail("too many --cgroup");
			o->cgroups[o->ncgroups++] = (char *)value(argc, argv, &i);
		} else if (!strcmp(a, "--stdin"))
			o->stdin_pipe = true;
		else if (!strcmp(a, "--wait-attach"))
			o->wait_attach = true;
		else if (!strcmp(a, "--terminal"))
			o->terminal = true;
		else if (!strcmp(a, "--exec-pid"))
			o->exec_pid = value(argc, argv, &i);
		else if (!strcmp(a, "--process"))
			o->process = value(argc, argv, &i);
		else if (!strcmp(a, "--cleanup"))
			o->cleanup = true;
		else if (a[0] == '-') {
			char msg[96];
			snprintf(msg, sizeof msg, "unknown option %.64s", a);
			usage_fail(msg);
		} else if (!o->id)
			o->id = a;
		else
			usage_fail("one container ID expected");
	}
	if (!o->dir || !o->bundle || !o->runtime || !o->id)
		usage_fail("--dir, --bundle, --runtime and ID are required");
	if (o->dir[0] != '/' || o->bundle[0] != '/' || o->runtime[0] != '/')
		usage_fail("--dir, --bundle and --runtime must be absolute paths");
	if (!o->exec_pid != !o->process)
		usage_fail("--exec-pid and --process go together");
	if (o->exec_pid && (strspn(o->exec_pid, "0123456789") != strlen(o->exec_pid) || !*o->exec_pid || strlen(o->exec_pid) > 7))
		usage_fail("--exec-pid must be a process id");
	if (o->process && o->process[0] != '/')
		usage_fail("--process must be an absolute path");
	size_t n = strlen(o->id);
	if (n == 0 || n > 128 || o->id[0] == '.' || o->id[0] == '-' ||
	    strspn(o->id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
		usage_fail("invalid container ID");
}

/* One line to the starter, then the pipe is closed (it may be gone: SIGPIPE is ignored). */
void handshake(struct shim *s, const char *error, const char *exit_line)
{
	if (s->sync_fd < 0)
		return;
	json_t *o = json_object();
	if (error) {
		json_object_set_new(o, "error", json_string(error));
	} else {
		json_object_set_new(o, "pid", json_integer(getpid()));
		json_object_set_new(o, "startTime", json_integer((json_int_t)proc_start_time(getpid())));
		if (exit_line) {
			json_object_set_new(o, "exited", json_true());
			/* a failed start (exec of a missing command) is known now, not once a client reads it */
			json_t *e = json_loads(exit_line, 0, NULL);
			if (e)
				json_object_set_new(o, "exit", e);
		}
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text) {
		char *line = xasprintf("%s\n", text);
		(void)write_all(s->sync_fd, line, strlen(line));
		free(line);
		free(text);
	}
	close(s->sync_fd);
	s->sync_fd = -1;
}

static void __attribute__((noreturn)) fail_start(struct shim *s)
{
	handshake(s, nbx_err, NULL);
	exit(125);
}

/* Closes every descriptor but 0-2 and KEEP: nothing of the starter's (sockets, pipes) stays. */
static void close_other_fds(int keep)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	int fds[1024], n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 1024) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd > 2 && fd != keep && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* Double fork: the starter's child returns at once; the grandchild, in its own session, goes on. */
static void daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("nestbox-shim: fork");
		exit(125);
	}
	if (pid > 0) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		exit(WIFEXITED(st) ? WEXITSTATUS(st) : 125);
	}
	if (setsid() < 0)
		_exit(125);
	pid = fork();
	if (pid < 0)
		_exit(125);
	if (pid > 0)
		_exit(0);
}

int main(int argc, char **argv)
{
	struct shim s;
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			return 125;
	memset(&s, 0, sizeof s);
	parse(argc, argv, &s.o);
	daemonize();

	/* the handshake pipe becomes a high descriptor; 0-2 point at /dev/null from now on */
	s.sync_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_RDWR);
	if (s.sync_fd < 0 || null < 0)
		_exit(125);
	dup2(null, 0), dup2(null, 1), dup2(null, 2);
	if (null > 2)
		close(null);
	close_other_fds(s.sync_fd);
	s.log_fd = s.out_fd = s.err_fd = s.in_fd = s.ino_fd = s.console_fd = s.tty_fd = -1;

	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGPIPE && sig < SIGRTMIN)
			sigaddset(&mask, sig);
	/* every signal is ours to handle: SIGCHLD reaps, TERM/INT/HUP/QUIT/USR* go to the container */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigemptyset(&mask);
	int forward[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof forward / sizeof forward[0]; i++)
		sigaddset(&mask, forward[i]);
	if ((s.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
		fail_start((nbx_fail_errno("signalfd"), &s));
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		fail_start((nbx_fail_errno("prctl PR_SET_CHILD_SUBREAPER"), &s));
	if (chdir(s.o.dir) < 0)
		fail_start((nbx_fail_errno("chdir %s", s.o.dir), &s));
	unlink("exit.json");
	if ((s.log_fd = log_open("ctr.log")) < 0 || attach_listen(&s.at, "attach.sock") < 0 || shim_json_write(0, 0) < 0)
		fail_start(&s);
	if (s.o.terminal && (s.console_fd = console_listen("console.sock")) < 0)
		fail_start(&s);
	if ((s.ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0 || inotify_add_watch(s.ino_fd, ".", IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
		fail_start((nbx_fail_errno("inotify on %s", s.o.dir), &s));
	s.watching = true;

	if (start_runtime(&s) < 0)
		fail_start(&s);
	if (s.o.wait_attach)
		handshake(&s, NULL, NULL);
	serve(&s);
	finish(&s);
	return 0;
}
