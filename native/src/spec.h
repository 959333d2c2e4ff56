/*
 * The subset of an OCI runtime-spec config.json that nestbox-runtime reads, parsed once in the
 * parent into plain C data (the child gets a copy through clone and never touches JSON).
 * native/README.md lists the fields.
 */
#ifndef NBX_SPEC_H
#define NBX_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define ANN_OVERLAY_LOWER "io.nestbox.overlay.lowerdir"
#define ANN_OVERLAY_UPPER "io.nestbox.overlay.upperdir"
#define ANN_OVERLAY_WORK "io.nestbox.overlay.workdir"
#define ANN_OVERLAY_DRIVER "io.nestbox.overlay.driver"
/* "true": the upper dir is thrown away with the container (run --rm): overlay's volatile option */
#define ANN_OVERLAY_VOLATILE "io.nestbox.overlay.volatile"
#define ANN_CGROUP_PATHS "io.nestbox.cgroup.paths"
#define ANN_INIT "io.nestbox.init"
/* a directory of compiled seccomp filters (seccomp_cache.h) */
#define ANN_SECCOMP_CACHE "io.nestbox.seccomp.cache"

/* A NULL-terminated string array with its length. */
struct strv {
	char **v;
	size_t n;
};

struct nbx_idmap {
	uint32_t container_id, host_id, size;
};

struct nbx_ns {
	int type;   /* CLONE_NEW* */
	char *path; /* join this namespace instead of creating one; NULL = new */
};

struct nbx_mount {
	char *destination; /* absolute, inside the container */
	char *type;        /* "bind" when options say bind/rbind and no type is given */
	char *source;      /* bind sources are made absolute (relative = to the bundle) */
	struct strv options;
};

struct nbx_device {
	char *path;
	char type; /* c, b, u or p */
	int64_t major, minor;
};

struct nbx_rlimit {
	int resource;
	char *name;
	uint64_t soft, hard;
};

struct nbx_caps {
	bool present; /* process.capabilities given: apply exactly these sets */
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

struct nbx_seccomp; /* seccomp.h */

struct nbx_spec {
	char *bundle; /* absolute */

	/* process */
	bool terminal;
	unsigned console_rows, console_cols; /* process.consoleSize; 0 = not given */
	struct strv args, env;
	char *cwd;
	uid_t uid;
	gid_t gid;
	/* process.user.username (ours): docker's -u USER[:GROUP], resolved in the container's /etc/passwd and /etc/group */
	char *username;
	gid_t *add_gids;
	size_t nadd_gids;
	bool has_umask;
	mode_t umask;
	bool no_new_privs;
	struct nbx_rlimit *rlimits;
	size_t nrlimits;
	struct nbx_caps caps;
	bool has_oom_score_adj;
	int oom_score_adj;

	/* root, hostname, mounts */
	char *root_path; /* absolute */
	bool root_readonly;
	char *hostname;
	struct nbx_mount *mounts;
	size_t nmounts;

	/* linux */
	struct nbx_ns *namespaces;
	size_t nnamespaces;
	struct nbx_idmap *uid_maps, *gid_maps;
	size_t nuid_maps, ngid_maps;
	struct nbx_device *devices;
	size_t ndevices;
	struct strv masked, readonly;
	struct nbx_seccomp *seccomp; /* linux.seccomp compiled; NULL = no filter */

	/* annotations */
	char *ov_lower, *ov_upper, *ov_work;
	bool ov_fuse; /* io.nestbox.overlay.driver "fuse": fuse-overlayfs instead of the kernel's overlay */
	bool ov_volatile; /* io.nestbox.overlay.volatile: no sync of the upper dir's filesystem */
	struct strv cgroup_paths;
	bool init; /* io.nestbox.init "true": pid 1 is the runtime's init, the command its child (init.h) */
};

/* Reads BUNDLE/config.json. -1 with nbx_err ("config.json: process.args: ...") on error. */
int spec_load(const char *bundle, struct nbx_spec *s);

/*
 * Reads an OCI process object (the `process` of a config.json, alone in FILE: `exec --process`)
 * into the process fields of S, which must be zeroed. -1 with nbx_err.
 */
int spec_load_process(const char *file, struct nbx_spec *s);

/* The capability number of "CAP_SYS_ADMIN" etc., or -1. */
int cap_from_name(const char *name);

#endif
