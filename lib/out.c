/* out.c - output buffered in large blocks, written out whole */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "mem.h"
#include "out.h"

#define OUT_BLOCK (64u << 10)

/* Wall clock of the last write to standard output (for --stats-file). */
int64_t out_wall_us;
bool out_note_wall;

void out_init(struct outbuf *o, int fd, const char *name)
{
	o->fd = fd;
	o->name = name;
	o->len = 0;
	o->ended = false;
	o->cap = fd >= 0 ? OUT_BLOCK : 256;
	o->buf = xmalloc(o->cap);
}

/* Writes n bytes at p to o's descriptor: 0, or -1 if o has ended. */
static int out_write(struct outbuf *o, const char *p, size_t n)
{
	while (n && !o->ended) {
		ssize_t w = write(o->fd, p, n);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* What is left has nowhere to go, nor has what comes later. */
		o->ended = true;
		if (errno == EPIPE) {
			/* The reader went away (| head): not an error. */
			diag_end(EXIT_OK);
		} else {
			diag_warn("write error on %s: %s", o->name,
				  strerror(errno));
			diag_end(EXIT_RUNTIME);
		}
	}
	return o->ended ? -1 : 0;
}

int out_flush(struct outbuf *o)
{
	if (o->fd < 0)
		return 0;
	size_t n = o->len;
	o->len = 0;
	if (out_write(o, o->buf, n) < 0)
		return -1;
	if (n && o->fd == 1 && out_note_wall) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		out_wall_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
	return 0;
}

void out_put(struct outbuf *o, const void *p, size_t n)
{
	if (o->cap - o->len >= n) {
		memcpy(o->buf + o->len, p, n);
		o->len += n;
		return;
	}
	if (o->fd >= 0) {
		out_flush(o);
		if (n >= o->cap) {
			/* Large pieces go straight out. */
			out_write(o, p, n);
			return;
		}
	} else {
		size_t cap = o->cap;
		while (cap - o->len < n)
			cap *= 2;
		char *nb = xrealloc(o->buf, cap);
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void out_puts(struct outbuf *o, const char *s)
{
	out_put(o, s, strlen(s));
}

void out_free(struct outbuf *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}
