/*
 * See mountinfo.h. A line (proc(5)):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 * field 5 is the mount point, with ' ', '\t', '\n' and '\\' escaped as \ooo; the type follows
 * the "-" that ends the optional fields.
 */
#include "mountinfo.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* In place: "\040" -> ' ' etc. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

static int line_matches(char *line, const char *mount_point, const char *type_prefix)
{
	char *save = NULL, *f, *mp = NULL, *type = NULL;
	int i = 0;
	bool after_dash = false;
	for (f = strtok_r(line, " ", &save); f; f = strtok_r(NULL, " ", &save), i++) {
		if (i == 4)
			mp = f;
		else if (i > 5 && !after_dash && !strcmp(f, "-"))
			after_dash = true;
		else if (after_dash) {
			type = f;
			break;
		}
	}
	if (!mp || !type)
		return 0;
	unescape(mp);
	return !strcmp(mp, mount_point) && !strncmp(type, type_prefix, strlen(type_prefix));
}

int mountinfo_has(int fd, const char *mount_point, const char *type_prefix)
{
	size_t cap = 16384, len = 0;
	char *buf = xmalloc(cap);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		free(buf);
		return -1;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *bigger = realloc(buf, cap *= 2);
			if (!bigger) {
				free(buf);
				errno = ENOMEM;
				return -1;
			}
			buf = bigger;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			free(buf);
			errno = err;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	int found = 0;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
		found = line_matches(line, mount_point, type_prefix);
	free(buf);
	return found;
}
