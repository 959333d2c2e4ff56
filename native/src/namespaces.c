/* Namespace plan, joining by path, loopback. See namespaces.h. */
#include "namespaces.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct {
	const char *name;
	int type;
} ns_names[] = {
	{"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID},	    {"mount", CLONE_NEWNS},
	{"uts", CLONE_NEWUTS},	 {"ipc", CLONE_NEWIPC},	    {"network", CLONE_NEWNET},
	{"cgroup", CLONE_NEWCGROUP},
};

int ns_type_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof ns_names / sizeof ns_names[0]; i++)
		if (!strcmp(name, ns_names[i].name))
			return ns_names[i].type;
	return -1;
}

const char *ns_type_name(int type)
{
	for (size_t i = 0; i < sizeof ns_names / sizeof ns_names[0]; i++)
		if (ns_names[i].type == type)
			return ns_names[i].name;
	return "?";
}

int ns_plan_make(const struct nbx_spec *s, struct ns_plan *p)
{
	memset(p, 0, sizeof *p);
	for (size_t i = 0; i < s->nnamespaces; i++) {
		if (s->namespaces[i].path)
			p->join_mask |= s->namespaces[i].type;
		else
			p->new_mask |= s->namespaces[i].type;
	}
	if (p->join_mask & CLONE_NEWNS)
		return nbx_fail("config.json: linux.namespaces: joining a mount namespace is not supported by run");
	if (!(p->new_mask & CLONE_NEWNS))
		return nbx_fail("config.json: linux.namespaces: a new mount namespace is required");
	p->userns = (p->new_mask | p->join_mask) & CLONE_NEWUSER;
	if (!p->userns && geteuid() != 0)
		return nbx_fail("config.json: linux.namespaces: running without root needs a user namespace");
	if ((p->new_mask & CLONE_NEWUSER) && (s->nuid_maps == 0 || s->ngid_maps == 0))
		return nbx_fail("config.json: linux.uidMappings and linux.gidMappings are required with a new user namespace");
	if (s->hostname && !((p->new_mask | p->join_mask) & CLONE_NEWUTS))
		return nbx_fail("config.json: hostname needs a uts namespace");
	p->clone_flags = p->new_mask & ~CLONE_NEWCGROUP;
	return 0;
}

static int join_one(const struct nbx_ns *ns)
{
	int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nbx_fail_errno("open %s namespace %s", ns_type_name(ns->type), ns->path);
	int rc = setns(fd, ns->type);
	close(fd);
	if (rc < 0)
		return nbx_fail_errno("setns %s %s", ns_type_name(ns->type), ns->path);
	return 0;
}

int ns_join_paths(const struct nbx_spec *s)
{
	for (size_t i = 0; i < s->nnamespaces; i++)
		if (s->namespaces[i].path && s->namespaces[i].type == CLONE_NEWUSER && join_one(&s->namespaces[i]) < 0)
			return -1;
	for (size_t i = 0; i < s->nnamespaces; i++)
		if (s->namespaces[i].path && s->namespaces[i].type != CLONE_NEWUSER && join_one(&s->namespaces[i]) < 0)
			return -1;
	return 0;
}

int ns_loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nbx_fail_errno("bring lo up: socket");
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (rc < 0)
		nbx_fail_errno("bring lo up");
	close(fd);
	return rc < 0 ? -1 : 0;
}

/*
 * As host root the map is 0 -> 1000000 and our host uid 0 is unmapped (we appear as
 * nobody): become the namespace's root so files we create are owned by mapped ids.
 */
int ns_become_root(void)
{
	if (setresgid(0, 0, 0) < 0)
		return nbx_fail_errno("setresgid 0 in the user namespace (is gid 0 mapped?)");
	if (setresuid(0, 0, 0) < 0)
		return nbx_fail_errno("setresuid 0 in the user namespace (is uid 0 mapped?)");
	/* Denied ("deny" in setgroups) with a single-id map: harmless, there are no groups to drop. */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return nbx_fail_errno("setgroups");
	return 0;
}
