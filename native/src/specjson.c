/* See specjson.h. */
#include "specjson.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int get_string(json_t *obj, const char *key, const char *where, char **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return BAD(where, "must be a string");
	*out = xstrdup(json_string_value(v));
	return 0;
}

int get_bool(json_t *obj, const char *key, const char *where, bool *out)
{
	json_t *v = json_object_get(obj, key);
	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return BAD(where, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

/* An unsigned integer up to max; absent -> *present false. */
int get_uint(json_t *obj, const char *key, const char *where, uint64_t max, uint64_t *out,
		    bool *present)
{
	json_t *v = json_object_get(obj, key);
	*present = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return BAD(where, "must be a non-negative integer in range");
	*out = (uint64_t)json_integer_value(v);
	*present = true;
	return 0;
}

int need_uint(json_t *obj, const char *key, const char *where, uint64_t max, uint64_t *out)
{
	bool present;
	if (get_uint(obj, key, where, max, out, &present) < 0)
		return -1;
	return present ? 0 : BAD(where, "is required");
}

int get_strv(json_t *obj, const char *key, const char *where, struct strv *out)
{
	json_t *v = json_object_get(obj, key), *e;
	size_t i;
	out->n = 0;
	out->v = xcalloc(1, sizeof(char *));
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return BAD(where, "must be an array of strings");
	out->v = xcalloc(json_array_size(v) + 1, sizeof(char *));
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return BAD(where, "must be an array of strings");
		out->v[out->n++] = xstrdup(json_string_value(e));
	}
	return 0;
}

/* Splits "a:b:c" (annotation lists) into a strv, dropping empty parts. */
void split_colon(const char *s, struct strv *out)
{
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ':';
	out->v = xcalloc(cap + 1, sizeof(char *));
	out->n = 0;
	char *copy = xstrdup(s), *save = NULL;
	for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
		out->v[out->n++] = xstrdup(t);
	free(copy);
}

char *bundle_path(const char *bundle, const char *p)
{
	return p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", bundle, p);
}
