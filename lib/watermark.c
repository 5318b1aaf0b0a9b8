/* watermark.c - the one rule for event times far ahead of the stream
 * (watermark.h says the rule; edgestream(7) EVENT TIME documents it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dead.h"
#include "diag.h"
#include "loop.h"
#include "mem.h"
#include "watermark.h"

/* A held event: a deep copy of its record (raw text, the spans of its
 * slots and members, its CSV header), so that it can be processed later
 * as if just read. Allocated off the hot path only. */
struct wm_held {
	struct record rec;
	int64_t t;
	struct csv_header hdr;
	char *mem;
};

/* Copies n spans into dst, their bytes at *o. */
static void spans_copy(struct span *dst, const struct span *src, size_t n,
		       char **o)
{
	for (size_t i = 0; i < n; i++) {
		dst[i] = src[i];
		if (src[i].kind == SPAN_MISSING) {
			dst[i].p = NULL;	/* p and n mean nothing then */
			dst[i].n = 0;
		} else if (src[i].p && src[i].n) {
			memcpy(*o, src[i].p, src[i].n);
			dst[i].p = *o;
			*o += src[i].n;
		}
	}
}

static size_t spans_bytes(const struct span *s, size_t n)
{
	size_t b = 0;
	for (size_t i = 0; i < n; i++)
		b += s[i].kind != SPAN_MISSING && s[i].p ? s[i].n : 0;
	return b;
}

static struct wm_held *held_new(const struct record *rec, int64_t t, int ns)
{
	struct wm_held *h = xmalloc(sizeof *h);
	const struct csv_header *hd = rec->header;
	/* without its members (a fieldset that does not want them) a
	 * record's nfields means nothing */
	size_t nf = rec->fields ? rec->nfields : 0, nh = hd ? hd->n : 0;
	size_t bytes = rec->rawlen + 1 + spans_bytes(rec->slots, (size_t)ns);
	for (size_t i = 0; i < nf; i++)
		bytes += spans_bytes(&rec->fields[i].key, 1) +
			 spans_bytes(&rec->fields[i].val, 1);
	if (hd)
		bytes += hd->rawlen + 1 + spans_bytes(hd->names, nh);
	size_t arrays = (size_t)ns * sizeof(struct span) +
			nf * sizeof(struct member) + nh * sizeof(struct span);
	h->mem = xmalloc(arrays + bytes);
	struct span *slots = (struct span *)h->mem;
	struct member *fields = (struct member *)(slots + ns);
	struct span *names = (struct span *)(fields + nf);
	char *o = (char *)(names + nh);

	h->rec = *rec;
	h->t = t;
	memcpy(o, rec->raw, rec->rawlen);
	h->rec.raw = o;
	o += rec->rawlen;
	*o++ = 0;
	spans_copy(slots, rec->slots, (size_t)ns, &o);
	h->rec.slots = slots;
	for (size_t i = 0; i < nf; i++) {
		spans_copy(&fields[i].key, &rec->fields[i].key, 1, &o);
		spans_copy(&fields[i].val, &rec->fields[i].val, 1, &o);
	}
	h->rec.fields = nf ? fields : NULL;
	if (hd) {
		h->hdr = *hd;
		memcpy(o, hd->raw, hd->rawlen);
		h->hdr.raw = o;
		o += hd->rawlen;
		*o++ = 0;
		spans_copy(names, hd->names, nh, &o);
		h->hdr.names = names;
		h->rec.header = &h->hdr;
	}
	return h;
}

static void held_free(struct wm_held *h)
{
	if (h) {
		free(h->mem);
		free(h);
	}
}

void wm_init(struct wmark *w, int64_t ahead, int nslots)
{
	memset(w, 0, sizeof *w);
	w->ahead = ahead;
	w->nslots = nslots;
	w->max = INT64_MIN;
	w->limit = ahead ? INT64_MIN : INT64_MAX;
}

static void group_clear(struct wmark *w)
{
	for (int i = 0; i < w->nheld; i++)
		held_free(w->held[i]);
	w->nheld = 0;
	w->ngroup = 0;
}

/* The limit of the hot path, once no jump is in question. */
static void limit_set(struct wmark *w)
{
	if (!w->ahead)
		w->limit = INT64_MAX;
	else if (w->ngroup || !w->have)
		w->limit = INT64_MIN;
	else
		w->limit = w->max + w->ahead;
}

void wm_reset(struct wmark *w)
{
	group_clear(w);
	w->have = false;
	w->max = INT64_MIN;
	limit_set(w);
}

void wm_free(struct wmark *w)
{
	group_clear(w);
}

void wm_set(struct wmark *w, int64_t ahead, int nslots)
{
	w->ahead = ahead;
	w->nslots = nslots;
	if (!ahead)
		group_clear(w);	/* off: nothing is in question (see wm_end) */
	limit_set(w);
}

static void take(struct wmark *w, const struct record *rec, int64_t t,
		   wm_fn fn, void *ctx)
{
	if (!w->have || t > w->max)
		w->max = t;
	w->have = true;
	limit_set(w);
	fn(rec, t, ctx);
}

/* Reports a far-ahead event as bad input: its time, what it was compared
 * with, --max-ahead. */
/* Why held events are bad: */
static const char contradicted[] = "the events after it did not confirm the jump";
static const char timed_out[] = "no event confirmed the jump within 2s";
static const char ended[] = "the input ended before events confirmed the jump";

static void reject(struct wmark *w, const struct record *rec, int64_t t,
		   int64_t ref, bool wall, const char *why)
{
	char tt[40], rt[40], ah[32], msg[320];
	rfc3339_format(t, tt);
	rfc3339_format(ref, rt);
	duration_format(w->ahead, ah, sizeof ah);
	snprintf(msg, sizeof msg, "time %s is more than %s ahead of %s %s, and "
		 "%s (--max-ahead)", tt, ah,
		 wall ? "the wall clock" : "the stream's time", rt, why);
	w->rejected++;
	record_bad(rec, msg);
}

/* Events each further than --max-ahead from the last (daily or monthly
 * data under the default 1d) never confirm a jump: every one after the
 * first gap is bad. Said once, with what to do, beside the first. */
static void sparse_hint(struct wmark *w)
{
	if (w->hinted)
		return;
	w->hinted = true;
	char ah[32];
	duration_format(w->ahead, ah, sizeof ah);
	diag_warn("events here come more than %s apart: for data of one "
		  "event a day or slower (daily or monthly exports), give "
		  "--max-ahead a duration above their spacing, or 0 to turn "
		  "the rule off", ah);
}

/* The held events are bad; ref: what contradicts them. The evidence goes
 * too unless keep (a timeout: later events may still confirm it). */
static void group_reject(struct wmark *w, int64_t ref, bool wall, bool keep,
			 const char *why)
{
	int n = w->nheld;
	struct wm_held *h[WM_CONFIRM];
	memcpy(h, w->held, sizeof h);
	w->nheld = 0;
	if (!keep)
		w->ngroup = 0;
	limit_set(w);
	for (int i = 0; i < n; i++) {
		reject(w, &h[i]->rec, h[i]->t, ref, wall, why);
		held_free(h[i]);
	}
}

/* Confirmed: the held events go through in order; then the stream's
 * time is the latest of them. */
static void group_accept(struct wmark *w, wm_fn fn, void *ctx)
{
	int n = w->nheld;
	struct wm_held *h[WM_CONFIRM];
	memcpy(h, w->held, sizeof h);
	w->nheld = 0;
	w->ngroup = 0;
	w->jumps++;
	for (int i = 0; i < n; i++) {
		take(w, &h[i]->rec, h[i]->t, fn, ctx);
		held_free(h[i]);
	}
}

static void hold(struct wmark *w, const struct record *rec, int64_t t)
{
	if (!w->ngroup) {
		w->gmin = w->gmax = t;
		w->since_ms = loop_now_ms();
	}
	if (t < w->gmin)
		w->gmin = t;
	if (t > w->gmax)
		w->gmax = t;
	if (!w->nheld)
		w->since_ms = loop_now_ms();
	w->held[w->nheld++] = held_new(rec, t, w->nslots);
	w->ngroup++;
	limit_set(w);
}

/* Is t at most --max-ahead ahead of the stream's time (or, before the
 * first event, of the wall clock)? */
static bool in_range(const struct wmark *w, int64_t t)
{
	if (w->have)
		return t <= w->max + w->ahead;
	return !w->ngroup && t <= time_now_us() + w->ahead;
}

void wm_slow(struct wmark *w, const struct record *rec, int64_t t,
	     wm_fn fn, void *ctx)
{
	if (!w->ahead) {
		take(w, rec, t, fn, ctx);
		return;
	}
	if (in_range(w, t)) {
		/* the old range: a jump in question is contradicted */
		if (w->ngroup)
			group_reject(w, w->have ? w->max : t, false, false,
				     contradicted);
		take(w, rec, t, fn, ctx);
		return;
	}
	if (!w->ngroup) {
		hold(w, rec, t);
	} else if (t < w->gmax - w->ahead) {
		/* far behind the held ones: they are the bad ones */
		group_reject(w, t, false, false, contradicted);
		wm_slow(w, rec, t, fn, ctx);
		return;
	} else if (t > w->gmin + w->ahead && !w->have) {
		/* The first events, and one far ahead of them: the earlier
		 * are the stream's time (nothing contradicted them), this one
		 * is judged against it. */
		group_accept(w, fn, ctx);
		wm_slow(w, rec, t, fn, ctx);
		return;
	} else if (t > w->gmin + w->ahead) {
		/* far ahead of the stream and of the held ones: bad */
		reject(w, rec, t, w->max, false, contradicted);
		sparse_hint(w);
		return;
	} else {
		hold(w, rec, t);
	}
	/* A jump needs WM_CONFIRM events; the first events of a stream
	 * (nothing to jump from) one that agrees with them. */
	if (w->ngroup >= (w->have ? WM_CONFIRM : 2))
		group_accept(w, fn, ctx);
}

int wm_idle(struct wmark *w, wm_fn fn, void *ctx)
{
	(void)fn;
	(void)ctx;
	if (!w->nheld)
		return -1;
	int64_t left = w->since_ms + WM_HOLD_MS - loop_now_ms();
	if (left > 0)
		return (int)left;
	group_reject(w, w->have ? w->max : time_now_us(), !w->have, true,
		     timed_out);
	return -1;
}

void wm_end(struct wmark *w, wm_fn fn, void *ctx)
{
	/* Before the stream has a time nothing contradicts the held events
	 * (a short replay of future-dated data): they go through. */
	if (w->nheld && !w->have)
		group_accept(w, fn, ctx);
	else if (w->nheld)
		group_reject(w, w->max, false, false, ended);
	w->ngroup = 0;
	limit_set(w);
}

int wm_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

void wm_late(const struct record *rec, int64_t t, int64_t wm)
{
	const struct csv_header *h = rec->header;
	dead_late(rec->src, rec->line, t, wm, rec->raw, rec->rawlen,
		  h ? h->raw : NULL, h ? h->rawlen : 0);
}
