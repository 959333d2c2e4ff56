/*
 * process.terminal: the console socket the shim listens on (DIR/console.sock, mode 0600). The
 * runtime (--console-socket) connects to it and sends the pty master as one byte with the
 * descriptor in SCM_RIGHTS (runc's and crun's protocol). The shim then reads the master as the
 * container's only output stream ("stdout" in the log), writes attach input to it, and applies
 * resize frames with TIOCSWINSZ.
 */
#ifndef NBX_SHIM_CONSOLE_H
#define NBX_SHIM_CONSOLE_H

/* Listens on NAME (relative to the working directory). The listening fd, or -1 with nbx_err. */
int console_listen(const char *name);
/*
 * Accepts the runtime's connection and receives the master: returned non-blocking and
 * close-on-exec; -2 when no connection is pending; -1 with nbx_err on failure.
 */
int console_receive(int listen_fd);
/* Sets the window size of the pty; ROWS or COLS 0 is ignored. */
void console_resize(int master, unsigned rows, unsigned cols);

#endif
