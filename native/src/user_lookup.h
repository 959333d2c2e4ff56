/*
 * docker's -u USER[:GROUP] resolved the way docker does (moby's GetExecUser), in the container's
 * own /etc/passwd and /etc/group: called after pivot_root, so the files are the container's.
 */
#ifndef NBX_USER_LOOKUP_H
#define NBX_USER_LOOKUP_H

#include <stddef.h>
#include <sys/types.h>

struct nbx_user {
	uid_t uid;
	gid_t gid;
	gid_t *sgids; /* the groups listing the matched user name (only when no GROUP is given) */
	size_t nsgids;
	char *home; /* the passwd entry's, else "/" */
};

/* 0, or -1 with one line in nbx_err ("unable to find user NAME: no matching entries in passwd file"). */
int user_lookup(const char *spec, const char *passwd_path, const char *group_path, struct nbx_user *out);

#endif
