/* The result of a run and the files that report it. */
#ifndef NBX_STATUS_H
#define NBX_STATUS_H

#include "util.h"

#include <stdbool.h>
#include <sys/types.h>

struct nbx_result {
	int exit_code;        /* what nestbox-runtime exits with */
	int signal;           /* > 0 when the container's pid 1 was killed by it */
	const char *stage;    /* "setup" or "exec" when the run failed, else NULL */
	char error[NBX_ERRLEN];
};

/* Writes DATA to PATH atomically: a temporary file in the same directory, renamed. DURABLE: fsync'd
 * first, for a record that must outlive a crash of the machine (exit.json); a pid or a status
 * read at once by the caller means nothing after a reboot, and an fsync costs milliseconds. */
int write_file_atomic(const char *path, const char *data, size_t len, bool durable);

/* R becomes a failure of STAGE ("setup" or "exec") with exit code CODE and MSG. */
void result_set_error(struct nbx_result *r, int code, const char *stage, const char *msg);

/* {"exitCode":N[,"signal":S]} or {"exitCode":N,"error":"...","stage":"..."} */
int status_write(const char *path, const struct nbx_result *r);

/* The container's pid as seen by the caller, in decimal without newline (like runc/crun). */
int pidfile_write(const char *path, pid_t pid);

#endif
