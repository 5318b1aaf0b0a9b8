/* input.c - reading in blocks, flushing when input idles
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
#include <unistd.h>

#include "input.h"
#include "loop.h"
#include "mem.h"
#include "simd16.h"
#include "swar.h"

enum { EOL_MEMCHR, EOL_VECTORS, EOL_WORDS };

#define IN_BLOCK (256u << 10)

/* The first eol byte in [s, s + n), or NULL. For short lines (the last
 * one was) a few vectors or words tested inline cost less than memchr's
 * call and set-up, which took 4.7% of es-window's CSV job (a call a line
 * of 45 bytes); from lines of SHORT_LINE bytes on memchr's wider compares
 * win (NDJSON's lines of 97 bytes: words cost es-filter 9%). */
#define SHORT_LINE 64
static char *find_eol(char *s, size_t n, char eol, int how)
{
	if (how == EOL_MEMCHR)
		return memchr(s, eol, n);
	char *p = s, *head_end = s + (n < SHORT_LINE ? n : SHORT_LINE);
	if (SIMD16 && how == EOL_VECTORS) {
		for (; head_end - p >= 16; p += 16) {
			uint64_t at = simd16_eq2(p, eol, eol);
			if (at)
				return p + (__builtin_ctzll(at) >> SIMD16_SHIFT);
		}
	}
	const uint64_t pat = SWAR_ONES * (unsigned char)eol;
	for (; head_end - p >= 8; p += 8) {
		uint64_t at = swar_zero_bytes(swar_load_le(p) ^ pat);
		if (at)
			return p + (__builtin_ctzll(at) >> 3);
	}
	return memchr(p, eol, (size_t)(s + n - p));
}

int input_open(struct input *in, const char *path)
{
	memset(in, 0, sizeof *in);
	in->timeout_ms = -1;
	in->eol = '\n';
	in->vectors = simd16_on();
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
	in->buf = xmalloc(in->cap);
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
		in->buf = xrealloc(in->buf, cap);
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
		in->err = errno;
		return LINE_ERROR;
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
		char *nl = find_eol(s + scanned, avail - scanned, in->eol,
				    in->last_len >= SHORT_LINE ? EOL_MEMCHR
				    : in->vectors ? EOL_VECTORS : EOL_WORDS);
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
			in->last_len = len;
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
