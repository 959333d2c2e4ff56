/* See procstat.h. */
#include "procstat.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_start_time(pid_t pid, unsigned long long *start, char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nbx_fail_errno("open %s", path);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return nbx_fail("read %s: empty", path);
	buf[n] = 0;
	/* The command name (field 2) may hold spaces and parentheses: count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return nbx_fail("%s: unexpected format", path);
	p += 2;
	if (state)
		*state = *p;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return nbx_fail("%s: unexpected format", path);
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}
