/*
 * linux.seccomp: parsed and compiled into a libseccomp filter in the parent, so a malformed
 * section is a setup error (125) before anything is created; loaded by the child just before
 * exec (native/README.md: "Seccomp").
 */
#ifndef NBX_SECCOMP_H
#define NBX_SECCOMP_H

#include <jansson.h>

struct nbx_seccomp;

/*
 * Reads the linux.seccomp object V (NULL or null: *out stays NULL, no filter) and builds the
 * filter, or takes it from the cache in CACHE_DIR (NULL: no cache; seccomp_cache.h), where a
 * filter it builds is stored. -1 with nbx_err ("config.json: linux.seccomp.syscalls[3].action:
 * ...") on error.
 */
int seccomp_parse(json_t *v, const char *cache_dir, struct nbx_seccomp **out);

/*
 * The linux.seccomp of the config.json FILE (exec: the container's own filter), through the
 * cache its annotation names. No section:
 * *out NULL. -1 with nbx_err ("FILE: linux.seccomp...: ...") on error.
 */
int seccomp_from_config(const char *file, struct nbx_seccomp **out);

/*
 * Loads the filter into the kernel for this thread. Without no_new_privs this needs
 * CAP_SYS_ADMIN in the current user namespace, so the child then loads it before dropping
 * capabilities. -1 with nbx_err on failure.
 */
int seccomp_apply(const struct nbx_seccomp *sc);

#endif
