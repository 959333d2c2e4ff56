/*
 * nestbox-shim: the parent of one container, independent of the service that started it
 * (DESIGN.md "Processes"; the idea of podman's conmon).
 *
 *   nestbox-shim --dir DIR --bundle BUNDLE --runtime PATH [--cgroup DIR]... [--stdin]
 *                [--wait-attach] ID
 *
 * It double-forks into a session of its own, becomes a child subreaper, and runs
 * `RUNTIME run --bundle BUNDLE --status-file DIR/status.json --pid-file DIR/pid ID` with the
 * container's stdout/stderr on pipes it reads (stdin: a pipe fed from attach clients with
 * --stdin, else /dev/null). It keeps no descriptor of its starter except the handshake pipe
 * (its stdout), which it closes after one line; so it survives SIGKILL of every service.
 *
 * Handshake: one JSON line on stdout, then EOF: {"pid":N,"startTime":T} once the container runs
 * (its pid file exists) or, with --wait-attach, once the attach socket listens (the runtime is
 * started when the first client connects, so it sees all the output; after 10 s without one it
 * starts anyway); {"pid":N,"startTime":T,"exited":true} if the run ended before; {"error":"..."}
 * if the shim itself could not start. The shim's own exit code only says whether it daemonized.
 * Files in DIR: see record.h (shim.json, exit.json), log.h (ctr.log), attach.h (attach.sock).
 */
#include "attach.h"
#include "log.h"
#include "record.h"
#include "../util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CGROUPS 16
#define WAIT_ATTACH_MS 10000
#define FINISH_FLUSH_MS 5000

struct opts {
	const char *dir, *bundle, *runtime, *id;
	char *cgroups[MAX_CGROUPS];
	int ncgroups;
	bool stdin_pipe, wait_attach;
};

struct shim {
	struct opts o;
	int sync_fd;  /* handshake pipe, -1 once answered */
	int log_fd;
	int out_fd, err_fd;  /* read ends of the container's stdout/stderr, -1 at EOF */
	int in_fd;           /* write end of the container's stdin pipe, -1 when closed */
	char *in_buf;
	size_t in_len;
	bool in_end;         /* a client asked to close stdin once the buffer is written */
	int sig_fd, ino_fd;
	bool watching;       /* for the runtime's pid file */
	pid_t runtime;
	int runtime_status;
	bool runtime_done;
	pid_t container;
	struct attach at;
};

static void usage_fail(const char *msg)
{
	fprintf(stderr, "nestbox-shim: %s\nusage: nestbox-shim --dir DIR --bundle BUNDLE --runtime PATH [--cgroup DIR]... [--stdin] [--wait-attach] ID\n", msg);
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
	size_t n = strlen(o->id);
	if (n == 0 || n > 128 || o->id[0] == '.' || o->id[0] == '-' ||
	    strspn(o->id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
		usage_fail("invalid container ID");
}

/* One line to the starter, then the pipe is closed (it may be gone: SIGPIPE is ignored). */
static void handshake(struct shim *s, const char *error, bool exited)
{
	if (s->sync_fd < 0)
		return;
	json_t *o = json_object();
	if (error) {
		json_object_set_new(o, "error", json_string(error));
	} else {
		json_object_set_new(o, "pid", json_integer(getpid()));
		json_object_set_new(o, "startTime", json_integer((json_int_t)proc_start_time(getpid())));
		if (exited)
			json_object_set_new(o, "exited", json_true());
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
	handshake(s, nbx_err, false);
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

static int pipe_pair(int p[2], bool read_nonblock)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return nbx_fail_errno("pipe");
	if (read_nonblock)
		fcntl(p[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* Forks the runtime with the container's stdio; the shim keeps the other ends. */
static int start_runtime(struct shim *s)
{
	int out[2], err[2], in[2] = {-1, -1};
	if (pipe_pair(out, true) < 0 || pipe_pair(err, true) < 0)
		return -1;
	if (s->o.stdin_pipe) {
		if (pipe_pair(in, false) < 0)
			return -1;
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	} else if ((in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		return nbx_fail_errno("open /dev/null");
	}
	char *status = xasprintf("%s/status.json", s->o.dir);
	char *pidf = xasprintf("%s/pid", s->o.dir);
	unlink(status);
	unlink(pidf);
	pid_t pid = fork();
	if (pid < 0)
		return nbx_fail_errno("fork the runtime");
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		signals_reset();
		char *argv[] = {"nestbox-runtime", "run", "--bundle", (char *)s->o.bundle, "--status-file", status,
				"--pid-file", pidf, (char *)s->o.id, NULL};
		execv(s->o.runtime, argv);
		dprintf(2, "nestbox-shim: exec %s: %s\n", s->o.runtime, strerror(errno));
		_exit(127);
	}
	free(status);
	free(pidf);
	close(out[1]);
	close(err[1]);
	close(in[0]);
	s->out_fd = out[0];
	s->err_fd = err[0];
	s->in_fd = in[1];
	s->runtime = pid;
	return 0;
}

/* The runtime wrote `pid` (atomically, by rename): note the container and its start time. */
static void container_started(struct shim *s)
{
	char buf[32] = "";
	FILE *f = fopen("pid", "re");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	pid_t pid = (pid_t)atoi(buf);
	if (pid <= 0)
		return;
	s->container = pid;
	unsigned long long start = proc_start_time(pid);
	if (start > 0)
		shim_json_write(pid, start);
	/*
	 * No more watching, but the descriptor stays open until exit: closing an inotify instance
	 * waits for an RCU grace period (milliseconds on a busy machine), and this is the start path.
	 */
	s->watching = false;
	handshake(s, NULL, false);
}

static void on_inotify(struct shim *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(s->ino_fd, buf, sizeof buf);
	for (char *p = buf; n > 0 && p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;
		if (ev->len && !strcmp(ev->name, "pid")) {
			container_started(s);
			return;
		}
		p += sizeof *ev + ev->len;
	}
}

static void on_signal(struct shim *s)
{
	struct signalfd_siginfo si;
	if (read(s->sig_fd, &si, sizeof si) != sizeof si)
		return;
	if (si.ssi_signo != SIGCHLD) {
		/* the runtime forwards it to the container's pid 1 */
		if (s->runtime > 0 && !s->runtime_done)
			kill(s->runtime, (int)si.ssi_signo);
		return;
	}
	/* a subreaper: orphans of the container's tree come to us too; reap them all */
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == s->runtime) {
			s->runtime_status = st;
			s->runtime_done = true;
		}
	}
}

static void on_output(struct shim *s, int *fd, int frame, const char *stream)
{
	static char buf[65536];
	ssize_t n = read(*fd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	log_chunk(s->log_fd, stream, buf, (size_t)n);
	attach_broadcast(&s->at, frame, buf, (size_t)n);
}

static void flush_stdin(struct shim *s)
{
	while (s->in_fd >= 0 && s->in_len > 0) {
		ssize_t n = write(s->in_fd, s->in_buf, s->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) { /* the container closed its stdin */
			close(s->in_fd);
			s->in_fd = -1;
			s->in_len = 0;
			return;
		}
		memmove(s->in_buf, s->in_buf + n, s->in_len - (size_t)n);
		s->in_len -= (size_t)n;
	}
	if (s->in_fd >= 0 && s->in_end && s->in_len == 0) {
		close(s->in_fd);
		s->in_fd = -1;
	}
}

static void on_input(void *ctx, int type, const char *data, size_t len)
{
	struct shim *s = ctx;
	if (type == FRAME_STDIN_END) {
		s->in_end = true;
	} else if (type == FRAME_STDIN && s->o.stdin_pipe && s->in_fd >= 0 && !s->in_end) {
		s->in_buf = realloc(s->in_buf, s->in_len + len ? s->in_len + len : 1);
		if (!s->in_buf)
			exit(125);
		memcpy(s->in_buf + s->in_len, data, len);
		s->in_len += len;
	}
	flush_stdin(s);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The poll loop: until the runtime is reaped and both output pipes reached EOF. */
static void serve(struct shim *s)
{
	long attach_deadline = s->runtime > 0 ? 0 : now_ms() + WAIT_ATTACH_MS;
	for (;;) {
		if (s->runtime == 0 && (s->at.n > 0 || now_ms() >= attach_deadline)) {
			if (start_runtime(s) < 0) {
				/* nothing ran: say so in the log and exit.json, as a runtime failure */
				log_chunk(s->log_fd, "stderr", nbx_err, strlen(nbx_err));
				s->runtime = -1;
				s->runtime_done = true;
				s->runtime_status = 127 << 8;
			}
		}
		if (s->runtime_done && s->out_fd < 0 && s->err_fd < 0)
			return;
		struct pollfd p[8 + ATTACH_MAX_CLIENTS];
		int n = 0, i_sig, i_ino = -1, i_out = -1, i_err = -1, i_in = -1, i_lis, i_cli;
		bool throttled = attach_pending(&s->at) > ATTACH_HIGH_WATER;
		i_sig = n, p[n++] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
		if (s->watching)
			i_ino = n, p[n++] = (struct pollfd){.fd = s->ino_fd, .events = POLLIN};
		if (s->out_fd >= 0 && !throttled)
			i_out = n, p[n++] = (struct pollfd){.fd = s->out_fd, .events = POLLIN};
		if (s->err_fd >= 0 && !throttled)
			i_err = n, p[n++] = (struct pollfd){.fd = s->err_fd, .events = POLLIN};
		if (s->in_fd >= 0 && s->in_len > 0)
			i_in = n, p[n++] = (struct pollfd){.fd = s->in_fd, .events = POLLOUT};
		i_lis = n, p[n++] = (struct pollfd){.fd = s->at.listen_fd, .events = POLLIN};
		i_cli = n;
		for (int i = 0; i < s->at.n; i++) {
			/* input waits while stdin has a backlog */
			short ev = (s->in_len < ATTACH_HIGH_WATER ? POLLIN : 0) | (s->at.c[i]->out_len ? POLLOUT : 0);
			p[n++] = (struct pollfd){.fd = s->at.c[i]->fd, .events = ev};
		}
		int timeout = s->runtime == 0 ? (int)(attach_deadline - now_ms()) : -1;
		if (poll(p, (nfds_t)n, timeout < 0 && s->runtime == 0 ? 0 : timeout) < 0) {
			if (errno == EINTR)
				continue;
			return; /* cannot happen with valid descriptors; exit.json still gets written */
		}
		if (p[i_sig].revents & POLLIN)
			on_signal(s);
		if (i_ino >= 0 && (p[i_ino].revents & POLLIN))
			on_inotify(s);
		if (i_out >= 0 && p[i_out].revents)
			on_output(s, &s->out_fd, FRAME_STDOUT, "stdout");
		if (i_err >= 0 && p[i_err].revents)
			on_output(s, &s->err_fd, FRAME_STDERR, "stderr");
		if (i_in >= 0 && p[i_in].revents)
			flush_stdin(s);
		/* clients last and from the end: dropping one moves the last into its slot */
		int clients = n - i_cli;
		for (int i = clients - 1; i >= 0; i--) {
			if (i >= s->at.n)
				continue;
			short re = p[i_cli + i].revents;
			if (re & POLLOUT)
				attach_flush(&s->at, i);
			if (i < s->at.n && (re & (POLLIN | POLLHUP | POLLERR)))
				attach_read(&s->at, i, on_input, s);
		}
		if (p[i_lis].revents & POLLIN)
			attach_accept(&s->at);
	}
}

static void finish(struct shim *s)
{
	struct shim_exit e;
	char *status = xasprintf("%s/status.json", s->o.dir);
	shim_exit_collect(&e, status, s->runtime_status, s->o.cgroups, s->o.ncgroups);
	free(status);
	char *line = shim_exit_write(&e);
	if (!line) {
		/* nowhere better: the log keeps the reason; the service sees no exit.json */
		log_chunk(s->log_fd, "stderr", nbx_err, strlen(nbx_err));
		line = xstrdup("{\"exitCode\":125,\"error\":\"the shim could not write exit.json\",\"stage\":\"runtime\"}\n");
	}
	unlink("shim.json");
	unlink("attach.sock");
	handshake(s, NULL, true);
	attach_broadcast(&s->at, FRAME_EXIT, line, strlen(line));
	attach_finish(&s->at, FINISH_FLUSH_MS);
	free(line);
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
	s.log_fd = s.out_fd = s.err_fd = s.in_fd = s.ino_fd = -1;

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
	if ((s.ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0 || inotify_add_watch(s.ino_fd, ".", IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
		fail_start((nbx_fail_errno("inotify on %s", s.o.dir), &s));
	s.watching = true;

	if (s.o.wait_attach) {
		handshake(&s, NULL, false);
	} else if (start_runtime(&s) < 0) {
		fail_start(&s);
	}
	serve(&s);
	finish(&s);
	return 0;
}
