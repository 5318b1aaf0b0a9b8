/* loop.c - reading in blocks, flushing when input idles, timers, signals
 *
 * Input is read with read(2) in large blocks and split into lines in place.
 * Before any read that could block, poll(2) with a zero timeout asks whether
 * data is there; if not, the idle hook runs (programs flush their output
 * there) and only then does the program sleep in poll(). A live pipe thus
 * sees each record at once, while a file is still written in large blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "loop.h"

#define OUT_BLOCK (64u << 10)
#define IN_BLOCK (256u << 10)

volatile sig_atomic_t loop_stop, loop_hup, loop_hups;
bool loop_hup_wakes;

/* The tick's state (see loop_set_tick); the output notes its last write. */
static void (*tick_fn)(void);
static int64_t tick_every, tick_next;
int64_t loop_out_wall_us;

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		loop_hup = 1;
		loop_hups++;
	}
	else
		loop_stop = 1;
}

void loop_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: a blocked poll must return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the tick ---- */


void loop_set_tick(int64_t every_ms, void (*fn)(void))
{
	tick_fn = fn;
	tick_every = every_ms > 0 ? every_ms : 1;
	tick_next = loop_now_ms() + tick_every;
}

int loop_tick(void)
{
	if (!tick_fn)
		return -1;
	int64_t now = loop_now_ms();
	if (now >= tick_next) {
		tick_fn();
		/* A late tick does not run again at once to catch up. */
		tick_next = now + tick_every;
	}
	int64_t left = tick_next - now;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

int loop_timeout(int timeout_ms)
{
	int t = loop_tick();
	if (t < 0)
		return timeout_ms;
	return timeout_ms < 0 || t < timeout_ms ? t : timeout_ms;
}

/* ---- output ---- */

void out_init(struct outbuf *o, int fd, const char *name)
{
	o->fd = fd;
	o->name = name;
	o->len = 0;
	o->cap = fd >= 0 ? OUT_BLOCK : 256;
	o->buf = malloc(o->cap);
	if (!o->buf)
		diag_fatal(EXIT_RUNTIME, "out of memory");
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
	if (off && o->fd == 1 && tick_fn) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		loop_out_wall_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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
		char *nb = realloc(o->buf, cap);
		if (!nb)
			diag_fatal(EXIT_RUNTIME, "out of memory");
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

/* ---- input ---- */

int input_open(struct input *in, const char *path)
{
	memset(in, 0, sizeof *in);
	in->timeout_ms = -1;
	in->eol = '\n';
	if (!path || !strcmp(path, "-")) {
		in->fd = 0;
		in->name = "stdin";
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0)
			return -1;
		in->name = path;
	}
	in->cap = IN_BLOCK;
	in->buf = malloc(in->cap);
	if (!in->buf)
		diag_fatal(EXIT_RUNTIME, "out of memory");
	return 0;
}

void input_close(struct input *in)
{
	if (in->fd > 0)
		close(in->fd);
	free(in->buf);
	in->buf = NULL;
}

/* Waits until fd is readable. Returns LINE_OK, LINE_TIMEOUT or LINE_STOP. */
static enum line_status wait_readable(struct input *in)
{
	struct pollfd pfd = { in->fd, POLLIN, 0 };
	if (poll(&pfd, 1, 0) > 0)
		return LINE_OK;
	if (in->idle)
		in->idle(in->ctx);
	int64_t deadline = in->timeout_ms >= 0 ? loop_now_ms() + in->timeout_ms : -1;
	sig_atomic_t hups = loop_hups;
	for (;;) {
		if (loop_stop)
			return LINE_STOP;
		if (loop_hup_wakes && loop_hups != hups)
			return LINE_TIMEOUT;	/* the program reloads */
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - loop_now_ms();
			wait = left > 0 ? (int)left : 0;
		}
		int r = poll(&pfd, 1, loop_timeout(wait));
		if (r > 0)
			return LINE_OK;
		if (r == 0 && deadline >= 0 && loop_now_ms() >= deadline)
			return LINE_TIMEOUT;
		if (r < 0 && errno != EINTR)
			return LINE_OK;	/* let read() report it */
	}
}

/* Reads more into the buffer, keeping the partial line at its start.
 * Returns LINE_OK after a read (at EOF sets in->eof), else why not. */
static enum line_status fill(struct input *in)
{
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->end == in->cap) {
		/* Grow for a long line, up to the limit (and a bit, so that a
		 * line of exactly the limit still has room for its "\n"). */
		size_t cap = in->cap * 2;
		if (cap > LINE_MAX_BYTES + IN_BLOCK)
			cap = LINE_MAX_BYTES + IN_BLOCK;
		char *nb = realloc(in->buf, cap);
		if (!nb)
			diag_fatal(EXIT_RUNTIME, "out of memory");
		in->buf = nb;
		in->cap = cap;
	}
	enum line_status st = wait_readable(in);
	if (st != LINE_OK)
		return st;
	for (;;) {
		ssize_t r = read(in->fd, in->buf + in->end, in->cap - in->end);
		if (r > 0) {
			in->end += (size_t)r;
			loop_tick();	/* a busy input must not starve the timer */
			return LINE_OK;
		}
		if (r == 0) {
			in->eof = true;
			return LINE_OK;
		}
		if (errno == EINTR) {
			if (loop_stop)
				return LINE_STOP;
			continue;
		}
		if (errno == EAGAIN)
			return wait_readable(in) == LINE_STOP ? LINE_STOP : LINE_OK;
		diag_fatal(EXIT_RUNTIME, "read error on %s: %s", in->name,
			   strerror(errno));
	}
}

/* Discards the rest of an over-long line, handing it to spill. */
static enum line_status skip_long(struct input *in)
{
	for (;;) {
		char *nl = memchr(in->buf + in->start, '\n', in->end - in->start);
		size_t upto = nl ? (size_t)(nl - in->buf) : in->end;
		if (in->spill)
			in->spill(in->spill_ctx, in->buf + in->start, upto - in->start,
				  nl || in->eof);
		if (nl) {
			in->start = upto + 1;
			in->skipping = false;
			return LINE_TOOLONG;
		}
		in->start = in->end = 0;
		if (in->eof) {
			in->skipping = false;
			return LINE_TOOLONG;
		}
		enum line_status st = fill(in);
		if (st != LINE_OK)
			return st;
		if (in->eof && in->start == in->end) {
			if (in->spill)
				in->spill(in->spill_ctx, NULL, 0, true);
			in->skipping = false;
			return LINE_TOOLONG;
		}
	}
}

/*
 * Lines end in "\n" (a "\r" before it is dropped), or in "\r" alone when
 * that is what the input's first line break is (classic Mac OS exports):
 * otherwise such a file is one line, and a CSV file its header alone,
 * every record lost without a word.
 */
static void eol_decide(struct input *in)
{
	const char *s = in->buf + in->start;
	size_t avail = in->end - in->start;
	for (size_t i = 0; i < avail; i++) {
		if (s[i] == '\n') {
			in->eol_known = true;
			return;
		}
		if (s[i] == '\r') {
			if (i + 1 == avail && !in->eof)
				return;		/* "\r\n" or not: read on */
			in->eol_known = true;
			if (i + 1 == avail || s[i + 1] != '\n')
				in->eol = '\r';
			return;
		}
	}
	if (in->eof)
		in->eol_known = true;
}

enum line_status input_line(struct input *in, const char **p, size_t *n)
{
	size_t scanned = 0;	/* bytes of the partial line known to lack "\n" */
	for (;;) {
		if (!in->eol_known) {
			eol_decide(in);
			if (!in->eol_known && !in->eof && in->end - in->start <
			    LINE_MAX_BYTES) {
				enum line_status st = fill(in);
				if (st != LINE_OK)
					return st;
				continue;
			}
			in->eol_known = true;
		}
		if (in->skipping) {
			enum line_status st = skip_long(in);
			if (st != LINE_TOOLONG)
				return st;
			in->lineno++;
			return LINE_TOOLONG;
		}
		char *s = in->buf + in->start;
		size_t avail = in->end - in->start;
		char *nl = memchr(s + scanned, in->eol, avail - scanned);
		if (nl || (in->eof && avail)) {
			size_t len = nl ? (size_t)(nl - s) : avail;
			in->start += nl ? len + 1 : len;
			size_t content = len && s[len - 1] == '\r' ? len - 1 : len;
			if (content > LINE_MAX_BYTES) {
				if (in->spill)
					in->spill(in->spill_ctx, s, len, true);
				in->lineno++;
				return LINE_TOOLONG;
			}
			if (len && s[len - 1] == '\r')
				len--;
			if (!in->bom_checked) {
				in->bom_checked = true;
				if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
					s += 3;
					len -= 3;
				}
			}
			in->lineno++;
			*p = s;
			*n = len;
			return LINE_OK;
		}
		if (in->eof)
			return LINE_EOF;
		scanned = avail;
		if (avail > LINE_MAX_BYTES + 1) {	/* + 1: a "\r" may end it */
			/* No end in sight: stream it out instead of holding it. */
			in->skipping = true;
			scanned = 0;
			continue;
		}
		size_t before = in->start;
		enum line_status st = fill(in);
		if (st != LINE_OK)
			return st;
		(void)before;
	}
}
