/* See log.h. */
#include "log.h"
#include "../util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return nbx_fail_errno("open %s", path);
	return fd;
}

void time_rfc3339nano(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	char frac[16];
	snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
	size_t f = strlen(frac);
	while (f > 1 && frac[f - 1] == '0')
		frac[--f] = '\0';
	if (f == 1)
		frac[0] = '\0';
	snprintf(buf + n, size - n, "%sZ", frac);
}

/* Length of the valid UTF-8 sequence at S (at most LEN bytes), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t need;
	unsigned min;
	unsigned cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		need = 2, min = 0x80, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		need = 3, min = 0x800, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		need = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (need > len)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

size_t json_escape(char *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\', out[o++] = 'n';
		} else if (c == '\r') {
			out[o++] = '\\', out[o++] = 'r';
		} else if (c == '\t') {
			out[o++] = '\\', out[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		} else if (c >= 0x80) {
			size_t n = utf8_len(p + i, len - i);
			if (n == 0) {
				o += (size_t)sprintf(out + o, "\\ufffd");
				i++;
				continue;
			}
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
			continue;
		} else {
			out[o++] = (char)c;
		}
		i++;
	}
	out[o] = '\0';
	return o;
}

static void log_entry(int fd, const char *stream, const char *time, const char *data, size_t len)
{
	char *line = xmalloc(len * 6 + strlen(stream) + strlen(time) + 48);
	size_t n = (size_t)sprintf(line, "{\"log\":\"");
	n += json_escape(line + n, data, len);
	n += (size_t)sprintf(line + n, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, time);
	/* one write per entry: O_APPEND keeps entries whole for a reader following the file */
	if (write_all(fd, line, n) < 0)
		nbx_fail_errno("write the container log");
	free(line);
}

void log_chunk(int fd, const char *stream, const char *data, size_t len)
{
	char time[40];
	if (fd < 0 || len == 0)
		return;
	time_rfc3339nano(time, sizeof time);
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) + 1 : len;
		log_entry(fd, stream, time, data, n);
		data += n;
		len -= n;
	}
}
