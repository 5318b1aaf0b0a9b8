/* detect.c - online anomaly detection per key, in one pass */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "diag.h"
#include "mem.h"
#include "number.h"
#include "roll.h"
#include "stats.h"

#define MAD_SCALE 1.4826	/* MAD to sd for normal data */

struct kstate {
	struct roll r;		/* --zscore, --mad */
	double m, v;		/* --ewma */
	long n;			/* points seen */
	bool up, down;		/* in an excursion above / below */
};

/* ---- scoring ---- */

struct verdict {
	bool anomaly, known;	/* known: score is a number */
	double score;
};

/* x against a centre and a spread (sd or scaled MAD). */
static struct verdict judge(const struct detect_conf *c, double x,
			    double centre, double spread)
{
	struct verdict v = { false, true, 0 };
	if (spread > 0) {
		v.score = (x - centre) / spread;
		v.anomaly = fabs(v.score) > c->k;
	} else if (x != centre) {
		v.known = false;	/* infinitely far: no number says it */
		v.anomaly = true;
	}
	return v;
}

/* What a key's window takes: it grows with the points, up to the
 * window's bound, so --max-state counts it. */
static size_t roll_bytes(const struct roll *r)
{
	size_t point = sizeof *r->x + sizeof *r->t +
		       (r->keep_sorted ? sizeof *r->sorted : 0);
	return (size_t)r->cap * point;
}

static void window_push(struct detect *d, struct kstate *st, double x,
			int64_t t)
{
	const struct detect_conf *c = d->cfg;
	int cap = st->r.cap;
	if (st->r.max == 0)
		roll_init(&st->r, c->window ? (int)c->window
					    : DETECT_TIME_WINDOW_MAX,
			  c->method == DETECT_MAD);
	bool full = roll_push(&st->r, x, t);
	/* may forget other keys (not st) */
	if (st->r.cap != cap)
		keyed_held(d->s.keys, st, roll_bytes(&st->r));
	if (full && !c->window) {
		if (!d->warned)
			diag_warn("a --window of time holds %d points of one key: "
				  "the oldest go early (counted as \"trimmed\" in "
				  "--stats)", DETECT_TIME_WINDOW_MAX);
		d->warned = true;
		d->trimmed++;
	}
}

static struct verdict score_window(struct detect *d, struct kstate *st,
				   double x, int64_t t)
{
	const struct detect_conf *c = d->cfg;
	struct verdict v = { false, false, 0 };
	if (c->span && st->r.n)
		roll_expire(&st->r, t - c->span);
	if (st->r.n >= c->warmup) {
		if (c->method == DETECT_ZSCORE) {
			v = judge(c, x, roll_mean(&st->r), roll_sd(&st->r));
		} else {
			v = judge(c, x, roll_median(&st->r),
				  MAD_SCALE * roll_mad(&st->r));
		}
	}
	window_push(d, st, x, t);
	return v;
}

static struct verdict score_ewma(const struct detect_conf *c,
				 struct kstate *st, double x)
{
	struct verdict v = { false, false, 0 };
	if (st->n == 0) {
		st->m = x;
		st->v = 0;
		return v;
	}
	double dx = x - st->m;
	if (st->n >= c->warmup)
		v = judge(c, x, st->m, sqrt(st->v));
	st->m += c->alpha * dx;
	st->v = (1 - c->alpha) * (st->v + c->alpha * dx * dx);
	return v;
}

/* One anomaly per excursion: when the value crosses the threshold; the
 * excursion ends when it is back past the clear level. */
static struct verdict score_threshold(const struct detect_conf *c,
				      struct kstate *st, double x)
{
	struct verdict v = { false, true, -INFINITY };
	if (c->above) {
		if (!st->up && x > c->above_x)
			st->up = v.anomaly = true;
		else if (st->up && x <= c->above_clear)
			st->up = false;
		v.score = x - c->above_x;
	}
	if (c->below) {
		if (!st->down && x < c->below_x)
			st->down = v.anomaly = true;
		else if (st->down && x >= c->below_clear)
			st->down = false;
		if (c->below_x - x > v.score)
			v.score = c->below_x - x;
	}
	return v;
}

/* ---- output: the record with anomaly and score ---- */

/* Writes m / 10^4 with no trailing zeros: the text number_format gives
 * for that value, without its printf and strtod round trips (a third of
 * the time of a run). */
static size_t fixed4(int64_t m, char *buf)
{
	char tmp[24];
	size_t n = 0, t = 0;
	if (m < 0) {
		buf[n++] = '-';
		m = -m;
	}
	int64_t whole = m / 10000, frac = m % 10000;
	do
		tmp[t++] = (char)('0' + whole % 10);
	while ((whole /= 10) > 0);
	while (t)
		buf[n++] = tmp[--t];
	if (frac) {
		int digits = 4;
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		buf[n++] = '.';
		for (int i = digits - 1; i >= 0; i--, frac /= 10)
			buf[n + (size_t)i] = (char)('0' + frac % 10);
		n += (size_t)digits;
	}
	return n;
}

static size_t score_text(const struct verdict *v, char *buf)
{
	if (!v->known) {
		memcpy(buf, "null", 4);
		return 4;
	}
	/* Four decimals are plenty for a score, and read well. */
	double r = round(v->score * 1e4);
	if (fabs(r) < 1e15)
		return fixed4((int64_t)r, buf);
	return number_format(r / 1e4, buf);
}

/* NDJSON in and out, no field of those names yet: the two fields go in
 * before the closing brace, the rest stays byte for byte. */
static void put_spliced(struct outbuf *out, const struct record *rec,
			const struct verdict *v)
{
	size_t cut, last;	/* last: the closing brace */
	/* a scanned object: it has one */
	json_splice_at(rec->raw, rec->rawlen, &cut, &last);
	bool empty = rec->raw[cut - 1] == '{';
	char buf[40];
	out_put(out, rec->raw, last);
	out_puts(out, empty ? "\"anomaly\":" : ",\"anomaly\":");
	out_puts(out, v->anomaly ? "true" : "false");
	out_puts(out, ",\"score\":");
	out_put(out, buf, score_text(v, buf));
	out_put(out, rec->raw + last, rec->rawlen - last);
	out_putc(out, '\n');
	stats.out++;
}

/* Other cases: the record's fields are rebuilt (an old anomaly or score
 * field is replaced). */
static const struct member *members_of(struct detect *d,
				       const struct record *rec, size_t *n)
{
	if (!d->mfs) {
		d->mfs = fieldset_new();
		fieldset_want_members(d->mfs, true);
	}
	return record_fields(rec, d->mfs, &d->js, n);
}

static void key_name(struct scratch *sc, const struct span *k,
		     const char **p, size_t *n)
{
	if (k->kind == SPAN_CSV) {
		*p = k->p;
		*n = k->n;
	} else if (!k->escaped) {
		*p = k->p + 1;
		*n = k->n - 2;
	} else {
		char *b = scratch_alloc(sc, k->n);
		*n = json_unescape(k, b);
		*p = b;
	}
}

static bool named(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && !memcmp(p, name, n);
}

static void put_rebuilt(struct detect *d, const struct record *rec,
			const struct verdict *v)
{
	size_t nm, nf = 0;
	const struct member *m = members_of(d, rec, &nm);
	char buf[40];
	if (nm + 2 > d->ofcap) {
		d->ofcap = nm + 2;
		d->of = xrealloc(d->of, d->ofcap * sizeof *d->of);
	}
	struct ofield *of = d->of;
	for (size_t i = 0; i < nm; i++) {
		struct ofield *f = &of[nf];
		key_name(&d->s.sc, &m[i].key, &f->name, &f->namelen);
		if (named(f->name, f->namelen, "anomaly") ||
		    named(f->name, f->namelen, "score"))
			continue;
		if (value_load(&m[i].val, &f->v, &d->s.sc))
			f->v.t = V_NULL;
		nf++;
	}
	of[nf] = (struct ofield){ "anomaly", 7, { .t = V_BOOL } };
	of[nf++].v.u.b = v->anomaly;
	of[nf] = (struct ofield){ "score", 5, { .t = V_NULL } };
	if (v->known) {
		of[nf].v.t = V_DOUBLE;
		of[nf].v.s = buf;
		of[nf].v.n = score_text(v, buf);
	}
	nf++;
	const char *err;
	if (writer_put_fields(d->w, of, nf, &err) < 0)
		record_bad(rec, err);
}

static void put(struct detect *d, const struct record *rec,
		const struct verdict *v)
{
	if (d->ofmt == FMT_AUTO) {
		d->ofmt = rec->fmt;
		writer_set_format(d->w, d->ofmt);
	}
	bool plain = rec->fmt == FMT_NDJSON && d->ofmt == FMT_NDJSON &&
		     rec->slots[d->aslot].kind == SPAN_MISSING &&
		     rec->slots[d->sslot].kind == SPAN_MISSING;
	if (plain)
		put_spliced(d->out, rec, v);
	else
		put_rebuilt(d, rec, v);
}

/* ---- per record ---- */

/* A record whose time the watermark rule accepted; a held one comes
 * back later, its value to be read again. */
static void timed_record(const struct record *rec, int64_t t, void *ctx)
{
	struct detect *d = ctx;
	const struct detect_conf *c = d->cfg;
	double x;
	bool fresh;
	struct verdict v;
	if (!series_x(&d->s, rec, &x))
		return;
	struct kstate *st = series_state(&d->s, rec, &fresh);
	switch (c->method) {
	case DETECT_EWMA: v = score_ewma(c, st, x); break;
	case DETECT_THRESHOLD: v = score_threshold(c, st, x); break;
	default: v = score_window(d, st, x, t); break;
	}
	st->n++;
	if (v.anomaly)
		d->anomalies++;
	if (v.anomaly || !c->only)
		put(d, rec, &v);
	else
		d->filtered++;
}

void detect_record(struct detect *d, const struct record *rec)
{
	series_record(&d->s, rec, timed_record, d);
}

int detect_idle(struct detect *d)
{
	return series_idle(&d->s, timed_record, d);
}

static void drop(void *state, void *ctx)
{
	(void)ctx;
	roll_free(&((struct kstate *)state)->r);
}

/* ---- set-up, reload, end ---- */

/* The slots of the fields (again after a reload). */
static int fields(struct detect *d, struct fieldset *fs, char *err, size_t n)
{
	struct detect_conf *c = d->cfg;
	const char *why;
	/* only a --window of time reads the time */
	if (series_fields(&d->s, fs, &c->s, c->span != 0, err, n))
		return -1;
	/* Present already: the record is rebuilt with them replaced. */
	d->aslot = fieldset_add_text(fs, "anomaly", true, &why);
	d->sslot = fieldset_add_text(fs, "score", true, &why);
	return 0;
}

int detect_init(struct detect *d, struct detect_conf *c, struct fieldset *fs,
		char *err, size_t n)
{
	memset(d, 0, sizeof *d);
	d->cfg = c;
	return fields(d, fs, err, n);
}

void detect_start(struct detect *d, struct writer *w, struct outbuf *out,
		  enum format ofmt, int nslots)
{
	const struct detect_conf *c = d->cfg;
	d->w = w;
	d->out = out;
	d->ofmt = ofmt;
	series_start(&d->s, sizeof(struct kstate), &c->s, drop, d, nslots);
}

/* True if a key's statistics under a mean the same under b: the same
 * series (keys, value), method and window, times read the same way.
 * Thresholds (K, --above, --below, --clear), --ewma's weight, --warmup
 * and --only-anomalies do not change what the statistics are. */
static bool same_series(const struct detect_conf *a, struct detect_conf *b)
{
	return a->method == b->method && a->window == b->window &&
	       a->span == b->span && series_same(&a->s, &b->s, a->span != 0);
}

void detect_reconf(struct detect *d, struct detect_conf *nc,
		   struct fieldset *fs, char *said, size_t n)
{
	bool same = same_series(d->cfg, nc);
	series_drain(&d->s, same, timed_record, d);
	series_reload(&d->s, same, said, n);
	d->cfg = nc;
	/* good: the reload's --check set them up */
	fields(d, fs, said, 0);
	series_limits(&d->s, &nc->s, fieldset_count(fs));
}

void detect_finish(struct detect *d)
{
	series_end(&d->s, timed_record, d);
	series_close(&d->s);
}

void detect_stats(const struct detect *d, char *buf, size_t n)
{
	struct keyed_counts kc = series_counts(&d->s);
	snprintf(buf, n, ",\"filtered\":%llu,\"anomalies\":%llu,\"keys\":%d,"
		 "\"evicted\":%llu,\"trimmed\":%llu,\"state_bytes\":%zu",
		 d->filtered, d->anomalies, kc.peak, kc.evicted, d->trimmed,
		 kc.peak_bytes);
}

void detect_free(struct detect *d)
{
	if (d->mfs)
		fieldset_free(d->mfs);
	free(d->js.slots);
	free(d->js.members);
	free(d->of);
	series_free(&d->s);
}
