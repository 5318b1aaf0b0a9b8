/* window.c - event-time windows per group, closed by the watermark
 *
 * State: groups live in a keyed table (keyed.c: the hash table, the LRU
 * list, the caps); each holds its open windows sorted by start. Tumbling
 * and hopping windows of all groups that share a start are listed in one
 * "pane", so closing is a walk over the oldest panes; sessions close
 * through a heap ordered by end. Two limits bound it, and at either the
 * least recently seen group's windows go out early: --max-groups counts
 * groups, --max-state the bytes that grow with the input (group keys, the
 * aggregates' heap parts, the buffered events of sliding windows), kept as
 * a running total: each group counts what it holds and tells the table
 * after each event and whenever one of its windows closes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "diag.h"
#include "keyed.h"
#include "keys.h"
#include "mem.h"
#include "size.h"
#include "utf8.h"
#include "watermark.h"
#include "window.h"

/* Grows a dynamic array by doubling when it is full. */
#define GROW(arr, n, cap) \
	do { \
		if ((n) == (cap)) { \
			(cap) = (cap) ? (cap) * 2 : 4; \
			(arr) = xrealloc((arr), (size_t)(cap) * sizeof *(arr)); \
		} \
	} while (0)

/* A window: this header, then its aggregates' state (state_size bytes)
 * at WIN_HEAD, in one element of its group's array (w->wsize bytes). */
struct win {
	int64_t start, end;	/* [start, end) of event time */
	int64_t last;		/* session, count: time of the latest event */
	long n;			/* count: events in it */
	size_t heap;		/* the state's bytes on the heap, in held */
};
#define WIN_HEAD sizeof(struct win)	/* a multiple of 8: the state's slots
					   are 8-byte aligned (agg.c) */

/* A buffered event of a sliding window: its time and aggregated values. */
struct sev {
	int64_t t;
	struct value *v;	/* nspecs values; text copied into the block */
};

/*
 * A group: this header, then (tumbling, hopping, session and count
 * windows) room for one window, in one keyed block. A group's windows sit
 * in that room while there is one, in an array of their own past it: no
 * allocation for a group's first window and its state, and the record in
 * hand reaches its window's aggregates in the block it found its group
 * by, not through two more pointers. Blocks move when the table grows:
 * the room is found from the group each time, never kept.
 */
struct group {		/* a keyed block: zeroed when new and when gone */
	struct value *gv;	/* the group values, for output */
	char *wbase;		/* the windows' array (capw of w->wsize bytes),
				   NULL: the room in the block */
	int nw, capw, woff;	/* open windows, by start, from woff */
	long seen;		/* count windows: events so far */
	uint64_t birth;		/* order of first sight: ties in output, and
				   which group a reused id is */
	int id;			/* in the keyed table */
	bool live;
	size_t held;		/* bytes: windows' heap parts, buffered events */
	struct sev *ev;		/* sliding: buffered events by time */
	int nev, capev;
};

_Static_assert(sizeof(struct win) % 8 == 0, "the state 8-byte aligned");

/* Panes: for tumbling and hopping, the open windows sharing a start. */
struct ref {
	int gid;
	uint64_t birth;
};
struct pane {
	int64_t start, end;
	struct ref *refs;
	int nrefs, cap;
};

/* Sessions close in order of end, through a heap (entries may be stale:
 * a session that grew is pushed again, one that merged is gone). */
struct hent {
	int64_t end, start;
	uint64_t birth;
	int gid;
};

/* An aggregate's value: none (count, rate), loaded from its field, or the
 * value of an earlier aggregate of the same field (mean, max, p95 of value
 * share one typed value: it is loaded once). */
enum { EV_NONE = -2, EV_LOAD = -1 };

struct window {
	struct window_conf c;	/* in force */
	struct window_cb cb;
	struct fieldset *fs;

	/* what the definition sets up (def_bind) */
	struct agg_spec *specs;
	int nspecs;
	size_t state_size;
	size_t wsize;		/* a window and its state */
	size_t ghead;		/* a group's header; the room for a window
				   follows when inline_win */
	bool inline_win;
	char *tmpwin;		/* wsize bytes: a window made aside */
	struct agg_heap_slot *hspec;	/* the aggregates with heap parts */
	int nhspec;
	int *gslots, time_slot;
	struct ofield *ofs;	/* a window's output fields */
	int nofs;
	struct value *res;	/* the aggregates' results */
	struct value *ev_vals;	/* an event's values, one per aggregate */
	int *ev_src;		/* where each comes from: EV_NONE, EV_LOAD, or
				 * the index of an earlier one of its field */

	/* time: the unit times are read in (c.unit, or what auto guessed
	 * from the first time), far-ahead events held for confirmation */
	enum time_repr time_unit;
	struct wmark wmk;
	int64_t max_t, wm;
	bool have_time;

	struct keyed *keys;	/* of struct group */
	uint64_t births;
	struct pane *panes;	/* by start: pane_base[pane_off..] */
	struct pane *pane_base;	/* of cappanes; slides as win_room's */
	int npanes, cappanes, pane_off;
	struct hent *heap;
	int nheap, capheap;

	int64_t step_s;		/* step_start's last answer, if step_ok */
	bool step_ok;

	bool utf8;		/* window_set_utf8 */
	struct scratch sc;
	char msg[256];
	unsigned long long ev_evicted;	/* sliding windows' forgotten events */
	bool ev_warned;
	size_t peak_state;
};

/* ---- small helpers ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The start of the step (the size; every, when hopping) that holds t.
 * Events mostly fall in the step of the one before, so the last answer
 * is kept: a 64-bit division saved twice an event (is_late and
 * pane_event). */
static int64_t step_start(struct window *w, int64_t t)
{
	const struct window_conf *c = &w->c;
	int64_t step = c->kind == WINDOW_HOPPING ? c->every : c->size;
	if (w->step_ok && t >= w->step_s && t - w->step_s < step)
		return w->step_s;
	w->step_s = floor_div(t - c->offset, step) * step + c->offset;
	w->step_ok = true;
	return w->step_s;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static bool panes_used(const struct window *w)
{
	return w->c.kind == WINDOW_TUMBLING || w->c.kind == WINDOW_HOPPING;
}

void window_conf_init(struct window_conf *c)
{
	memset(c, 0, sizeof *c);
	c->time_field = "ts";
	c->max_groups = WINDOW_DEFAULT_MAX_GROUPS;
	c->max_state = SIZE_DEFAULT_MAX_STATE;
	c->agg_text = "count";
	c->max_ahead = WM_DEFAULT_AHEAD;
}

/* Window bounds must be exact in the time format asked for. */
static bool conf_bounds_exact(const struct window_conf *c)
{
	int64_t unit = c->out_repr == TIME_S ? US_PER_S :
		       c->out_repr == TIME_MS ? US_PER_MS : 1;
	int64_t d[] = { c->size, c->every, c->offset, c->gap, c->max_session };
	if (c->kind == WINDOW_COUNT || c->kind == WINDOW_SESSION)
		return true;	/* bounds are event times, as exact as those */
	for (size_t i = 0; i < sizeof d / sizeof *d; i++)
		if (d[i] % unit)
			return false;
	return true;
}

/* How many windows of its group an event goes in. */
static long long conf_overlap(const struct window_conf *c)
{
	if (c->kind == WINDOW_HOPPING)
		return c->size / c->every + (c->size % c->every != 0);
	if (c->kind == WINDOW_COUNT)
		return c->count / c->count_every +
		       (c->count % c->count_every != 0);
	return 1;
}

int window_conf_check(struct window_conf *c, const char *every_text,
		      char *err, size_t n)
{
	long long over;
	if (c->kind == WINDOW_COUNT && !c->count_every)
		c->count_every = c->count;
	if (c->kind == WINDOW_HOPPING && c->every > c->size)
		snprintf(err, n, "--every must not exceed the --hopping size");
	else if (c->kind == WINDOW_COUNT && c->count_every > c->count)
		snprintf(err, n, "--every must not exceed the --count-window size");
	else if ((over = conf_overlap(c)) > WINDOW_MAX_OVERLAP)
		snprintf(err, n, "--every %s puts each event in %lld windows; "
			 "at most %d: use a coarser --every", every_text, over,
			 WINDOW_MAX_OVERLAP);
	else if (!conf_bounds_exact(c))
		snprintf(err, n, "--time-format %s cannot show the bounds of "
			 "these windows exactly: use a finer unit or rfc3339",
			 c->out_repr == TIME_S ? "s" : "ms");
	else if (c->max_session && c->kind != WINDOW_SESSION)
		snprintf(err, n, "--max-session goes with --session");
	else if (c->offset && c->kind != WINDOW_TUMBLING &&
		 c->kind != WINDOW_HOPPING)
		snprintf(err, n, "--offset goes with --tumbling or --hopping");
	else {
		if (c->processing && !c->out_repr)
			c->out_repr = TIME_MS;
		return 0;
	}
	return -1;
}

/* c with its defaults filled in, as the engine compares and uses it. */
static struct window_conf conf_full(const struct window_conf *c)
{
	struct window_conf f = *c;
	if (f.kind == WINDOW_COUNT && !f.count_every)
		f.count_every = f.count;
	if (f.processing && !f.out_repr)
		f.out_repr = TIME_MS;
	return f;
}

/* ---- where a group's windows are ---- */

static inline char *win_array(const struct window *w, const struct group *g)
{
	char *base = g->wbase ? g->wbase : (char *)g + w->ghead;
	return base + (size_t)g->woff * w->wsize;
}

static inline struct win *win_at(const struct window *w, const struct group *g,
				 int i)
{
	return (struct win *)(win_array(w, g) + (size_t)i * w->wsize);
}

static inline int win_index(const struct window *w, const struct group *g,
			    const struct win *x)
{
	return (int)(((const char *)x - win_array(w, g)) / w->wsize);
}

static inline void *win_st(const struct win *x)
{
	return (char *)x + WIN_HEAD;
}

/* ---- groups ---- */

static struct group *group(const struct window *w, int gid)
{
	return keyed_block(w->keys, gid);
}

/* The group of a record if it exists, else -1. */
static int group_find(struct window *w, const struct span *slots)
{
	return keyed_find(w->keys, slots, w->gslots, w->c.ngroup_fields,
			  &w->sc);
}

/* The group of a record, made if new (room made for it at the caps: the
 * new key's bytes are known; what the event adds is seen after it). */
static struct group *group_get(struct window *w, const struct span *slots)
{
	bool fresh;
	int ng = w->c.ngroup_fields;
	int gid = keyed_get_id(w->keys, slots, w->gslots, ng, &w->sc, &fresh);
	struct group *g = group(w, gid);
	if (!fresh)
		return g;
	size_t kn;
	g->gv = xmalloc((size_t)ng * sizeof *g->gv);
	key_decode(keyed_key(w->keys, gid, &kn), ng, g->gv);
	g->birth = w->births++;
	g->id = gid;
	g->live = true;
	return g;
}

/* The table's count of g's bytes is brought up to date. */
static size_t group_hold(struct window *w, const struct group *g)
{
	return keyed_hold(w->keys, g->id, g->held);
}

/* Drops a group that holds nothing any more, so that key churn does not
 * grow the table. */
static void group_maybe_free(struct window *w, struct group *g)
{
	if (g->nw || g->nev)
		return;
	if (w->c.kind == WINDOW_COUNT && g->seen % w->c.count_every)
		return;		/* keeps the alignment of the next window */
	keyed_remove(w->keys, g->id);
}

/* keyed's drop: the group's key is going; frees what it holds. */
static void group_drop(void *state, void *ctx)
{
	struct window *w = ctx;
	struct group *g = state;
	for (int i = 0; i < g->nw; i++)
		agg_state_free(w->specs, w->nspecs, win_st(win_at(w, g, i)));
	for (int i = 0; i < g->nev; i++)
		free(g->ev[i].v);
	free(g->ev);
	free(g->gv);
	free(g->wbase);
	memset(g, 0, sizeof *g);
}

/* ---- windows of a group ---- */

/* A group's windows are kept by start (win_add): the last one with this
 * start, by binary search (a hopping window has up to 100000). */
static struct win *win_find(const struct window *w, struct group *g,
			    int64_t start)
{
	int lo = 0, hi = g->nw;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (win_at(w, g, mid)->start <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct win *x = win_at(w, g, lo - 1);
	return x->start == start ? x : NULL;
}

/*
 * Windows leave a group from the front (the oldest closes first), so the
 * array slides: removing the first one moves a pointer, not the rest, and
 * the room at the front is taken back when the end is full. A hopping
 * window of up to 100000 windows per event would otherwise cost as many
 * moves per close (quadratic at the end of input).
 */
static void win_room(const struct window *w, struct group *g)
{
	size_t ws = w->wsize;
	if (g->woff + g->nw < g->capw)
		return;
	if (!g->capw && w->inline_win) {	/* the room in the block */
		g->capw = 1;
		return;
	}
	if (!g->wbase && g->capw) {	/* out of the block's room */
		char *a = xmalloc(4 * ws);
		memcpy(a, win_array(w, g), (size_t)g->nw * ws);
		g->wbase = a;
		g->capw = 4;
		g->woff = 0;
		return;
	}
	if (g->woff < g->nw || !g->woff) {	/* less than half free: grow */
		g->capw = g->capw ? g->capw * 2 : 4;
		g->wbase = xrealloc(g->wbase, (size_t)g->capw * ws);
	}
	if (g->nw && g->woff)
		memmove(g->wbase, g->wbase + (size_t)g->woff * ws,
			(size_t)g->nw * ws);
	g->woff = 0;
}

static struct win *win_add(struct window *w, struct group *g, int64_t start,
			   int64_t end)
{
	win_room(w, g);
	int i = g->nw;
	while (i > 0 && win_at(w, g, i - 1)->start > start)
		i--;
	struct win *x = win_at(w, g, i);
	memmove((char *)x + w->wsize, x, (size_t)(g->nw - i) * w->wsize);
	g->nw++;
	x->start = start;
	x->end = end;
	x->last = start;
	x->n = 0;
	x->heap = 0;
	agg_state_init(w->specs, w->nspecs, win_st(x));
	return x;
}

/* Counts what x's aggregates now hold on the heap (after an event or a
 * merge changed them). */
static inline void win_heap_update(struct window *w, struct group *g,
				   struct win *x)
{
	size_t h = agg_slots_heap(w->hspec, w->nhspec, win_st(x));
	g->held = g->held - x->heap + h;
	x->heap = h;
}

/* Adds an event to window x's aggregates. */
static inline void win_take(struct window *w, struct group *g, struct win *x,
			    const struct value *vals, int64_t t)
{
	agg_state_add(w->specs, w->nspecs, win_st(x), vals, t);
	x->n++;
	if (w->nhspec)
		win_heap_update(w, g, x);
}

static void win_remove(struct window *w, struct group *g, struct win *x)
{
	g->held -= x->heap;
	agg_state_free(w->specs, w->nspecs, win_st(x));
	int i = win_index(w, g, x);
	if (i == 0 && g->nw > 1)
		g->woff++;
	else
		memmove(x, (char *)x + w->wsize,
			(size_t)(g->nw - i - 1) * w->wsize);
	g->nw--;
	group_hold(w, g);
}

/* ---- output ---- */

static void time_value(const struct window *w, int64_t us, struct value *v,
		       char *buf)
{
	enum time_repr r = w->c.out_repr ? w->c.out_repr : w->time_unit;
	if (r == TIME_AUTO)
		r = TIME_MS;
	memset(v, 0, sizeof *v);
	v->t = r == TIME_RFC3339 ? V_STRING : V_RAW;
	v->s = buf;
	v->n = time_format(us, r, false, buf);
}

static void emit(struct window *w, struct group *g, struct win *x)
{
	char b1[48], b2[48];
	int ng = w->c.ngroup_fields;
	time_value(w, x->start, &w->ofs[0].v, b1);
	time_value(w, x->end, &w->ofs[1].v, b2);
	for (int i = 0; i < ng; i++)
		w->ofs[2 + i].v = g->gv[i];
	agg_state_result(w->specs, w->nspecs, win_st(x), x->end - x->start,
			 w->res);
	for (int i = 0; i < w->nspecs; i++)
		w->ofs[2 + ng + i].v = w->res[i];
	w->cb.emit(w->ofs, (size_t)w->nofs, w->cb.ctx);
}

/* Emits a group's windows, the oldest first. */
static void emit_group(struct window *w, struct group *g)
{
	while (g->nw) {
		emit(w, g, win_at(w, g, 0));
		win_remove(w, g, win_at(w, g, 0));
	}
}

/* keyed's evict: at --max-groups or --max-state, the least recently seen
 * group's windows go out now (then group_drop frees it). */
static void group_evict(void *state, void *ctx)
{
	struct window *w = ctx;
	struct group *g = state;
	emit_group(w, g);
	if (w->cb.evict)
		w->cb.evict(g->gv, w->c.ngroup_fields, w->cb.ctx);
}

/* ---- panes (tumbling, hopping) ---- */

static struct pane *pane_get(struct window *w, int64_t start, int64_t end)
{
	int i = w->npanes;
	while (i > 0 && w->panes[i - 1].start > start)
		i--;
	if (i > 0 && w->panes[i - 1].start == start)
		return &w->panes[i - 1];
	if (w->pane_off + w->npanes == w->cappanes) {
		if (w->pane_off < w->npanes || !w->pane_off) {
			w->cappanes = w->cappanes ? w->cappanes * 2 : 4;
			w->pane_base = xrealloc(w->pane_base, (size_t)w->cappanes *
							      sizeof *w->panes);
		}
		if (w->npanes && w->pane_off)
			memmove(w->pane_base, w->pane_base + w->pane_off,
				(size_t)w->npanes * sizeof *w->panes);
		w->pane_off = 0;
		w->panes = w->pane_base;
	}
	memmove(&w->panes[i + 1], &w->panes[i],
		(size_t)(w->npanes - i) * sizeof *w->panes);
	w->npanes++;
	w->panes[i] = (struct pane){ start, end, NULL, 0, 0 };
	return &w->panes[i];
}

/* Emits the oldest pane: each group's window with that start. */
static void pane_close(struct window *w)
{
	struct pane *p = &w->panes[0];
	for (int i = 0; i < p->nrefs; i++) {
		struct group *g = group(w, p->refs[i].gid);
		if (!g->live || g->birth != p->refs[i].birth)
			continue;	/* evicted: emitted already */
		struct win *x = win_find(w, g, p->start);
		if (!x)
			continue;
		emit(w, g, x);
		win_remove(w, g, x);
		group_maybe_free(w, g);
	}
	free(p->refs);
	w->panes++;
	w->pane_off++;
	w->npanes--;
}

static void pane_event(struct window *w, struct group *g, int64_t t,
		       const struct value *vals)
{
	const struct window_conf *c = &w->c;
	int64_t step = c->kind == WINDOW_HOPPING ? c->every : c->size;
	int64_t s = step_start(w, t);
	/* The windows containing t start at s, s - step, ... while start +
	 * size is past t; the open ones (end past the watermark) take it.
	 * They are taken from the earliest, so that new ones append to the
	 * group's windows and to the panes (both kept by start): linear, not
	 * quadratic, in the windows per event. (Times and durations are
	 * bounded so that these sums cannot overflow: lib/time.c.) */
	int64_t lo = s + step;
	for (int64_t a = s; a + c->size > t && a + c->size > w->wm; a -= step)
		lo = a;
	for (; lo <= s; lo += step) {
		int64_t end = lo + c->size;
		struct win *x = win_find(w, g, lo);
		if (!x) {
			x = win_add(w, g, lo, end);
			struct pane *p = pane_get(w, lo, end);
			GROW(p->refs, p->nrefs, p->cap);
			p->refs[p->nrefs++] = (struct ref){ g->id, g->birth };
		}
		win_take(w, g, x, vals, t);
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

static void heap_push(struct window *w, struct hent e)
{
	struct hent *h;
	GROW(w->heap, w->nheap, w->capheap);
	h = w->heap;
	int i = w->nheap++;
	while (i > 0 && hent_less(&e, &h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

static struct hent heap_pop(struct window *w)
{
	struct hent *h = w->heap;
	struct hent top = h[0], last = h[--w->nheap];
	int i = 0, n = w->nheap;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && hent_less(&h[c + 1], &h[c]))
			c++;
		if (!hent_less(&h[c], &last))
			break;
		h[i] = h[c];
		i = c;
	}
	if (n)
		h[i] = last;
	return top;
}

static int64_t session_end(const struct window *w, const struct win *x)
{
	int64_t end = sat_add(x->last, w->c.gap);
	if (w->c.max_session && end > sat_add(x->start, w->c.max_session))
		end = sat_add(x->start, w->c.max_session);
	return end;
}

/* Does [t, t + gap) touch session x (so that t belongs to it)? */
static bool session_touches(const struct window *w, const struct win *x,
			    int64_t t)
{
	return sat_add(t, w->c.gap) > x->start && t < x->end;
}

/* Would x hold t and its events within --max-session? */
static bool session_fits(const struct window *w, const struct win *x,
			 int64_t t, int64_t last)
{
	if (!w->c.max_session)
		return true;
	int64_t lo = t < x->start ? t : x->start;
	int64_t hi = last > x->last ? last : x->last;
	return hi - lo < w->c.max_session;
}

/* Session hit, whose start t is earlier, moves to its place by start. */
static struct win *session_move(struct window *w, struct group *g,
				struct win *hit, int64_t t)
{
	struct win *old = (struct win *)w->tmpwin;
	memcpy(old, hit, w->wsize);
	int i = win_index(w, g, hit);
	memmove(hit, (char *)hit + w->wsize, (size_t)(g->nw - i - 1) * w->wsize);
	g->nw--;
	hit = win_add(w, g, t, 0);
	agg_state_free(w->specs, w->nspecs, win_st(hit));
	memcpy(win_st(hit), win_st(old), w->state_size);	/* moved, not copied */
	hit->heap = old->heap;
	hit->last = old->last;
	hit->n = old->n;
	return hit;
}

/*
 * An event joins the sessions it touches, which merge, as long as the
 * result stays within --max-session; so the sessions are the same whatever
 * the arrival order (unless an out-of-order event would have to split a
 * capped session, which aggregated state cannot).
 */
static void session_event(struct window *w, struct group *g, int64_t t,
			  const struct value *vals)
{
	struct win *hit = NULL;
	for (int i = 0; i < g->nw; i++) {
		struct win *x = win_at(w, g, i);
		if (!session_touches(w, x, t) || !session_fits(w, x, t, t))
			continue;
		if (!hit) {
			hit = x;
			continue;
		}
		if (!session_fits(w, hit, x->start, x->last))
			continue;
		agg_state_merge(w->specs, w->nspecs, win_st(hit), win_st(x));
		hit->n += x->n;
		if (w->nhspec)
			win_heap_update(w, g, hit);
		if (x->last > hit->last)
			hit->last = x->last;
		win_remove(w, g, x);
		i--;
	}
	if (!hit) {
		hit = win_add(w, g, t, 0);
		hit->last = t;
	}
	if (t < hit->start)
		hit = session_move(w, g, hit, t);
	if (t > hit->last)
		hit->last = t;
	win_take(w, g, hit, vals, t);
	int64_t old = hit->end;
	hit->end = session_end(w, hit);
	if (hit->end != old)
		heap_push(w, (struct hent){ hit->end, hit->start, g->birth,
					    g->id });
}

static void session_close_one(struct window *w)
{
	struct hent e = heap_pop(w);
	struct group *g = group(w, e.gid);
	if (!g->live || g->birth != e.birth)
		return;
	struct win *x = win_find(w, g, e.start);
	if (!x)
		return;		/* merged into another */
	if (x->end != e.end)
		return;		/* grew: a later entry has its end */
	emit(w, g, x);
	win_remove(w, g, x);
	group_maybe_free(w, g);
}

/* ---- count windows ---- */

static void count_event(struct window *w, struct group *g, int64_t t,
			const struct value *vals)
{
	if (g->seen % w->c.count_every == 0)
		win_add(w, g, t, t);
	g->seen++;
	for (int i = 0; i < g->nw; i++) {
		struct win *x = win_at(w, g, i);
		win_take(w, g, x, vals, t);
		if (t < x->start)
			x->start = t;
		if (t > x->end)
			x->end = t;
	}
	/* Full windows are the oldest ones. */
	while (g->nw && win_at(w, g, 0)->n >= w->c.count) {
		emit(w, g, win_at(w, g, 0));
		win_remove(w, g, win_at(w, g, 0));
	}
	group_maybe_free(w, g);
}

/* ---- sliding windows ---- */

/* What a buffered value counts in state_bytes: its slot on a 64-bit
 * machine (es-window(1) says 32 bytes), counted so on 32-bit ones too, so
 * that one --max-state keeps the same events on every gateway. */
#define VALUE_BYTES 32
_Static_assert(sizeof(void *) != 8 || sizeof(struct value) == VALUE_BYTES,
	       "a value's slot is what es-window(1) says");

/* The text of a buffered event's values. */
static size_t values_text(const struct window *w, const struct value *vals)
{
	size_t text = 0;
	for (int i = 0; i < w->nspecs; i++)
		if (vals[i].s)
			text += vals[i].n;
	return text;
}

/* The bytes a buffered event's values count: per value its slot, and
 * the text. */
static size_t values_bytes(const struct window *w, const struct value *vals)
{
	return (size_t)w->nspecs * VALUE_BYTES + values_text(w, vals);
}

static struct value *values_copy(const struct window *w, struct group *g,
				 const struct value *vals)
{
	g->held += values_bytes(w, vals);
	struct value *c = xrealloc(NULL, (size_t)w->nspecs * sizeof *c +
				   values_text(w, vals));
	char *text = (char *)(c + w->nspecs);
	for (int i = 0; i < w->nspecs; i++) {
		c[i] = vals[i];
		if (vals[i].s) {
			memcpy(text, vals[i].s, vals[i].n);
			c[i].s = text;
			text += vals[i].n;
		}
	}
	return c;
}

static void sev_free(const struct window *w, struct group *g, struct sev *e)
{
	g->held -= values_bytes(w, e->v);
	free(e->v);
}

/* At WINDOW_SLIDING_MAX_EVENTS, the group's oldest event goes. */
static void sliding_forget(struct window *w, struct group *g)
{
	if (!w->ev_warned)
		diag_warn("a sliding window holds %d events of one group: "
			  "forgetting the oldest (counted as \"evicted\" in "
			  "--stats)", WINDOW_SLIDING_MAX_EVENTS);
	w->ev_warned = true;
	w->ev_evicted++;
	sev_free(w, g, &g->ev[0]);
	memmove(g->ev, g->ev + 1, (size_t)(g->nev - 1) * sizeof *g->ev);
	g->nev--;
}

static void sliding_event(struct window *w, struct group *g, int64_t t,
			  const struct value *vals)
{
	int64_t size = w->c.size;
	if (g->nev == WINDOW_SLIDING_MAX_EVENTS)
		sliding_forget(w, g);
	GROW(g->ev, g->nev, g->capev);
	int i = g->nev;
	while (i > 0 && g->ev[i - 1].t > t)
		i--;
	memmove(&g->ev[i + 1], &g->ev[i], (size_t)(g->nev - i) * sizeof *g->ev);
	g->ev[i] = (struct sev){ t, values_copy(w, g, vals) };
	g->nev++;
	/* The window (t - size, t] over what has arrived. */
	struct win *x = (struct win *)w->tmpwin;
	*x = (struct win){ .start = t - size, .end = t, .last = t };
	agg_state_init(w->specs, w->nspecs, win_st(x));
	for (int k = 0; k < g->nev && g->ev[k].t <= t; k++)
		if (g->ev[k].t > t - size)
			agg_state_add(w->specs, w->nspecs, win_st(x), g->ev[k].v,
				      g->ev[k].t);
	emit(w, g, x);
	agg_state_free(w->specs, w->nspecs, win_st(x));
}

/* Frees buffered events no later event can reach (t <= wm - size). */
static void sliding_trim(struct window *w, struct group *g)
{
	int k = 0;
	while (k < g->nev && g->ev[k].t <= w->wm - w->c.size)
		sev_free(w, g, &g->ev[k++]);
	if (k) {
		memmove(g->ev, g->ev + k, (size_t)(g->nev - k) * sizeof *g->ev);
		g->nev -= k;
	}
	group_maybe_free(w, g);
}

/* ---- the watermark ---- */

/* Emits every window whose end the watermark has passed. */
static void close_windows(struct window *w)
{
	if (panes_used(w)) {
		while (w->npanes && w->panes[0].end <= w->wm)
			pane_close(w);
	} else if (w->c.kind == WINDOW_SESSION) {
		while (w->nheap && w->heap[0].end <= w->wm)
			session_close_one(w);
	}
}

static void advance(struct window *w, int64_t to)
{
	if (to > w->wm) {
		w->wm = to;
		close_windows(w);
	}
}

/* The earliest end of an open window, INT64_MAX if none. */
static int64_t next_end(const struct window *w)
{
	if (panes_used(w) && w->npanes)
		return w->panes[0].end;
	if (w->c.kind == WINDOW_SESSION && w->nheap)
		return w->heap[0].end;
	return INT64_MAX;
}

/* Is an event at t late: would it land only in windows already emitted? */
static bool is_late(struct window *w, int64_t t, const struct span *slots)
{
	const struct window_conf *c = &w->c;
	if (w->wm == INT64_MIN)
		return false;
	switch (c->kind) {
	case WINDOW_TUMBLING:
	case WINDOW_HOPPING:
		return sat_add(step_start(w, t), c->size) <= w->wm;
	case WINDOW_SESSION: {
		if (sat_add(t, c->gap) > w->wm)
			return false;
		/* Behind the watermark, but an open session may take it. */
		int gid = group_find(w, slots);
		if (gid < 0)
			return true;
		struct group *g = group(w, gid);
		for (int i = 0; i < g->nw; i++)
			if (session_touches(w, win_at(w, g, i), t))
				return false;
		return true;
	}
	case WINDOW_SLIDING:
		return t < w->wm;
	default:
		return false;
	}
}

/* ---- per event ---- */

/* The event's values, one per aggregate, into ev_vals; false (the record
 * said bad) if an aggregate that needs a number has something else. */
/* A CSV cell is bytes; JSON and line protocol need UTF-8. The cells a
 * window writes (its group's, first's and last's) are checked as the
 * record comes, so that the window it would spoil is never made: the
 * record is bad input, as es-cat says of one it cannot write. (A missing
 * field's span is its kind alone: only cells are read.) */
static bool text_utf8(struct window *w, const struct record *rec)
{
	const char *bad = NULL;
	for (int i = 0; i < w->c.ngroup_fields && !bad; i++) {
		const struct span *sp = &rec->slots[w->gslots[i]];
		if (sp->kind == SPAN_CSV && !utf8_valid(sp->p, sp->n))
			bad = w->c.gpaths[i].text;
	}
	for (int i = 0; i < w->nspecs && !bad; i++) {
		enum agg_kind k = w->specs[i].kind;
		if (k != AGG_FIRST && k != AGG_LAST)
			continue;
		const struct span *sp = &rec->slots[w->specs[i].slot];
		if (sp->kind == SPAN_CSV && !utf8_valid(sp->p, sp->n))
			bad = w->specs[i].field;
	}
	if (!bad)
		return true;
	snprintf(w->msg, sizeof w->msg, "invalid UTF-8 in CSV field '%.64s'",
		 bad);
	record_bad(rec, w->msg);
	return false;
}

static bool event_values(struct window *w, const struct record *rec)
{
	if (w->utf8 && rec->fmt == FMT_CSV && !text_utf8(w, rec))
		return false;
	const struct agg_spec *specs = w->specs;
	struct value *vals = w->ev_vals;
	for (int i = 0; i < w->nspecs; i++) {
		int src = w->ev_src[i];
		if (src == EV_NONE) {
			memset(&vals[i], 0, sizeof vals[i]);
			vals[i].t = V_NULL;
			continue;
		}
		if (src >= 0)
			value_copy(&vals[i], &vals[src]);
		else if (value_load(&rec->slots[specs[i].slot], &vals[i], &w->sc))
			vals[i].t = V_NULL;
		enum vtype vt = vals[i].t;
		if (vt != V_INT && vt != V_DOUBLE && vt != V_NULL &&
		    vt != V_MISSING && agg_needs_number(specs[i].kind)) {
			snprintf(w->msg, sizeof w->msg, "field '%s' is %s, a "
				 "number is needed for %s", specs[i].field,
				 vt == V_STRING ? "a string" :
				 vt == V_BOOL ? "a boolean" : "an object or array",
				 specs[i].name);
			record_bad(rec, w->msg);
			return false;
		}
	}
	return true;
}

/* After an event: the table knows what its group holds, and the state is
 * within --max-state again but for that group, which stays even if it
 * alone holds more (the record in hand is never lost: the bound is SIZE
 * plus one group). */
static void state_limit(struct window *w, struct group *g)
{
	int gid = g->id;
	size_t st = g->live ? group_hold(w, g) : keyed_bytes(w->keys);
	if (st > w->peak_state)
		w->peak_state = st;
	if (st > w->c.max_state)
		keyed_fit(w->keys, g->live ? gid : -1);
}

/* An event whose time the far-ahead rule accepted. */
static void event(const struct record *rec, int64_t t, void *ctx)
{
	struct window *w = ctx;
	enum window_kind kind = w->c.kind;
	if (!event_values(w, rec))
		return;
	if (kind != WINDOW_COUNT && is_late(w, t, rec->slots)) {
		if (w->cb.late)
			w->cb.late(rec, t, w->wm, w->cb.ctx);
		else
			wm_late(rec, t, w->wm);
		return;
	}
	/* The watermark moves first: windows it closes free their groups
	 * before this event needs a slot (it cannot close the event's own
	 * windows, which end after t). */
	if (t > w->max_t)
		w->max_t = t;
	w->have_time = true;
	if (kind != WINDOW_COUNT)
		advance(w, sat_add(w->max_t, -w->c.lateness));
	struct group *g = group_get(w, rec->slots);
	switch (kind) {
	case WINDOW_TUMBLING:
	case WINDOW_HOPPING: pane_event(w, g, t, w->ev_vals); break;
	case WINDOW_SESSION: session_event(w, g, t, w->ev_vals); break;
	case WINDOW_COUNT: count_event(w, g, t, w->ev_vals); break;
	case WINDOW_SLIDING: sliding_event(w, g, t, w->ev_vals); break;
	default: break;
	}
	if (kind == WINDOW_SLIDING)
		sliding_trim(w, g);
	/* An event before a capped session's start can pull its end (start +
	 * --max-session) behind the watermark, and a session capped shorter
	 * than the gap can start there: such a session is complete now. */
	if (kind == WINDOW_SESSION)
		close_windows(w);
	state_limit(w, g);
}

void window_record(struct window *w, const struct record *rec)
{
	int64_t t;
	scratch_reset(&w->sc);
	if (w->c.processing) {
		t = time_now_us();
	} else if (record_time(rec, &rec->slots[w->time_slot], w->c.time_field,
			       &w->time_unit, &w->sc, &t, NULL)) {
		return;
	}
	if (w->c.processing || w->c.kind == WINDOW_COUNT)
		event(rec, t, w);	/* no watermark */
	else
		wm_event(&w->wmk, rec, t, event, w);
}

int window_silence(struct window *w, int64_t silence_ms)
{
	const struct window_conf *c = &w->c;
	if (c->processing) {
		advance(w, sat_add(time_now_us(), -c->lateness));
	} else if (c->idle && w->have_time && silence_ms * 1000 >= c->idle) {
		advance(w, sat_add(sat_add(w->max_t, silence_ms * 1000),
				   -c->lateness));
	}
	int64_t end = next_end(w);
	if (end == INT64_MAX || (!c->idle && !c->processing))
		return -1;
	int64_t need_us;	/* more silence (wall clock) until it closes */
	if (c->processing) {
		need_us = end + c->lateness - time_now_us();
	} else {
		int64_t until = end + c->lateness - w->max_t;
		if (until < c->idle)
			until = c->idle;
		need_us = until - silence_ms * 1000;
	}
	if (need_us < 1000)
		need_us = 1000;
	if (need_us > INT_MAX * 1000LL)
		return INT_MAX;
	return (int)((need_us + 999) / 1000);
}

int window_idle(struct window *w)
{
	return wm_idle(&w->wmk, event, w);
}

void window_end(struct window *w)
{
	wm_end(&w->wmk, event, w);
}

/* ---- all open windows ---- */

/* An open window to emit at the end, in order of start and then of the
 * groups' first sight. */
struct pending {
	int64_t start;
	uint64_t birth;
	int gid;
};

struct pending_list {
	const struct window *w;
	struct pending *p;
	int n, cap;
};

static void pending_add(void *state, void *ctx)
{
	struct group *g = state;
	struct pending_list *l = ctx;
	for (int i = 0; i < g->nw; i++) {
		GROW(l->p, l->n, l->cap);
		l->p[l->n++] = (struct pending){ win_at(l->w, g, i)->start,
						 g->birth, g->id };
	}
}

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->birth != y->birth)
		return x->birth < y->birth ? -1 : 1;
	return 0;
}

void window_flush(struct window *w)
{
	if (panes_used(w)) {
		while (w->npanes)
			pane_close(w);
		return;
	}
	struct pending_list l = { w, NULL, 0, 0 };
	keyed_each(w->keys, pending_add, &l);
	if (l.n)
		qsort(l.p, (size_t)l.n, sizeof *l.p, pending_cmp);
	for (int i = 0; i < l.n; i++) {
		struct group *g = group(w, l.p[i].gid);
		struct win *x = win_find(w, g, l.p[i].start);
		if (x) {
			emit(w, g, x);
			win_remove(w, g, x);
		}
	}
	free(l.p);
	w->nheap = 0;
}

struct open_count {
	const struct window *w;
	unsigned long long windows, events;
};

static void open_add(void *state, void *ctx)
{
	const struct group *g = state;
	struct open_count *o = ctx;
	o->windows += (unsigned long long)g->nw;
	for (int i = 0; i < g->nw; i++)
		o->events += (unsigned long long)win_at(o->w, g, i)->n;
}

unsigned long long window_open(const struct window *w,
			       unsigned long long *nev)
{
	struct open_count o = { w, 0, 0 };
	keyed_each(w->keys, open_add, &o);
	if (nev)
		*nev = o.events;
	return o.windows;
}

/* ---- the definition ---- */

/* Does text read as a field path? Else why in *perr. */
static bool path_ok(const char *text, const char **perr)
{
	struct path p;
	if (path_parse_all(text, &p, perr))
		return false;
	path_free(&p);
	return true;
}

/*
 * The aggregates of c into *specs (their count), checking every field
 * path c names; -1 with a message in err if one does not parse. Nothing
 * is set up: a reload checks before it changes anything.
 */
static int def_parse(const struct window_conf *c, struct agg_spec **specs,
		     char *err, size_t n)
{
	char why[256];
	const char *perr;
	int nn = agg_parse(c->agg_text, specs, why, sizeof why);
	if (nn < 0) {
		snprintf(err, n, "invalid --agg '%s': %s", c->agg_text, why);
		return -1;
	}
	for (int i = 0; i < nn; i++)
		if ((*specs)[i].field && !path_ok((*specs)[i].field, &perr)) {
			snprintf(err, n, "invalid field '%s' in --agg: %s",
				 (*specs)[i].field, perr);
			agg_specs_free(*specs, nn);
			return -1;
		}
	/* processing time reads no field */
	if (!c->processing && !path_ok(c->time_field, &perr)) {
		snprintf(err, n, "invalid --time-field '%s': %s", c->time_field,
			 perr);
		agg_specs_free(*specs, nn);
		return -1;
	}
	return nn;
}

/* A path that def_parse checked, added to fs. */
static int field_slot(struct fieldset *fs, const char *text)
{
	struct path p;
	const char *perr;
	path_parse_all(text, &p, &perr);
	int slot = fieldset_add(fs, &p);
	path_free(&p);
	return slot;
}

/* The output fields' names: the group fields' paths as c writes them. */
static void def_names(struct window *w)
{
	int ng = w->c.ngroup_fields;
	w->ofs[0].name = "window_start";
	w->ofs[1].name = "window_end";
	for (int i = 0; i < ng; i++)
		w->ofs[2 + i].name = w->c.gpaths[i].text;
	for (int i = 0; i < w->nspecs; i++)
		w->ofs[2 + ng + i].name = w->specs[i].name;
	for (int i = 0; i < w->nofs; i++)
		w->ofs[i].namelen = strlen(w->ofs[i].name);
}

/*
 * Sets up what the definition in w->c needs, with its parsed aggregates
 * (taken): the slots of their fields, of the group and time fields in fs
 * (a fieldset only grows: a reload adds the paths it needs), the output
 * fields.
 */
/* Where each aggregate's value comes from (ev_src). */
static int *ev_sources(const struct agg_spec *specs, int nspecs)
{
	int *src = xrealloc(NULL, (size_t)(nspecs ? nspecs : 1) * sizeof *src);
	for (int i = 0; i < nspecs; i++) {
		src[i] = specs[i].field ? EV_LOAD : EV_NONE;
		for (int j = 0; j < i && specs[i].field; j++)
			if (specs[j].field && specs[j].slot == specs[i].slot) {
				src[i] = j;
				break;
			}
	}
	return src;
}

static void def_bind(struct window *w, struct agg_spec *specs, int nspecs)
{
	int ng = w->c.ngroup_fields;
	int one = nspecs ? nspecs : 1;
	w->specs = specs;
	w->nspecs = nspecs;
	for (int i = 0; i < nspecs; i++)
		if (specs[i].field)
			specs[i].slot = field_slot(w->fs, specs[i].field);
	w->gslots = xrealloc(NULL, (size_t)(ng ? ng : 1) * sizeof *w->gslots);
	for (int i = 0; i < ng; i++)
		w->gslots[i] = fieldset_add(w->fs, &w->c.gpaths[i]);
	/* processing time reads no field: a CSV need not have one */
	w->time_slot = w->c.processing ? -1 : field_slot(w->fs, w->c.time_field);
	w->state_size = agg_state_size(specs, nspecs);
	w->wsize = WIN_HEAD + ((w->state_size + 7) & ~(size_t)7);
	w->ghead = (sizeof(struct group) + 7) & ~(size_t)7;
	/* sliding windows keep events, not windows: no room for one */
	w->inline_win = w->c.kind != WINDOW_SLIDING;
	w->tmpwin = xrealloc(NULL, w->wsize);
	w->hspec = xrealloc(NULL, (size_t)one * sizeof *w->hspec);
	w->nhspec = agg_heap_slots(specs, nspecs, w->hspec);
	w->nofs = 2 + ng + nspecs;
	w->ofs = xrealloc(NULL, (size_t)w->nofs * sizeof *w->ofs);
	def_names(w);
	w->res = xrealloc(NULL, (size_t)one * sizeof *w->res);
	w->ev_vals = xrealloc(NULL, (size_t)one * sizeof *w->ev_vals);
	w->ev_src = ev_sources(specs, nspecs);
}

/* A group's block: its header and, but for sliding windows, the room for
 * one window. */
static size_t group_size(const struct window *w)
{
	return w->ghead + (w->inline_win ? w->wsize : 0);
}

/* Forgets every group, window, pane and buffered event, and what
 * def_bind made; the time and the counters stay. */
static void def_free(struct window *w)
{
	keyed_clear(w->keys);
	for (int i = 0; i < w->npanes; i++)
		free(w->panes[i].refs);
	free(w->pane_base);
	w->panes = w->pane_base = NULL;
	w->npanes = w->cappanes = w->pane_off = 0;
	free(w->heap);
	w->heap = NULL;
	w->nheap = w->capheap = 0;
	free(w->gslots);
	free(w->hspec);
	agg_specs_free(w->specs, w->nspecs);
	free(w->ofs);
	free(w->res);
	free(w->ev_vals);
	free(w->ev_src);
	free(w->tmpwin);
}

struct window *window_new(const struct window_conf *c, struct fieldset *fs,
			  const struct window_cb *cb, char *err, size_t n)
{
	struct window_conf f = conf_full(c);
	struct agg_spec *specs = NULL;
	int nspecs = def_parse(&f, &specs, err, n);
	if (nspecs < 0)
		return NULL;
	struct window *w = xmalloc(sizeof *w);
	memset(w, 0, sizeof *w);
	w->c = f;
	w->cb = *cb;
	w->fs = fs;
	w->time_unit = f.unit;
	w->max_t = w->wm = INT64_MIN;
	w->keys = keyed_new(sizeof(struct group), f.max_groups, f.max_state,
			    group_drop, w);
	keyed_set_evict(w->keys, "--max-groups", "emitting the windows of the "
			"least recently seen group early", group_evict);
	def_bind(w, specs, nspecs);
	keyed_resize(w->keys, group_size(w));
	wm_init(&w->wmk, f.max_ahead, fieldset_count(fs));
	return w;
}

void window_free(struct window *w)
{
	if (!w)
		return;
	wm_free(&w->wmk);
	def_free(w);
	keyed_free(w->keys);
	scratch_free(&w->sc);
	free(w);
}

struct window_counts window_counts(const struct window *w)
{
	struct keyed_counts kc = keyed_counts(w->keys, NULL);
	return (struct window_counts){ kc.peak, kc.evicted + w->ev_evicted,
				       w->peak_state };
}

const struct ofield *window_fields(const struct window *w, size_t *n)
{
	*n = (size_t)w->nofs;
	return w->ofs;
}

void window_set_utf8(struct window *w, bool on)
{
	w->utf8 = on;
}

int64_t window_watermark(const struct window *w)
{
	return w->wm;
}

int window_held(const struct window *w)
{
	return w->wmk.nheld;
}

/* ---- a reload ---- */

static bool paths_same(const struct window_conf *a, const struct window_conf *b)
{
	return keyed_same_keys(a->gpaths, a->ngroup_fields, b->gpaths,
			       b->ngroup_fields);
}

static bool specs_same(const struct agg_spec *x, const struct agg_spec *y,
		       int n)
{
	for (int i = 0; i < n; i++)
		if (x[i].kind != y[i].kind || x[i].pct != y[i].pct ||
		    strcmp(x[i].name, y[i].name) ||
		    !x[i].field != !y[i].field ||
		    (x[i].field && strcmp(x[i].field, y[i].field)))
			return false;
	return true;
}

/* Is time read the same way (so that the watermark still holds)? */
static bool time_same(const struct window_conf *a, const struct window_conf *b)
{
	return a->processing == b->processing &&
	       (a->processing || (a->unit == b->unit &&
				  !strcmp(a->time_field, b->time_field)));
}

/* Is the window definition of c (aggregates ns) the running one? */
static bool def_same(const struct window *w, const struct window_conf *c,
		     const struct agg_spec *ns, int nn)
{
	const struct window_conf *r = &w->c;
	return c->kind == r->kind && c->size == r->size &&
	       c->every == r->every && c->offset == r->offset &&
	       c->gap == r->gap && c->max_session == r->max_session &&
	       c->count == r->count && c->count_every == r->count_every &&
	       paths_same(c, r) && time_same(c, r) &&
	       nn == w->nspecs && specs_same(ns, w->specs, nn);
}

/* Would c write the same output fields as the running definition? */
static bool columns_same(const struct window *w, const struct window_conf *c,
			 const struct agg_spec *ns, int nn)
{
	if (!paths_same(c, &w->c) || nn != w->nspecs)
		return false;
	for (int i = 0; i < nn; i++)
		if (strcmp(ns[i].name, w->specs[i].name))
			return false;
	return true;
}

/* The same definition: every window, group and the watermark stay; the
 * other options of c apply (its lower caps at once). */
static void keep_definition(struct window *w, const struct window_conf *c,
			    char *said, size_t n)
{
	char size[32];
	long by_groups, by_bytes;
	w->c = *c;
	def_names(w);	/* the same names, in c's strings */
	int len = snprintf(said, n, "same window definition, open windows kept");
	keyed_refit(w->keys, c->max_groups, c->max_state, &by_groups, &by_bytes);
	if (by_groups && len >= 0 && (size_t)len < n)
		len += snprintf(said + len, n - (size_t)len, "; --max-groups %ld: "
				"the windows of %ld group%s written early",
				c->max_groups, by_groups, by_groups == 1 ? "" : "s");
	if (by_bytes && len >= 0 && (size_t)len < n)
		snprintf(said + len, n - (size_t)len, "; --max-state %s: the "
			 "windows of %ld group%s written early",
			 size_text(c->max_state, size, sizeof size),
			 by_bytes, by_bytes == 1 ? "" : "s");
}

/* A new definition: the open windows are written as at the end of the
 * input, then c's definition (aggregates ns, taken) starts afresh. */
static enum window_change new_definition(struct window *w,
					 const struct window_conf *c,
					 struct agg_spec *ns, int nn,
					 char *said, size_t n)
{
	unsigned long long open = window_open(w, NULL);
	bool same_time = time_same(c, &w->c);
	bool same_cols = columns_same(w, c, ns, nn);
	window_flush(w);
	def_free(w);
	w->c = *c;
	def_bind(w, ns, nn);
	keyed_resize(w->keys, group_size(w));	/* no groups now */
	keyed_refit(w->keys, c->max_groups, c->max_state, NULL, NULL);
	if (!same_time) {	/* another clock: the old watermark means nothing */
		w->max_t = w->wm = INT64_MIN;
		w->have_time = false;
		w->time_unit = c->unit;
		wm_reset(&w->wmk);
	}
	snprintf(said, n, "new window definition, %llu open window%s written%s",
		 open, open == 1 ? "" : "s",
		 same_time ? "" : "; the watermark starts again");
	return same_cols ? WINDOW_NEW : WINDOW_NEW_FIELDS;
}

enum window_change window_reconf(struct window *w, const struct window_conf *c,
				 char *said, size_t n)
{
	struct window_conf f = conf_full(c);
	struct agg_spec *ns = NULL;
	int nn = def_parse(&f, &ns, said, n);
	if (nn < 0)
		return WINDOW_BAD;
	enum window_change done = WINDOW_KEPT;
	bool same = def_same(w, &f, ns, nn);
	/* Events held for confirmation were read under the old fields. */
	window_end(w);
	w->step_ok = false;	/* the step or the offset may change */
	if (same) {
		agg_specs_free(ns, nn);
		keep_definition(w, &f, said, n);
	} else {
		done = new_definition(w, &f, ns, nn, said, n);
	}
	/* A lower --lateness moves the watermark now, so that the next event
	 * is judged late or not against the watermark it would close. */
	if (w->have_time && w->c.kind != WINDOW_COUNT)
		advance(w, sat_add(w->max_t, -w->c.lateness));
	wm_set(&w->wmk, w->c.max_ahead, fieldset_count(w->fs));
	return done;
}

/* ---- the invariants, for the fuzz target ---- */

struct audit {
	const struct window *w;
	size_t bytes;		/* keys and what groups hold, walked */
	int groups;
	const char *bad;
};

static void audit_group(void *state, void *ctx)
{
	const struct group *g = state;
	struct audit *a = ctx;
	const struct window *w = a->w;
	size_t kn, held = 0;
	keyed_key(w->keys, g->id, &kn);
	for (int i = 0; i < g->nw; i++) {
		const struct win *x = win_at(w, g, i);
		size_t h = agg_state_heap(w->specs, w->nspecs, win_st(x));
		if (x->heap != h)
			a->bad = "a window's heap bytes are not its state's";
		held += h;
	}
	for (int i = 0; i < g->nev; i++)
		held += values_bytes(w, g->ev[i].v);
	if (held != g->held)
		a->bad = "a group's bytes are not those of its windows and events";
	if (!g->live || group(w, g->id) != g)
		a->bad = "a group in the table is not live";
	a->bytes += kn + held;
	a->groups++;
}

const char *window_audit(const struct window *w)
{
	struct audit a = { w, 0, 0, NULL };
	size_t bytes = keyed_bytes(w->keys);
	keyed_each(w->keys, audit_group, &a);
	if (a.bad)
		return a.bad;
	if (a.groups != keyed_live(w->keys))
		return "the groups walked are not the groups counted";
	if (a.groups > w->c.max_groups)
		return "more groups than --max-groups";
	if (a.bytes != bytes)
		return "the bytes walked are not the running total";
	if (bytes > w->c.max_state && a.groups > 1)
		return "more bytes than --max-state with more than one group";
	if (bytes > w->peak_state)
		return "more bytes than the peak";
	if (panes_used(w) && w->npanes && w->panes[0].end <= w->wm)
		return "a pane behind the watermark is open";
	if (w->c.kind == WINDOW_SESSION && w->nheap && w->heap[0].end <= w->wm)
		return "a session behind the watermark is open";
	return NULL;
}
