/* See masks.h. Runs inside the new root, so plain paths cannot leave it. */
#include "masks.h"
#include "mounts.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>

static int mask(const char *p)
{
	struct stat st;
	if (stat(p, &st) < 0)
		return errno == ENOENT ? 0 : nbx_fail_errno("mask %s", p);
	int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0")
				     : mount("/dev/null", p, NULL, MS_BIND, NULL);
	return rc < 0 ? nbx_fail_errno("mask %s", p) : 0;
}

static int readonly(const char *p)
{
	struct stat st;
	if (stat(p, &st) < 0)
		return errno == ENOENT ? 0 : nbx_fail_errno("make %s read-only", p);
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return nbx_fail_errno("make %s read-only", p);
	return remount_readonly(p);
}

int masks_apply(const struct nbx_spec *s)
{
	for (size_t i = 0; i < s->readonly.n; i++)
		if (readonly(s->readonly.v[i]) < 0)
			return -1;
	for (size_t i = 0; i < s->masked.n; i++)
		if (mask(s->masked.v[i]) < 0)
			return -1;
	return 0;
}
