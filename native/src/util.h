/* Small shared helpers: one error buffer, checked allocation, full writes. */
#ifndef NBX_UTIL_H
#define NBX_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Room for one error line; also the size of the message the child sends back. */
#define NBX_ERRLEN 512

/*
 * The last error, as one line ("mount proc on /proc: Operation not permitted").
 * Functions that can fail return -1 and fill it, so the caller decides where the line goes:
 * the child sends it to the parent, the parent writes it to the status file or stderr.
 */
extern char nbx_err[NBX_ERRLEN];

int nbx_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like nbx_fail, appending ": strerror(errno)" with errno as it was on entry. */
int nbx_fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* write() until done, retrying EINTR; -1 with errno on failure. */
int write_all(int fd, const void *buf, size_t len);

/*
 * Marks every descriptor >= FIRST close-on-exec (not closed: still usable until exec), so what
 * a caller leaked to us does not reach a program we exec.
 */
void cloexec_fds_from(int first);

/*
 * Every signal back to its default disposition and an empty mask, before an exec: ignored
 * signals survive exec, and the runtime keeps the ones it forwards blocked for its signalfd.
 */
void signals_reset(void);

/* SIGKILL to PID, our child, and its exit collected. */
void kill_and_reap(pid_t pid);

#endif
