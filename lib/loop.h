/* loop.h - block input, buffered output, idle flushing, timers, signals */
#ifndef ES_LOOP_H
#define ES_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_MAX_BYTES (16u << 20)	/* longer lines are bad input */

/* Output buffered in large blocks; fd < 0 makes it a growable memory buffer. */
struct outbuf {
	int fd;
	const char *name;
	char *buf;
	size_t len, cap;
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
/* Writes what is buffered. A closed pipe (EPIPE) ends the program quietly
 * with status 0; another write error is fatal (status 1). */
void out_flush(struct outbuf *o);
void out_free(struct outbuf *o);

/* Signals: SIGINT/SIGTERM set loop_stop, SIGHUP sets loop_hup; SIGPIPE is
 * ignored so that writes see EPIPE. Handlers do not restart syscalls, so a
 * blocked poll() returns at once. */
extern volatile sig_atomic_t loop_stop, loop_hup;
/* SIGHUPs so far: each user (the reader's dead-letter reopening, a
 * program's --config reload) compares it with the count it last saw. */
extern volatile sig_atomic_t loop_hups;
void loop_signals(void);
/* Set (by lib/reload.c) when a SIGHUP must wake a reader blocked on input:
 * the wait then ends as a timeout, and the program reloads. */
extern bool loop_hup_wakes;

enum line_status {
	LINE_OK,		/* a line: *p, *n (no "\n", no "\r" before it) */
	LINE_TOOLONG,		/* a line over LINE_MAX_BYTES was skipped; its bytes
				   went to in->spill */
	LINE_EOF,
	LINE_TIMEOUT,		/* in->timeout_ms passed without input */
	LINE_STOP,		/* SIGINT/SIGTERM */
};

struct input {
	int fd;
	const char *name;	/* for diagnostics: the file name, or "stdin" */
	char *buf;
	size_t start, end, cap;
	uint64_t lineno;	/* number of the line last returned, from 1 */
	bool eof, bom_checked, skipping;
	bool eol_known;		/* eol is decided (at the first line break) */
	char eol;		/* '\n', or '\r' for CR-only line ends */
	/* Called before blocking for input: flush output there. */
	void (*idle)(void *ctx);
	void *ctx;
	/* Receives an over-long line in pieces, last=true at its end. */
	void (*spill)(void *spill_ctx, const char *p, size_t n, bool last);
	void *spill_ctx;
	int timeout_ms;		/* for LINE_TIMEOUT; -1 waits for ever */
};
/* Opens path ("-" is stdin). Returns -1 with errno set. */
int input_open(struct input *in, const char *path);
void input_close(struct input *in);
/* Next line. A UTF-8 BOM at the start of the input is dropped (one later
 * on is data: bad NDJSON, said). Lines end in
 * "\n" or "\r\n", or in "\r" when the input's first line break is a lone
 * "\r". */
enum line_status input_line(struct input *in, const char **p, size_t *n);

/* Milliseconds on the monotonic clock, for timers. */
int64_t loop_now_ms(void);

/*
 * One periodic timer for the whole program (--stats-file): fn runs every
 * every_ms, from the reading loop, between records or while it waits for
 * input. loop_tick() runs fn if it is due and returns the milliseconds to
 * the next run (-1: no timer); loop_timeout(t) does that and returns the
 * poll() timeout to use instead of t (-1 for ever). A program with a
 * poll() of its own passes its timeout through loop_timeout().
 */
void loop_set_tick(int64_t every_ms, void (*fn)(void));
int loop_tick(void);
int loop_timeout(int timeout_ms);
/* Wall clock (us) of the last write to standard output, 0 before any. */
extern int64_t loop_out_wall_us;

#endif
