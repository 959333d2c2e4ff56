/*
 * The files through which the shim reports, all written atomically in the container dir:
 *   shim.json  {"pid":N,"startTime":T[,"containerPid":P,"containerStartTime":T2]}
 *              at start; again with the container's pid once the runtime has written `pid`.
 *              Start times are field 22 of /proc/PID/stat (clock ticks since boot), so a
 *              reused pid is never taken for ours. Removed when the shim is done.
 *   exit.json  {"exitCode":N[,"signal":S],"oomKilled":B,"finishedAt":"RFC3339Nano"
 *              [,"error":"...","stage":"setup|exec|runtime"]}: how the container ended.
 */
#ifndef NBX_SHIM_RECORD_H
#define NBX_SHIM_RECORD_H

#include <stdbool.h>
#include <sys/types.h>

/* Field 22 of /proc/PID/stat, or 0 when the process is gone. */
unsigned long long proc_start_time(pid_t pid);

int shim_json_write(pid_t container_pid, unsigned long long container_start);

struct shim_exit {
	int exit_code;
	int signal;
	bool oom_killed;
	char error[512];
	const char *stage;
};

/*
 * How the run ended: the runtime's status file STATUS_FILE, or, without one, its wait status
 * RUNTIME_STATUS (the runtime could not start, or was killed). OOM from the container's memory
 * cgroup among CGROUPS.
 */
void shim_exit_collect(struct shim_exit *e, const char *status_file, int runtime_status, char *const *cgroups, int ncgroups);

/* exit.json as one line (malloc'd) and written atomically; NULL with nbx_err if not written. */
char *shim_exit_write(const struct shim_exit *e);

#endif
