/* See status.h. The service reads these files after the runtime is gone, so they must be whole. */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int write_file_atomic(const char *path, const char *data, size_t len, bool durable)
{
	char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
	char *tmp = xasprintf("%s/.%s.%d.tmp", dirname(dcopy), basename(bcopy), (int)getpid());
	int rc = -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		nbx_fail_errno("write %s", path);
		goto out;
	}
	if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		nbx_fail_errno("write %s", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		nbx_fail_errno("write %s", path);
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(dcopy);
	free(bcopy);
	return rc;
}

void result_set_error(struct nbx_result *r, int code, const char *stage, const char *msg)
{
	r->exit_code = code;
	r->signal = 0;
	r->stage = stage;
	if (msg != r->error)
		snprintf(r->error, sizeof r->error, "%s", msg);
}

/* jansson refuses invalid UTF-8 (a path in an error may have any bytes): replace those bytes. */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = xstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

int status_write(const char *path, const struct nbx_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "exitCode", json_integer(r->exit_code));
	if (r->signal > 0)
		json_object_set_new(o, "signal", json_integer(r->signal));
	if (r->stage) {
		json_object_set_new(o, "error", json_text(r->error));
		json_object_set_new(o, "stage", json_string(r->stage));
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return nbx_fail("write %s: cannot encode the status", path);
	size_t len = strlen(text);
	char *line = xasprintf("%s\n", text);
	free(text);
	int rc = write_file_atomic(path, line, len + 1, false);
	free(line);
	return rc;
}

int pidfile_write(const char *path, pid_t pid)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%d", (int)pid);
	return write_file_atomic(path, buf, (size_t)n, false);
}
