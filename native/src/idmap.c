/*
 * Id maps. Three ways, per map:
 *  - euid 0: write /proc/PID/{uid,gid}_map directly (root may map anything);
 *  - unprivileged, the map is just {0 -> own id, size 1}: the kernel lets us write it ourselves,
 *    but a gid map needs "deny" in /proc/PID/setgroups first (else a process could drop
 *    supplementary groups it was denied by, CVE-2014-8989);
 *  - otherwise the setuid helpers newuidmap/newgidmap, which check /etc/subuid and /etc/subgid.
 */
#include "idmap.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int write_proc(pid_t pid, const char *file, const char *data)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nbx_fail_errno("open %s", path);
	/* The kernel wants the whole map in a single write(). */
	ssize_t n = write(fd, data, strlen(data));
	int err = errno;
	close(fd);
	if (n != (ssize_t)strlen(data)) {
		errno = n < 0 ? err : EIO;
		return nbx_fail_errno("write %s", path);
	}
	return 0;
}

static char *map_text(const struct nbx_idmap *m, size_t n)
{
	size_t cap = n * 36 + 1, len = 0;
	char *buf = xmalloc(cap);
	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
	return buf;
}

struct helper {
	const char *name;
	pid_t pid;
	int out; /* read end of its stdout+stderr */
};

/*
 * Starts newuidmap/newgidmap PID c h s ... without waiting, so both helpers (each a setuid
 * exec reading /etc/sub[ug]id, ~2 ms) run at the same time.
 */
static int helper_start(struct helper *h, const char *name, pid_t pid, const struct nbx_idmap *m, size_t n)
{
	char **argv = xcalloc(3 * n + 3, sizeof(char *));
	int pfd[2], rc;
	size_t a = 0;
	h->name = name;
	h->pid = -1;
	h->out = -1;
	argv[a++] = (char *)name;
	argv[a++] = xasprintf("%d", (int)pid);
	for (size_t i = 0; i < n; i++) {
		argv[a++] = xasprintf("%u", m[i].container_id);
		argv[a++] = xasprintf("%u", m[i].host_id);
		argv[a++] = xasprintf("%u", m[i].size);
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		rc = errno;
	} else {
		posix_spawn_file_actions_t fa;
		posix_spawnattr_t attr;
		sigset_t none;
		sigemptyset(&none);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
		posix_spawnattr_init(&attr);
		/* The parent keeps the forwarded signals blocked for its signalfd: the helper must not. */
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
		rc = posix_spawnp(&h->pid, name, &fa, &attr, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
		close(pfd[1]);
		if (rc == 0)
			h->out = pfd[0];
		else
			close(pfd[0]);
	}
	for (size_t i = 1; i < a; i++)
		free(argv[i]);
	free(argv);
	if (rc == ENOENT)
		return nbx_fail("%s not found: install the uidmap package", name);
	if (rc != 0) {
		errno = rc;
		return nbx_fail_errno("run %s", name);
	}
	return 0;
}

/*
 * Waits for a started helper; its output (one line, e.g. "newuidmap: uid range [1-65536) ->
 * [100000-165536) not allowed") becomes our error. A helper that was not started is ignored.
 */
static int helper_finish(struct helper *h)
{
	char out[NBX_ERRLEN] = "";
	size_t len = 0;
	ssize_t r;
	int status = 0;
	if (h->pid < 0)
		return 0;
	while (len < sizeof out - 1 && (r = read(h->out, out + len, sizeof out - 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		len += (size_t)r;
	}
	out[len] = 0;
	close(h->out); /* a helper with more to say gets EPIPE */
	while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
		;
	h->pid = -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	out[strcspn(out, "\n")] = 0;
	if (out[0])
		return nbx_fail("%s", out);
	if (WIFSIGNALED(status))
		return nbx_fail("%s killed by signal %d", h->name, WTERMSIG(status));
	return nbx_fail("%s failed with exit status %d", h->name, WEXITSTATUS(status));
}

static int is_self_only(const struct nbx_idmap *m, size_t n, unsigned id)
{
	return n == 1 && m[0].container_id == 0 && m[0].host_id == id && m[0].size == 1;
}

int idmap_apply(pid_t pid, const struct nbx_spec *s)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	bool uid_direct = euid == 0 || is_self_only(s->uid_maps, s->nuid_maps, euid);
	bool gid_direct = euid == 0 || is_self_only(s->gid_maps, s->ngid_maps, egid);
	struct helper hu = {.pid = -1}, hg = {.pid = -1};
	int rc = 0;
	char *t;

	if (!uid_direct && helper_start(&hu, "newuidmap", pid, s->uid_maps, s->nuid_maps) < 0)
		return -1;
	if (!gid_direct && helper_start(&hg, "newgidmap", pid, s->gid_maps, s->ngid_maps) < 0)
		rc = -1;
	if (rc == 0 && uid_direct) {
		t = map_text(s->uid_maps, s->nuid_maps);
		rc = write_proc(pid, "uid_map", t);
		free(t);
	}
	if (rc == 0 && gid_direct) {
		if (euid != 0)
			rc = write_proc(pid, "setgroups", "deny");
		if (rc == 0) {
			t = map_text(s->gid_maps, s->ngid_maps);
			rc = write_proc(pid, "gid_map", t);
			free(t);
		}
	}
	/* Always reap both; the first error wins. */
	char first[NBX_ERRLEN];
	snprintf(first, sizeof first, "%s", nbx_err);
	int ru = helper_finish(&hu);
	if (rc == 0 && ru < 0)
		snprintf(first, sizeof first, "%s", nbx_err);
	int rg = helper_finish(&hg);
	if (rc == 0 && ru == 0 && rg < 0)
		snprintf(first, sizeof first, "%s", nbx_err);
	if (rc < 0 || ru < 0 || rg < 0) {
		snprintf(nbx_err, sizeof nbx_err, "%s", first);
		return -1;
	}
	return 0;
}
