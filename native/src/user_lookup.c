/* See user_lookup.h. */
#include "user_lookup.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A whole decimal id below 2^32-1, else false. */
static bool parse_id(const char *s, unsigned *out)
{
	if (!*s || strlen(s) > 10)
		return false;
	unsigned long long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v >= UINT32_MAX)
		return false;
	*out = (unsigned)v;
	return true;
}

/* Splits LINE at ':' into at most N fields (the last keeps the rest); returns how many. */
static size_t split_fields(char *line, char **f, size_t n)
{
	size_t k = 0;
	f[k++] = line;
	for (char *p = line; *p && k < n; p++)
		if (*p == ':') {
			*p = '\0';
			f[k++] = p + 1;
		}
	return k;
}

static FILE *open_db(const char *path)
{
	return fopen(path, "re"); /* a missing file is no entries, as for docker */
}

int user_lookup(const char *spec, const char *passwd_path, const char *group_path, struct nbx_user *out)
{
	char *copy = xstrdup(spec);
	char *user_arg = copy, *group_arg = strchr(copy, ':');
	if (group_arg)
		*group_arg++ = '\0';
	unsigned uid_num = 0, gid_num = 0;
	bool uid_is_num = parse_id(user_arg, &uid_num), gid_is_num = group_arg && parse_id(group_arg, &gid_num);
	*out = (struct nbx_user){.uid = 0, .gid = 0, .home = xstrdup("/")};
	char *matched = NULL; /* the passwd entry's name, for the supplementary groups */
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;

	FILE *f = *user_arg ? open_db(passwd_path) : NULL;
	while (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *p[7];
		unsigned id, gid;
		if (line[0] == '#' || split_fields(line, p, 7) < 7 || !parse_id(p[2], &id) || !parse_id(p[3], &gid))
			continue;
		if (strcmp(p[0], user_arg) == 0 || (uid_is_num && id == uid_num)) {
			out->uid = id;
			out->gid = gid;
			free(out->home);
			out->home = xstrdup(*p[5] ? p[5] : "/");
			matched = xstrdup(p[0]);
			break; /* the first match wins */
		}
	}
	if (f)
		fclose(f);
	if (!matched && *user_arg) {
		if (!uid_is_num) {
			nbx_fail("unable to find user %s: no matching entries in passwd file", user_arg);
			goto out;
		}
		out->uid = uid_num;
	}

	if (group_arg || matched) {
		size_t nalloc = 0;
		bool found = false;
		f = open_db(group_path);
		while (f && getline(&line, &cap, f) > 0) {
			line[strcspn(line, "\n")] = '\0';
			char *p[4];
			unsigned gid;
			if (line[0] == '#' || split_fields(line, p, 4) < 4 || !parse_id(p[2], &gid))
				continue;
			if (group_arg) {
				if (strcmp(p[0], group_arg) == 0 || (gid_is_num && gid == gid_num)) {
					out->gid = gid;
					found = true;
					break;
				}
				continue;
			}
			/* implicit form: every group that lists the user as a member */
			for (char *m = strtok(p[3], ","); m; m = strtok(NULL, ",")) {
				if (strcmp(m, matched) != 0)
					continue;
				if (out->nsgids == nalloc) {
					nalloc = nalloc ? nalloc * 2 : 8;
					gid_t *grown = xcalloc(nalloc, sizeof(gid_t));
					if (out->nsgids)
						memcpy(grown, out->sgids, out->nsgids * sizeof(gid_t));
					free(out->sgids);
					out->sgids = grown;
				}
				out->sgids[out->nsgids++] = gid;
				break;
			}
		}
		if (f)
			fclose(f);
		if (group_arg && !found) {
			if (!gid_is_num) {
				nbx_fail("unable to find group %s: no matching entries in group file", group_arg);
				goto out;
			}
			out->gid = gid_num;
		}
	}
	rc = 0;
out:
	free(line);
	free(matched);
	free(copy);
	return rc;
}
