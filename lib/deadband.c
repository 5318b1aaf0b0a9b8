/* deadband.c - report by exception: the dead band and the swinging door */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadband.h"
#include "diag.h"
#include "mem.h"

struct kstate {
	double last;		/* the value last passed (the pivot) */
	int64_t last_t;		/* and its event time */
	/* --swinging-door */
	bool held;
	double xh, lo, hi;	/* held value; the door's slopes (per us) */
	int64_t th;
	uint64_t hseq;		/* arrival order of the held record */
	struct held *sv;
};

bool deadband_uses_time(const struct deadband_conf *c)
{
	return c->silence || c->has_door;
}

static void pass(struct deadband *d, const struct record *rec)
{
	if (d->emit(rec, d->ctx))
		d->bytes_out += rec->rawlen + 1;
}

static void set_pivot(struct kstate *st, double x, int64_t t)
{
	st->last = x;
	st->last_t = t;
	st->held = false;
}

/* The door closes: the held point is kept and becomes the pivot. */
static void emit_held(struct deadband *d, struct kstate *st)
{
	if (!st->held)
		return;
	pass(d, &st->sv->rec);
	set_pivot(st, st->xh, st->th);
}

static void hold(struct deadband *d, struct kstate *st,
		 const struct record *rec, double x, int64_t t)
{
	if (!st->sv)
		st->sv = held_new();
	held_save(st->sv, &d->hdrs, rec);
	st->held = true;
	st->xh = x;
	st->th = t;
	st->hseq = d->seq;
	/* may forget other keys, whose held points go out first */
	keyed_held(d->s.keys, st, held_bytes(st->sv));
}

static void door_event(struct deadband *d, struct kstate *st,
		       const struct record *rec, double x, int64_t t)
{
	double e = d->cfg->door;
	for (;;) {
		if (t <= st->last_t) {
			/* Not after the pivot: no line from it can pass
			 * through P, so P is kept. */
			emit_held(d, st);
			pass(d, rec);
			set_pivot(st, x, t);
			return;
		}
		double dt = (double)(t - st->last_t);
		double s = (x - st->last) / dt;
		double lo = (x - e - st->last) / dt;
		double hi = (x + e - st->last) / dt;
		if (!st->held) {
			hold(d, st, rec, x, t);
			st->lo = lo;
			st->hi = hi;
			return;
		}
		if (s >= st->lo && s <= st->hi) {
			d->filtered++;	/* the point held before P */
			hold(d, st, rec, x, t);
			if (lo > st->lo)
				st->lo = lo;
			if (hi < st->hi)
				st->hi = hi;
			return;
		}
		emit_held(d, st);	/* and judge P from the new pivot */
	}
}

static bool moved(const struct deadband_conf *c, const struct kstate *st,
		  double x)
{
	double dx = fabs(x - st->last);
	return (c->has_abs && dx > c->abs) ||
	       (c->has_pct && dx > c->pct / 100 * fabs(st->last));
}

/* A record whose time the watermark rule accepted; a held one comes
 * back later, its value to be read again. */
static void timed_record(const struct record *rec, int64_t t, void *ctx)
{
	struct deadband *d = ctx;
	const struct deadband_conf *c = d->cfg;
	double x;
	bool fresh;
	if (!series_x(&d->s, rec, &x))
		return;
	d->bytes_in += rec->rawlen + 1;
	d->seq++;
	struct kstate *st = series_state(&d->s, rec, &fresh);
	if (fresh || (c->silence && t - st->last_t >= c->silence)) {
		emit_held(d, st);
		pass(d, rec);
		set_pivot(st, x, t);
	} else if (c->has_door) {
		door_event(d, st, rec, x, t);
	} else if (moved(c, st, x)) {
		pass(d, rec);
		set_pivot(st, x, t);
	} else {
		d->filtered++;
	}
}

void deadband_record(struct deadband *d, const struct record *rec)
{
	series_record(&d->s, rec, timed_record, d);
}

int deadband_idle(struct deadband *d)
{
	return series_idle(&d->s, timed_record, d);
}

/* ---- the held points, in order of arrival ---- */

struct pending {
	struct kstate **st;
	size_t n;
};

static void collect(void *state, void *ctx)
{
	struct pending *p = ctx;
	struct kstate *st = state;
	if (st->held)
		p->st[p->n++] = st;
}

static int by_arrival(const void *a, const void *b)
{
	const struct kstate *x = *(struct kstate *const *)a;
	const struct kstate *y = *(struct kstate *const *)b;
	return x->hseq < y->hseq ? -1 : x->hseq > y->hseq;
}

static void count_keys(void *state, void *ctx)
{
	(void)state;
	++*(size_t *)ctx;
}

/* Returns how many points were held. */
static size_t emit_all_held(struct deadband *d)
{
	size_t n = 0;
	struct pending p;
	keyed_each(d->s.keys, count_keys, &n);
	p.st = xmalloc((n ? n : 1) * sizeof *p.st);
	p.n = 0;
	keyed_each(d->s.keys, collect, &p);
	qsort(p.st, p.n, sizeof *p.st, by_arrival);
	for (size_t i = 0; i < p.n; i++)
		emit_held(d, p.st[i]);
	free(p.st);
	return p.n;
}

/* A key forgotten at --max-keys or --max-state: its held point goes out
 * first (so the series can still be redrawn), then its copy is freed. */
static void drop(void *state, void *ctx)
{
	struct deadband *d = ctx;
	struct kstate *st = state;
	if (!d->draining)
		emit_held(d, st);
	held_free(st->sv);
	st->sv = NULL;
}

/* ---- set-up, reload, end ---- */

static int fields(struct deadband *d, struct fieldset *fs, char *err, size_t n)
{
	struct deadband_conf *c = d->cfg;
	/* only --max-silence and --swinging-door read the time */
	return series_fields(&d->s, fs, &c->s, deadband_uses_time(c), err, n);
}

int deadband_init(struct deadband *d, struct deadband_conf *c,
		  struct fieldset *fs, char *err, size_t n)
{
	memset(d, 0, sizeof *d);
	d->cfg = c;
	return fields(d, fs, err, n);
}

void deadband_start(struct deadband *d, deadband_emit_fn emit, void *ctx,
		    int nslots)
{
	const struct deadband_conf *c = d->cfg;
	d->emit = emit;
	d->ctx = ctx;
	series_start(&d->s, sizeof(struct kstate), &c->s, drop, d, nslots);
}

/* True if a key's state under a means the same under b: the same series
 * (keys, value), the same method, and times read the same way. */
static bool same_series(const struct deadband_conf *a,
			struct deadband_conf *b)
{
	return a->has_door == b->has_door &&
	       deadband_uses_time(a) == deadband_uses_time(b) &&
	       series_same(&a->s, &b->s, deadband_uses_time(a));
}

void deadband_reconf(struct deadband *d, struct deadband_conf *nc,
		     struct fieldset *fs, char *said, size_t n)
{
	bool same = same_series(d->cfg, nc);
	series_drain(&d->s, same, timed_record, d);
	/* the held points complete the old series before it is forgotten */
	size_t held = same ? 0 : emit_all_held(d);
	int k = series_reload(&d->s, same, said, n);
	if (!same)
		snprintf(said + k, n - (size_t)k, ", %zu held point%s written",
			 held, held == 1 ? "" : "s");
	d->cfg = nc;
	/* good: the reload's --check set them up */
	fields(d, fs, said, 0);
	series_limits(&d->s, &nc->s, fieldset_count(fs));
}

void deadband_finish(struct deadband *d)
{
	series_end(&d->s, timed_record, d);
	emit_all_held(d);
	d->draining = true;
	series_close(&d->s);
}

void deadband_stats(const struct deadband *d, unsigned long long out,
		    char *buf, size_t n)
{
	char r1[32] = "null", r2[32] = "null";
	struct keyed_counts kc = series_counts(&d->s);
	if (out) {
		snprintf(r1, sizeof r1, "%.4g", (double)d->seq / (double)out);
		snprintf(r2, sizeof r2, "%.4g", (double)d->bytes_in /
			 (double)d->bytes_out);
	}
	snprintf(buf, n, ",\"filtered\":%llu,\"keys\":%d,\"evicted\":%llu,"
		 "\"bytes_in\":%llu,\"bytes_out\":%llu,\"ratio\":%s,"
		 "\"bytes_ratio\":%s,\"state_bytes\":%zu",
		 d->filtered, kc.peak, kc.evicted, d->bytes_in, d->bytes_out, r1,
		 r2, kc.peak_bytes);
}

void deadband_free(struct deadband *d)
{
	held_headers_free(&d->hdrs);
	series_free(&d->s);
}
