/* The command line of `nestbox-runtime exec` (see exec.h): options, the process, the report. */
#include "exec.h"
#include "seccomp.h"
#include "spec.h"
#include "status.h"
#include "subcmd.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *status_file;

static int report(const struct nbx_result *r)
{
	if (status_file) {
		if (status_write(status_file, r) < 0) {
			fprintf(stderr, "nestbox-runtime: %s\n", nbx_err);
			return 125;
		}
	} else if (r->stage) {
		fprintf(stderr, "nestbox-runtime: %s\n", r->error);
	}
	return r->exit_code;
}

static int fail(const char *msg)
{
	struct nbx_result r = {.exit_code = 125, .stage = "setup"};
	snprintf(r.error, sizeof r.error, "exec: %.480s", msg);
	return report(&r);
}

/* Without --process: CMD as container root in /, with a default PATH and nothing else. */
static void default_process(struct nbx_spec *s, char **args, int n)
{
	s->args.v = xcalloc((size_t)n + 1, sizeof(char *));
	for (int k = 0; k < n; k++)
		s->args.v[k] = xstrdup(args[k]);
	s->args.n = (size_t)n;
	s->env.v = xcalloc(2, sizeof(char *));
	s->env.v[0] = xstrdup(DEFAULT_PATH_ENV);
	s->env.n = 1;
	s->cwd = xstrdup("/");
}

int exec_main(int argc, char **argv)
{
	const char *pid_arg = NULL, *process = NULL, *config = NULL, *v;
	struct exec_opts o = {0};
	char msg[NBX_ERRLEN];
	int cmd_at = -1, missing = 0;

	/* The status file first: every later error is reported there. */
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if ((v = subcmd_option_value(argc, argv, &i, "--status-file", &missing)))
			status_file = v;
	for (int i = 2; i < argc && cmd_at < 0; i++) {
		if (!strcmp(argv[i], "--"))
			cmd_at = i + 1;
		else if ((v = subcmd_option_value(argc, argv, &i, "--pid", &missing)))
			pid_arg = v;
		else if ((v = subcmd_option_value(argc, argv, &i, "--process", &missing)))
			process = v;
		else if ((v = subcmd_option_value(argc, argv, &i, "--config", &missing)))
			config = v;
		else if ((v = subcmd_option_value(argc, argv, &i, "--console-socket", &missing)))
			o.console_socket = v;
		else if ((v = subcmd_option_value(argc, argv, &i, "--pid-file", &missing)))
			o.pid_file = v;
		else if ((v = subcmd_option_value(argc, argv, &i, "--status-file", &missing)))
			status_file = v;
		else {
			snprintf(msg, sizeof msg, missing ? "%s needs a value" : "unexpected argument %s", argv[i]);
			return fail(msg);
		}
	}
	if (!pid_arg)
		return fail("--pid PID is required (a process of the container, e.g. its pid 1)");
	char *end;
	long pid = strtol(pid_arg, &end, 10);
	if (!*pid_arg || *end || pid <= 0 || pid > 4194304) {
		snprintf(msg, sizeof msg, "--pid: \"%.32s\" is not a process id", pid_arg);
		return fail(msg);
	}
	o.target = (pid_t)pid;
	int nargs = cmd_at < 0 ? 0 : argc - cmd_at;
	if (!process == !nargs)
		return fail(process ? "give --process FILE or -- CMD, not both" : "nothing to run: give --process FILE or -- CMD [ARG...]");

	struct nbx_spec spec;
	memset(&spec, 0, sizeof spec);
	if (process && spec_load_process(process, &spec) < 0) {
		/* The parser names config.json; here the fields come from FILE. */
		struct nbx_result r = {.exit_code = 125, .stage = "setup"};
		const char *rest = strncmp(nbx_err, "config.json: ", 13) ? NULL : nbx_err + 13;
		snprintf(r.error, sizeof r.error, "%.100s%s%.400s", rest ? process : "", rest ? ": " : "", rest ? rest : nbx_err);
		return report(&r);
	}
	if (!process)
		default_process(&spec, argv + cmd_at, nargs);
	/* The container's seccomp filter, which a process.json does not carry. */
	if (config && seccomp_from_config(config, &spec.seccomp) < 0) {
		struct nbx_result r = {.exit_code = 125, .stage = "setup"};
		snprintf(r.error, sizeof r.error, "%s", nbx_err);
		return report(&r);
	}

	struct nbx_result r;
	exec_run(&spec, &o, &r);
	return report(&r);
}
