/* The container's life under the shim: see shim.h, attach.h, log.h, record.h. */
#include "shim.h"
#include "console.h"
#include "log.h"
#include "record.h"
#include "../util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_ATTACH_MS 10000
#define FINISH_FLUSH_MS 5000

static int pipe_pair(int p[2], bool read_nonblock)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return nbx_fail_errno("pipe");
	if (read_nonblock)
		fcntl(p[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* Forks the runtime with the container's stdio; the shim keeps the other ends. */
int start_runtime(struct shim *s)
{
	int out[2], err[2], in[2] = {-1, -1};
	if (pipe_pair(out, true) < 0 || pipe_pair(err, true) < 0)
		return -1;
	if (s->o.stdin_pipe && !s->o.terminal) {
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
		/* the console socket by its name in our (and so the runtime's) working directory, the
		 * container dir: its absolute path may be longer than a socket address can hold */
		char *argv[20];
		int n = 0;
		argv[n++] = "nestbox-runtime";
		if (s->o.exec_pid) {
			argv[n++] = "exec";
			argv[n++] = "--pid";
			argv[n++] = (char *)s->o.exec_pid;
			argv[n++] = "--process";
			argv[n++] = (char *)s->o.process;
			argv[n++] = "--config";
			argv[n++] = xasprintf("%s/config.json", s->o.bundle);
		} else {
			argv[n++] = "run";
			argv[n++] = "--bundle";
			argv[n++] = (char *)s->o.bundle;
		}
		argv[n++] = "--status-file";
		argv[n++] = status;
		argv[n++] = "--pid-file";
		argv[n++] = pidf;
		if (s->o.terminal) {
			argv[n++] = "--console-socket";
			argv[n++] = "console.sock";
		}
		if (!s->o.exec_pid)
			argv[n++] = (char *)s->o.id;
		argv[n] = NULL;
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
	handshake(s, NULL, NULL);
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

/* The runtime's pty master: output comes from it, input goes to it (through a dup: closing
 * stdin must not close the output). True when a master was received. */
static bool on_console(struct shim *s)
{
	int master = console_receive(s->console_fd);
	if (master == -2)
		return false;
	close(s->console_fd);
	s->console_fd = -1;
	unlink("console.sock");
	if (master < 0) {
		log_chunk(s->log_fd, "stderr", nbx_err, strlen(nbx_err));
		return false;
	}
	s->tty_fd = master;
	s->in_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	console_resize(master, s->rows, s->cols);
	flush_stdin(s);
	return true;
}

static void on_input(void *ctx, int type, const char *data, size_t len)
{
	struct shim *s = ctx;
	if (type == FRAME_STDIN_END) {
		s->in_end = true;
	} else if (type == FRAME_RESIZE && len == 4) {
		const unsigned char *p = (const unsigned char *)data;
		s->rows = (unsigned)p[0] << 8 | p[1];
		s->cols = (unsigned)p[2] << 8 | p[3];
		console_resize(s->tty_fd, s->rows, s->cols);
	} else if (type == FRAME_STDIN && (s->o.stdin_pipe || s->o.terminal) && !s->in_end &&
		   (s->in_fd >= 0 || s->console_fd >= 0)) {
		/* with a terminal, input before the master arrives waits in the buffer */
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
void serve(struct shim *s)
{
	/*
	 * --wait-attach: the runtime is already setting the container up, but its output stays in
	 * the pipes (the container blocks once they are full) until the first client is there, so
	 * that client sees all of it; after WAIT_ATTACH_MS without one, it is read anyway.
	 */
	long hold_until = s->o.wait_attach ? now_ms() + WAIT_ATTACH_MS : 0;
	for (;;) {
		bool holding = hold_until && s->at.n == 0 && now_ms() < hold_until;
		if (!holding)
			hold_until = 0;
		if (s->runtime_done && s->out_fd < 0 && s->err_fd < 0 && s->tty_fd < 0) {
			/* a master sent just before the runtime ended may still wait in the backlog */
			if (!(s->console_fd >= 0 && on_console(s)))
				return;
		}
		struct pollfd p[8 + ATTACH_MAX_CLIENTS];
		int n = 0, i_sig, i_ino = -1, i_out = -1, i_err = -1, i_tty = -1, i_con = -1, i_in = -1, i_lis, i_cli;
		bool throttled = holding || attach_pending(&s->at) > ATTACH_HIGH_WATER;
		i_sig = n, p[n++] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
		if (s->watching)
			i_ino = n, p[n++] = (struct pollfd){.fd = s->ino_fd, .events = POLLIN};
		if (s->out_fd >= 0 && !throttled)
			i_out = n, p[n++] = (struct pollfd){.fd = s->out_fd, .events = POLLIN};
		if (s->err_fd >= 0 && !throttled)
			i_err = n, p[n++] = (struct pollfd){.fd = s->err_fd, .events = POLLIN};
		if (s->tty_fd >= 0 && !throttled)
			i_tty = n, p[n++] = (struct pollfd){.fd = s->tty_fd, .events = POLLIN};
		if (s->console_fd >= 0)
			i_con = n, p[n++] = (struct pollfd){.fd = s->console_fd, .events = POLLIN};
		if (s->in_fd >= 0 && s->in_len > 0)
			i_in = n, p[n++] = (struct pollfd){.fd = s->in_fd, .events = POLLOUT};
		i_lis = n, p[n++] = (struct pollfd){.fd = s->at.listen_fd, .events = POLLIN};
		i_cli = n;
		for (int i = 0; i < s->at.n; i++) {
			/* input waits while stdin has a backlog */
			short ev = (s->in_len < ATTACH_HIGH_WATER ? POLLIN : 0) | (s->at.c[i]->out_len ? POLLOUT : 0);
			p[n++] = (struct pollfd){.fd = s->at.c[i]->fd, .events = ev};
		}
		long left = holding ? hold_until - now_ms() : -1;
		if (poll(p, (nfds_t)n, holding ? (int)(left > 0 ? left : 0) : -1) < 0) {
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
		if (i_tty >= 0 && p[i_tty].revents)
			on_output(s, &s->tty_fd, FRAME_STDOUT, "stdout"); /* EIO once the last slave is closed: EOF */
		if (i_con >= 0 && (p[i_con].revents & POLLIN))
			on_console(s);
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

void finish(struct shim *s)
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
	unlink("console.sock");
	handshake(s, NULL, line);
	attach_broadcast(&s->at, FRAME_EXIT, line, strlen(line));
	attach_finish(&s->at, FINISH_FLUSH_MS);
	free(line);
	if (s->o.cleanup) {
		/* our own directory, left as the service made it: the process file plus our files */
		const char *ours[] = {"ctr.log", "exit.json", "status.json", "pid", s->o.process};
		for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
			if (ours[i])
				unlink(ours[i]);
		if (chdir("/") == 0)
			rmdir(s->o.dir);
	}
}
