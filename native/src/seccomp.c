/*
 * See seccomp.h. The OCI seccomp section is turned into libseccomp calls as runc and crun do:
 * actions and comparison operators by their SCMP_* names, architectures added to the native one,
 * syscall names resolved by libseccomp (names it does not know are skipped, as profiles list
 * syscalls of every kernel and architecture), args on distinct indexes ANDed in one rule and, when
 * an index repeats, one rule per arg (ORed), which is how docker's profile expresses "personality
 * is one of these values".
 */
#include "seccomp.h"
#include "seccomp_cache.h"
#include "spec.h"
#include "specjson.h"
#include "util.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Built with libseccomp (ctx), then kept as the BPF it generates, which the child loads itself. */
struct nbx_seccomp {
	scmp_filter_ctx ctx;
	struct nbx_bpf bpf;
};

#define MAX_ERRNO 4095

static int bad(const char *where, const char *fmt, const char *value)
{
	char what[256];
	snprintf(what, sizeof what, fmt, value);
	return nbx_fail("config.json: %s: %s", where, what);
}

/* "SCMP_ACT_ERRNO" + errnoRet -> the libseccomp action; -1 with nbx_err on an unknown name. */
static int parse_action(json_t *obj, const char *key, const char *ret_key, const char *where, uint32_t default_ret,
			uint32_t *out)
{
	json_t *v = json_object_get(obj, key);
	char w[128], wret[128];
	uint64_t ret = default_ret;
	bool has_ret;
	snprintf(w, sizeof w, "%s.%s", where, key);
	snprintf(wret, sizeof wret, "%s.%s", where, ret_key);
	if (!json_is_string(v))
		return BAD(w, "is required and must be a string");
	if (get_uint(obj, ret_key, wret, MAX_ERRNO, &ret, &has_ret) < 0)
		return -1;
	const char *a = json_string_value(v);
	if (!strcmp(a, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(a, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO((uint32_t)ret);
	else if (!strcmp(a, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE((uint32_t)ret);
	else if (!strcmp(a, "SCMP_ACT_KILL") || !strcmp(a, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(a, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(a, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(a, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(a, "SCMP_ACT_NOTIFY"))
		return bad(w, "%s is not supported (no seccomp agent)", a);
	else
		return bad(w, "unknown action \"%.64s\"", a);
	return 0;
}

static int parse_op(json_t *v, const char *where, enum scmp_compare *out)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
		{"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
		{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};
	if (!json_is_string(v))
		return BAD(where, "is required and must be a string");
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (!strcmp(json_string_value(v), ops[i].name)) {
			*out = ops[i].op;
			return 0;
		}
	return bad(where, "unknown operator \"%.64s\"", json_string_value(v));
}

/* syscalls[].args -> comparisons; *n of them. */
static int parse_args(json_t *args, const char *where, struct scmp_arg_cmp **out, unsigned *n)
{
	json_t *e;
	size_t i;
	char w[160];
	*out = NULL;
	*n = 0;
	if (!args || json_is_null(args))
		return 0;
	snprintf(w, sizeof w, "%s.args", where);
	if (!json_is_array(args))
		return BAD(w, "must be an array");
	*out = xcalloc(json_array_size(args) + 1, sizeof **out);
	json_array_foreach(args, i, e) {
		struct scmp_arg_cmp *c = &(*out)[(*n)++];
		uint64_t index, value, two = 0;
		bool has_two;
		snprintf(w, sizeof w, "%s.args[%zu]", where, i);
		if (!json_is_object(e))
			return BAD(w, "must be an object");
		char wi[192], wv[192], wt[192], wo[192];
		snprintf(wi, sizeof wi, "%s.index", w);
		snprintf(wv, sizeof wv, "%s.value", w);
		snprintf(wt, sizeof wt, "%s.valueTwo", w);
		snprintf(wo, sizeof wo, "%s.op", w);
		if (need_uint(e, "index", wi, 5, &index) < 0 || need_uint(e, "value", wv, INT64_MAX, &value) < 0 ||
		    get_uint(e, "valueTwo", wt, INT64_MAX, &two, &has_two) < 0 ||
		    parse_op(json_object_get(e, "op"), wo, &c->op) < 0)
			return -1;
		c->arg = (unsigned)index;
		c->datum_a = value;
		c->datum_b = two;
	}
	return 0;
}

static bool repeated_index(const struct scmp_arg_cmp *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = i + 1; k < n; k++)
			if (c[i].arg == c[k].arg)
				return true;
	return false;
}

/* One rule; a rule whose action is the default one is redundant and libseccomp refuses it. */
static int add_rule(struct nbx_seccomp *sc, uint32_t dflt, uint32_t action, int nr, const char *name, unsigned n,
		    const struct scmp_arg_cmp *c, const char *where)
{
	if (action == dflt)
		return 0;
	int rc = seccomp_rule_add_array(sc->ctx, action, nr, n, c);
	if (rc < 0) {
		errno = -rc;
		return nbx_fail_errno("config.json: %s: libseccomp refused the rule for %s", where, name);
	}
	return 0;
}

static int parse_syscall(struct nbx_seccomp *sc, uint32_t dflt, json_t *e, size_t idx)
{
	char where[96];
	struct strv names;
	struct scmp_arg_cmp *args = NULL;
	unsigned nargs;
	uint32_t action;
	int rc = -1;
	snprintf(where, sizeof where, "linux.seccomp.syscalls[%zu]", idx);
	if (!json_is_object(e))
		return BAD(where, "must be an object");
	char wn[128];
	snprintf(wn, sizeof wn, "%s.names", where);
	if (get_strv(e, "names", wn, &names) < 0)
		return -1;
	if (names.n == 0)
		return BAD(wn, "must name at least one syscall");
	if (parse_action(e, "action", "errnoRet", where, EPERM, &action) < 0 ||
	    parse_args(json_object_get(e, "args"), where, &args, &nargs) < 0)
		goto out;
	for (size_t i = 0; i < names.n; i++) {
		int nr = seccomp_syscall_resolve_name(names.v[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* a syscall this libseccomp (or architecture) does not know */
		if (nargs > 1 && repeated_index(args, nargs)) {
			for (unsigned k = 0; k < nargs; k++)
				if (add_rule(sc, dflt, action, nr, names.v[i], 1, &args[k], where) < 0)
					goto out;
		} else if (add_rule(sc, dflt, action, nr, names.v[i], nargs, args, where) < 0) {
			goto out;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	free(args);
	return rc;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static int add_arch(struct nbx_seccomp *sc, json_t *v, size_t idx)
{
	char where[64], name[32];
	snprintf(where, sizeof where, "linux.seccomp.architectures[%zu]", idx);
	if (!json_is_string(v))
		return BAD(where, "must be a string");
	const char *s = json_string_value(v);
	if (strncmp(s, "SCMP_ARCH_", 10) || strlen(s + 10) >= sizeof name)
		return bad(where, "unknown architecture \"%.64s\"", s);
	size_t i = 0;
	for (const char *p = s + 10; *p; p++)
		name[i++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	name[i] = 0;
	uint32_t token = seccomp_arch_resolve_name(name);
	if (token == 0)
		return bad(where, "unknown architecture \"%.64s\"", s);
	int rc = seccomp_arch_add(sc->ctx, token);
	if (rc < 0 && rc != -EEXIST) { /* the native architecture is always there */
		errno = -rc;
		return nbx_fail_errno("config.json: %s: libseccomp cannot add %s", where, s);
	}
	return 0;
}

/* flags: SECCOMP_FILTER_FLAG_LOG and _SPEC_ALLOW map to filter attributes; TSYNC is moot (one thread). */
static int set_flags(struct nbx_seccomp *sc, json_t *v)
{
	json_t *e;
	size_t i;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return BAD("linux.seccomp.flags", "must be an array of strings");
	json_array_foreach(v, i, e) {
		const char *f = json_is_string(e) ? json_string_value(e) : NULL;
		int rc = 0;
		if (!f)
			return BAD("linux.seccomp.flags", "must be an array of strings");
		if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG")) {
			rc = seccomp_attr_set(sc->ctx, SCMP_FLTATR_CTL_LOG, 1);
			sc->bpf.flags |= SECCOMP_FILTER_FLAG_LOG;
		} else if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW")) {
			rc = seccomp_attr_set(sc->ctx, SCMP_FLTATR_CTL_SSB, 1);
			sc->bpf.flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		} else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC"))
			return bad("linux.seccomp.flags", "unknown flag \"%.64s\"", f);
		if (rc < 0) {
			errno = -rc;
			return nbx_fail_errno("config.json: linux.seccomp.flags: %s", f);
		}
	}
	return 0;
}

static int compile(json_t *v, struct nbx_seccomp **out)
{
	json_t *e;
	size_t i;
	uint32_t dflt;
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return BAD("linux.seccomp", "must be an object");
	if (json_object_get(v, "listenerPath"))
		return BAD("linux.seccomp.listenerPath", "is not supported (no seccomp agent)");
	if (parse_action(v, "defaultAction", "defaultErrnoRet", "linux.seccomp", EPERM, &dflt) < 0)
		return -1;
	struct nbx_seccomp *sc = xcalloc(1, sizeof *sc);
	sc->ctx = seccomp_init(dflt);
	if (!sc->ctx)
		return nbx_fail("linux.seccomp: libseccomp could not create a filter");
	/*
	 * no_new_privs is process.noNewPrivileges' business, not libseccomp's (which would set it by
	 * default). A syscall of an architecture the profile does not list fails with ENOSYS rather
	 * than killing the process. The default linear layout is kept: a binary tree (optimize 2)
	 * costs several ms more to compile, and since 5.11 the kernel skips the filter for syscalls
	 * it always allows.
	 */
	if (seccomp_attr_set(sc->ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
	    seccomp_attr_set(sc->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS)) < 0)
		return nbx_fail("linux.seccomp: libseccomp refused the filter attributes");
	*out = sc;

	json_t *archs = json_object_get(v, "architectures");
	if (archs && !json_is_null(archs)) {
		if (!json_is_array(archs))
			return BAD("linux.seccomp.architectures", "must be an array of strings");
		json_array_foreach(archs, i, e)
			if (add_arch(sc, e, i) < 0)
				return -1;
	}
	if (set_flags(sc, json_object_get(v, "flags")) < 0)
		return -1;
	json_t *calls = json_object_get(v, "syscalls");
	if (calls && !json_is_null(calls)) {
		if (!json_is_array(calls))
			return BAD("linux.seccomp.syscalls", "must be an array");
		json_array_foreach(calls, i, e)
			if (parse_syscall(sc, dflt, e, i) < 0)
				return -1;
	}
	return 0;
}

/* The BPF libseccomp generates for sc->ctx (what seccomp_load would load), into sc->bpf. */
static int export_bpf(struct nbx_seccomp *sc)
{
	int fd = memfd_create("nbx-seccomp-bpf", MFD_CLOEXEC), rc;
	if (fd < 0)
		return nbx_fail_errno("linux.seccomp: memfd for the filter");
	if ((rc = seccomp_export_bpf(sc->ctx, fd)) < 0) {
		close(fd);
		errno = -rc;
		return nbx_fail_errno("linux.seccomp: libseccomp could not generate the filter");
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter) || size / sizeof(struct sock_filter) > 4096) {
		close(fd);
		return nbx_fail("linux.seccomp: the generated filter has %lld bytes", (long long)size);
	}
	sc->bpf.len = (unsigned short)(size / sizeof(struct sock_filter));
	sc->bpf.insns = xmalloc((size_t)size);
	ssize_t got = pread(fd, sc->bpf.insns, (size_t)size, 0);
	close(fd);
	if (got != size)
		return nbx_fail("linux.seccomp: cannot read the generated filter back");
	seccomp_release(sc->ctx);
	sc->ctx = NULL;
	return 0;
}

int seccomp_parse(json_t *v, const char *cache_dir, struct nbx_seccomp **out)
{
	size_t keylen = 0;
	char *key = NULL;
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (cache_dir && json_is_object(v) && (key = seccomp_cache_key(v, &keylen))) {
		struct nbx_seccomp *sc = xcalloc(1, sizeof *sc);
		if (seccomp_cache_load(cache_dir, key, keylen, &sc->bpf) == 0) {
			free(key);
			*out = sc;
			return 0;
		}
		free(sc);
	}
	int rc = compile(v, out);
	if (rc == 0 && *out)
		rc = export_bpf(*out);
	if (rc == 0 && key)
		seccomp_cache_store(cache_dir, key, keylen, &(*out)->bpf);
	free(key);
	return rc;
}

int seccomp_from_config(const char *file, struct nbx_seccomp **out)
{
	json_error_t jerr;
	json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	*out = NULL;
	if (!root)
		return jerr.line < 0 ? nbx_fail("%s: %s", file, jerr.text) : nbx_fail("%s: line %d: %s", file, jerr.line, jerr.text);
	json_t *lnx = json_object_get(root, "linux");
	json_t *ann = json_object_get(root, "annotations");
	json_t *cache = json_is_object(ann) ? json_object_get(ann, ANN_SECCOMP_CACHE) : NULL;
	int rc = seccomp_parse(json_is_object(lnx) ? json_object_get(lnx, "seccomp") : NULL,
			       json_is_string(cache) ? json_string_value(cache) : NULL, out);
	json_decref(root);
	if (rc < 0 && !strncmp(nbx_err, "config.json: ", 13)) {
		char msg[NBX_ERRLEN];
		snprintf(msg, sizeof msg, "%s", nbx_err + 13);
		return nbx_fail("%.200s: %s", file, msg);
	}
	return rc;
}

/* What seccomp_load does with the filter libseccomp generated (no no_new_privs: see compile). */
int seccomp_apply(const struct nbx_seccomp *sc)
{
	struct sock_fprog prog = {.len = sc->bpf.len, .filter = sc->bpf.insns};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, sc->bpf.flags, &prog) < 0)
		return nbx_fail_errno("load the seccomp filter");
	return 0;
}
