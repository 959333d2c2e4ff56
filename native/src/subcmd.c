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

/* "--name VALUE" or "--name=VALUE" at argv[*i]: the value (advancing *i), or NULL when
 * argv[*i] is not NAME, or (setting *missing) when NAME is last with no value. */
const char *subcmd_option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);
	if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name))
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

/* The same, but a missing value ends the subcommand with one line naming the option. */
const char *subcmd_option(int argc, char **argv, int *i, const char *name, const char *verb)
{
	int missing = 0;
	const char *v = subcmd_option_value(argc, argv, i, name, &missing);
	if (missing) {
		nbx_fail("%s needs a value", name);
		subcmd_die(verb);
	}
	return v;
}
