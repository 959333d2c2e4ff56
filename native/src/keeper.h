/*
 * The per-user keeper namespace (podman's pause process in spirit): one long-lived process
 * holding a user namespace with the same id maps containers get, plus a mount namespace, in
 * which storage work runs (layer extraction with chown, overlay mounts for export/commit), so
 * ownership on disk agrees with what containers see.
 *
 *   nestbox-runtime keeper --pid-file FILE --uid-map C:H:S... --gid-map C:H:S...
 *   nestbox-runtime join --pid PID [--start-time T] -- CMD [ARGS...]
 */
#ifndef NBX_KEEPER_H
#define NBX_KEEPER_H

/*
 * Starts the keeper: a detached process (own session, stdio on /dev/null, no inherited fds)
 * that unshares a user and a mount namespace, gets the maps written from outside (directly,
 * or through newuidmap/newgidmap as `run` does), becomes uid 0 in it and sleeps until killed.
 * Writes "PID STARTTIME\n" atomically to the pid file (STARTTIME: /proc/PID/stat field 22)
 * once the namespace is ready, then returns 0. 125 with one line on stderr on failure.
 */
int keeper_main(int argc, char **argv);

/*
 * Joins the keeper's user namespace, then its mount namespace, becomes uid/gid 0 there and
 * execs CMD (searched in PATH). With --start-time, a process with another start time under
 * PID is refused (the keeper died and its pid was reused). 125 when joining fails, 126/127
 * when CMD cannot be executed / is not found.
 */
int join_main(int argc, char **argv); /* join.c */

#endif
