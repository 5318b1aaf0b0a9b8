/* es-window - event-time windows with watermarks, group-by and aggregates
 *
 * Every event goes to the windows of its group that contain its time. The
 * watermark is the largest event time seen minus the allowed lateness; a
 * window is emitted once the watermark passes its end, so the output does
 * not depend on how fast events arrive, only on their order. An event is
 * late when every window it belongs to was already emitted (as in Flink):
 * it is counted, and written to --late FILE if given.
 *
 * State: groups live in a hash table and an LRU list; each holds its open
 * windows sorted by start. Tumbling and hopping windows of all groups that
 * share a start are listed in one "pane", so closing is a walk over the
 * oldest panes; sessions close through a heap ordered by end.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "diag.h"
#include "keys.h"
#include "opts.h"
#include "path.h"
#include "record.h"
#include "time.h"

enum kind { K_NONE, K_TUMBLING, K_HOPPING, K_SLIDING, K_SESSION, K_COUNT };

enum {
	OPT_TUMBLING = OPT_PROGRAM, OPT_HOPPING, OPT_EVERY, OPT_SLIDING,
	OPT_SESSION, OPT_MAX_SESSION, OPT_COUNTW, OPT_OFFSET, OPT_TIME_FIELD,
	OPT_TIME_UNIT, OPT_TIME, OPT_TIME_FORMAT, OPT_LATENESS, OPT_LATE,
	OPT_IDLE, OPT_FLUSH_ON_EXIT, OPT_MAX_GROUPS,
};

#define DEFAULT_MAX_GROUPS 100000

static struct {
	enum kind kind;
	int64_t size, every, offset, gap, max_session, lateness, idle;
	long count, count_every;
	bool processing, flush_on_exit;
	enum time_repr unit, out_repr;
	long max_groups;
	const char *time_field;
} cfg = {
	.time_field = "ts", .max_groups = DEFAULT_MAX_GROUPS,
};

/* Grows a dynamic array by doubling when it is full. */
#define GROW(arr, n, cap) \
	do { \
		if ((n) == (cap)) { \
			(cap) = (cap) ? (cap) * 2 : 4; \
			(arr) = xrealloc((arr), (size_t)(cap) * sizeof *(arr)); \
		} \
	} while (0)

/* ---- what the program works with ---- */

static struct agg_spec *specs;
static int nspecs;
static size_t state_size;
static struct path *gpaths;	/* --group-by */
static int ngroup_fields;
static int *gslots, time_slot;

struct win {
	int64_t start, end;	/* [start, end) of event time */
	int64_t last;		/* session, count: time of the latest event */
	long n;			/* count: events in it */
	void *st;		/* the aggregates' state */
};

/* A buffered event of a sliding window: its time and aggregated values. */
struct sev {
	int64_t t;
	struct value *v;	/* nspecs values; text copied into the block */
};

struct group {		/* indexed by its id in the key table */
	struct value *gv;	/* the group values, for output */
	struct win *w;		/* open windows, by start */
	int nw, capw;
	long seen;		/* count windows: events so far */
	uint64_t birth;		/* order of first sight: ties in output */
	int prev, next;		/* LRU list, most recent first */
	uint32_t gen;		/* changes when the slot is reused */
	bool live;
	struct sev *ev;		/* sliding: buffered events by time */
	int nev, capev;
};

static struct keytab *keys;
static struct group *groups;
static int ngroups_cap, nlive, lru_head = -1, lru_tail = -1;
static uint64_t births;
static unsigned long long evicted;
static int peak_groups;

/* Panes: for tumbling and hopping, the open windows sharing a start. */
struct ref {
	int gid;
	uint32_t gen;
};
struct pane {
	int64_t start, end;
	struct ref *refs;
	int nrefs, cap;
};
static struct pane *panes;
static int npanes, cappanes;

/* Sessions close in order of end, through a heap (entries may be stale:
 * a session that grew is pushed again, one that merged is gone). */
struct hent {
	int64_t end, start;
	uint64_t birth;
	int gid;
	uint32_t gen;
};
static struct hent *heap;
static int nheap, capheap;

static int64_t max_t = INT64_MIN, wm = INT64_MIN;
static bool have_time;

static struct writer *out_w;
static struct scratch sc;

/* ---- small helpers ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* ---- groups ---- */

static void lru_unlink(int gid)
{
	struct group *g = &groups[gid];
	if (g->prev >= 0)
		groups[g->prev].next = g->next;
	else
		lru_head = g->next;
	if (g->next >= 0)
		groups[g->next].prev = g->prev;
	else
		lru_tail = g->prev;
	g->prev = g->next = -1;
}

static void lru_front(int gid)
{
	if (lru_head == gid)
		return;
	struct group *g = &groups[gid];
	if (g->prev >= 0 || g->next >= 0 || lru_tail == gid)
		lru_unlink(gid);
	g->next = lru_head;
	g->prev = -1;
	if (lru_head >= 0)
		groups[lru_head].prev = gid;
	lru_head = gid;
	if (lru_tail < 0)
		lru_tail = gid;
}

static void group_free(int gid)
{
	struct group *g = &groups[gid];
	lru_unlink(gid);
	keytab_remove(keys, gid);
	for (int i = 0; i < g->nev; i++)
		free(g->ev[i].v);
	free(g->ev);
	free(g->gv);
	free(g->w);
	uint32_t gen = g->gen + 1;
	memset(g, 0, sizeof *g);
	g->gen = gen;
	g->prev = g->next = -1;
	nlive--;
}

/* Drops a group that holds nothing any more, so that key churn does not
 * grow the table. */
static void group_maybe_free(int gid)
{
	struct group *g = &groups[gid];
	if (g->nw || g->nev)
		return;
	if (cfg.kind == K_COUNT && g->seen % cfg.count_every)
		return;		/* keeps the alignment of the next window */
	group_free(gid);
}

static void emit(struct group *g, struct win *w);
static void evict_lru(void);

static struct outbuf key;

/* The key of a record's group, into key (normal form: lib/keys.c). */
static void key_build(const struct span *slots)
{
	if (!key.buf)
		out_init(&key, -1, "key");
	key.len = 0;
	for (int i = 0; i < ngroup_fields; i++) {
		struct value v;
		if (value_load(&slots[gslots[i]], &v, &sc))
			v.t = V_NULL;
		key_append(&key, &v);
	}
}

/* The group of a record if it exists, else -1. */
static int group_find(const struct span *slots)
{
	key_build(slots);
	return keytab_find(keys, key.buf, key.len);
}

static int group_get(const struct span *slots)
{
	int gid = group_find(slots);
	if (gid >= 0) {
		lru_front(gid);
		return gid;
	}
	if (nlive >= cfg.max_groups)
		evict_lru();
	gid = keytab_add(keys, key.buf, key.len);
	while (ngroups_cap < keytab_span(keys)) {
		int old = ngroups_cap;
		ngroups_cap = ngroups_cap ? ngroups_cap * 2 : 64;
		groups = xrealloc(groups, (size_t)ngroups_cap * sizeof *groups);
		memset(groups + old, 0, (size_t)(ngroups_cap - old) * sizeof *groups);
	}
	struct group *g = &groups[gid];
	uint32_t gen = g->gen;
	memset(g, 0, sizeof *g);
	g->gen = gen;
	size_t kn;
	g->gv = xmalloc((size_t)ngroup_fields * sizeof *g->gv);
	key_decode(keytab_key(keys, gid, &kn), ngroup_fields, g->gv);
	g->birth = births++;
	g->prev = g->next = -1;
	g->live = true;
	if (++nlive > peak_groups)
		peak_groups = nlive;
	lru_front(gid);
	return gid;
}

/* ---- windows of a group ---- */

static struct win *win_find(struct group *g, int64_t start)
{
	for (int i = g->nw - 1; i >= 0; i--)
		if (g->w[i].start == start)
			return &g->w[i];
	return NULL;
}

static struct win *win_add(struct group *g, int64_t start, int64_t end)
{
	GROW(g->w, g->nw, g->capw);
	int i = g->nw;
	while (i > 0 && g->w[i - 1].start > start)
		i--;
	memmove(&g->w[i + 1], &g->w[i], (size_t)(g->nw - i) * sizeof *g->w);
	g->nw++;
	struct win *w = &g->w[i];
	w->start = start;
	w->end = end;
	w->last = start;
	w->n = 0;
	w->st = xrealloc(NULL, state_size);
	agg_state_init(specs, nspecs, w->st);
	return w;
}

static void win_remove(struct group *g, struct win *w)
{
	agg_state_free(specs, nspecs, w->st);
	free(w->st);
	int i = (int)(w - g->w);
	memmove(&g->w[i], &g->w[i + 1], (size_t)(g->nw - i - 1) * sizeof *g->w);
	g->nw--;
}

/* ---- output ---- */

static void time_value(int64_t us, struct value *v, char *buf)
{
	enum time_repr r = cfg.out_repr ? cfg.out_repr : cfg.unit;
	if (r == TIME_AUTO)
		r = TIME_MS;
	memset(v, 0, sizeof *v);
	v->t = r == TIME_RFC3339 ? V_STRING : V_RAW;
	v->s = buf;
	v->n = time_format(us, r, false, buf);
}

static void emit(struct group *g, struct win *w)
{
	static struct ofield *f;
	static struct value *res;
	int nf = 2 + ngroup_fields + nspecs;
	char b1[48], b2[48];
	if (!f) {
		f = xrealloc(NULL, (size_t)nf * sizeof *f);
		res = xrealloc(NULL, (size_t)(nspecs ? nspecs : 1) * sizeof *res);
		f[0].name = "window_start";
		f[1].name = "window_end";
		for (int i = 0; i < ngroup_fields; i++)
			f[2 + i].name = gpaths[i].text;
		for (int i = 0; i < nspecs; i++)
			f[2 + ngroup_fields + i].name = specs[i].name;
		for (int i = 0; i < nf; i++)
			f[i].namelen = strlen(f[i].name);
	}
	time_value(w->start, &f[0].v, b1);
	time_value(w->end, &f[1].v, b2);
	for (int i = 0; i < ngroup_fields; i++)
		f[2 + i].v = g->gv[i];
	agg_state_result(specs, nspecs, w->st, w->end - w->start, res);
	for (int i = 0; i < nspecs; i++)
		f[2 + ngroup_fields + i].v = res[i];
	const char *err;
	if (writer_put_fields(out_w, f, (size_t)nf, &err) < 0)
		diag_warn("cannot write a window: %s", err);
}

/* ---- panes (tumbling, hopping) ---- */

static struct pane *pane_get(int64_t start, int64_t end)
{
	int i = npanes;
	while (i > 0 && panes[i - 1].start > start)
		i--;
	if (i > 0 && panes[i - 1].start == start)
		return &panes[i - 1];
	GROW(panes, npanes, cappanes);
	memmove(&panes[i + 1], &panes[i], (size_t)(npanes - i) * sizeof *panes);
	npanes++;
	panes[i] = (struct pane){ start, end, NULL, 0, 0 };
	return &panes[i];
}

/* Emits the oldest pane: each group's window with that start. */
static void pane_close(void)
{
	struct pane *p = &panes[0];
	for (int i = 0; i < p->nrefs; i++) {
		struct group *g = &groups[p->refs[i].gid];
		if (!g->live || g->gen != p->refs[i].gen)
			continue;	/* evicted: emitted already */
		struct win *w = win_find(g, p->start);
		if (!w)
			continue;
		emit(g, w);
		win_remove(g, w);
		group_maybe_free(p->refs[i].gid);
	}
	free(p->refs);
	memmove(&panes[0], &panes[1], (size_t)(npanes - 1) * sizeof *panes);
	npanes--;
}

static void pane_event(int gid, int64_t t, const struct value *vals)
{
	struct group *g = &groups[gid];
	int64_t step = cfg.kind == K_HOPPING ? cfg.every : cfg.size;
	int64_t s = floor_div(t - cfg.offset, step) * step + cfg.offset;
	/* The windows containing t: starts s, s - step, ... while start + size
	 * is past t; the open ones (end past the watermark) take it. */
	for (; sat_add(s, cfg.size) > t; s -= step) {
		int64_t end = sat_add(s, cfg.size);
		if (end <= wm)
			break;
		struct win *w = win_find(g, s);
		if (!w) {
			w = win_add(g, s, end);
			struct pane *p = pane_get(s, end);
			GROW(p->refs, p->nrefs, p->cap);
			p->refs[p->nrefs++] = (struct ref){ gid, g->gen };
		}
		agg_state_add(specs, nspecs, w->st, vals, t);
	}
}

/* ---- sessions ---- */

static bool hent_less(const struct hent *a, const struct hent *b)
{
	if (a->end != b->end)
		return a->end < b->end;
	if (a->birth != b->birth)
		return a->birth < b->birth;
	return a->start < b->start;
}

static void heap_push(struct hent e)
{
	GROW(heap, nheap, capheap);
	int i = nheap++;
	while (i > 0 && hent_less(&e, &heap[(i - 1) / 2])) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = e;
}

static struct hent heap_pop(void)
{
	struct hent top = heap[0], last = heap[--nheap];
	int i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= nheap)
			break;
		if (c + 1 < nheap && hent_less(&heap[c + 1], &heap[c]))
			c++;
		if (!hent_less(&heap[c], &last))
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (nheap)
		heap[i] = last;
	return top;
}

static int64_t session_end(const struct win *w)
{
	int64_t end = sat_add(w->last, cfg.gap);
	if (cfg.max_session && end > sat_add(w->start, cfg.max_session))
		end = sat_add(w->start, cfg.max_session);
	return end;
}

static void session_push(int gid, struct win *w)
{
	struct group *g = &groups[gid];
	heap_push((struct hent){ w->end, w->start, g->birth, gid, g->gen });
}

/* Does [t, t + gap) touch session w (so that t belongs to it)? */
static bool session_touches(const struct win *w, int64_t t)
{
	return sat_add(t, cfg.gap) > w->start && t < w->end;
}

/* Would w hold t and its events within --max-session? */
static bool session_fits(const struct win *w, int64_t t, int64_t last)
{
	if (!cfg.max_session)
		return true;
	int64_t lo = t < w->start ? t : w->start;
	int64_t hi = last > w->last ? last : w->last;
	return hi - lo < cfg.max_session;
}

/*
 * An event joins the sessions it touches, which merge, as long as the
 * result stays within --max-session; so the sessions are the same whatever
 * the arrival order (unless an out-of-order event would have to split a
 * capped session, which aggregated state cannot).
 */
static void session_event(int gid, int64_t t, const struct value *vals)
{
	struct group *g = &groups[gid];
	struct win *hit = NULL;
	for (int i = 0; i < g->nw; i++) {
		struct win *w = &g->w[i];
		if (!session_touches(w, t) || !session_fits(w, t, t))
			continue;
		if (!hit) {
			hit = w;
			continue;
		}
		if (!session_fits(hit, w->start, w->last))
			continue;
		agg_state_merge(specs, nspecs, hit->st, w->st);
		if (w->last > hit->last)
			hit->last = w->last;
		win_remove(g, w);
		i--;
	}
	if (!hit) {
		hit = win_add(g, t, 0);
		hit->last = t;
	}
	if (t < hit->start) {
		/* Earlier than its start: the window moves, re-sort. */
		int64_t last = hit->last;
		void *st = hit->st;
		int i = (int)(hit - g->w);
		memmove(&g->w[i], &g->w[i + 1], (size_t)(g->nw - i - 1) * sizeof *g->w);
		g->nw--;
		hit = win_add(g, t, 0);
		agg_state_free(specs, nspecs, hit->st);
		free(hit->st);
		hit->st = st;
		hit->last = last;
	}
	if (t > hit->last)
		hit->last = t;
	agg_state_add(specs, nspecs, hit->st, vals, t);
	int64_t old = hit->end;
	hit->end = session_end(hit);
	if (hit->end != old)
		session_push(gid, hit);
}

static void session_close_one(void)
{
	struct hent e = heap_pop();
	struct group *g = &groups[e.gid];
	if (!g->live || g->gen != e.gen)
		return;
	struct win *w = win_find(g, e.start);
	if (!w)
		return;		/* merged into another */
	if (w->end != e.end)
		return;		/* grew: a later entry has its end */
	emit(g, w);
	win_remove(g, w);
	group_maybe_free(e.gid);
}

/* ---- count windows ---- */

static void count_event(int gid, int64_t t, const struct value *vals)
{
	struct group *g = &groups[gid];
	if (g->seen % cfg.count_every == 0) {
		struct win *w = win_add(g, t, t);
		w->start = t;
	}
	g->seen++;
	for (int i = 0; i < g->nw; i++) {
		struct win *w = &g->w[i];
		agg_state_add(specs, nspecs, w->st, vals, t);
		w->n++;
		if (t < w->start)
			w->start = t;
		if (t > w->end)
			w->end = t;
	}
	/* Full windows are the oldest ones. */
	while (g->nw && g->w[0].n >= cfg.count) {
		emit(g, &g->w[0]);
		win_remove(g, &g->w[0]);
	}
	group_maybe_free(gid);
}

/* ---- sliding windows ---- */

static struct value *values_copy(const struct value *vals)
{
	size_t bytes = (size_t)nspecs * sizeof *vals;
	for (int i = 0; i < nspecs; i++)
		if (vals[i].s)
			bytes += vals[i].n;
	struct value *c = xrealloc(NULL, bytes);
	char *text = (char *)(c + nspecs);
	for (int i = 0; i < nspecs; i++) {
		c[i] = vals[i];
		if (vals[i].s) {
			memcpy(text, vals[i].s, vals[i].n);
			c[i].s = text;
			text += vals[i].n;
		}
	}
	return c;
}

/* Events a sliding window keeps per group: a bound on memory however fast
 * a group's events come. */
#define SLIDING_MAX_EVENTS 10000

static void sliding_event(int gid, int64_t t, const struct value *vals)
{
	struct group *g = &groups[gid];
	if (g->nev == SLIDING_MAX_EVENTS) {
		static bool warned;
		if (!warned)
			diag_warn("a sliding window holds %d events of one group: "
				  "forgetting the oldest (counted as \"evicted\" "
				  "in --stats)", SLIDING_MAX_EVENTS);
		warned = true;
		evicted++;
		free(g->ev[0].v);
		memmove(g->ev, g->ev + 1, (size_t)(g->nev - 1) * sizeof *g->ev);
		g->nev--;
	}
	GROW(g->ev, g->nev, g->capev);
	int i = g->nev;
	while (i > 0 && g->ev[i - 1].t > t)
		i--;
	memmove(&g->ev[i + 1], &g->ev[i], (size_t)(g->nev - i) * sizeof *g->ev);
	g->ev[i] = (struct sev){ t, values_copy(vals) };
	g->nev++;
	/* The window (t - size, t] over what has arrived. */
	struct win w = { t - cfg.size, t, t, 0, xrealloc(NULL, state_size) };
	agg_state_init(specs, nspecs, w.st);
	for (int k = 0; k < g->nev && g->ev[k].t <= t; k++)
		if (g->ev[k].t > t - cfg.size)
			agg_state_add(specs, nspecs, w.st, g->ev[k].v, g->ev[k].t);
	emit(g, &w);
	agg_state_free(specs, nspecs, w.st);
	free(w.st);
}

/* Frees buffered events no later event can reach (t <= wm - size). */
static void sliding_trim(int gid)
{
	struct group *g = &groups[gid];
	int k = 0;
	while (k < g->nev && g->ev[k].t <= wm - cfg.size)
		free(g->ev[k++].v);
	if (k) {
		memmove(g->ev, g->ev + k, (size_t)(g->nev - k) * sizeof *g->ev);
		g->nev -= k;
	}
	group_maybe_free(gid);
}

/* ---- the watermark ---- */

/* Emits every window whose end the watermark has passed. */
static void close_windows(void)
{
	if (cfg.kind == K_TUMBLING || cfg.kind == K_HOPPING) {
		while (npanes && panes[0].end <= wm)
			pane_close();
	} else if (cfg.kind == K_SESSION) {
		while (nheap && heap[0].end <= wm)
			session_close_one();
	}
}

static void advance(int64_t to)
{
	if (to > wm) {
		wm = to;
		close_windows();
	}
}

/* The earliest end of an open window, INT64_MAX if none. */
static int64_t next_end(void)
{
	if ((cfg.kind == K_TUMBLING || cfg.kind == K_HOPPING) && npanes)
		return panes[0].end;
	if (cfg.kind == K_SESSION && nheap)
		return heap[0].end;
	return INT64_MAX;
}

/* Is an event at t late: would it land only in windows already emitted? */
static bool is_late(int64_t t, const struct span *slots)
{
	if (wm == INT64_MIN)
		return false;
	switch (cfg.kind) {
	case K_TUMBLING:
	case K_HOPPING: {
		int64_t step = cfg.kind == K_HOPPING ? cfg.every : cfg.size;
		int64_t s = floor_div(t - cfg.offset, step) * step + cfg.offset;
		return sat_add(s, cfg.size) <= wm;
	}
	case K_SESSION: {
		if (sat_add(t, cfg.gap) > wm)
			return false;
		/* Behind the watermark, but an open session may take it. */
		int gid = group_find(slots);
		for (int i = 0; gid >= 0 && i < groups[gid].nw; i++)
			if (session_touches(&groups[gid].w[i], t))
				return false;
		return true;
	}
	case K_SLIDING:
		return t < wm;
	default:
		return false;
	}
}

/* Emits all open windows (end of input, --flush-on-exit, eviction), in
 * order of start and then of the groups' first sight. */
struct pending {
	int64_t start;
	uint64_t birth;
	int gid;
	int64_t wstart;
};

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->birth != y->birth)
		return x->birth < y->birth ? -1 : 1;
	return 0;
}

static void flush_all(void)
{
	if (cfg.kind == K_TUMBLING || cfg.kind == K_HOPPING) {
		while (npanes)
			pane_close();
		return;
	}
	struct pending *p = NULL;
	int n = 0, cap = 0;
	for (int gid = lru_head; gid >= 0; gid = groups[gid].next)
		for (int i = 0; i < groups[gid].nw; i++) {
			GROW(p, n, cap);
			p[n++] = (struct pending){ groups[gid].w[i].start,
						   groups[gid].birth, gid,
						   groups[gid].w[i].start };
		}
	if (n)
		qsort(p, (size_t)n, sizeof *p, pending_cmp);
	for (int i = 0; i < n; i++) {
		struct group *g = &groups[p[i].gid];
		struct win *w = win_find(g, p[i].wstart);
		if (w) {
			emit(g, w);
			win_remove(g, w);
		}
	}
	free(p);
	nheap = 0;
}

/* The windows still open (those SIGTERM drops without --flush-on-exit). */
static unsigned long long open_windows(void)
{
	unsigned long long n = 0;
	for (int gid = lru_head; gid >= 0; gid = groups[gid].next)
		n += (unsigned long long)groups[gid].nw;
	return n;
}

/* At --max-groups: the least recently seen group's windows go out now. */
static void evict_lru(void)
{
	static bool warned;
	int gid = lru_tail;
	if (gid < 0)
		return;
	if (!warned) {
		diag_warn("--max-groups %ld reached: emitting the windows of the "
			  "least recently seen group early (counted as \"evicted\" "
			  "in --stats)", cfg.max_groups);
		warned = true;
	}
	struct group *g = &groups[gid];
	while (g->nw) {
		emit(g, &g->w[0]);
		win_remove(g, &g->w[0]);
	}
	for (int i = 0; i < g->nev; i++)
		free(g->ev[i].v);
	g->nev = 0;
	evicted++;
	group_free(gid);
}

/* ---- per event ---- */

static void on_record(const struct record *rec)
{
	struct value tv;
	int64_t t;
	static struct value *vals;
	static char msg[256];
	if (!vals)
		vals = xrealloc(NULL, (size_t)(nspecs ? nspecs : 1) * sizeof *vals);
	scratch_reset(&sc);

	if (cfg.processing) {
		t = time_now_us();
	} else {
		if (record_time(rec, &rec->slots[time_slot], cfg.time_field,
				&cfg.unit, &sc, &t, &tv))
			return;
	}
	for (int i = 0; i < nspecs; i++) {
		if (!specs[i].field) {
			memset(&vals[i], 0, sizeof vals[i]);
			vals[i].t = V_NULL;
			continue;
		}
		/* Aggregates of one field (mean, max, p95 of value) share
		 * its typed value: load it once. */
		int same = 0;
		while (same < i && specs[same].slot != specs[i].slot)
			same++;
		if (same < i && specs[same].field)
			vals[i] = vals[same];
		else if (value_load(&rec->slots[specs[i].slot], &vals[i], &sc))
			vals[i].t = V_NULL;
		enum vtype vt = vals[i].t;
		if (agg_needs_number(specs[i].kind) && vt != V_INT &&
		    vt != V_DOUBLE && vt != V_NULL && vt != V_MISSING) {
			snprintf(msg, sizeof msg, "field '%s' is %s, a number is "
				 "needed for %s", specs[i].field,
				 vt == V_STRING ? "a string" :
				 vt == V_BOOL ? "a boolean" : "an object or array",
				 specs[i].name);
			record_bad(rec, msg);
			return;
		}
	}
	if (cfg.kind != K_COUNT && is_late(t, rec->slots)) {
		const struct csv_header *h = rec->header;
		diag_late(rec->raw, rec->rawlen, h ? h->raw : NULL,
			  h ? h->rawlen : 0);
		return;
	}
	/* The watermark moves first: windows it closes free their groups
	 * before this event needs a slot (it cannot close the event's own
	 * windows, which end after t). */
	if (t > max_t)
		max_t = t;
	have_time = true;
	if (cfg.kind != K_COUNT)
		advance(sat_add(max_t, -cfg.lateness));
	int gid = group_get(rec->slots);
	switch (cfg.kind) {
	case K_TUMBLING:
	case K_HOPPING: pane_event(gid, t, vals); break;
	case K_SESSION: session_event(gid, t, vals); break;
	case K_COUNT: count_event(gid, t, vals); break;
	case K_SLIDING: sliding_event(gid, t, vals); break;
	default: break;
	}
	if (cfg.kind == K_SLIDING)
		sliding_trim(gid);
}

/*
 * Input has been silent: with --idle, once the silence reaches D the
 * watermark moves on with the wall clock; with --time processing it is the
 * wall clock. Returns the poll timeout (ms) until the next window could
 * close, -1 for none.
 */
static int on_silence(int64_t silence_ms)
{
	if (cfg.processing) {
		advance(sat_add(time_now_us(), -cfg.lateness));
	} else if (cfg.idle && have_time && silence_ms * 1000 >= cfg.idle) {
		advance(sat_add(sat_add(max_t, silence_ms * 1000), -cfg.lateness));
	}
	int64_t end = next_end();
	if (end == INT64_MAX || (!cfg.idle && !cfg.processing))
		return -1;
	int64_t need_us;	/* more silence (wall clock) until it closes */
	if (cfg.processing) {
		need_us = end + cfg.lateness - time_now_us();
	} else {
		int64_t until = end + cfg.lateness - max_t;
		if (until < cfg.idle)
			until = cfg.idle;
		need_us = until - silence_ms * 1000;
	}
	if (need_us < 1000)
		need_us = 1000;
	if (need_us > INT_MAX * 1000LL)
		return INT_MAX;
	return (int)((need_us + 999) / 1000);
}

/* ---- options ---- */

static void usage(void)
{
	printf("Usage: es-window WINDOW [OPTION]... [FILE]...\n"
	       "Aggregate records into event-time windows per group; write one\n"
	       "record per window and group (window_start, window_end, the group\n"
	       "fields, the aggregates).\n"
	       "\n"
	       "Window (one of):\n"
	       "      --tumbling D         fixed windows [k*D, (k+1)*D)\n"
	       "      --hopping D --every S  windows of size D starting every S\n"
	       "      --sliding D          per event, the preceding D of its group\n"
	       "      --session GAP        open while events come less than GAP apart\n"
	       "      --max-session D      cap a session's length at D\n"
	       "      --count N            windows of N events per group\n"
	       "      --every M            with --count: a new window every M events\n"
	       "      --offset D           shift tumbling/hopping windows by D\n"
	       "\n"
	       "Groups and aggregates:\n"
	       "  -g, --group-by F1,F2     group by these field paths\n"
	       "  -a, --agg LIST           aggregates (default: count): count, sum(f),\n"
	       "                           min(f), max(f), mean(f), stddev(f), var(f),\n"
	       "                           first(f), last(f), median(f), p<N>(f),\n"
	       "                           distinct(f), rate, delta(f); 'as name'\n"
	       "\n"
	       "Time:\n"
	       "      --time-field F       event time field (default: ts)\n"
	       "      --time-unit U        s, ms, us, ns or auto (default auto: guessed\n"
	       "                           from the first value: below 1e11 s, 1e14 ms,\n"
	       "                           1e17 us, else ns); strings are RFC 3339\n"
	       "      --time MODE          event (default) or processing (arrival time)\n"
	       "      --time-format F      window_start/end as rfc3339, s, ms, us or ns\n"
	       "                           (default: as the input's times)\n"
	       "      --lateness D         allowed lateness (default 0)\n"
	       "      --late FILE          write late events to FILE\n"
	       "      --idle D             after D of silence, advance the watermark with\n"
	       "                           the wall clock (windows close on a quiet input)\n"
	       "      --flush-on-exit      on SIGINT/SIGTERM, emit the open windows\n"
	       "      --max-groups N       at most N groups (default %d); at the limit the\n"
	       "                           least recently seen group's windows go out early\n"
	       "\n", DEFAULT_MAX_GROUPS);
	opts_common_help(stdout);
	printf("\nDurations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
	       "\nExamples:\n"
	       "  es-window --tumbling 10s -g device,sensor -a 'count,mean(value),p95(value)'\n"
	       "  es-window --session 30s --idle 5s -g badge -a 'count,first(gate),last(gate)'\n");
	exit(EXIT_OK);
}

static void set_kind(enum kind k, const char *opt)
{
	if (cfg.kind != K_NONE && cfg.kind != k)
		diag_usage("%s: only one window kind may be given", opt);
	cfg.kind = k;
}

static void parse_group_by(const char *text)
{
	const char *s = text, *err;
	while (*s) {
		gpaths = xrealloc(gpaths, (size_t)(ngroup_fields + 1) * sizeof *gpaths);
		if (path_parse(&s, &gpaths[ngroup_fields], &err))
			diag_usage("invalid --group-by '%s' at column %d: %s", text,
				   (int)(s - text) + 1, err);
		ngroup_fields++;
		if (*s == ',')
			s++;
		else if (*s)
			diag_usage("invalid --group-by '%s' at column %d: expected ','",
				   text, (int)(s - text) + 1);
	}
	if (!ngroup_fields)
		diag_usage("--group-by needs at least one field");
}

static const char *every_arg;

static void parse_args(int argc, char **argv, struct es_opts *o,
		       const char **agg_text, const char **late_path)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"tumbling", required_argument, 0, OPT_TUMBLING},
		{"hopping", required_argument, 0, OPT_HOPPING},
		{"every", required_argument, 0, OPT_EVERY},
		{"sliding", required_argument, 0, OPT_SLIDING},
		{"session", required_argument, 0, OPT_SESSION},
		{"max-session", required_argument, 0, OPT_MAX_SESSION},
		{"count", required_argument, 0, OPT_COUNTW},
		{"offset", required_argument, 0, OPT_OFFSET},
		{"group-by", required_argument, 0, 'g'},
		{"agg", required_argument, 0, 'a'},
		{"time-field", required_argument, 0, OPT_TIME_FIELD},
		{"time-unit", required_argument, 0, OPT_TIME_UNIT},
		{"time", required_argument, 0, OPT_TIME},
		{"time-format", required_argument, 0, OPT_TIME_FORMAT},
		{"lateness", required_argument, 0, OPT_LATENESS},
		{"late", required_argument, 0, OPT_LATE},
		{"idle", required_argument, 0, OPT_IDLE},
		{"flush-on-exit", no_argument, 0, OPT_FLUSH_ON_EXIT},
		{"max-groups", required_argument, 0, OPT_MAX_GROUPS},
		{0, 0, 0, 0}
	};
	int c;
	while ((c = getopt_long(argc, argv, OPTS_COMMON_SHORT "g:a:", longopts,
				NULL)) != -1) {
		if (opts_common(o, c, optarg))
			continue;
		switch (c) {
		case OPT_TUMBLING:
			set_kind(K_TUMBLING, "--tumbling");
			cfg.size = opts_duration("--tumbling", optarg, false);
			break;
		case OPT_HOPPING:
			set_kind(K_HOPPING, "--hopping");
			cfg.size = opts_duration("--hopping", optarg, false);
			break;
		case OPT_EVERY: every_arg = optarg; break;
		case OPT_SLIDING:
			set_kind(K_SLIDING, "--sliding");
			cfg.size = opts_duration("--sliding", optarg, false);
			break;
		case OPT_SESSION:
			set_kind(K_SESSION, "--session");
			cfg.gap = opts_duration("--session", optarg, false);
			break;
		case OPT_MAX_SESSION:
			cfg.max_session = opts_duration("--max-session", optarg, false);
			break;
		case OPT_COUNTW:
			set_kind(K_COUNT, "--count");
			cfg.count = opts_count("--count", optarg);
			break;
		case OPT_OFFSET:
			cfg.offset = opts_duration("--offset", optarg, true);
			break;
		case 'g': parse_group_by(optarg); break;
		case 'a': *agg_text = optarg; break;
		case OPT_TIME_FIELD: cfg.time_field = optarg; break;
		case OPT_TIME_UNIT:
			if (time_unit_parse(optarg, &cfg.unit))
				diag_usage("invalid argument '%s' for --time-unit: "
					   "expected s, ms, us, ns or auto", optarg);
			break;
		case OPT_TIME:
			if (!strcmp(optarg, "processing"))
				cfg.processing = true;
			else if (strcmp(optarg, "event"))
				diag_usage("invalid argument '%s' for --time: "
					   "expected event or processing", optarg);
			break;
		case OPT_TIME_FORMAT:
			if (!strcmp(optarg, "rfc3339"))
				cfg.out_repr = TIME_RFC3339;
			else if (time_unit_parse(optarg, &cfg.out_repr) ||
				 cfg.out_repr == TIME_AUTO)
				diag_usage("invalid argument '%s' for --time-format: "
					   "expected rfc3339, s, ms, us or ns", optarg);
			break;
		case OPT_LATENESS:
			cfg.lateness = opts_duration("--lateness", optarg, true);
			break;
		case OPT_LATE: *late_path = optarg; break;
		case OPT_IDLE: cfg.idle = opts_duration("--idle", optarg, false); break;
		case OPT_FLUSH_ON_EXIT: cfg.flush_on_exit = true; break;
		case OPT_MAX_GROUPS:
			cfg.max_groups = opts_count("--max-groups", optarg);
			break;
		default: opts_bad_option();
		}
	}
}

/* Window bounds must be exact in the --time-format asked for. */
static void check_time_format(void)
{
	int64_t unit = cfg.out_repr == TIME_S ? US_PER_S :
		       cfg.out_repr == TIME_MS ? US_PER_MS : 1;
	int64_t d[] = { cfg.size, cfg.every, cfg.offset, cfg.gap,
			cfg.max_session };
	const char *name = cfg.out_repr == TIME_S ? "s" : "ms";
	if (cfg.kind == K_COUNT || cfg.kind == K_SESSION)
		return;		/* bounds are event times, as exact as those */
	for (size_t i = 0; i < sizeof d / sizeof *d; i++)
		if (d[i] % unit)
			diag_usage("--time-format %s cannot show the bounds of these "
				   "windows exactly: use a finer unit or rfc3339",
				   name);
}

static void check_args(void)
{
	if (cfg.kind == K_NONE)
		diag_usage("a window is needed: --tumbling, --hopping, --sliding, "
			   "--session or --count");
	if (every_arg) {
		if (cfg.kind == K_HOPPING)
			cfg.every = opts_duration("--every", every_arg, false);
		else if (cfg.kind == K_COUNT)
			cfg.count_every = opts_count("--every", every_arg);
		else
			diag_usage("--every goes with --hopping or --count");
	} else if (cfg.kind == K_HOPPING) {
		diag_usage("--hopping needs --every");
	}
	if (cfg.kind == K_COUNT && !cfg.count_every)
		cfg.count_every = cfg.count;
	if (cfg.kind == K_HOPPING && cfg.every > cfg.size)
		diag_usage("--every must not exceed the --hopping size");
	if (cfg.kind == K_COUNT && cfg.count_every > cfg.count)
		diag_usage("--every must not exceed the --count size");
	check_time_format();
	if (cfg.max_session && cfg.kind != K_SESSION)
		diag_usage("--max-session goes with --session");
	if (cfg.offset && cfg.kind != K_TUMBLING && cfg.kind != K_HOPPING)
		diag_usage("--offset goes with --tumbling or --hopping");
	if (cfg.processing && !cfg.out_repr)
		cfg.out_repr = TIME_MS;
}

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"groups\":%d,\"evicted\":%llu", peak_groups,
		 evicted);
}

static void flush_out(void *ctx)
{
	out_flush(ctx);
}

static void setup_fields(struct fieldset *fs, const char *agg_text)
{
	char err[256];
	const char *perr;
	nspecs = agg_parse(agg_text, &specs, err, sizeof err);
	if (nspecs < 0)
		diag_usage("invalid --agg '%s': %s", agg_text, err);
	for (int i = 0; i < nspecs; i++) {
		if (!specs[i].field)
			continue;
		struct path p;
		if (path_parse_all(specs[i].field, &p, &perr))
			diag_usage("invalid field '%s' in --agg: %s", specs[i].field,
				   perr);
		specs[i].slot = fieldset_add(fs, &p);
		path_free(&p);
	}
	gslots = xrealloc(NULL, (size_t)(ngroup_fields ? ngroup_fields : 1) *
				       sizeof *gslots);
	for (int i = 0; i < ngroup_fields; i++)
		gslots[i] = fieldset_add(fs, &gpaths[i]);
	struct path tp;
	if (path_parse_all(cfg.time_field, &tp, &perr))
		diag_usage("invalid --time-field '%s': %s", cfg.time_field, perr);
	time_slot = fieldset_add(fs, &tp);
	path_free(&tp);
	state_size = agg_state_size(specs, nspecs);
}

static void cleanup(void)
{
	for (int gid = lru_head; gid >= 0;) {
		int next = groups[gid].next;
		while (groups[gid].nw)
			win_remove(&groups[gid], &groups[gid].w[0]);
		group_free(gid);
		gid = next;
	}
	for (int i = 0; i < npanes; i++)
		free(panes[i].refs);
	free(panes);
	free(heap);
	free(groups);
	keytab_free(keys);
	out_free(&key);
	for (int i = 0; i < ngroup_fields; i++)
		path_free(&gpaths[i]);
	free(gpaths);
	free(gslots);
	agg_specs_free(specs, nspecs);
	scratch_free(&sc);
}

int main(int argc, char **argv)
{
	struct es_opts o;
	const char *agg_text = "count", *late_path = NULL;

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o, &agg_text, &late_path);
	if (o.help)
		usage();
	opts_apply(&o);
	check_args();
	if (late_path)
		diag_set_late(late_path);
	diag_set_stats_extra(stats_extra);

	struct fieldset *fs = fieldset_new();
	setup_fields(fs, agg_text);
	keys = keytab_new();
	loop_signals();

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	out_w = writer_open(&out, o.out_fmt);
	struct record rec;
	int64_t last_input = loop_now_ms();
	int timeout = cfg.processing || cfg.idle ? (int)((cfg.idle + 999) / 1000) : -1;
	for (;;) {
		reader_set_timeout(r, timeout);
		int got = reader_next(r, &rec);
		if (got == 0)
			break;
		if (got > 0) {
			writer_set_format(out_w, rec.fmt);
			on_record(&rec);
			if (cfg.processing || cfg.idle) {
				/* Only a time-driven run needs the clock. */
				last_input = loop_now_ms();
				timeout = on_silence(0);
			}
			continue;
		}
		timeout = on_silence(loop_now_ms() - last_input);
		out_flush(&out);
	}
	if (!loop_stop || cfg.flush_on_exit)
		flush_all();
	else
		stats.dropped += open_windows();	/* said in --stats */
	writer_close(out_w);
	reader_close(r);
	fieldset_free(fs);
	cleanup();
	diag_finish();
	out_free(&out);
	return diag_status;
}
