/* The shim's listening sockets (attach.sock, console.sock): by name, in its working directory. */
#ifndef NBX_SHIM_LISTEN_H
#define NBX_SHIM_LISTEN_H

/* A non-blocking SOCK_STREAM socket listening on NAME, mode 0600 from its creation
 * (any old NAME is replaced). -1 with nbx_err. */
int unix_listen(const char *name, int backlog);

#endif
