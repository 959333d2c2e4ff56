/* See record.h. */
#include "record.h"
#include "log.h"
#include "../status.h"
#include "../util.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

unsigned long long proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: count fields after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (field == 22)
			return strtoull(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

/*
 * shim.json describes a live process: after a crash of the machine it is stale whatever its
 * contents, so it is renamed into place whole but not fsynced (two fsyncs per container start
 * were a measurable part of its cost). exit.json neither: the rename keeps it whole for a crash of
 * the services (the page cache outlives them), and the lifecycle service writes the outcome
 * durably into the container's record as soon as it reads it; a power loss before that is like
 * a shim killed before its exit: the exit is recorded as lost. Its fsync was ~1 ms of every run.
 */
static int write_volatile(const char *path, const char *data, size_t len)
{
	char *tmp = xasprintf(".%s.%d.tmp", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	int rc = -1;
	if (fd < 0)
		nbx_fail_errno("write %s", path);
	else if (write_all(fd, data, len) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
		nbx_fail_errno("write %s", path), unlink(tmp);
	else
		rc = 0;
	free(tmp);
	return rc;
}

int shim_json_write(pid_t container_pid, unsigned long long container_start)
{
	json_t *o = json_object();
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "startTime", json_integer((json_int_t)proc_start_time(getpid())));
	if (container_pid > 0) {
		json_object_set_new(o, "containerPid", json_integer(container_pid));
		json_object_set_new(o, "containerStartTime", json_integer((json_int_t)container_start));
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return nbx_fail("write shim.json: cannot encode");
	char *line = xasprintf("%s\n", text);
	free(text);
	int rc = write_volatile("shim.json", line, strlen(line));
	free(line);
	return rc;
}

/* "oom_kill N" in memory.events (v2) or memory.oom_control (v1, kernel >= 4.13). */
static bool cgroup_oom_killed(const char *dir)
{
	static const char *const files[] = {"memory.events", "memory.oom_control"};
	for (size_t i = 0; i < 2; i++) {
		char *path = xasprintf("%s/%s", dir, files[i]);
		FILE *f = fopen(path, "re");
		free(path);
		if (!f)
			continue;
		char line[128];
		unsigned long long n = 0;
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "oom_kill %llu", &n) == 1)
				break;
		fclose(f);
		if (n > 0)
			return true;
	}
	return false;
}

static void set_error(struct shim_exit *e, int code, const char *stage, const char *msg)
{
	e->exit_code = code;
	e->signal = 0;
	e->stage = stage;
	snprintf(e->error, sizeof e->error, "%s", msg);
}

void shim_exit_collect(struct shim_exit *e, const char *status_file, int runtime_status, char *const *cgroups, int ncgroups)
{
	static const char *const stages[] = {"setup", "exec", "runtime"};
	memset(e, 0, sizeof *e);
	json_error_t jerr;
	json_t *s = json_load_file(status_file, 0, &jerr);
	json_t *code = s ? json_object_get(s, "exitCode") : NULL;
	if (json_is_integer(code)) {
		e->exit_code = (int)json_integer_value(code);
		json_t *sig = json_object_get(s, "signal");
		if (json_is_integer(sig))
			e->signal = (int)json_integer_value(sig);
		const char *stage = json_string_value(json_object_get(s, "stage"));
		const char *error = json_string_value(json_object_get(s, "error"));
		for (size_t i = 0; stage && error && i < sizeof stages / sizeof stages[0]; i++)
			if (!strcmp(stage, stages[i]))
				set_error(e, e->exit_code, stages[i], error);
	} else if (WIFEXITED(runtime_status) && WEXITSTATUS(runtime_status) == 127) {
		set_error(e, 125, "runtime", "cannot run the runtime: see the shim's error in ctr.log");
	} else {
		char msg[128];
		if (WIFSIGNALED(runtime_status))
			snprintf(msg, sizeof msg, "the runtime ended without a status (signal %d)", WTERMSIG(runtime_status));
		else
			snprintf(msg, sizeof msg, "the runtime ended without a status (exit %d)", WEXITSTATUS(runtime_status));
		set_error(e, 125, "runtime", msg);
	}
	json_decref(s);
	for (int i = 0; i < ncgroups && !e->oom_killed; i++)
		e->oom_killed = cgroup_oom_killed(cgroups[i]);
}

char *shim_exit_write(const struct shim_exit *e)
{
	char when[40];
	time_rfc3339nano(when, sizeof when);
	json_t *o = json_object();
	json_object_set_new(o, "exitCode", json_integer(e->exit_code));
	if (e->signal > 0)
		json_object_set_new(o, "signal", json_integer(e->signal));
	json_object_set_new(o, "oomKilled", json_boolean(e->oom_killed));
	json_object_set_new(o, "finishedAt", json_string(when));
	if (e->stage) {
		/* the runtime's error line may hold any bytes: keep it valid UTF-8 */
		char *clean = xmalloc(strlen(e->error) * 6 + 1);
		json_escape(clean, e->error, strlen(e->error));
		char *quoted = xasprintf("\"%s\"", clean);
		json_t *err = json_loads(quoted, JSON_DECODE_ANY, NULL);
		json_object_set_new(o, "error", err ? err : json_string("(unreadable error)"));
		json_object_set_new(o, "stage", json_string(e->stage));
		free(quoted);
		free(clean);
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text) {
		nbx_fail("write exit.json: cannot encode");
		return NULL;
	}
	char *line = xasprintf("%s\n", text);
	free(text);
	if (write_file_atomic("exit.json", line, strlen(line), false) < 0) {
		free(line);
		return NULL;
	}
	return line;
}
