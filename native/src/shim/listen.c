/* See listen.h. */
#include "listen.h"
#include "../util.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int unix_listen(const char *name, int backlog)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(name) >= sizeof sa.sun_path)
		return nbx_fail("socket name too long: %s", name);
	strcpy(sa.sun_path, name);
	unlink(name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return nbx_fail_errno("socket for %s", name);
	/* umask, not chmod after bind: nobody else may connect in between */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0 || listen(fd, backlog) < 0) {
		nbx_fail_errno("listen on %s", name);
		close(fd);
		return -1;
	}
	return fd;
}
