/* Reading /proc/PID/mountinfo: is something mounted on a path yet? */
#ifndef NBX_MOUNTINFO_H
#define NBX_MOUNTINFO_H

/*
 * FD: an open /proc/PID/mountinfo (read again from the start on each call). 1 when it lists a
 * mount on MOUNT_POINT (as the kernel shows it: absolute, symlinks resolved) whose file system
 * type starts with TYPE_PREFIX, 0 when not, -1 with errno when it cannot be read.
 */
int mountinfo_has(int fd, const char *mount_point, const char *type_prefix);

#endif
