/* See subcmd.h. */
#include "subcmd.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void subcmd_die(const char *verb)
{
	fprintf(stderr, "nestbox-runtime: %s: %s\n", verb, nbx_err);
	exit(125);
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; the value (advancing *i), or NULL. */
const char *subcmd_option(int argc, char **argv, int *i, const char *name, const char *verb)
{
	size_t n = strlen(name);
	if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name))
		return NULL;
	if (*i + 1 >= argc) {
		nbx_fail("%s needs a value", name);
		subcmd_die(verb);
	}
	return argv[++*i];
}
