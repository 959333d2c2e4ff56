/* `nestbox-runtime keeper`: see keeper.h. */
#include "keeper.h"
#include "idmap.h"
#include "namespaces.h"
#include "procstat.h"
#include "spec.h"
#include "status.h"
#include "subcmd.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The kernel accepts at most 340 lines per map. */
#define MAX_MAPS 340

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "C:H:S" (container id, host id, size) appended to *maps. */
static int parse_map(const char *opt, const char *text, struct nbx_idmap **maps, size_t *n)
{
	char buf[96], *c, *h, *sz;
	snprintf(buf, sizeof buf, "%s", text);
	c = buf;
	h = strchr(c, ':');
	sz = h ? strchr(h + 1, ':') : NULL;
	if (!h || !sz)
		return nbx_fail("%s %s: expected CONTAINER:HOST:SIZE", opt, text);
	*h++ = 0;
	*sz++ = 0;
	if (*n >= MAX_MAPS)
		return nbx_fail("%s: at most %d ranges", opt, MAX_MAPS);
	struct nbx_idmap m;
	if (parse_u32(c, &m.container_id) < 0 || parse_u32(h, &m.host_id) < 0 || parse_u32(sz, &m.size) < 0 || m.size == 0)
		return nbx_fail("%s %s: expected CONTAINER:HOST:SIZE in decimal, SIZE > 0", opt, text);
	*maps = realloc(*maps, (*n + 1) * sizeof **maps);
	if (!*maps)
		return nbx_fail("out of memory");
	(*maps)[(*n)++] = m;
	return 0;
}

/* One message on the keeper's setup pipe: a tag byte, then for 'E' the error line. */
static void send_msg(int fd, char tag, const char *text)
{
	char buf[NBX_ERRLEN + 1];
	buf[0] = tag;
	size_t len = 1;
	if (text) {
		snprintf(buf + 1, sizeof buf - 1, "%s", text);
		len += strlen(buf + 1);
	}
	if (write_all(fd, buf, len) < 0)
		_exit(125);
}

static int recv_msg(int fd, char *tag, char *text, size_t cap)
{
	char buf[NBX_ERRLEN + 1];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf - 1)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return -1;
	buf[n] = 0;
	*tag = buf[0];
	snprintf(text, cap, "%s", buf + 1);
	return 0;
}

/* Detached from everything the caller gave us: no terminal, no pipes, no signals it set. */
static void detach_stdio_and_fds(int keep)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		_exit(125);
	for (int fd = 0; fd < 3; fd++)
		dup2(null, fd);
	/* Every other descriptor, however high (the hard nofile limit may be large). */
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		_exit(125);
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name); /* "." and ".." give 0 */
		if (fd >= 3 && fd != keep && fd != dirfd(d))
			close(fd);
	}
	closedir(d);
}

static void __attribute__((noreturn)) keeper_child(int to_parent, int from_parent)
{
	char tag, text[NBX_ERRLEN];
	if (setsid() < 0) {
		nbx_fail_errno("setsid");
		send_msg(to_parent, 'E', nbx_err);
		_exit(125);
	}
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		nbx_fail_errno("unshare user and mount namespaces");
		send_msg(to_parent, 'E', nbx_err);
		_exit(125);
	}
	send_msg(to_parent, 'U', NULL);
	/* The parent writes our maps, then says go; EOF means it failed and said why itself. */
	if (recv_msg(from_parent, &tag, text, sizeof text) < 0 || tag != 'G')
		_exit(125);
	close(from_parent);
	if (ns_become_root() < 0) {
		send_msg(to_parent, 'E', nbx_err);
		_exit(125);
	}
	/* Mounts made here (export, commit) never reach the host; the host's still reach us. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		nbx_fail_errno("make / rslave in the keeper's mount namespace");
		send_msg(to_parent, 'E', nbx_err);
		_exit(125);
	}
	if (chdir("/") < 0)
		_exit(125);
	prctl(PR_SET_NAME, "nestbox-keeper", 0, 0, 0);
	signals_reset();
	detach_stdio_and_fds(to_parent);
	send_msg(to_parent, 'R', NULL);
	close(to_parent);
	for (;;)
		pause();
}

int keeper_main(int argc, char **argv)
{
	const char *pid_file = NULL, *v;
	struct nbx_spec spec;
	memset(&spec, 0, sizeof spec);
	for (int i = 2; i < argc; i++) {
		if ((v = subcmd_option(argc, argv, &i, "--pid-file", "keeper")))
			pid_file = v;
		else if ((v = subcmd_option(argc, argv, &i, "--uid-map", "keeper"))) {
			if (parse_map("--uid-map", v, &spec.uid_maps, &spec.nuid_maps) < 0)
				subcmd_die("keeper");
		} else if ((v = subcmd_option(argc, argv, &i, "--gid-map", "keeper"))) {
			if (parse_map("--gid-map", v, &spec.gid_maps, &spec.ngid_maps) < 0)
				subcmd_die("keeper");
		} else {
			nbx_fail("unexpected argument %s", argv[i]);
			subcmd_die("keeper");
		}
	}
	if (!pid_file) {
		nbx_fail("--pid-file FILE is required");
		subcmd_die("keeper");
	}
	if (!spec.nuid_maps || !spec.ngid_maps) {
		nbx_fail("at least one --uid-map and one --gid-map are required");
		subcmd_die("keeper");
	}

	int up[2], down[2];
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) {
		nbx_fail_errno("pipe");
		subcmd_die("keeper");
	}
	pid_t pid = fork();
	if (pid < 0) {
		nbx_fail_errno("fork");
		subcmd_die("keeper");
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		keeper_child(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);

	char tag = 0, text[NBX_ERRLEN] = "";
	unsigned long long start = 0;
	int ok = recv_msg(up[0], &tag, text, sizeof text) == 0 && tag == 'U';
	if (!ok)
		nbx_fail("%s", tag == 'E' ? text : "the keeper exited during setup");
	if (ok && idmap_apply(pid, &spec) < 0)
		ok = 0;
	if (ok) {
		send_msg(down[1], 'G', NULL);
		ok = recv_msg(up[0], &tag, text, sizeof text) == 0 && tag == 'R';
		if (!ok)
			nbx_fail("%s", tag == 'E' ? text : "the keeper exited during setup");
	}
	close(down[1]);
	close(up[0]);
	if (ok && proc_start_time(pid, &start, NULL) < 0)
		ok = 0;
	if (ok) {
		char line[64];
		int n = snprintf(line, sizeof line, "%d %llu\n", (int)pid, start);
		if (write_file_atomic(pid_file, line, (size_t)n, false) < 0)
			ok = 0;
	}
	if (!ok) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		subcmd_die("keeper");
	}
	return 0;
}
