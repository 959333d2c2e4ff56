/*
 * config.json -> struct nbx_spec with jansson. Type errors name the field, so a bad bundle
 * fails with one line before any process is created. This file: the top level, root and
 * process; spec_linux.c: mounts, linux, annotations.
 */
#include "spec.h"
#include "specjson.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},	    {"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},	    {"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},	    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},	    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},	    {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(json_t *proc, struct nbx_spec *s)
{
	json_t *v = json_object_get(proc, "rlimits"), *e;
	size_t i;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return BAD("process.rlimits", "must be an array");
	s->rlimits = xcalloc(json_array_size(v), sizeof *s->rlimits);
	json_array_foreach(v, i, e) {
		struct nbx_rlimit *r = &s->rlimits[s->nrlimits++];
		if (get_string(e, "type", "process.rlimits[].type", &r->name) < 0)
			return -1;
		r->resource = -1;
		for (size_t k = 0; r->name && k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
			if (!strcmp(r->name, rlimit_names[k].name))
				r->resource = rlimit_names[k].resource;
		if (r->resource < 0)
			return BAD("process.rlimits[].type", "unknown rlimit type");
		if (need_uint(e, "soft", "process.rlimits[].soft", UINT64_MAX, &r->soft) < 0 ||
		    need_uint(e, "hard", "process.rlimits[].hard", UINT64_MAX, &r->hard) < 0)
			return -1;
		if (r->soft > r->hard)
			return nbx_fail("config.json: process.rlimits: %s soft limit is above its hard limit", r->name);
	}
	return 0;
}

/* One capability set; unknown names are skipped (newer kernels/configs name more caps). */
static int parse_capset(json_t *caps, const char *key, uint64_t *out)
{
	struct strv names;
	char where[64];
	snprintf(where, sizeof where, "process.capabilities.%s", key);
	if (get_strv(caps, key, where, &names) < 0)
		return -1;
	*out = 0;
	for (size_t i = 0; i < names.n; i++) {
		int c = cap_from_name(names.v[i]);
		if (c >= 0)
			*out |= 1ULL << c;
	}
	return 0;
}

static int parse_process(json_t *root, struct nbx_spec *s)
{
	json_t *proc = json_object_get(root, "process"), *user, *caps;
	uint64_t n;
	if (!json_is_object(proc))
		return BAD("process", "is required and must be an object");
	if (get_bool(proc, "terminal", "process.terminal", &s->terminal) < 0 ||
	    get_strv(proc, "args", "process.args", &s->args) < 0 ||
	    get_strv(proc, "env", "process.env", &s->env) < 0 ||
	    get_string(proc, "cwd", "process.cwd", &s->cwd) < 0 ||
	    get_bool(proc, "noNewPrivileges", "process.noNewPrivileges", &s->no_new_privs) < 0)
		return -1;
	if (s->args.n == 0)
		return BAD("process.args", "must name the command to run");
	json_t *cs = json_object_get(proc, "consoleSize");
	if (cs && !json_is_null(cs)) {
		uint64_t h, w;
		if (need_uint(cs, "height", "process.consoleSize.height", 65535, &h) < 0 ||
		    need_uint(cs, "width", "process.consoleSize.width", 65535, &w) < 0)
			return -1;
		s->console_rows = (unsigned)h;
		s->console_cols = (unsigned)w;
	}
	if (!s->cwd)
		s->cwd = xstrdup("/");
	if (s->cwd[0] != '/')
		return BAD("process.cwd", "must be an absolute path");
	for (size_t i = 0; i < s->env.n; i++)
		if (!strchr(s->env.v[i], '=') || s->env.v[i][0] == '=')
			return nbx_fail("config.json: process.env: \"%s\" is not KEY=VALUE", s->env.v[i]);

	user = json_object_get(proc, "user");
	if (user && !json_is_object(user))
		return BAD("process.user", "must be an object");
	if (need_uint(user, "uid", "process.user.uid", UINT32_MAX - 1, &n) < 0)
		return -1;
	s->uid = (uid_t)n;
	if (need_uint(user, "gid", "process.user.gid", UINT32_MAX - 1, &n) < 0)
		return -1;
	s->gid = (gid_t)n;
	json_t *uname = user ? json_object_get(user, "username") : NULL;
	if (uname && !json_is_null(uname)) {
		const char *v = json_is_string(uname) ? json_string_value(uname) : NULL;
		if (!v || !*v || strlen(v) > 256 || strchr(v, '\n'))
			return BAD("process.user.username", "must be USER[:GROUP]");
		s->username = xstrdup(v);
	}
	if (get_uint(user, "umask", "process.user.umask", 0777, &n, &s->has_umask) < 0)
		return -1;
	s->umask = (mode_t)n;
	json_t *ag = json_object_get(user, "additionalGids"), *e;
	size_t i;
	if (ag && !json_is_null(ag)) {
		if (!json_is_array(ag))
			return BAD("process.user.additionalGids", "must be an array of integers");
		s->add_gids = xcalloc(json_array_size(ag), sizeof(gid_t));
		json_array_foreach(ag, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) >= UINT32_MAX)
				return BAD("process.user.additionalGids", "must be an array of integers");
			s->add_gids[s->nadd_gids++] = (gid_t)json_integer_value(e);
		}
	}

	json_t *oom = json_object_get(proc, "oomScoreAdj");
	if (oom && !json_is_null(oom)) {
		if (!json_is_integer(oom) || json_integer_value(oom) < -1000 || json_integer_value(oom) > 1000)
			return BAD("process.oomScoreAdj", "must be an integer from -1000 to 1000");
		s->has_oom_score_adj = true;
		s->oom_score_adj = (int)json_integer_value(oom);
	}

	caps = json_object_get(proc, "capabilities");
	if (caps && !json_is_null(caps)) {
		if (!json_is_object(caps))
			return BAD("process.capabilities", "must be an object");
		s->caps.present = true;
		if (parse_capset(caps, "bounding", &s->caps.bounding) < 0 ||
		    parse_capset(caps, "effective", &s->caps.effective) < 0 ||
		    parse_capset(caps, "permitted", &s->caps.permitted) < 0 ||
		    parse_capset(caps, "inheritable", &s->caps.inheritable) < 0 ||
		    parse_capset(caps, "ambient", &s->caps.ambient) < 0)
			return -1;
	}
	return parse_rlimits(proc, s);
}

int spec_load(const char *bundle, struct nbx_spec *s)
{
	json_error_t jerr;
	char *path = xasprintf("%s/config.json", bundle);
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *r;
	char *version = NULL;
	memset(s, 0, sizeof *s);
	s->bundle = xstrdup(bundle);
	free(path);
	if (!root) {
		if (jerr.line < 0) /* could not read the file at all */
			return nbx_fail("%s/config.json: %s", bundle, jerr.text);
		return nbx_fail("%s/config.json: line %d: %s", bundle, jerr.line, jerr.text);
	}
	if (!json_is_object(root))
		return BAD("top level", "must be an object");
	if (get_string(root, "ociVersion", "ociVersion", &version) < 0)
		return -1;
	if (!version || strncmp(version, "1.", 2) != 0)
		return BAD("ociVersion", "must be 1.x");
	r = json_object_get(root, "root");
	if (!json_is_object(r))
		return BAD("root", "is required and must be an object");
	if (get_string(r, "path", "root.path", &s->root_path) < 0 ||
	    get_bool(r, "readonly", "root.readonly", &s->root_readonly) < 0 ||
	    get_string(root, "hostname", "hostname", &s->hostname) < 0)
		return -1;
	if (!s->root_path || !s->root_path[0])
		return BAD("root.path", "is required");
	char *abs = bundle_path(bundle, s->root_path);
	free(s->root_path);
	s->root_path = abs;
	int rc = (parse_process(root, s) < 0 || parse_mounts(root, s) < 0 || parse_linux(root, s) < 0 ||
		  parse_annotations(root, s) < 0) ? -1 : 0;
	free(version);
	json_decref(root);
	return rc;
}

int spec_load_process(const char *file, struct nbx_spec *s)
{
	json_error_t jerr;
	json_t *proc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!proc)
		return jerr.line < 0 ? nbx_fail("%s: %s", file, jerr.text) : nbx_fail("%s: line %d: %s", file, jerr.line, jerr.text);
	/* parse_process reads root.process: wrap the object so errors name the same fields. */
	json_t *root = json_pack("{s:o}", "process", proc);
	int rc = parse_process(root, s);
	json_decref(root);
	return rc;
}
