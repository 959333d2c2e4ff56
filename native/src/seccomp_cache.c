/* See seccomp_cache.h. Entry: header, key, instructions, then an FNV-1a checksum of all before it. */
#include "seccomp_cache.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "NBXBPF1"
#define MAX_KEY (4u << 20)
#define MAX_INSNS 4096 /* BPF_MAXINSNS */

struct header {
	char magic[8];
	uint32_t keylen, flags, len, pad;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}
#define FNV0 0xcbf29ce484222325ULL

char *seccomp_cache_key(json_t *v, size_t *len)
{
	char *json = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!json)
		return NULL;
	const struct scmp_version *ver = seccomp_version();
	char *key = xasprintf("nestbox seccomp bpf 1 libseccomp %u.%u.%u api %u arch %u\n%s", ver->major, ver->minor,
			      ver->micro, seccomp_api_get(), seccomp_arch_native(), json);
	free(json);
	*len = strlen(key);
	return key;
}

/* DIR as an fd if it is a directory of ours that nobody else can write (created if missing), else -1. */
static int open_dir(const char *dir)
{
	struct stat st;
	if (dir[0] != '/')
		return -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void entry_name(char *name, size_t n, const char *key, size_t keylen)
{
	snprintf(name, n, "%016llx.bpf", (unsigned long long)fnv(FNV0, key, keylen));
}

int seccomp_cache_load(const char *dir, const char *key, size_t keylen, struct nbx_bpf *out)
{
	char name[32];
	struct stat st;
	struct header h;
	int dfd = open_dir(dir), rc = 1;
	if (dfd < 0)
		return 1;
	entry_name(name, sizeof name, key, keylen);
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return 1;
	char *buf = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_size < (off_t)sizeof h || st.st_size > (off_t)(sizeof h + MAX_KEY + MAX_INSNS * 8 + 8))
		goto out;
	size_t size = (size_t)st.st_size;
	buf = xmalloc(size);
	if (pread(fd, buf, size, 0) != (ssize_t)size)
		goto out;
	memcpy(&h, buf, sizeof h);
	uint64_t sum;
	if (memcmp(h.magic, MAGIC, sizeof h.magic) || h.keylen != keylen || h.len == 0 || h.len > MAX_INSNS ||
	    size != sizeof h + keylen + (size_t)h.len * sizeof(struct sock_filter) + sizeof sum)
		goto out;
	memcpy(&sum, buf + size - sizeof sum, sizeof sum);
	if (sum != fnv(FNV0, buf, size - sizeof sum) || memcmp(buf + sizeof h, key, keylen))
		goto out;
	out->len = (unsigned short)h.len;
	out->flags = h.flags;
	out->insns = xmalloc(h.len * sizeof(struct sock_filter));
	memcpy(out->insns, buf + sizeof h + keylen, h.len * sizeof(struct sock_filter));
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

void seccomp_cache_store(const char *dir, const char *key, size_t keylen, const struct nbx_bpf *bpf)
{
	char name[32], tmp[64];
	struct header h = {.keylen = (uint32_t)keylen, .flags = bpf->flags, .len = bpf->len};
	size_t ilen = bpf->len * sizeof(struct sock_filter);
	int dfd = open_dir(dir);
	if (dfd < 0 || keylen > MAX_KEY)
		goto out;
	memcpy(h.magic, MAGIC, sizeof h.magic);
	entry_name(name, sizeof name, key, keylen);
	snprintf(tmp, sizeof tmp, ".%s.%d", name, (int)getpid());
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	uint64_t sum = fnv(fnv(fnv(FNV0, &h, sizeof h), key, keylen), bpf->insns, ilen);
	int ok = write_all(fd, &h, sizeof h) == 0 && write_all(fd, key, keylen) == 0 &&
		 write_all(fd, bpf->insns, ilen) == 0 && write_all(fd, &sum, sizeof sum) == 0;
	if (close(fd) < 0)
		ok = 0;
	if (!ok || renameat(dfd, tmp, dfd, name) < 0)
		unlinkat(dfd, tmp, 0);
out:
	if (dfd >= 0)
		close(dfd);
}
