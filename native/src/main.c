/*
 * nestbox-runtime: the CLI.
 *   nestbox-runtime run [--bundle DIR] [--status-file FILE] [--pid-file FILE] [--console-socket PATH] ID
 *   nestbox-runtime exec --pid PID (--process FILE | -- CMD...) [...]   (exec.h)
 *   nestbox-runtime check overlay --dir DIR     (prints the overlay driver that works: kernel|fuse)
 *   nestbox-runtime keeper --pid-file FILE --uid-map C:H:S... --gid-map C:H:S...   (keeper.h)
 *   nestbox-runtime join --pid PID [--start-time T] -- CMD [ARGS...]
 *   nestbox-runtime layer apply|xattrs --dir DIR   (layer_attrs.c: whiteouts, opaque dirs, xattrs)
 * Exit code: the container's, 128+N for signal N, 125 runtime failure, 126 cannot execute,
 * 127 command not found. With --status-file nothing of ours goes to stderr (it is the
 * container's); the status file says what happened instead.
 */
#include "check_overlay.h"
#include "exec.h"
#include "keeper.h"
#include "layer_attrs.h"
#include "runtime.h"
#include "spec.h"
#include "status.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION "0.1.0"

static const char *status_file;

static void usage(FILE *f)
{
	fprintf(f, "usage: nestbox-runtime run [--bundle DIR] [--status-file FILE] [--pid-file FILE] [--console-socket PATH] ID\n"
		   "       nestbox-runtime exec --pid PID (--process FILE | -- CMD [ARG...]) [--console-socket PATH]\n"
		   "                            [--status-file FILE] [--pid-file FILE]\n"
		   "       nestbox-runtime check overlay --dir DIR\n"
		   "       nestbox-runtime keeper --pid-file FILE --uid-map C:H:S... --gid-map C:H:S...\n"
		   "       nestbox-runtime join --pid PID [--start-time T] -- CMD [ARGS...]\n"
		   "       nestbox-runtime layer apply|xattrs --dir DIR\n"
		   "       nestbox-runtime --version\n");
}

static void __attribute__((noreturn)) finish(const struct nbx_result *r)
{
	if (status_file) {
		if (status_write(status_file, r) < 0) {
			/* Nowhere else to say it: the caller will see no status file. */
			fprintf(stderr, "nestbox-runtime: %s\n", nbx_err);
			exit(125);
		}
	} else if (r->stage) {
		fprintf(stderr, "nestbox-runtime: %s\n", r->error);
	}
	exit(r->exit_code);
}

static void __attribute__((noreturn)) fail_setup(const char *msg)
{
	struct nbx_result r = {.exit_code = 125, .stage = "setup"};
	snprintf(r.error, sizeof r.error, "%s", msg);
	finish(&r);
}

/* Container ids end up in paths and logs: keep them to a safe alphabet (as runc). */
static int valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 128 || id[0] == '.' || id[0] == '-')
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* "--name VALUE" or "--name=VALUE"; returns the value and advances *i, or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, const char *alias)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (!strncmp(a, name, n) && a[n] == '=')
		return a + n + 1;
	if (strcmp(a, name) && !(alias && !strcmp(a, alias)))
		return NULL;
	if (*i + 1 >= argc) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s needs a value", name);
		fail_setup(msg);
	}
	return argv[++*i];
}

/*
 * If a caller started us with 0, 1 or 2 closed, the next descriptor we open (the sync socket,
 * a map file) would take that number and the container would write into it.
 */
static void ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			_exit(125);
}

/* nestbox-runtime check overlay --dir DIR */
static int check_main(int argc, char **argv)
{
	const char *dir = NULL, *v;
	char msg[NBX_ERRLEN];
	if (argc < 3 || strcmp(argv[2], "overlay")) {
		usage(stderr);
		return 125;
	}
	for (int i = 3; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--dir", NULL))) {
			dir = v;
		} else {
			snprintf(msg, sizeof msg, "check overlay: unexpected argument %s", argv[i]);
			fail_setup(msg);
		}
	}
	if (!dir)
		fail_setup("check overlay: --dir DIR is required");
	return check_overlay(dir);
}

int main(int argc, char **argv)
{
	const char *bundle = ".", *pid_file = NULL, *console_socket = NULL, *id = NULL, *v;
	char msg[NBX_ERRLEN];

	ensure_stdio();

	if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
		printf("nestbox-runtime %s\n", VERSION);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return check_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "exec"))
		return exec_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "keeper"))
		return keeper_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "join"))
		return join_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "layer"))
		return layer_main(argc, argv);
	if (argc < 2 || strcmp(argv[1], "run")) {
		usage(stderr);
		return 125;
	}
	/* Options first pass: the status file must be known before any error is reported. */
	for (int i = 2; i < argc; i++)
		if (!strncmp(argv[i], "--status-file=", 14))
			status_file = argv[i] + 14;
		else if (!strcmp(argv[i], "--status-file") && i + 1 < argc)
			status_file = argv[++i];
	for (int i = 2; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--bundle", "-b")))
			bundle = v;
		else if ((v = opt_value(argc, argv, &i, "--status-file", NULL)))
			status_file = v;
		else if ((v = opt_value(argc, argv, &i, "--pid-file", NULL)))
			pid_file = v;
		else if ((v = opt_value(argc, argv, &i, "--console-socket", NULL)))
			console_socket = v;
		else if (argv[i][0] == '-') {
			snprintf(msg, sizeof msg, "unknown option %s", argv[i]);
			fail_setup(msg);
		} else if (!id)
			id = argv[i];
		else {
			snprintf(msg, sizeof msg, "unexpected argument %s (one container ID)", argv[i]);
			fail_setup(msg);
		}
	}
	if (!id)
		fail_setup("run: missing container ID");
	if (!valid_id(id)) {
		snprintf(msg, sizeof msg, "invalid container ID \"%.64s\": use letters, digits, '_', '.', '-'", id);
		fail_setup(msg);
	}

	char abs_bundle[PATH_MAX];
	if (!realpath(bundle, abs_bundle)) {
		nbx_fail_errno("bundle %s", bundle);
		fail_setup(nbx_err);
	}
	struct nbx_spec spec;
	if (spec_load(abs_bundle, &spec) < 0)
		fail_setup(nbx_err);

	struct run_opts o = {.pid_file = pid_file, .console_socket = console_socket};
	struct nbx_result r;
	runtime_run(&spec, &o, &r);
	finish(&r);
}
