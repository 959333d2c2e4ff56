/* Small shared pieces of the keeper and join subcommands' command lines. */
#ifndef NBX_SUBCMD_H
#define NBX_SUBCMD_H

/* "nestbox-runtime: VERB: <nbx_err>" on stderr, exit 125. */
void subcmd_die(const char *verb) __attribute__((noreturn));

/*
 * "--name VALUE" or "--name=VALUE" at argv[*i]: the value (advancing *i past it), or NULL when
 * argv[*i] is another word. A missing value dies naming the option.
 */
const char *subcmd_option(int argc, char **argv, int *i, const char *name, const char *verb);

#endif
