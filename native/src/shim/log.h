/*
 * The container's log, <container dir>/ctr.log, in docker's json-file format: one JSON object
 * per line, {"log":"...","stream":"stdout|stderr","time":"RFC3339Nano"}. A chunk read from the
 * container is split at newlines (each entry's "log" keeps its "\n", as docker's); a trailing
 * piece without newline is an entry of its own. Bytes that are not UTF-8 become U+FFFD.
 */
#ifndef NBX_SHIM_LOG_H
#define NBX_SHIM_LOG_H

#include <stddef.h>

/* Opens (appends to) PATH, mode 0600. -1 with nbx_err. */
int log_open(const char *path);
/* Writes the entries for one chunk. A failed write is remembered, not fatal (the run goes on). */
void log_chunk(int fd, const char *stream, const char *data, size_t len);

/* RFC 3339 with nanoseconds, UTC, trailing zeros of the fraction dropped (Go's RFC3339Nano). */
void time_rfc3339nano(char *buf, size_t size);

/* Appends S (LEN bytes) to OUT as the inside of a JSON string. OUT needs 6*LEN+1 bytes. */
size_t json_escape(char *out, const char *s, size_t len);

#endif
