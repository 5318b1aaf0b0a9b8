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
 * oldest panes; sessions close through a heap ordered by end. Two limits
 * bound it, and at either the least recently seen group's windows go out
 * early: --max-groups counts groups, --max-state the bytes that grow with
 * the input (group keys, the aggregates' heap parts, the buffered events of
 * sliding windows), kept as a running total.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg.h"
#include "diag.h"
#include "keys.h"
#include "opts.h"
#include "path.h"
#include "record.h"
#include "reload.h"
#include "time.h"
#include "watermark.h"

enum kind { K_NONE, K_TUMBLING, K_HOPPING, K_SLIDING, K_SESSION, K_COUNT };

enum {
	OPT_TUMBLING = OPT_PROGRAM, OPT_HOPPING, OPT_EVERY, OPT_SLIDING,
	OPT_SESSION, OPT_MAX_SESSION, OPT_COUNTW, OPT_OFFSET, OPT_TIME_FIELD,
	OPT_TIME_UNIT, OPT_TIME, OPT_TIME_FORMAT, OPT_LATENESS, OPT_LATE,
	OPT_IDLE, OPT_FLUSH_ON_EXIT, OPT_MAX_GROUPS, OPT_MAX_STATE, OPT_MAX_AHEAD,
};

#define DEFAULT_MAX_GROUPS 100000

/*
 * What the options say: parsed at start and again on a reload (lib/reload.h).
 * The window definition is kind, sizes, group-by, aggregates and how time
 * is read (def_same() compares it); the rest may change under open windows.
 * Strings point into the command line in use.
 */
struct conf {
	enum kind kind;
	int64_t size, every, offset, gap, max_session, lateness, idle;
	int64_t max_ahead;	/* --max-ahead (lib/watermark.h) */
	long count, count_every;
	bool processing, flush_on_exit;
	enum time_repr unit, out_repr;	/* unit as given (auto stays auto) */
	long max_groups;
	uint64_t max_state;	/* --max-state, bytes */
	const char *time_field;
	struct path *gpaths;	/* --group-by */
	int ngroup_fields;
	const char *agg_text, *late_path, *every_arg;
};

static struct conf cfg;
/* The unit times are read in: cfg.unit, or what auto guessed from the
 * first time (kept across a reload that reads time the same way). */
static enum time_repr time_unit;
/* Far-ahead events wait here for confirmation (lib/watermark.h). */
static struct wmark wmk;

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
static int *gslots, time_slot;

struct win {
	int64_t start, end;	/* [start, end) of event time */
	int64_t last;		/* session, count: time of the latest event */
	long n;			/* count: events in it */
	void *st;		/* the aggregates' state */
	size_t heap;		/* st's bytes on the heap, counted in agg_heap */
};

/* A buffered event of a sliding window: its time and aggregated values. */
struct sev {
	int64_t t;
	struct value *v;	/* nspecs values; text copied into the block */
};

struct group {		/* indexed by its id in the key table */
	struct value *gv;	/* the group values, for output */
	struct win *w;		/* open windows, by start: wbase[woff..] */
	struct win *wbase;	/* their array, of capw */
	int nw, capw, woff;
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

/*
 * What --max-state counts, kept up to date as state grows and shrinks
 * (never walked): the keys' bytes (keytab_bytes), agg_heap and ev_bytes.
 * Only aggregates with heap parts (hspec: first/last past 32 bytes, the
 * exact values of median/pN, the distinct set) are looked at after an
 * event is added to a window; the others have a fixed block, bounded with
 * the windows and groups.
 */
static size_t agg_heap;		/* the heap parts of open windows' state */
static size_t ev_bytes;		/* sliding windows' buffered events */
static size_t peak_state;	/* for --stats */
static struct agg_heap_slot *hspec;	/* the aggregates with heap parts */
static int nhspec;

static size_t state_bytes(void)
{
	return keytab_bytes(keys) + agg_heap + ev_bytes;
}

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
static struct pane *panes;	/* by start: pane_base[pane_off..] */
static struct pane *pane_base;	/* of cappanes; slides as win_room's */
static int npanes, cappanes, pane_off;

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

static void sev_free(struct sev *e);

static void group_free(int gid)
{
	struct group *g = &groups[gid];
	lru_unlink(gid);
	keytab_remove(keys, gid);
	for (int i = 0; i < g->nev; i++)
		sev_free(&g->ev[i]);
	free(g->ev);
	free(g->gv);
	free(g->wbase);
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

enum limit { BY_GROUPS, BY_STATE };
static void evict_lru(enum limit why);

static struct outbuf key;

/* The key of a record's group, into key (normal form: lib/keys.c). */
static void key_build(const struct span *slots)
{
	if (!key.buf)
		out_init(&key, -1, "key");
	key.len = 0;
	for (int i = 0; i < cfg.ngroup_fields; i++) {
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
		evict_lru(BY_GROUPS);
	/* The new key's bytes are known: room for them first, as for a
	 * group at --max-groups (what the event adds is seen after it). */
	while (lru_tail >= 0 && state_bytes() + key.len > cfg.max_state)
		evict_lru(BY_STATE);
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
	g->gv = xmalloc((size_t)cfg.ngroup_fields * sizeof *g->gv);
	key_decode(keytab_key(keys, gid, &kn), cfg.ngroup_fields, g->gv);
	g->birth = births++;
	g->prev = g->next = -1;
	g->live = true;
	if (++nlive > peak_groups)
		peak_groups = nlive;
	lru_front(gid);
	return gid;
}

/* ---- windows of a group ---- */

/* A group's windows are kept by start (win_add): the last one with this
 * start, by binary search (a hopping window has up to 100000). */
static struct win *win_find(struct group *g, int64_t start)
{
	int lo = 0, hi = g->nw;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (g->w[mid].start <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && g->w[lo - 1].start == start ? &g->w[lo - 1] : NULL;
}

/*
 * Windows leave a group from the front (the oldest closes first), so the
 * array slides: removing the first one moves a pointer, not the rest, and
 * the room at the front is taken back when the end is full. A hopping
 * window of up to 100000 windows per event would otherwise cost as many
 * moves per close (quadratic at the end of input).
 */
static void win_room(struct group *g)
{
	if (g->woff + g->nw < g->capw)
		return;
	if (g->woff < g->nw || !g->woff) {	/* less than half free: grow */
		g->capw = g->capw ? g->capw * 2 : 4;
		g->wbase = xrealloc(g->wbase, (size_t)g->capw * sizeof *g->wbase);
	}
	if (g->nw && g->woff)
		memmove(g->wbase, g->wbase + g->woff, (size_t)g->nw * sizeof *g->w);
	g->woff = 0;
	g->w = g->wbase;
}

static struct win *win_add(struct group *g, int64_t start, int64_t end)
{
	win_room(g);
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
	w->heap = 0;
	agg_state_init(specs, nspecs, w->st);
	return w;
}

/* Counts what w's aggregates now hold on the heap (after an event or a
 * merge changed them). */
static inline void win_heap_update(struct win *w)
{
	size_t h = agg_slots_heap(hspec, nhspec, w->st);
	agg_heap = agg_heap - w->heap + h;
	w->heap = h;
}

/* Adds an event to window w's aggregates. */
static inline void win_take(struct win *w, const struct value *vals,
			    int64_t t)
{
	agg_state_add(specs, nspecs, w->st, vals, t);
	w->n++;
	if (nhspec)
		win_heap_update(w);
}

static void win_remove(struct group *g, struct win *w)
{
	agg_heap -= w->heap;
	agg_state_free(specs, nspecs, w->st);
	free(w->st);
	int i = (int)(w - g->w);
	if (i == 0 && g->nw > 1) {
		g->w++;
		g->woff++;
	} else {
		memmove(&g->w[i], &g->w[i + 1],
			(size_t)(g->nw - i - 1) * sizeof *g->w);
	}
	g->nw--;
}

/* ---- output ---- */

static void time_value(int64_t us, struct value *v, char *buf)
{
	enum time_repr r = cfg.out_repr ? cfg.out_repr : time_unit;
	if (r == TIME_AUTO)
		r = TIME_MS;
	memset(v, 0, sizeof *v);
	v->t = r == TIME_RFC3339 ? V_STRING : V_RAW;
	v->s = buf;
	v->n = time_format(us, r, false, buf);
}

/* A window's output fields (named by state_setup() for the definition)
 * and its aggregates' results. */
static struct ofield *ofs;
static int nofs;
static struct value *res;
static struct value *ev_vals;	/* an event's values, one per aggregate */

static void emit(struct group *g, struct win *w)
{
	char b1[48], b2[48];
	time_value(w->start, &ofs[0].v, b1);
	time_value(w->end, &ofs[1].v, b2);
	for (int i = 0; i < cfg.ngroup_fields; i++)
		ofs[2 + i].v = g->gv[i];
	agg_state_result(specs, nspecs, w->st, w->end - w->start, res);
	for (int i = 0; i < nspecs; i++)
		ofs[2 + cfg.ngroup_fields + i].v = res[i];
	const char *err;
	if (writer_put_fields(out_w, ofs, (size_t)nofs, &err) < 0)
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
	if (pane_off + npanes == cappanes) {
		if (pane_off < npanes || !pane_off) {
			cappanes = cappanes ? cappanes * 2 : 4;
			pane_base = xrealloc(pane_base,
					     (size_t)cappanes * sizeof *panes);
		}
		if (npanes && pane_off)
			memmove(pane_base, pane_base + pane_off,
				(size_t)npanes * sizeof *panes);
		pane_off = 0;
		panes = pane_base;
	}
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
	panes++;
	pane_off++;
	npanes--;
}

static void pane_event(int gid, int64_t t, const struct value *vals)
{
	struct group *g = &groups[gid];
	int64_t step = cfg.kind == K_HOPPING ? cfg.every : cfg.size;
	int64_t s = floor_div(t - cfg.offset, step) * step + cfg.offset;
	/* The windows containing t start at s, s - step, ... while start +
	 * size is past t; the open ones (end past the watermark) take it.
	 * They are taken from the earliest, so that new ones append to the
	 * group's windows and to the panes (both kept by start): linear, not
	 * quadratic, in the windows per event. (Times and durations are
	 * bounded so that these sums cannot overflow: lib/time.c.) */
	int64_t lo = s + step;
	for (int64_t a = s; a + cfg.size > t && a + cfg.size > wm; a -= step)
		lo = a;
	for (; lo <= s; lo += step) {
		int64_t end = lo + cfg.size;
		struct win *w = win_find(g, lo);
		if (!w) {
			w = win_add(g, lo, end);
			struct pane *p = pane_get(lo, end);
			GROW(p->refs, p->nrefs, p->cap);
			p->refs[p->nrefs++] = (struct ref){ gid, g->gen };
		}
		win_take(w, vals, t);
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
		hit->n += w->n;
		if (nhspec)
			win_heap_update(hit);
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
		long nev = hit->n;
		void *st = hit->st;
		size_t held = hit->heap;
		int i = (int)(hit - g->w);
		memmove(&g->w[i], &g->w[i + 1], (size_t)(g->nw - i - 1) * sizeof *g->w);
		g->nw--;
		hit = win_add(g, t, 0);
		agg_state_free(specs, nspecs, hit->st);
		free(hit->st);
		hit->st = st;
		hit->heap = held;
		hit->last = last;
		hit->n = nev;
	}
	if (t > hit->last)
		hit->last = t;
	win_take(hit, vals, t);
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
		win_take(w, vals, t);
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

/* The bytes of a buffered event's values: the block values_copy makes. */
static size_t values_bytes(const struct value *vals)
{
	size_t bytes = (size_t)nspecs * sizeof *vals;
	for (int i = 0; i < nspecs; i++)
		if (vals[i].s)
			bytes += vals[i].n;
	return bytes;
}

static struct value *values_copy(const struct value *vals)
{
	size_t bytes = values_bytes(vals);
	ev_bytes += bytes;
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

static void sev_free(struct sev *e)
{
	ev_bytes -= values_bytes(e->v);
	free(e->v);
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
		sev_free(&g->ev[0]);
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
	struct win w = { .start = t - cfg.size, .end = t, .last = t,
			  .st = xrealloc(NULL, state_size) };
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
		sev_free(&g->ev[k++]);
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

/* The windows still open (those SIGTERM drops without --flush-on-exit),
 * and the events in them (an event in several hopping windows counts in
 * each) in *nev if not NULL. */
static unsigned long long open_windows(unsigned long long *nev)
{
	unsigned long long n = 0, e = 0;
	for (int gid = lru_head; gid >= 0; gid = groups[gid].next) {
		n += (unsigned long long)groups[gid].nw;
		for (int i = 0; i < groups[gid].nw; i++)
			e += (unsigned long long)groups[gid].w[i].n;
	}
	if (nev)
		*nev = e;
	return n;
}

/* SIGINT/SIGTERM without --flush-on-exit: the open windows are not
 * written; say so (counted as "dropped" in --stats). */
static void drop_open_windows(void)
{
	unsigned long long nev, n = open_windows(&nev);
	if (!n)
		return;
	stats.dropped += n;
	diag_warn("stopped by a signal: %llu open window%s not written (%llu "
		  "event%s in %s; --flush-on-exit writes them)", n,
		  n == 1 ? "" : "s", nev, nev == 1 ? "" : "s",
		  n == 1 ? "it" : "them");
}

/* At --max-groups or --max-state: the least recently seen group's
 * windows go out now. Each limit says so once. */
static void evict_lru(enum limit why)
{
	static bool warned[2];
	char size[32];
	int gid = lru_tail;
	if (gid < 0)
		return;
	if (!warned[why]) {
		if (why == BY_GROUPS)
			diag_warn("--max-groups %ld reached: emitting the windows "
				  "of the least recently seen group early (counted "
				  "as \"evicted\" in --stats)", cfg.max_groups);
		else
			diag_warn("--max-state %s reached: emitting the windows "
				  "of the least recently seen group early (counted "
				  "as \"evicted\" in --stats)",
				  opts_size_text(cfg.max_state, size, sizeof size));
		warned[why] = true;
	}
	struct group *g = &groups[gid];
	while (g->nw) {
		emit(g, &g->w[0]);
		win_remove(g, &g->w[0]);
	}
	evicted++;
	group_free(gid);	/* and the buffered events */
}

/* After an event: within --max-state again, but for the event's own
 * group, which stays even if it alone holds more (the record in hand is
 * never lost: the bound is SIZE plus one group). */
static void state_limit(int gid)
{
	size_t st = state_bytes();
	if (st > peak_state)
		peak_state = st;
	while (st > cfg.max_state && lru_tail >= 0 && lru_tail != gid) {
		evict_lru(BY_STATE);
		st = state_bytes();
	}
}

/* ---- per event ---- */

static void window_event(const struct record *rec, int64_t t, void *ctx);

static void on_record(const struct record *rec)
{
	int64_t t;
	scratch_reset(&sc);

	if (cfg.processing) {
		t = time_now_us();
	} else if (record_time(rec, &rec->slots[time_slot], cfg.time_field,
			       &time_unit, &sc, &t, NULL)) {
		return;
	}
	if (cfg.processing || cfg.kind == K_COUNT)
		window_event(rec, t, NULL);	/* no watermark */
	else
		wm_event(&wmk, rec, t, window_event, NULL);
}

/* An event whose time the watermark rule accepted. */
static void window_event(const struct record *rec, int64_t t, void *ctx)
{
	static char msg[256];
	(void)ctx;
	for (int i = 0; i < nspecs; i++) {
		if (!specs[i].field) {
			memset(&ev_vals[i], 0, sizeof ev_vals[i]);
			ev_vals[i].t = V_NULL;
			continue;
		}
		/* Aggregates of one field (mean, max, p95 of value) share
		 * its typed value: load it once. */
		int same = 0;
		while (same < i && specs[same].slot != specs[i].slot)
			same++;
		if (same < i && specs[same].field)
			ev_vals[i] = ev_vals[same];
		else if (value_load(&rec->slots[specs[i].slot], &ev_vals[i], &sc))
			ev_vals[i].t = V_NULL;
		enum vtype vt = ev_vals[i].t;
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
		wm_late(rec, t, wm);
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
	case K_HOPPING: pane_event(gid, t, ev_vals); break;
	case K_SESSION: session_event(gid, t, ev_vals); break;
	case K_COUNT: count_event(gid, t, ev_vals); break;
	case K_SLIDING: sliding_event(gid, t, ev_vals); break;
	default: break;
	}
	if (cfg.kind == K_SLIDING)
		sliding_trim(gid);
	/* An event before a capped session's start can pull its end (start +
	 * --max-session) behind the watermark, and a session capped shorter
	 * than the gap can start there: such a session is complete now. */
	if (cfg.kind == K_SESSION)
		close_windows();
	state_limit(gid);
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
	char size[32];
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
	       WM_OPTION_HELP
	       "      --idle D             after D of silence, advance the watermark with\n"
	       "                           the wall clock (windows close on a quiet input)\n"
	       "      --flush-on-exit      on SIGINT/SIGTERM, emit the open windows\n"
	       "      --max-groups N       at most N groups (default %d); at the limit the\n"
	       "                           least recently seen group's windows go out early\n"
	       "      --max-state SIZE     at most SIZE bytes (512k, 64M, 2G; default %s) of\n"
	       "                           group keys, aggregate values and buffered events;\n"
	       "                           at the limit, as at --max-groups\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) keeps the open windows if\n"
	       "the window definition is the same; if not, it writes them out first.\n"
	       "\n", DEFAULT_MAX_GROUPS,
	       opts_size_text(OPTS_DEFAULT_MAX_STATE, size, sizeof size));
	opts_common_help(stdout);
	printf("\nDurations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
	       "\nExamples:\n"
	       "  es-window --tumbling 10s -g device,sensor -a 'count,mean(value),p95(value)'\n"
	       "  es-window --session 30s --idle 5s -g badge -a 'count,first(gate),last(gate)'\n");
	exit(EXIT_OK);
}


static void set_kind(struct conf *c, enum kind k, const char *opt)
{
	if (c->kind != K_NONE && c->kind != k)
		diag_usage("%s: only one window kind may be given", opt);
	c->kind = k;
}

static void parse_group_by(struct conf *c, const char *text)
{
	const char *s = text, *err;
	while (*s) {
		c->gpaths = xrealloc(c->gpaths, (size_t)(c->ngroup_fields + 1) *
						      sizeof *c->gpaths);
		if (path_parse(&s, &c->gpaths[c->ngroup_fields], &err))
			diag_usage("invalid --group-by '%s' at column %d: %s", text,
				   (int)(s - text) + 1, err);
		c->ngroup_fields++;
		if (*s == ',')
			s++;
		else if (*s)
			diag_usage("invalid --group-by '%s' at column %d: expected ','",
				   text, (int)(s - text) + 1);
	}
	if (!c->ngroup_fields)
		diag_usage("--group-by needs at least one field");
}

static void conf_init(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->time_field = "ts";
	c->max_groups = DEFAULT_MAX_GROUPS;
	c->max_state = OPTS_DEFAULT_MAX_STATE;
	c->agg_text = "count";
	c->max_ahead = WM_DEFAULT_AHEAD;
}

static void conf_free(struct conf *c)
{
	for (int i = 0; i < c->ngroup_fields; i++)
		path_free(&c->gpaths[i]);
	free(c->gpaths);
	c->gpaths = NULL;
	c->ngroup_fields = 0;
}

/* Parses argv into o and c (from the start: a reload parses again). */
static void parse_args(int argc, char **argv, struct es_opts *o,
		       struct conf *c)
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
		{"max-state", required_argument, 0, OPT_MAX_STATE},
		{"max-ahead", required_argument, 0, OPT_MAX_AHEAD},
		{0, 0, 0, 0}
	};
	int ch;
	optind = 0;
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT "g:a:", longopts,
				 NULL)) != -1) {
		if (opts_common(o, ch, optarg))
			continue;
		switch (ch) {
		case OPT_TUMBLING:
			set_kind(c, K_TUMBLING, "--tumbling");
			c->size = opts_duration("--tumbling", optarg, false);
			break;
		case OPT_HOPPING:
			set_kind(c, K_HOPPING, "--hopping");
			c->size = opts_duration("--hopping", optarg, false);
			break;
		case OPT_EVERY: c->every_arg = optarg; break;
		case OPT_SLIDING:
			set_kind(c, K_SLIDING, "--sliding");
			c->size = opts_duration("--sliding", optarg, false);
			break;
		case OPT_SESSION:
			set_kind(c, K_SESSION, "--session");
			c->gap = opts_duration("--session", optarg, false);
			break;
		case OPT_MAX_SESSION:
			c->max_session = opts_duration("--max-session", optarg, false);
			break;
		case OPT_COUNTW:
			set_kind(c, K_COUNT, "--count");
			c->count = opts_count("--count", optarg);
			break;
		case OPT_OFFSET:
			c->offset = opts_duration("--offset", optarg, true);
			break;
		case 'g': parse_group_by(c, optarg); break;
		case 'a': c->agg_text = optarg; break;
		case OPT_TIME_FIELD: c->time_field = optarg; break;
		case OPT_TIME_UNIT:
			time_unit_opt(optarg, &c->unit);
			break;
		case OPT_TIME:
			if (!strcmp(optarg, "processing"))
				c->processing = true;
			else if (!strcmp(optarg, "event"))
				c->processing = false;
			else
				diag_usage("invalid argument '%s' for --time: "
					   "expected event or processing", optarg);
			break;
		case OPT_TIME_FORMAT:
			if (!strcmp(optarg, "rfc3339"))
				c->out_repr = TIME_RFC3339;
			else if (time_unit_parse(optarg, &c->out_repr) ||
				 c->out_repr == TIME_AUTO)
				diag_usage("invalid argument '%s' for --time-format: "
					   "expected rfc3339, s, ms, us or ns", optarg);
			break;
		case OPT_LATENESS:
			c->lateness = opts_duration("--lateness", optarg, true);
			break;
		case OPT_LATE: c->late_path = optarg; break;
		case OPT_IDLE: c->idle = opts_duration("--idle", optarg, false); break;
		case OPT_FLUSH_ON_EXIT: c->flush_on_exit = true; break;
		case OPT_MAX_GROUPS:
			c->max_groups = opts_count("--max-groups", optarg);
			break;
		case OPT_MAX_STATE:
			c->max_state = opts_size("--max-state", optarg);
			break;
		case OPT_MAX_AHEAD:
			c->max_ahead = opts_duration("--max-ahead", optarg, true);
			break;
		default: opts_bad_option();
		}
	}
}

/* Window bounds must be exact in the --time-format asked for. */
static void check_time_format(const struct conf *c)
{
	int64_t unit = c->out_repr == TIME_S ? US_PER_S :
		       c->out_repr == TIME_MS ? US_PER_MS : 1;
	int64_t d[] = { c->size, c->every, c->offset, c->gap, c->max_session };
	const char *name = c->out_repr == TIME_S ? "s" : "ms";
	if (c->kind == K_COUNT || c->kind == K_SESSION)
		return;		/* bounds are event times, as exact as those */
	for (size_t i = 0; i < sizeof d / sizeof *d; i++)
		if (d[i] % unit)
			diag_usage("--time-format %s cannot show the bounds of these "
				   "windows exactly: use a finer unit or rfc3339",
				   name);
}

/* Every event goes into size/every windows of its group: a hopping 1d
 * every 1us would be 86,400,000,000 per event, a loop no signal ends. */
#define MAX_OVERLAP 100000

static void check_overlap(const struct conf *c)
{
	long long n = 1;
	if (c->kind == K_HOPPING)
		n = c->size / c->every + (c->size % c->every != 0);
	else if (c->kind == K_COUNT)
		n = c->count / c->count_every + (c->count % c->count_every != 0);
	if (n > MAX_OVERLAP)
		diag_usage("--every %s puts each event in %lld windows; at most "
			   "%d: use a coarser --every", c->every_arg, n,
			   MAX_OVERLAP);
}

static void check_args(struct conf *c)
{
	if (c->kind == K_NONE)
		diag_usage("a window is needed: --tumbling, --hopping, --sliding, "
			   "--session or --count");
	if (c->every_arg) {
		if (c->kind == K_HOPPING)
			c->every = opts_duration("--every", c->every_arg, false);
		else if (c->kind == K_COUNT)
			c->count_every = opts_count("--every", c->every_arg);
		else
			diag_usage("--every goes with --hopping or --count");
	} else if (c->kind == K_HOPPING) {
		diag_usage("--hopping needs --every");
	}
	if (c->kind == K_COUNT && !c->count_every)
		c->count_every = c->count;
	if (c->kind == K_HOPPING && c->every > c->size)
		diag_usage("--every must not exceed the --hopping size");
	if (c->kind == K_COUNT && c->count_every > c->count)
		diag_usage("--every must not exceed the --count size");
	check_overlap(c);
	check_time_format(c);
	if (c->max_session && c->kind != K_SESSION)
		diag_usage("--max-session goes with --session");
	if (c->offset && c->kind != K_TUMBLING && c->kind != K_HOPPING)
		diag_usage("--offset goes with --tumbling or --hopping");
	if (c->processing && !c->out_repr)
		c->out_repr = TIME_MS;
}

static unsigned long long reloads;

static void stats_extra(char *buf, size_t n)
{
	int len = snprintf(buf, n, ",\"groups\":%d,\"evicted\":%llu,"
			   "\"state_bytes\":%zu", peak_groups, evicted, peak_state);
	if (reload_enabled() && len >= 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, ",\"reloads\":%llu", reloads);
}

static void flush_out(void *ctx)
{
	out_flush(ctx);
}

/* ---- the definition's state ---- */

/*
 * Sets up what the definition in cfg needs: the aggregates, the slots of
 * their fields, of the group and time fields in fs (a fieldset only grows:
 * a reload adds the paths it needs, the reader is told), the output fields.
 */
static void state_setup(struct fieldset *fs)
{
	char err[256];
	const char *perr;
	nspecs = agg_parse(cfg.agg_text, &specs, err, sizeof err);
	if (nspecs < 0)
		diag_usage("invalid --agg '%s': %s", cfg.agg_text, err);
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
	int ng = cfg.ngroup_fields;
	gslots = xrealloc(NULL, (size_t)(ng ? ng : 1) * sizeof *gslots);
	for (int i = 0; i < ng; i++)
		gslots[i] = fieldset_add(fs, &cfg.gpaths[i]);
	/* processing time reads no field: a CSV need not have one */
	time_slot = cfg.processing ? -1 : fieldset_add_text(fs, cfg.time_field,
							       "--time-field");
	state_size = agg_state_size(specs, nspecs);
	hspec = xrealloc(NULL, (size_t)(nspecs ? nspecs : 1) * sizeof *hspec);
	nhspec = agg_heap_slots(specs, nspecs, hspec);
	keys = keytab_new();

	nofs = 2 + ng + nspecs;
	ofs = xrealloc(NULL, (size_t)nofs * sizeof *ofs);
	ofs[0].name = "window_start";
	ofs[1].name = "window_end";
	for (int i = 0; i < ng; i++)
		ofs[2 + i].name = cfg.gpaths[i].text;
	for (int i = 0; i < nspecs; i++)
		ofs[2 + ng + i].name = specs[i].name;
	for (int i = 0; i < nofs; i++)
		ofs[i].namelen = strlen(ofs[i].name);
	res = xrealloc(NULL, (size_t)(nspecs ? nspecs : 1) * sizeof *res);
	ev_vals = xrealloc(NULL, (size_t)(nspecs ? nspecs : 1) * sizeof *ev_vals);
}

/* Frees every group, window, pane and buffered event, and what
 * state_setup() made; the watermark is the caller's. */
static void state_free(void)
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
	free(pane_base);
	panes = pane_base = NULL;
	npanes = cappanes = pane_off = 0;
	free(heap);
	heap = NULL;
	nheap = capheap = 0;
	free(groups);
	groups = NULL;
	ngroups_cap = nlive = 0;
	lru_head = lru_tail = -1;
	births = 0;
	keytab_free(keys);
	keys = NULL;
	free(gslots);
	gslots = NULL;
	free(hspec);
	hspec = NULL;
	nhspec = 0;
	agg_heap = ev_bytes = 0;	/* nothing is held any more */
	agg_specs_free(specs, nspecs);
	specs = NULL;
	nspecs = 0;
	free(ofs);
	ofs = NULL;
	free(res);
	res = NULL;
	free(ev_vals);
	ev_vals = NULL;
}

/* ---- reloading --config ---- */

static bool paths_same(const struct conf *a, const struct conf *b)
{
	if (a->ngroup_fields != b->ngroup_fields)
		return false;
	for (int i = 0; i < a->ngroup_fields; i++)
		if (strcmp(a->gpaths[i].text, b->gpaths[i].text))
			return false;
	return true;
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
static bool time_same(const struct conf *a, const struct conf *b)
{
	return a->processing == b->processing &&
	       (a->processing || (a->unit == b->unit &&
				  !strcmp(a->time_field, b->time_field)));
}

/* Is the window definition of c (aggregates ns) the running one? */
static bool def_same(const struct conf *c, const struct agg_spec *ns, int nn)
{
	return c->kind == cfg.kind && c->size == cfg.size &&
	       c->every == cfg.every && c->offset == cfg.offset &&
	       c->gap == cfg.gap && c->max_session == cfg.max_session &&
	       c->count == cfg.count && c->count_every == cfg.count_every &&
	       paths_same(c, &cfg) && time_same(c, &cfg) &&
	       nn == nspecs && specs_same(ns, specs, nn);
}

/* Would c write the same output fields as the running definition? */
static bool columns_same(const struct conf *c, const struct agg_spec *ns,
			 int nn)
{
	if (!paths_same(c, &cfg) || nn != nspecs)
		return false;
	for (int i = 0; i < nn; i++)
		if (strcmp(ns[i].name, specs[i].name))
			return false;
	return true;
}

/* Can --late FILE be opened (created, appended to)? */
static bool late_ok(const char *path, char *why, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(why, n, "cannot open late-events file %s: %s", path,
			 strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

/* The same definition: every window, group and the watermark stay; the
 * other options of c apply. */
static void keep_definition(struct conf *c, char *said, size_t n)
{
	char size[32];
	struct path *gp = cfg.gpaths;
	int ng = cfg.ngroup_fields;
	conf_free(c);	/* its paths are the running ones: keep those */
	cfg = *c;
	cfg.gpaths = gp;
	cfg.ngroup_fields = ng;
	int len = snprintf(said, n, "same window definition, open windows kept");
	long over = 0;
	while (nlive > cfg.max_groups) {
		evict_lru(BY_GROUPS);
		over++;
	}
	if (over && len >= 0 && (size_t)len < n)
		len += snprintf(said + len, n - (size_t)len, "; --max-groups %ld: "
				"the windows of %ld group%s written early",
				cfg.max_groups, over, over == 1 ? "" : "s");
	over = 0;
	while (lru_tail >= 0 && state_bytes() > cfg.max_state) {
		evict_lru(BY_STATE);
		over++;
	}
	if (over && len >= 0 && (size_t)len < n)
		snprintf(said + len, n - (size_t)len, "; --max-state %s: the "
			 "windows of %ld group%s written early",
			 opts_size_text(cfg.max_state, size, sizeof size),
			 over, over == 1 ? "" : "s");
}

/* A new definition: the open windows are written as at the end of the
 * input, then c's definition starts afresh. */
static void new_definition(struct conf *c, const struct agg_spec *ns, int nn,
			   struct fieldset *fs, struct reader *r,
			   struct outbuf *out, enum format fmt, char *said,
			   size_t n)
{
	unsigned long long open = open_windows(NULL);
	bool same_time = time_same(c, &cfg);
	bool same_cols = columns_same(c, ns, nn);
	flush_all();
	state_free();
	conf_free(&cfg);
	cfg = *c;
	state_setup(fs);
	reader_fields_changed(r);
	if (!same_time) {	/* another clock: the old watermark means nothing */
		max_t = wm = INT64_MIN;
		have_time = false;
		time_unit = cfg.unit;
		wm_reset(&wmk);
	}
	if (!same_cols) {	/* CSV: a new header line for the new fields */
		writer_close(out_w);
		out_w = writer_open(out, fmt);
	}
	snprintf(said, n, "new window definition, %llu open window%s written%s",
		 open, open == 1 ? "" : "s",
		 same_time ? "" : "; the watermark starts again");
}

/* The command line in use since the last reload (cfg points into it). */
static char **conf_words;

/*
 * Applies the checked command line av (its words must outlive cfg's use of
 * them): keeps or replaces the definition, applies the other options.
 * Returns 0 when the running configuration stays (a --late file that
 * cannot be opened: said), 1 when the definition was kept, 2 when it was
 * replaced; what was done in said.
 */
static int conf_apply(int ac, char **av, struct fieldset *fs,
		      struct reader *r, struct outbuf *out, enum format fmt,
		      char *said, size_t n)
{
	struct es_opts no;
	struct conf c;
	opts_init(&no);
	conf_init(&c);
	parse_args(ac, av, &no, &c);
	check_args(&c);
	char why[PATH_MAX + 128];
	bool late_moved = !c.late_path != !cfg.late_path ||
			  (c.late_path && strcmp(c.late_path, cfg.late_path));
	if (late_moved && c.late_path && !late_ok(c.late_path, why, sizeof why)) {
		reload_refuse(why);
		conf_free(&c);
		return 0;
	}
	struct agg_spec *ns = NULL;
	int nn = agg_parse(c.agg_text, &ns, why, sizeof why);	/* checked */
	int done = nn >= 0 && def_same(&c, ns, nn) ? 1 : 2;
	/* Events held for confirmation were read under the old fields. */
	wm_end(&wmk, window_event, NULL);
	if (done == 1)
		keep_definition(&c, said, n);
	else
		new_definition(&c, ns, nn, fs, r, out, fmt, said, n);
	if (nn >= 0)
		agg_specs_free(ns, nn);
	/* A lower --lateness moves the watermark now, so that the next event
	 * is judged late or not against the watermark it would close. */
	if (have_time && cfg.kind != K_COUNT)
		advance(sat_add(max_t, -cfg.lateness));
	wm_set(&wmk, cfg.max_ahead, fieldset_count(fs));
	diag_set_late(cfg.late_path);	/* the same file, or a new one */
	if (late_moved)
		diag_reopen();
	reloads++;
	return done;
}

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * records: the file was checked by reload_argv(). Returns false if the
 * running configuration stays.
 */
static bool conf_reload(struct fieldset *fs, struct reader *r,
			struct outbuf *out, enum format fmt)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return false;
	char said[256];
	if (!conf_apply(ac, av, fs, r, out, fmt, said, sizeof said)) {
		reload_free(av);
		return false;
	}
	reload_said(said);
	reload_free(conf_words);
	conf_words = av;
	return true;
}

static void cleanup(void)
{
	wm_free(&wmk);
	state_free();
	conf_free(&cfg);
	out_free(&key);
	scratch_free(&sc);
	reload_free(conf_words);
}

int main(int argc, char **argv)
{
	struct es_opts o;

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	conf_init(&cfg);
	parse_args(argc, argv, &o, &cfg);
	if (o.help)
		usage();
	opts_apply(&o);
	check_args(&cfg);
	time_unit = cfg.unit;
	diag_set_stats_extra(stats_extra);
	struct fieldset *fs = fieldset_new();
	state_setup(fs);
	wm_init(&wmk, cfg.max_ahead, fieldset_count(fs));
	opts_check_done(&o);
	if (cfg.late_path)
		diag_set_late(cfg.late_path);
	loop_signals();
	reload_init(&o);

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	enum format out_fmt = o.out_fmt;
	out_w = writer_open(&out, out_fmt);
	struct record rec;
	int64_t last_input = loop_now_ms();
	int timeout = cfg.processing || cfg.idle ? (int)((cfg.idle + 999) / 1000) : -1;
	for (;;) {
		/* Between two records: the record read next is the first one
		 * the new configuration sees (its fields are in fs). */
		if (reload_due()) {
			bool clocked = cfg.processing || cfg.idle;
			if (conf_reload(fs, r, &out, out_fmt)) {
				if (!clocked)	/* silence counts from now */
					last_input = loop_now_ms();
				timeout = on_silence(loop_now_ms() - last_input);
			}
		}
		int held = wm_idle(&wmk, window_event, NULL);
		reader_set_timeout(r, reload_timeout(wm_timeout(timeout, held)));
		int got = reader_next(r, &rec);
		if (got == 0)
			break;
		if (got > 0) {
			if (out_fmt == FMT_AUTO)
				out_fmt = o.out_fmt ? o.out_fmt : rec.fmt;
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
	wm_end(&wmk, window_event, NULL);
	if (!loop_stop || cfg.flush_on_exit)
		flush_all();
	else
		drop_open_windows();
	writer_close(out_w);
	reader_close(r);
	fieldset_free(fs);
	cleanup();
	diag_finish();
	out_free(&out);
	return diag_status;
}
