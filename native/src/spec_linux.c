/* config.json: mounts, the linux section and the nestbox annotations (see spec.h). */
#include "namespaces.h"
#include "seccomp.h"
#include "specjson.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int parse_mounts(json_t *root, struct nbx_spec *s)
{
	json_t *v = json_object_get(root, "mounts"), *e;
	size_t i;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return BAD("mounts", "must be an array");
	s->mounts = xcalloc(json_array_size(v), sizeof *s->mounts);
	json_array_foreach(v, i, e) {
		struct nbx_mount *m = &s->mounts[s->nmounts++];
		if (!json_is_object(e))
			return BAD("mounts[]", "must be an object");
		if (get_string(e, "destination", "mounts[].destination", &m->destination) < 0 ||
		    get_string(e, "type", "mounts[].type", &m->type) < 0 ||
		    get_string(e, "source", "mounts[].source", &m->source) < 0 ||
		    get_strv(e, "options", "mounts[].options", &m->options) < 0)
			return -1;
		if (!m->destination || m->destination[0] != '/')
			return BAD("mounts[].destination", "must be an absolute path");
		bool bind = m->type && !strcmp(m->type, "bind");
		for (size_t k = 0; k < m->options.n; k++)
			bind |= !strcmp(m->options.v[k], "bind") || !strcmp(m->options.v[k], "rbind");
		if (!m->type && !bind)
			return nbx_fail("config.json: mounts: %s has no type", m->destination);
		if (bind) {
			if (!m->type || strcmp(m->type, "none") == 0)
				m->type = xstrdup("bind");
			if (!m->source)
				return nbx_fail("config.json: mounts: bind mount %s has no source", m->destination);
			char *abs = bundle_path(s->bundle, m->source);
			free(m->source);
			m->source = abs;
		}
	}
	return 0;
}

static int parse_maps(json_t *lnx, const char *key, struct nbx_idmap **out, size_t *n)
{
	json_t *v = json_object_get(lnx, key), *e;
	size_t i;
	uint64_t x;
	char where[64];
	snprintf(where, sizeof where, "linux.%s", key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return BAD(where, "must be an array");
	*out = xcalloc(json_array_size(v), sizeof **out);
	json_array_foreach(v, i, e) {
		struct nbx_idmap *m = &(*out)[(*n)++];
		if (need_uint(e, "containerID", where, UINT32_MAX - 1, &x) < 0)
			return -1;
		m->container_id = (uint32_t)x;
		if (need_uint(e, "hostID", where, UINT32_MAX - 1, &x) < 0)
			return -1;
		m->host_id = (uint32_t)x;
		if (need_uint(e, "size", where, UINT32_MAX, &x) < 0)
			return -1;
		m->size = (uint32_t)x;
	}
	return 0;
}

/* annotations.io.nestbox.seccomp.cache if it is a string (checked with the other annotations). */
static const char *seccomp_cache_dir(json_t *root)
{
	json_t *a = json_object_get(root, "annotations");
	json_t *v = json_is_object(a) ? json_object_get(a, ANN_SECCOMP_CACHE) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int parse_linux(json_t *root, struct nbx_spec *s)
{
	json_t *lnx = json_object_get(root, "linux"), *v, *e;
	size_t i;
	if (!lnx || json_is_null(lnx))
		return 0;
	if (!json_is_object(lnx))
		return BAD("linux", "must be an object");

	v = json_object_get(lnx, "namespaces");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v))
			return BAD("linux.namespaces", "must be an array");
		s->namespaces = xcalloc(json_array_size(v), sizeof *s->namespaces);
		json_array_foreach(v, i, e) {
			char *type;
			struct nbx_ns *ns = &s->namespaces[s->nnamespaces];
			if (get_string(e, "type", "linux.namespaces[].type", &type) < 0 ||
			    get_string(e, "path", "linux.namespaces[].path", &ns->path) < 0)
				return -1;
			ns->type = type ? ns_type_from_name(type) : -1;
			if (ns->type < 0)
				return nbx_fail("config.json: linux.namespaces: unsupported type \"%s\"", type ? type : "");
			for (size_t k = 0; k < s->nnamespaces; k++)
				if (s->namespaces[k].type == ns->type)
					return nbx_fail("config.json: linux.namespaces: \"%s\" listed twice", type);
			free(type);
			s->nnamespaces++;
		}
	}
	if (parse_maps(lnx, "uidMappings", &s->uid_maps, &s->nuid_maps) < 0 ||
	    parse_maps(lnx, "gidMappings", &s->gid_maps, &s->ngid_maps) < 0 ||
	    get_strv(lnx, "maskedPaths", "linux.maskedPaths", &s->masked) < 0 ||
	    get_strv(lnx, "readonlyPaths", "linux.readonlyPaths", &s->readonly) < 0 ||
	    seccomp_parse(json_object_get(lnx, "seccomp"), seccomp_cache_dir(root), &s->seccomp) < 0)
		return -1;

	v = json_object_get(lnx, "devices");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v))
			return BAD("linux.devices", "must be an array");
		s->devices = xcalloc(json_array_size(v), sizeof *s->devices);
		json_array_foreach(v, i, e) {
			struct nbx_device *d = &s->devices[s->ndevices++];
			char *type;
			uint64_t x;
			bool present;
			if (get_string(e, "path", "linux.devices[].path", &d->path) < 0 ||
			    get_string(e, "type", "linux.devices[].type", &type) < 0)
				return -1;
			if (!d->path || d->path[0] != '/')
				return BAD("linux.devices[].path", "must be an absolute path");
			if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
				return nbx_fail("config.json: linux.devices: %s: type must be c, b, u or p", d->path);
			d->type = type[0];
			free(type);
			d->major = d->minor = -1;
			if (get_uint(e, "major", "linux.devices[].major", UINT32_MAX, &x, &present) < 0)
				return -1;
			if (present)
				d->major = (int64_t)x;
			if (get_uint(e, "minor", "linux.devices[].minor", UINT32_MAX, &x, &present) < 0)
				return -1;
			if (present)
				d->minor = (int64_t)x;
		}
	}
	return 0;
}

/* A "true"/"false" annotation into *out (left as it is when absent). */
static int get_bool_annotation(json_t *a, const char *key, const char *where, bool *out)
{
	char *v = NULL;
	if (get_string(a, key, where, &v) < 0)
		return -1;
	if (!v)
		return 0;
	bool ok = !strcmp(v, "true") || !strcmp(v, "false");
	if (ok)
		*out = !strcmp(v, "true");
	else
		nbx_fail("config.json: annotations: %s: \"%.64s\" must be true or false", key, v);
	free(v);
	return ok ? 0 : -1;
}

int parse_annotations(json_t *root, struct nbx_spec *s)
{
	json_t *a = json_object_get(root, "annotations");
	char *cg = NULL, *driver = NULL, *cache = NULL;
	s->cgroup_paths.v = xcalloc(1, sizeof(char *));
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_object(a))
		return BAD("annotations", "must be an object of strings");
	if (get_string(a, ANN_OVERLAY_LOWER, "annotations." ANN_OVERLAY_LOWER, &s->ov_lower) < 0 ||
	    get_string(a, ANN_OVERLAY_UPPER, "annotations." ANN_OVERLAY_UPPER, &s->ov_upper) < 0 ||
	    get_string(a, ANN_OVERLAY_WORK, "annotations." ANN_OVERLAY_WORK, &s->ov_work) < 0 ||
	    get_string(a, ANN_OVERLAY_DRIVER, "annotations." ANN_OVERLAY_DRIVER, &driver) < 0 ||
	    get_string(a, ANN_CGROUP_PATHS, "annotations." ANN_CGROUP_PATHS, &cg) < 0 ||
	    get_bool_annotation(a, ANN_INIT, "annotations." ANN_INIT, &s->init) < 0 ||
	    get_string(a, ANN_SECCOMP_CACHE, "annotations." ANN_SECCOMP_CACHE, &cache) < 0 ||
	    get_bool_annotation(a, ANN_OVERLAY_VOLATILE, "annotations." ANN_OVERLAY_VOLATILE, &s->ov_volatile) < 0)
		return -1;
	if (cache) {
		if (cache[0] != '/')
			return nbx_fail("config.json: annotations: %s: \"%.64s\" is not an absolute path", ANN_SECCOMP_CACHE, cache);
		free(cache);
	}
	if (driver) {
		if (strcmp(driver, "kernel") && strcmp(driver, "fuse"))
			return nbx_fail("config.json: annotations: %s: \"%.64s\" must be kernel or fuse", ANN_OVERLAY_DRIVER, driver);
		s->ov_fuse = !strcmp(driver, "fuse");
		free(driver);
	}
	if (!s->ov_lower && (s->ov_upper || s->ov_work))
		return nbx_fail("config.json: annotations: overlay upperdir/workdir given without %s", ANN_OVERLAY_LOWER);
	if (!s->ov_upper != !s->ov_work)
		return nbx_fail("config.json: annotations: %s and %s go together", ANN_OVERLAY_UPPER, ANN_OVERLAY_WORK);
	if (cg) {
		split_colon(cg, &s->cgroup_paths);
		for (size_t i = 0; i < s->cgroup_paths.n; i++)
			if (s->cgroup_paths.v[i][0] != '/')
				return nbx_fail("config.json: annotations: %s: \"%s\" is not an absolute path",
						ANN_CGROUP_PATHS, s->cgroup_paths.v[i]);
		free(cg);
	}
	return 0;
}
