/* What identifies a process over time: its pid and its start time. */
#ifndef NBX_PROCSTAT_H
#define NBX_PROCSTAT_H

#include <sys/types.h>

/*
 * Field 22 of /proc/PID/stat (start time, clock ticks after boot) and, when STATE is not NULL,
 * field 3 (R, S, Z...). The command name (field 2) may hold spaces and parentheses: fields are
 * counted from its last ')'. -1 with nbx_err.
 */
int proc_start_time(pid_t pid, unsigned long long *start, char *state);

#endif
