/* The result of a run and the files that report it. */
#ifndef NBX_STATUS_H
#define NBX_STATUS_H

#include "util.h"

#include <sys/types.h>

struct nbx_result {
	int exit_code;        /* what nestbox-runtime exits with */
	int signal;           /* > 0 when the container's pid 1 was killed by it */
	const char *stage;    /* "setup" or "exec" when the run failed, else NULL */
	char error[NBX_ERRLEN];
};

/* Writes DATA to PATH atomically: a temporary file in the same directory, fsync, rename. */
int write_file_atomic(const char *path, const char *data, size_t len);

/* {"exitCode":N[,"signal":S]} or {"exitCode":N,"error":"...","stage":"..."} */
int status_write(const char *path, const struct nbx_result *r);

/* The container's pid as seen by the caller, in decimal without newline (like runc/crun). */
int pidfile_write(const char *path, pid_t pid);

#endif
