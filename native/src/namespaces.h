/* Which namespaces are created, which are joined, and the small per-namespace setup steps. */
#ifndef NBX_NAMESPACES_H
#define NBX_NAMESPACES_H

#include <stdbool.h>

struct nbx_spec;

struct ns_plan {
	int new_mask;    /* CLONE_NEW* created for the container */
	int join_mask;   /* CLONE_NEW* joined through a path */
	int clone_flags; /* what clone() creates: new_mask minus cgroup (unshared later, see child.c) */
	bool userns;     /* the container runs in a user namespace (new or joined) */
};

int ns_type_from_name(const char *name);
const char *ns_type_name(int type);

/* Checks the namespace list and fills the plan. -1 with nbx_err. */
int ns_plan_make(const struct nbx_spec *s, struct ns_plan *p);

/*
 * Joins the namespaces given by path, in the parent, before clone(): the user namespace first
 * (so the others are joined with its privileges), then the rest. A namespace not owned by a
 * user namespace we create can only be joined from outside it, which is why this happens
 * before the new user namespace exists (runc's order). Mount namespaces cannot be joined.
 */
int ns_join_paths(const struct nbx_spec *s);

/* Sets IFF_UP on "lo" in the current network namespace (a new netns has lo down). */
int ns_loopback_up(void);

/*
 * In a user namespace: setresgid/setresuid 0 and no supplementary groups, so what we create
 * belongs to container root (as host root our own uid is unmapped). -1 with nbx_err.
 */
int ns_become_root(void);

#endif
