/*
 * Paths inside the container's root, resolved from a directory fd of it so that symlinks and
 * ".." in the image can never lead a mount outside (CVE-2021-30465 and friends).
 */
#ifndef NBX_PATHS_H
#define NBX_PATHS_H

#include <limits.h>
#include <stdbool.h>

/* Normalises an absolute path ("//a/./b/" -> "/a/b"); -1 (EINVAL) if relative or has "..". */
int path_clean(const char *in, char out[PATH_MAX]);

/*
 * Resolves PATH under ROOTFD as if ROOTFD were "/" and returns an O_PATH fd of it, or -1 with
 * errno. Symlinks are followed (absolute ones restart at the root, ".." stops at the root).
 * With CREATE, missing components are made on the way: directories, and the last one an empty
 * file when FILE (a mount point for a file bind mount). A dangling symlink thus gets its
 * target created inside the root, never outside.
 */
int root_resolve(int rootfd, const char *path, bool create, bool file);

/* "/proc/self/fd/N": how mount(2) is pointed at a target we hold open (runc's trick). */
void fd_path(int fd, char buf[32]);

#endif
