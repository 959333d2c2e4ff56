/*
 * Typed accessors over jansson for the config parser: each names the field in its error
 * ("config.json: process.args: must be an array of strings") and returns -1, or 0.
 */
#ifndef NBX_SPECJSON_H
#define NBX_SPECJSON_H

#include "spec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define BAD(where, what) nbx_fail("config.json: %s: %s", where, what)

/* Absent or null -> *out NULL. */
int get_string(json_t *obj, const char *key, const char *where, char **out);
int get_bool(json_t *obj, const char *key, const char *where, bool *out);
/* An integer in [0, max]; absent -> *present false. */
int get_uint(json_t *obj, const char *key, const char *where, uint64_t max, uint64_t *out, bool *present);
int need_uint(json_t *obj, const char *key, const char *where, uint64_t max, uint64_t *out);
/* Absent -> an empty strv. */
int get_strv(json_t *obj, const char *key, const char *where, struct strv *out);
/* "a:b:c" -> strv, empty parts dropped (annotation lists). */
void split_colon(const char *s, struct strv *out);
/* A path from the config: absolute as is, else relative to the bundle (OCI). */
char *bundle_path(const char *bundle, const char *p);

/* The sections parsed in spec_linux.c. */
int parse_mounts(json_t *root, struct nbx_spec *s);
int parse_linux(json_t *root, struct nbx_spec *s);
int parse_annotations(json_t *root, struct nbx_spec *s);

#endif
