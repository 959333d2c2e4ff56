/*
 * Capabilities without libcap: prctl for the bounding and ambient sets, the raw capset(2) for
 * the rest. All of it is relative to the container's user namespace.
 */
#include "caps.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const cap_names[] = {
	"CAP_CHOWN",	     "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID",	     "CAP_KILL",	   "CAP_SETGID",	  "CAP_SETUID",
	"CAP_SETPCAP",	     "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",     "CAP_NET_RAW",	   "CAP_IPC_LOCK",	  "CAP_IPC_OWNER",
	"CAP_SYS_MODULE",    "CAP_SYS_RAWIO",	   "CAP_SYS_CHROOT",	  "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",     "CAP_SYS_ADMIN",	   "CAP_SYS_BOOT",	  "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",  "CAP_SYS_TIME",	   "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
	"CAP_LEASE",	     "CAP_AUDIT_WRITE",	   "CAP_AUDIT_CONTROL",	  "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",  "CAP_MAC_ADMIN",	   "CAP_SYSLOG",	  "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",	   "CAP_PERFMON",	  "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};
#define NCAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

int cap_from_name(const char *name)
{
	for (int i = 0; i < NCAPS; i++)
		if (!strcmp(name, cap_names[i]))
			return i;
	return -1;
}

int caps_before_setuid(const struct nbx_caps *c)
{
	if (!c->present)
		return 0;
	/* Up to 63: the kernel answers EINVAL past its last capability. */
	for (int i = 0; i < 64; i++) {
		if (c->bounding & (1ULL << i))
			continue;
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			return nbx_fail_errno("drop capability %s from the bounding set", i < NCAPS ? cap_names[i] : "?");
		}
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return nbx_fail_errno("prctl PR_SET_KEEPCAPS");
	return 0;
}

int caps_after_setuid(const struct nbx_caps *c)
{
	if (!c->present)
		return 0;
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(c->effective >> (32 * i));
		data[i].permitted = (uint32_t)(c->permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(c->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return nbx_fail_errno("set capabilities (effective must be within permitted)");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int i = 0; i < 64; i++)
		if ((c->ambient & (1ULL << i)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
			return nbx_fail_errno("raise ambient capability %s (it must be permitted and inheritable)",
					      i < NCAPS ? cap_names[i] : "?");
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}
