/*
 * The attach socket, <container dir>/attach.sock (SOCK_STREAM, mode 0600): live output out,
 * input in, for the foreground `nestbox run`, `attach` and `-i`. A client gets what the container
 * writes from the moment it connects (the past is in ctr.log).
 *
 * Every message, both ways, is one frame: type (1 byte), payload length (4 bytes, big endian),
 * payload (at most ATTACH_MAX_PAYLOAD bytes).
 *   shim -> client  1 stdout data, 2 stderr data,
 *                   3 exit: the contents of exit.json, sent last; then EOF: the client closes
 *                   its end (the shim waits a few seconds for that, so no input is left unread)
 *   client -> shim  0 stdin data, 4 stdin end (the container's stdin is closed once all
 *                   input before it is written), 5 resize (rows, cols: 2 bytes each, big
 *                   endian; used with a terminal, ignored without)
 * A client that sends a malformed frame is disconnected. Slow clients are not dropped: while one
 * has more than ATTACH_HIGH_WATER bytes pending, the shim stops reading the container's output
 * (the container blocks on a full pipe, as under docker attach).
 */
#ifndef NBX_SHIM_ATTACH_H
#define NBX_SHIM_ATTACH_H

#include <stddef.h>

enum {
	FRAME_STDIN = 0,
	FRAME_STDOUT = 1,
	FRAME_STDERR = 2,
	FRAME_EXIT = 3,
	FRAME_STDIN_END = 4,
	FRAME_RESIZE = 5,
};

#define ATTACH_MAX_PAYLOAD (1u << 20)
#define ATTACH_HIGH_WATER (1u << 20)
#define ATTACH_MAX_CLIENTS 16

struct attach_client {
	int fd;
	char *out;
	size_t out_len, out_cap;
	unsigned char hdr[5];
	size_t hdr_got;
	char *in;
	size_t in_len, in_got;
};

struct attach {
	int listen_fd;
	int n;
	struct attach_client *c[ATTACH_MAX_CLIENTS];
};

typedef void (*attach_input_fn)(void *ctx, int type, const char *data, size_t len);

/* Listens on NAME (relative to the working directory: the container dir). -1 with nbx_err. */
int attach_listen(struct attach *a, const char *name);
/* Accepts one client (more than ATTACH_MAX_CLIENTS are refused: closed at once). */
void attach_accept(struct attach *a);
void attach_broadcast(struct attach *a, int type, const void *data, size_t len);
/* The most output any client has pending. */
size_t attach_pending(const struct attach *a);
/* Writes what client I has pending; drops it when it is gone. */
void attach_flush(struct attach *a, int i);
/* Reads what client I sent, calling FN per complete input frame; drops it on EOF or error. */
void attach_read(struct attach *a, int i, attach_input_fn fn, void *ctx);
/* Blocks until every client has taken its output and closed its end (its input is read and
 * dropped), or TIMEOUT_MS passed; then closes them all. */
void attach_finish(struct attach *a, int timeout_ms);

#endif
