/* out.h - output buffered in large blocks */
#ifndef ES_OUT_H
#define ES_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Output buffered in large blocks; fd < 0 makes it a growable memory buffer. */
struct outbuf {
	int fd;
	const char *name;
	char *buf;
	size_t len, cap;
	bool ended;	/* writes no more: a write failed (said), or the run
			   ended (diag_finish); what is put is dropped */
};
void out_init(struct outbuf *o, int fd, const char *name);
void out_put(struct outbuf *o, const void *p, size_t n);
static inline void out_putc(struct outbuf *o, char c)
{
	if (o->len == o->cap)
		out_put(o, &c, 1);
	else
		o->buf[o->len++] = c;
}
void out_puts(struct outbuf *o, const char *s);
/* Writes what is buffered: 0, or -1 once the output has ended. A write
 * that fails ends the run (diag_end): a closed pipe (EPIPE, `| head`)
 * quietly with status 0, another error said, with status 1. */
int out_flush(struct outbuf *o);
void out_free(struct outbuf *o);

/* Wall clock (us) of the last write to standard output, 0 before any. */
extern int64_t out_wall_us;
/* Set when out_wall_us is wanted (--stats-file): noting it costs a clock
 * read per write. */
extern bool out_note_wall;

#endif
