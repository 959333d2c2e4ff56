/* See attach.h. */
#include "attach.h"
#include "listen.h"
#include "../util.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int attach_listen(struct attach *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->listen_fd = unix_listen(name, 8);
	return a->listen_fd < 0 ? -1 : 0;
}

void attach_accept(struct attach *a)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (a->n == ATTACH_MAX_CLIENTS) {
		close(fd);
		return;
	}
	struct attach_client *c = xcalloc(1, sizeof *c);
	c->fd = fd;
	a->c[a->n++] = c;
}

static void drop(struct attach *a, int i)
{
	struct attach_client *c = a->c[i];
	close(c->fd);
	free(c->out);
	free(c->in);
	free(c);
	a->c[i] = a->c[--a->n];
}

static void put(struct attach_client *c, const void *data, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 65536;
		while (cap < c->out_len + len)
			cap *= 2;
		char *p = realloc(c->out, cap);
		if (!p)
			return; /* out of memory: this client loses output, the container goes on */
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

void attach_broadcast(struct attach *a, int type, const void *data, size_t len)
{
	unsigned char hdr[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
				(unsigned char)(len >> 8), (unsigned char)len};
	for (int i = 0; i < a->n; i++) {
		put(a->c[i], hdr, sizeof hdr);
		put(a->c[i], data, len);
	}
	for (int i = a->n - 1; i >= 0; i--)
		attach_flush(a, i);
}

size_t attach_pending(const struct attach *a)
{
	size_t most = 0;
	for (int i = 0; i < a->n; i++)
		if (a->c[i]->out_len > most)
			most = a->c[i]->out_len;
	return most;
}

void attach_flush(struct attach *a, int i)
{
	struct attach_client *c = a->c[i];
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			drop(a, i);
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
}

void attach_read(struct attach *a, int i, attach_input_fn fn, void *ctx)
{
	struct attach_client *c = a->c[i];
	for (;;) {
		ssize_t n;
		if (c->hdr_got < sizeof c->hdr) {
			n = recv(c->fd, c->hdr + c->hdr_got, sizeof c->hdr - c->hdr_got, MSG_DONTWAIT);
		} else {
			n = recv(c->fd, c->in + c->in_got, c->in_len - c->in_got, MSG_DONTWAIT);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			drop(a, i);
			return;
		}
		if (c->hdr_got < sizeof c->hdr) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got < sizeof c->hdr)
				continue;
			c->in_len = (size_t)c->hdr[1] << 24 | (size_t)c->hdr[2] << 16 | (size_t)c->hdr[3] << 8 | c->hdr[4];
			int type = c->hdr[0];
			if (c->in_len > ATTACH_MAX_PAYLOAD || (type != FRAME_STDIN && type != FRAME_STDIN_END && type != FRAME_RESIZE)) {
				drop(a, i);
				return;
			}
			free(c->in);
			c->in = xmalloc(c->in_len);
			c->in_got = 0;
		} else {
			c->in_got += (size_t)n;
		}
		if (c->in_got == c->in_len) {
			fn(ctx, c->hdr[0], c->in, c->in_len);
			c->hdr_got = 0;
		}
	}
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Closing a unix stream socket with input still unread makes the kernel reset the peer
 * (ECONNRESET), and a client may then lose the exit frame it had not read yet (Node discards
 * it). So each client gets EOF first (shutdown) and is closed once it has closed its end,
 * its late input read and dropped.
 */
static void drain_until_closed(struct attach *a, long deadline)
{
	for (int i = 0; i < a->n; i++)
		shutdown(a->c[i]->fd, SHUT_WR);
	while (a->n > 0 && now_ms() < deadline) {
		struct pollfd p[ATTACH_MAX_CLIENTS];
		for (int i = 0; i < a->n; i++)
			p[i] = (struct pollfd){.fd = a->c[i]->fd, .events = POLLIN};
		if (poll(p, (nfds_t)a->n, (int)(deadline - now_ms())) < 0 && errno != EINTR)
			break;
		for (int i = a->n - 1; i >= 0; i--) {
			if (!p[i].revents)
				continue;
			char sink[4096];
			ssize_t n;
			while ((n = recv(a->c[i]->fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
				;
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				drop(a, i);
		}
	}
}

void attach_finish(struct attach *a, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	while (a->n > 0 && attach_pending(a) > 0 && now_ms() < deadline) {
		struct pollfd p[ATTACH_MAX_CLIENTS];
		for (int i = 0; i < a->n; i++)
			p[i] = (struct pollfd){.fd = a->c[i]->fd, .events = a->c[i]->out_len ? POLLOUT : 0};
		if (poll(p, (nfds_t)a->n, (int)(deadline - now_ms())) < 0 && errno != EINTR)
			break;
		for (int i = a->n - 1; i >= 0; i--)
			if (p[i].revents)
				attach_flush(a, i);
	}
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	a->listen_fd = -1;
	drain_until_closed(a, deadline);
	while (a->n > 0)
		drop(a, a->n - 1);
}
