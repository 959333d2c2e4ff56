/* See cgroup_join.h. */
#include "cgroup_join.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cg_line {
	char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for v2 */
	char *path;
};

/* /proc/X/cgroup: "ID:CONTROLLERS:PATH" lines. Returns the count, -1 on error. */
static int read_cgroup_file(const char *file, struct cg_line **out)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	*out = NULL;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		*out = realloc(*out, (size_t)(n + 1) * sizeof **out);
		if (!*out)
			abort();
		(*out)[n].controllers = xstrdup(c1 + 1);
		(*out)[n].path = xstrdup(c2 + 1);
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

static void free_lines(struct cg_line *l, int n)
{
	for (int i = 0; i < n; i++) {
		free(l[i].controllers);
		free(l[i].path);
	}
	free(l);
}

/* Is every word of the comma list WANT among the comma list HAVE? */
static int all_words_in(const char *want, const char *have)
{
	char *w = xstrdup(want), *save = NULL;
	int ok = 1;
	for (char *t = strtok_r(w, ",", &save); t && ok; t = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(t);
		const char *p = have;
		ok = 0;
		while (*p && !ok) {
			size_t len = strcspn(p, ",");
			ok = len == n && !strncmp(p, t, n);
			p += len + (p[len] == ',');
		}
	}
	free(w);
	return ok;
}

/*
 * The host directory of cgroup PATH in the hierarchy of CONTROLLERS: mountpoint + PATH relative
 * to the mount's root. NULL when that hierarchy is not mounted.
 */
static char *hierarchy_dir(const char *controllers, const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	while (!found && getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char root[4096], mnt[4096], fstype[64], super[1024];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		int v2 = !controllers[0];
		if (v2 ? strcmp(fstype, "cgroup2") : (strcmp(fstype, "cgroup") || !all_words_in(controllers, super)))
			continue;
		/* Octal escapes (\040) in mount points are not expected on cgroup mounts. */
		size_t rl = strlen(root);
		if (!strcmp(root, "/"))
			found = xasprintf("%s%s", mnt, path);
		else if (!strncmp(path, root, rl) && (path[rl] == '/' || path[rl] == 0))
			found = xasprintf("%s%s", mnt, path + rl);
	}
	free(line);
	fclose(f);
	return found;
}

int cgroup_dirs_of(pid_t pid, struct strv *out)
{
	char file[64];
	struct cg_line *theirs, *ours;
	snprintf(file, sizeof file, "/proc/%d/cgroup", (int)pid);
	int nt = read_cgroup_file(file, &theirs);
	if (nt < 0)
		return nbx_fail_errno("read %s", file);
	int no = read_cgroup_file("/proc/self/cgroup", &ours);
	if (no < 0) {
		free_lines(theirs, nt);
		return nbx_fail_errno("read /proc/self/cgroup");
	}
	out->v = xcalloc((size_t)nt + 1, sizeof(char *));
	out->n = 0;
	for (int i = 0; i < nt; i++) {
		int same = 0;
		for (int k = 0; k < no; k++)
			same |= !strcmp(ours[k].controllers, theirs[i].controllers) && !strcmp(ours[k].path, theirs[i].path);
		if (same)
			continue;
		char *dir = hierarchy_dir(theirs[i].controllers, theirs[i].path);
		if (dir)
			out->v[out->n++] = dir;
	}
	free_lines(theirs, nt);
	free_lines(ours, no);
	return 0;
}

int cgroup_join_dirs(pid_t pid, const struct strv *dirs)
{
	char num[24];
	int len = snprintf(num, sizeof num, "%d", (int)pid);
	for (size_t i = 0; i < dirs->n; i++) {
		char *path = xasprintf("%s/cgroup.procs", dirs->v[i]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		int rc = fd < 0 || write_all(fd, num, (size_t)len) < 0 ? -1 : 0;
		if (rc < 0)
			nbx_fail_errno("cgroup: add process to %s", path);
		if (fd >= 0)
			close(fd);
		free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}
