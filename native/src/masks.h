/* linux.maskedPaths and linux.readonlyPaths, applied after pivot_root. */
#ifndef NBX_MASKS_H
#define NBX_MASKS_H

struct nbx_spec;

/*
 * Masked: /dev/null over files, an empty read-only tmpfs over directories. Read-only: a bind
 * mount onto itself remounted read-only. Paths that do not exist are skipped. -1 with nbx_err.
 */
int masks_apply(const struct nbx_spec *s);

#endif
