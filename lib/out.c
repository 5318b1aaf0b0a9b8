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
	o->cap = fd >= 0 ? OUT_BLOCK : 256;
	o->buf = xmalloc(o->cap);
}

void out_flush(struct outbuf *o)
{
	size_t off = 0;
	if (o->fd < 0)
		return;
	while (off < o->len) {
		ssize_t w = write(o->fd, o->buf + off, o->len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				/* The reader went away (| head): not an error.
				 * What is left here has nowhere to go. */
				o->len = 0;
				o->fd = -1;
				diag_finish();
				_exit(EXIT_OK);
			}
			/* Drop what cannot be written, so that the flush on
			 * the way out does not fail (and say so) again. */
			int e = errno;
			o->len = 0;
			diag_fatal(EXIT_RUNTIME, "write error on %s: %s", o->name,
				   strerror(e));
		}
		off += (size_t)w;
	}
	if (off && o->fd == 1 && out_note_wall) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		out_wall_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
	o->len = 0;
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
			struct outbuf tmp = *o;
			tmp.buf = (char *)p;
			tmp.len = n;
			out_flush(&tmp);
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
