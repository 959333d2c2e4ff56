/* A descriptor over a unix socket (SCM_RIGHTS): the runtime sends the pty master, the shim and
 * the tests' console relay receive it. No nbx_err: errno says why, so the test tool links it alone. */
#ifndef NBX_FDPASS_H
#define NBX_FDPASS_H

/* One byte of payload with FD (a receiver's recvmsg needs data). 0, or -1 with errno. */
int fd_send(int sock, int fd);
/* The descriptor of one such message, close-on-exec; -1 with errno (EBADMSG: no descriptor came). */
int fd_recv(int sock);

#endif
