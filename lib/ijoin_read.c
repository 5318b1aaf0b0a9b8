/* ijoin_read.c - the interval join over two inputs read as data arrives */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dead.h"
#include "diag.h"
#include "evloop.h"
#include "ijoin_read.h"
#include "loop.h"
#include "opts.h"
#include "reload.h"
#include "size.h"
#include "stats.h"
#include "watermark.h"

/* An input. Its name is in a cell of its own that the reader keeps the
 * address of (it opens the file at its first read, which may come after a
 * reload swapped the sides). */
struct ijoin_input {
	char *file;
	struct reader *r;
	bool blocked;
};

/* A side's descriptor in the wait: which side it is. */
struct ijoin_wait {
	struct ijoin_read *rd;
	int si;
};

struct ijoin_read {
	struct ijoin *j;
	struct ijoin_input in[2];
	struct ijoin_input *side[2];	/* the input of each side */
	struct writer *w;
	struct outbuf *out;
	enum format ofmt;	/* the output format, once known */
	int64_t idle;		/* --idle, us (0: none) */
	bool warned_write, warned_limit[2];
	struct evloop ev;	/* the wait for either side's input */
	struct ijoin_wait wait[2];
	int woke;		/* sides unblocked by the last turn */
};

static void ijoin_read_emit(void *ctx, const struct ofield *f, size_t n)
{
	struct ijoin_read *rd = ctx;
	const char *err;
	if (writer_put_fields(rd->w, f, n, &err) == 0)
		return;
	stats.dropped++;
	if (!rd->warned_write)
		diag_warn("cannot write a joined record: %s (this and any "
			  "further ones are counted as dropped)", err);
	rd->warned_write = true;
}

/* At --max-buffered or --max-state: each limit says so once. */
static void ijoin_read_evict(void *ctx, enum ijoin_limit why, uint64_t limit)
{
	struct ijoin_read *rd = ctx;
	char size[32];
	if (rd->warned_limit[why])
		return;
	rd->warned_limit[why] = true;
	if (why == IJOIN_BY_COUNT)
		diag_warn("--max-buffered %llu reached: evicting the oldest "
			  "buffered events (counted as \"evicted\" in --stats)",
			  (unsigned long long)limit);
	else
		diag_warn("--max-state %s reached: evicting the oldest buffered "
			  "events (counted as \"evicted\" in --stats)",
			  size_text(limit, size, sizeof size));
}

/* The evloop's descriptor of a side: its input's while it waits for one
 * (the sides may have been swapped by a reload since the last turn). */
static void ijoin_wait_prepare(struct evloop_fd *f, int64_t now)
{
	(void)now;
	const struct ijoin_wait *w = f->ctx;
	const struct ijoin_input *x = w->rd->side[w->si];
	f->fd = ijoin_ended(w->rd->j, w->si) || !x->blocked ? -1 : reader_fd(x->r);
}

static void ijoin_wait_ready(struct evloop_fd *f, short revents, int64_t now)
{
	(void)now;
	struct ijoin_wait *w = f->ctx;
	if (!revents)
		return;
	w->rd->side[w->si]->blocked = false;
	w->rd->woke++;
}

/* The readers' idle callback: before they wait for input. */
static void ijoin_read_flush(void *ctx)
{
	out_flush(ctx);
}

struct ijoin_read *ijoin_read_new(const struct ijoin_conf *c,
				  const char *left, const char *right,
				  enum format fmt, struct writer *w,
				  struct outbuf *out, enum format ofmt)
{
	static const struct ijoin_hooks hooks = {
		.emit = ijoin_read_emit, .evict = ijoin_read_evict,
	};
	struct ijoin_read *rd = xmalloc(sizeof *rd);
	memset(rd, 0, sizeof *rd);
	const char *file[2] = { left, right };
	rd->w = w;
	rd->out = out;
	rd->ofmt = ofmt;
	rd->idle = c->idle;
	rd->j = ijoin_new(c, &hooks, rd, ofmt);
	evloop_init(&rd->ev);
	for (int si = 0; si < 2; si++) {
		rd->wait[si] = (struct ijoin_wait){ rd, si };
		evloop_add_fd(&rd->ev, -1, POLLIN, ijoin_wait_ready,
			      &rd->wait[si])->prepare = ijoin_wait_prepare;
	}
	for (int si = 0; si < 2; si++) {
		struct ijoin_input *x = &rd->in[si];
		x->file = xstrdup(file[si]);
		x->r = reader_open(&x->file, 1, fmt, ijoin_fieldset(rd->j, si),
				   ijoin_read_flush, out);
		reader_set_timeout(x->r, 0);
		rd->side[si] = x;
	}
	return rd;
}

/* Waits (timeout ms) for the blocked sides; those with input are
 * unblocked. Returns how many were, 1 when none waits (nothing to wait
 * for), -1 when poll() fails. */
static int ijoin_read_poll(struct ijoin_read *rd, int timeout)
{
	int np = 0;
	for (int si = 0; si < 2; si++) {
		if (ijoin_ended(rd->j, si) || !rd->side[si]->blocked)
			continue;
		if (reader_fd(rd->side[si]->r) < 0) {	/* not open yet */
			rd->side[si]->blocked = false;
			return 1;
		}
		np++;
	}
	if (!np)
		return 1;
	rd->woke = 0;
	if (evloop_run_once(&rd->ev, timeout) < 0)
		return -1;
	return rd->woke;
}

/* Reads a record of side si into the join; false if it has to wait. */
static bool ijoin_read_side(struct ijoin_read *rd, int si)
{
	struct record rec;
	int got = reader_next(rd->side[si]->r, &rec);
	if (got < 0) {
		rd->side[si]->blocked = true;
		return false;
	}
	if (got == 0) {
		if (!loop_stop)
			ijoin_end(rd->j, si);
		return true;
	}
	if (rd->ofmt == FMT_AUTO) {
		rd->ofmt = rec.fmt;
		writer_set_format(rd->w, rd->ofmt);
	}
	ijoin_event(rd->j, si, &rec);
	return true;
}

/* Every open side waits for input: flush, then poll until one has some,
 * a held event is due, or a silent side's watermark would move. */
static void ijoin_read_wait(struct ijoin_read *rd)
{
	out_flush(rd->out);
	dead_flush();
	int held = ijoin_held(rd->j);
	int rc = ijoin_read_poll(rd, reload_timeout(loop_timeout(wm_timeout(
			ijoin_idle_timeout(rd->j, loop_now_ms()), held))));
	if (rc == 0 && rd->idle) {
		ijoin_silence(rd->j, loop_now_ms());
		out_flush(rd->out);
	}
}

/* After a signal: the buffered events are dropped, not written; say how
 * many, and how many of them never matched (those count as "dropped":
 * matched ones are in the pairs written). Events held for confirmation
 * are bad. */
static void ijoin_read_stopped(struct ijoin_read *rd)
{
	size_t unmatched, n = ijoin_stop(rd->j, &unmatched);
	if (n)
		diag_warn("stopped by a signal: %zu buffered event%s dropped (%zu "
			  "never matched: counted as dropped)",
			  n, n == 1 ? "" : "s", unmatched);
}

void ijoin_read_run(struct ijoin_read *rd, void (*between)(void *ctx),
		    void *ctx)
{
	unsigned n = 0;
	while (!loop_stop && !(ijoin_ended(rd->j, 0) && ijoin_ended(rd->j, 1))) {
		between(ctx);
		if (loop_hup) {	/* a SIGHUP: reopen the dead-letter file */
			loop_hup = 0;
			dead_reopen();
		}
		int first = ijoin_pick(rd->j);
		bool progressed = false;
		for (int k = 0; k < 2 && !progressed; k++) {
			int si = k ? !first : first;
			if (!ijoin_ended(rd->j, si) && !rd->side[si]->blocked)
				progressed = ijoin_read_side(rd, si);
		}
		if (!progressed) {
			ijoin_read_wait(rd);
		} else if ((++n & 15) == 0 &&
			   (rd->side[0]->blocked || rd->side[1]->blocked)) {
			ijoin_read_poll(rd, 0);	/* did a quiet side wake up? */
		}
	}
	if (loop_stop && diag_end_status < 0)	/* a signal, not diag_end */
		ijoin_read_stopped(rd);
	for (int si = 0; si < 2; si++) {
		reader_close(rd->in[si].r);
		rd->in[si].r = NULL;
	}
}

/* The same join definition keeps the buffered events (a new lateness,
 * --idle, --max-buffered or prefix applies from the next event); another
 * one ends them as at the end of input, then starts from nothing. */
int ijoin_read_reconf(struct ijoin_read *rd, const struct ijoin_conf *c,
		      const char *left, const char *right, char *said,
		      size_t n)
{
	char size[32];
	const char *l = rd->side[0]->file, *r = rd->side[1]->file;
	bool swap = strcmp(left, l) != 0;
	if (swap ? strcmp(left, r) || strcmp(right, l) : strcmp(right, r) != 0) {
		snprintf(said, n, "a reload cannot change the inputs --left and "
			 "--right (it may swap them)");
		return -1;
	}
	struct ijoin_said s = ijoin_reconf(rd->j, c, swap);
	rd->idle = c->idle;
	if (swap) {
		struct ijoin_input *t = rd->side[0];
		rd->side[0] = rd->side[1];
		rd->side[1] = t;
	}
	for (int si = 0; si < 2; si++)
		if (s.grew & 1u << si)
			reader_fields_changed(rd->side[si]->r);
	int len;
	if (s.same)
		len = snprintf(said, n, "the join definition is unchanged: %zu "
			       "buffered event%s kept", s.kept,
			       s.kept == 1 ? "" : "s");
	else
		len = snprintf(said, n, "a new join definition: %zu buffered "
			       "event%s ended as at the end of input (%zu "
			       "written alone)", s.went, s.went == 1 ? "" : "s",
			       s.alone);
	if (s.over && len >= 0 && (size_t)len < n)
		snprintf(said + len, n - (size_t)len, "; --max-state %s: the "
			 "%zu oldest evicted",
			 size_text(c->max_state, size, sizeof size), s.over);
	return 0;
}

struct ijoin_counts ijoin_read_counts(const struct ijoin_read *rd)
{
	return ijoin_counts(rd ? rd->j : NULL);
}

void ijoin_read_free(struct ijoin_read *rd)
{
	if (!rd)
		return;
	for (int si = 0; si < 2; si++) {
		reader_close(rd->in[si].r);
		free(rd->in[si].file);
	}
	ijoin_free(rd->j);
	free(rd);
}
