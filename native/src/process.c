/* See process.h. Runs in the child after pivot_root, as container root until the user switch. */
#include "process.h"
#include "caps.h"
#include "spec.h"
#include "user_lookup.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int process_limits(const struct nbx_spec *s)
{
	for (size_t i = 0; i < s->nrlimits; i++) {
		const struct nbx_rlimit *r = &s->rlimits[i];
		struct rlimit cur, want = {.rlim_cur = r->soft, .rlim_max = r->hard};
		if (getrlimit(r->resource, &cur) < 0)
			return nbx_fail_errno("getrlimit %s", r->name);
		/* Raising a hard limit needs CAP_SYS_RESOURCE in the init namespace: refuse clearly. */
		if (cur.rlim_max != RLIM_INFINITY && (r->hard == RLIM_INFINITY || r->hard > cur.rlim_max))
			return nbx_fail("rlimit %s: hard limit %llu is above the current hard limit %llu (raising it is not allowed)",
					r->name, (unsigned long long)r->hard, (unsigned long long)cur.rlim_max);
		if (setrlimit(r->resource, &want) < 0)
			return nbx_fail_errno("setrlimit %s", r->name);
	}
	return 0;
}

/* HOME of the user process.user.username named, for process_environment (NULL: none resolved). */
static char *resolved_home;

int process_identity(const struct nbx_spec *s)
{
	uid_t uid = s->uid;
	gid_t gid = s->gid;
	struct nbx_user named = {0};
	/* Read as container root, before anything changes: the container's own files (after pivot_root). */
	if (s->username) {
		if (user_lookup(s->username, "/etc/passwd", "/etc/group", &named) < 0)
			return -1;
		uid = named.uid;
		gid = named.gid;
		resolved_home = named.home;
	}
	/* With container root's capabilities, so a cwd the user cannot search still works. */
	if (chdir(s->cwd) < 0)
		return nbx_fail_errno("chdir to cwd %s", s->cwd);
	umask(s->has_umask ? s->umask : 022);
	if (caps_before_setuid(&s->caps) < 0)
		return -1;
	if (s->nadd_gids > 0) {
		if (setgroups(s->nadd_gids, s->add_gids) < 0) {
			if (errno == EPERM)
				return nbx_fail("additionalGids: setgroups is denied in this user namespace (single-id mapping)");
			return nbx_fail_errno("setgroups (additionalGids)");
		}
	} else if (named.nsgids > 0) {
		/* the user's groups from /etc/group; with a single-id mapping there are none to have */
		if (setgroups(named.nsgids, named.sgids) < 0) {
			if (errno != EPERM)
				return errno == EINVAL ? nbx_fail("the groups of %s in /etc/group are not all mapped in the user namespace", s->username)
						       : nbx_fail_errno("setgroups (the groups of %s)", s->username);
			/* denied ("deny" in setgroups: a single-id mapping): it has no other groups to be in */
		}
	} else if (setgroups(0, NULL) < 0 && errno != EPERM) {
		return nbx_fail_errno("setgroups");
	}
	/* EINVAL from setres[ug]id means the id has no mapping in the user namespace. */
	if (setresgid(gid, gid, gid) < 0)
		return errno == EINVAL ? nbx_fail("process.user.gid %u is not mapped in the user namespace", gid)
				       : nbx_fail_errno("setresgid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		return errno == EINVAL ? nbx_fail("process.user.uid %u is not mapped in the user namespace", uid)
				       : nbx_fail_errno("setresuid %u", uid);
	return caps_after_setuid(&s->caps);
}

void process_environment(const struct nbx_spec *s)
{
	clearenv();
	for (size_t i = 0; i < s->env.n; i++)
		putenv(s->env.v[i]); /* the strings live until exec */
	/* docker: HOME from the named user's passwd entry unless the environment sets it */
	if (resolved_home && !getenv("HOME"))
		setenv("HOME", resolved_home, 1);
}

/* docker writes errno text in lower case: "permission denied". */
static const char *lower_strerror(int err)
{
	static char buf[128];
	snprintf(buf, sizeof buf, "%s", strerror(err));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static int exec_failed(const char *cmd, int err, int not_found_in_path)
{
	struct stat st;
	if (not_found_in_path) {
		nbx_fail("exec: \"%s\": executable file not found in $PATH", cmd);
		return 127;
	}
	if (err == ENOENT || err == ENOTDIR) {
		/* A file that exists but gives ENOENT is a script whose interpreter is missing. */
		if (stat(cmd, &st) == 0)
			nbx_fail("exec: \"%s\": %s (its interpreter is missing?)", cmd, lower_strerror(err));
		else
			nbx_fail("exec: \"%s\": stat %s: %s", cmd, cmd, lower_strerror(err));
		return 127;
	}
	if (err == EACCES && stat(cmd, &st) == 0 && S_ISDIR(st.st_mode)) {
		nbx_fail("exec: \"%s\": is a directory", cmd);
		return 126;
	}
	nbx_fail("exec: \"%s\": %s", cmd, lower_strerror(err));
	return 126;
}

/* An executable regular file for execve: 0, or the errno execve would give it. */
static int exec_candidate(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno;
	if (S_ISDIR(st.st_mode))
		return EACCES;
	return access(path, X_OK) < 0 ? errno : 0;
}

int process_resolve(const struct nbx_spec *s, char *out, size_t len)
{
	const char *cmd = s->args.v[0];
	if (cmd[0] == 0)
		return exec_failed(cmd, ENOENT, 1);
	if (strchr(cmd, '/')) {
		int err = exec_candidate(cmd);
		if (err)
			return exec_failed(cmd, err, 0);
		snprintf(out, len, "%s", cmd);
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = DEFAULT_PATH;
	char eacces_path[PATH_MAX] = "";
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		/* An empty entry means the current directory, as in execvp. */
		int n = dlen ? snprintf(out, len, "%.*s/%s", (int)dlen, p, cmd) : snprintf(out, len, "%s", cmd);
		if (n > 0 && (size_t)n < len) {
			int err = exec_candidate(out);
			if (err == 0)
				return 0;
			if (err == EACCES && !eacces_path[0])
				snprintf(eacces_path, sizeof eacces_path, "%s", out);
			else if (err != EACCES && err != ENOENT && err != ENOTDIR && err != ESTALE && err != ENODEV && err != ETIMEDOUT)
				return exec_failed(cmd, err, 0);
		}
		if (*end == 0)
			break;
		p = end;
	}
	if (eacces_path[0]) {
		struct stat st;
		if (stat(eacces_path, &st) == 0 && S_ISDIR(st.st_mode))
			return exec_failed(cmd, ENOENT, 1); /* a directory named like the command */
		return exec_failed(cmd, EACCES, 0);
	}
	return exec_failed(cmd, ENOENT, 1);
}

int process_exec(const struct nbx_spec *s, const char *path)
{
	execve(path, s->args.v, environ);
	/* found, yet refused: a script whose interpreter is missing, a binary of another machine */
	return exec_failed(path, errno, 0);
}
