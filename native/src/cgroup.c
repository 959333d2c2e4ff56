/* See cgroup.h. Creating and limiting cgroups is the cgroup service's job, not the runtime's. */
#include "cgroup.h"
#include "spec.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int cgroup_place(pid_t pid, const struct nbx_spec *s)
{
	char num[24];
	int len = snprintf(num, sizeof num, "%d", (int)pid);
	for (size_t i = 0; i < s->cgroup_paths.n; i++) {
		char *path = xasprintf("%s/cgroup.procs", s->cgroup_paths.v[i]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write_all(fd, num, (size_t)len) < 0) {
			nbx_fail_errno("cgroup: add process to %s", path);
			if (fd >= 0)
				close(fd);
			free(path);
			return -1;
		}
		close(fd);
		free(path);
	}
	return 0;
}

int oom_score_set(pid_t pid, const struct nbx_spec *s)
{
	if (!s->has_oom_score_adj)
		return 0;
	char path[64], buf[16];
	snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
	int n = snprintf(buf, sizeof buf, "%d", s->oom_score_adj);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write_all(fd, buf, (size_t)n) < 0) {
		/* Lowering it needs CAP_SYS_RESOURCE in the init namespace. */
		nbx_fail_errno("set oomScoreAdj %d", s->oom_score_adj);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
