/* process.capabilities: the five capability sets of the container process. */
#ifndef NBX_CAPS_H
#define NBX_CAPS_H

struct nbx_caps;

/*
 * Before the user switch: drop what is not in the bounding set and keep the permitted set
 * across setresuid (PR_SET_KEEPCAPS). Nothing when the config gives no capabilities.
 */
int caps_before_setuid(const struct nbx_caps *c);
/* After it: set effective/permitted/inheritable, raise the ambient ones. */
int caps_after_setuid(const struct nbx_caps *c);

#endif
