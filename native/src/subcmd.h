/* Small shared pieces of the subcommands' command lines (keeper, join, exec). */
#ifndef NBX_SUBCMD_H
#define NBX_SUBCMD_H

/* "nestbox-runtime: VERB: <nbx_err>" on stderr, exit 125. */
void subcmd_die(const char *verb) __attribute__((noreturn));

/*
 * "--name VALUE" or "--name=VALUE" at argv[*i]: the value (advancing *i past it), or NULL when
 * argv[*i] is another word. A missing value sets *missing (subcmd_option_value; the exec
 * subcommand reports it in its status file) or dies naming the option (subcmd_option).
 */
const char *subcmd_option_value(int argc, char **argv, int *i, const char *name, int *missing);
const char *subcmd_option(int argc, char **argv, int *i, const char *name, const char *verb);

#endif
