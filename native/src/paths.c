/*
 * See paths.h. One component at a time with openat(O_NOFOLLOW) from a stack of directory fds:
 * every step is relative to a directory we hold, ".." pops our own stack instead of asking the
 * file system, and symlink targets are spliced into the rest of the path. So nothing done to
 * the tree meanwhile can walk us out of the root, and it works on every kernel (no openat2).
 */
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 128
#define MAX_LINKS 40

int path_clean(const char *in, char out[PATH_MAX])
{
	size_t o = 0;
	if (in[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	while (*in) {
		while (*in == '/')
			in++;
		const char *end = strchrnul(in, '/');
		size_t len = (size_t)(end - in);
		if (len == 0 || (len == 1 && in[0] == '.')) {
			in = end;
			continue;
		}
		if (len == 2 && in[0] == '.' && in[1] == '.') {
			errno = EINVAL;
			return -1;
		}
		if (o + 1 + len >= PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		out[o++] = '/';
		memcpy(out + o, in, len);
		o += len;
		in = end;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
	return 0;
}

void fd_path(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

struct walk {
	int fds[MAX_DEPTH]; /* fds[0] is the root (not ours to close) */
	int depth;          /* fds[depth] is the current directory */
};

static void pop_to(struct walk *w, int depth)
{
	while (w->depth > depth)
		close(w->fds[w->depth--]);
}

static int fail(struct walk *w, int err)
{
	pop_to(w, 0);
	errno = err;
	return -1;
}

/* Creates NAME in DIR (a directory, or an empty file); an existing entry is fine. */
static int create_entry(int dir, const char *name, bool file)
{
	if (file) {
		int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		return fd < 0 && errno != EEXIST ? -1 : 0;
	}
	return mkdirat(dir, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int root_resolve(int rootfd, const char *path, bool create, bool file)
{
	struct walk w = {.fds = {rootfd}, .depth = 0};
	char todo[2 * PATH_MAX], link[PATH_MAX];
	int links = 0;
	if (snprintf(todo, sizeof todo, "%s", path) >= (int)sizeof todo)
		return fail(&w, ENAMETOOLONG);

	char *p = todo;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		bool last = true;
		for (char *q = end; *q; q++)
			if (*q != '/') {
				last = false;
				break;
			}
		char save = *end;
		*end = 0;
		char name[NAME_MAX + 1];
		if (snprintf(name, sizeof name, "%s", p) >= (int)sizeof name)
			return fail(&w, ENAMETOOLONG);
		*end = save;
		p = end;

		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (w.depth > 0)
				pop_to(&w, w.depth - 1);
			continue;
		}
		int cur = w.fds[w.depth];
		int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (create_entry(cur, name, last && file) < 0)
				return fail(&w, errno);
			fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			return fail(&w, errno);

		struct stat st;
		if (fstat(fd, &st) < 0) {
			int err = errno;
			close(fd);
			return fail(&w, err);
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(fd, "", link, sizeof link - 1);
			close(fd);
			if (n < 0)
				return fail(&w, errno);
			if (++links > MAX_LINKS)
				return fail(&w, ELOOP);
			link[n] = 0;
			/* The rest of the path now continues from the link's target. */
			char rest[PATH_MAX];
			if (snprintf(rest, sizeof rest, "%s", p) >= (int)sizeof rest ||
			    snprintf(todo, sizeof todo, "%s/%s", link, rest) >= (int)sizeof todo)
				return fail(&w, ENAMETOOLONG);
			p = todo;
			if (link[0] == '/')
				pop_to(&w, 0);
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			close(fd);
			return fail(&w, ENOTDIR);
		}
		if (w.depth + 1 >= MAX_DEPTH) {
			close(fd);
			return fail(&w, ENAMETOOLONG);
		}
		w.fds[++w.depth] = fd;
	}
	/* Hand the last fd to the caller; a bare "/" gets its own copy of the root. */
	if (w.depth == 0)
		return fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	int result = w.fds[w.depth--];
	pop_to(&w, 0);
	return result;
}
