/*
 * A per-user cache of compiled seccomp filters: libseccomp turning a ~360-rule profile into BPF
 * costs a run several ms, and every container of a host gets the same profile. An entry is keyed
 * by everything the BPF depends on (our format, libseccomp's version and API level, the native
 * architecture, the seccomp section dumped canonically) and holds the whole key, compared byte for
 * byte on load, so a hash collision or a stale entry is only a miss. Entries live in a directory
 * the caller names (annotation io.nestbox.seccomp.cache), used only if it is ours and nobody else
 * can write it; an entry is used only if it is a regular file of ours, not writable by others,
 * of the exact size its header says, with a matching checksum. Writes are atomic (temp + rename).
 */
#ifndef NBX_SECCOMP_CACHE_H
#define NBX_SECCOMP_CACHE_H

#include <jansson.h>
#include <linux/filter.h>
#include <stddef.h>

struct nbx_bpf {
	struct sock_filter *insns;
	unsigned short len;
	unsigned flags; /* seccomp(2) SECCOMP_FILTER_FLAG_* */
};

/* The cache key of the seccomp section V (malloc'd, *len bytes); NULL if V cannot be dumped. */
char *seccomp_cache_key(json_t *v, size_t *len);

/* The entry for KEY in DIR into *out (0), or 1 on a miss (no entry, unusable dir or entry). */
int seccomp_cache_load(const char *dir, const char *key, size_t keylen, struct nbx_bpf *out);

/* Stores the entry; best effort (a failure leaves no partial entry and is not reported). */
void seccomp_cache_store(const char *dir, const char *key, size_t keylen, const struct nbx_bpf *bpf);

#endif
