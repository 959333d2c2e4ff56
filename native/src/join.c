/* `nestbox-runtime join`: see keeper.h. */
#include "keeper.h"
#include "namespaces.h"
#include "procstat.h"
#include "subcmd.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* /proc/PID/ns/NAME, opened before anything is checked so it cannot change under us. */
static int open_ns(pid_t pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ESRCH))
		nbx_fail("process %d has exited (open %s: %s)", (int)pid, path, strerror(errno));
	else if (fd < 0)
		nbx_fail_errno("open %s", path);
	return fd;
}

/* Whether NAME exists in some directory of PATH (glibc's default when PATH is unset). */
static int in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy = xstrdup(path ? path : "/bin:/usr/bin"), *save = NULL, file[PATH_MAX];
	int found = 0;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof file, "%s/%s", *dir ? dir : ".", name);
		found = access(file, F_OK) == 0;
	}
	free(copy);
	return found;
}

int join_main(int argc, char **argv)
{
	const char *v;
	long long pid = -1;
	unsigned long long want_start = 0;
	int has_start = 0, cmd = -1;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			cmd = i + 1;
			break;
		}
		if ((v = subcmd_option(argc, argv, &i, "--pid", "join"))) {
			char *end;
			pid = strtoll(v, &end, 10);
			if (*end || end == v || pid <= 0 || pid > INT_MAX) {
				nbx_fail("--pid %s: not a process id", v);
				subcmd_die("join");
			}
		} else if ((v = subcmd_option(argc, argv, &i, "--start-time", "join"))) {
			char *end;
			want_start = strtoull(v, &end, 10);
			if (*end || end == v || v[0] == '-') {
				nbx_fail("--start-time %s: not a number", v);
				subcmd_die("join");
			}
			has_start = 1;
		} else {
			nbx_fail("unexpected argument %s (the command goes after --)", argv[i]);
			subcmd_die("join");
		}
	}
	if (pid < 0) {
		nbx_fail("--pid PID is required");
		subcmd_die("join");
	}
	if (cmd < 0 || cmd >= argc) {
		nbx_fail("no command: join --pid PID -- CMD [ARGS...]");
		subcmd_die("join");
	}

	char cwd[PATH_MAX];
	int have_cwd = getcwd(cwd, sizeof cwd) != NULL;
	int userfd = open_ns((pid_t)pid, "user");
	int mntfd = userfd < 0 ? -1 : open_ns((pid_t)pid, "mnt");
	if (mntfd < 0)
		subcmd_die("join");
	/* Checked after opening: the namespaces we hold are those of the process we checked. */
	unsigned long long start;
	char state;
	if (proc_start_time((pid_t)pid, &start, &state) < 0)
		subcmd_die("join");
	if (has_start && start != want_start) {
		nbx_fail("process %lld is not the keeper (start time %llu, expected %llu): the keeper died", pid, start, want_start);
		subcmd_die("join");
	}
	if (state == 'Z' || state == 'X') {
		nbx_fail("process %lld has exited", pid);
		subcmd_die("join");
	}
	if (setns(userfd, CLONE_NEWUSER) < 0) {
		nbx_fail_errno("join the user namespace of process %lld", pid);
		subcmd_die("join");
	}
	if (setns(mntfd, CLONE_NEWNS) < 0) {
		nbx_fail_errno("join the mount namespace of process %lld", pid);
		subcmd_die("join");
	}
	close(userfd);
	close(mntfd);
	if (ns_become_root() < 0)
		subcmd_die("join");
	/* Joining a mount namespace moves us to its root: keep the caller's directory by path. */
	if (have_cwd && chdir(cwd) < 0 && chdir("/") < 0) {
		nbx_fail_errno("chdir /");
		subcmd_die("join");
	}
	execvp(argv[cmd], argv + cmd);
	int err = errno;
	/* execvp says EACCES when some PATH directory was not searchable, even if CMD is nowhere. */
	if (err == EACCES && !strchr(argv[cmd], '/') && !in_path(argv[cmd]))
		err = ENOENT;
	fprintf(stderr, "nestbox-runtime: join: exec %s: %s\n", argv[cmd], strerror(err));
	return err == ENOENT ? 127 : 126;
}
