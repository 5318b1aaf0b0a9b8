/* agg.c - aggregates and sketches (es-window, later es-detect)
 *
 * The state of all the aggregates of one window of one group is one block
 * (agg_state_size bytes): each spec gets a slot, 8-byte aligned, in spec
 * order, whose layout depends on its kind (8 to 80 bytes). What grows
 * lives on the heap, owned by the slot: exact value buffers (percentiles),
 * the exact distinct set, first/last values longer than 32 bytes, and the
 * sketches that replace the exact parts past AGG_EXACT_MAX values.
 *
 * Definitions (the man page of es-window repeats them):
 *   count, rate   events; rate = count / window length in seconds
 *   sum           ints are summed exactly (128 bits): an int when the
 *                 total fits int64, else a double; once a double is seen,
 *                 a compensated (Neumaier) double sum
 *   mean          compensated sum / n (Welford's running mean should the
 *                 sum leave the double range)
 *   var, stddev   sample variance (n - 1), Welford's updates, Chan et al.'s
 *                 formula to merge; null below 2 values
 *   min, max      by numeric value (ints and doubles compared exactly);
 *                 the winner keeps its type
 *   first, last   the value at the smallest / largest event time (ties:
 *                 first keeps the earliest arrival, last takes the latest),
 *                 kept exactly as the input wrote it, any type
 *   delta         last - first of a numeric field (by event time)
 *   median, pN    nearest rank: the value at rank ceil(N/100 * n), exact up
 *                 to AGG_EXACT_MAX values, then a merging t-digest
 *   distinct      exact up to AGG_EXACT_MAX distinct values, then a
 *                 HyperLogLog (p = 14) with Ertl's improved estimator
 * Missing and null values are skipped by every aggregate of a field; an
 * aggregate that saw no value is null, and so is a double result beyond
 * the range of a double (JSON has no infinity).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "diag.h"
#include "mem.h"
#include "path.h"

static char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

/* ------------------------------------------------------------------ */
/* Parsing the --agg list                                              */
/* ------------------------------------------------------------------ */

static const struct {
	const char *word;
	enum agg_kind kind;
} kind_words[] = {
	{"count", AGG_COUNT}, {"sum", AGG_SUM}, {"min", AGG_MIN},
	{"max", AGG_MAX}, {"mean", AGG_MEAN}, {"stddev", AGG_STDDEV},
	{"var", AGG_VAR}, {"first", AGG_FIRST}, {"last", AGG_LAST},
	{"median", AGG_MEDIAN}, {"distinct", AGG_DISTINCT}, {"rate", AGG_RATE},
	{"delta", AGG_DELTA},
};

/* Percentiles: p, then a decimal number without leading zeros and with at
 * most this many fraction digits, 0 < N < 100. */
#define PCT_MAX_FRAC 6

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_ws(const char *s)
{
	while (is_ws(*s))
		s++;
	return s;
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static bool word_end(char c)
{
	return !c || c == '(' || c == ')' || c == ',' || is_ws(c);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Checks "pN" (w, n bytes, w[0] == 'p', w[1] a digit); sets *pct. */
static bool pct_parse(const char *w, size_t n, double *pct)
{
	size_t i = 1, nint = 0, nfrac = 0;
	while (i < n && is_digit(w[i]))
		i++, nint++;
	if (nint > 1 && w[1] == '0')
		return false;
	if (i < n && w[i] == '.') {
		i++;
		while (i < n && is_digit(w[i]))
			i++, nfrac++;
		if (nfrac == 0 || nfrac > PCT_MAX_FRAC)
			return false;
	}
	if (i != n || nint > 2)
		return false;
	char buf[16];
	memcpy(buf, w + 1, n - 1);
	buf[n - 1] = 0;
	double v = strtod(buf, NULL);
	if (!(v > 0 && v < 100))
		return false;
	*pct = v;
	return true;
}

/* Every byte outside [A-Za-z0-9_] becomes '_'. */
static void name_part(char *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		o[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') || c == '_' ? c : '_';
	}
}

static char *default_name(const char *w, size_t wn, const char *path)
{
	if (!path)
		return xstrndup(w, wn);
	size_t pn = strlen(path);
	char *s = xmalloc(wn + 1 + pn + 1);
	name_part(s, w, wn);
	s[wn] = '_';
	name_part(s + wn + 1, path, pn);
	s[wn + 1 + pn] = 0;
	return s;
}

/* "as NAME": a bare name (the path grammar's) or a quoted key. */
static int name_parse(const char **sp, char **name, const char **err)
{
	const char *s = *sp;
	if (*s == '"') {
		struct path p;
		const char *q = s;
		if (path_parse(&q, &p, err) < 0)
			return -1;
		bool ok = p.n == 1 && p.step[0].key && p.step[0].keylen > 0 &&
			  strlen(p.step[0].key) == p.step[0].keylen;
		if (ok)
			*name = xstrndup(p.step[0].key, p.step[0].keylen);
		path_free(&p);
		if (!ok) {
			*err = "expected a name after 'as'";
			return -1;
		}
		/* path_parse took the steps after the key too: only one. */
		*sp = q;
		return 0;
	}
	if (!name_start(*s)) {
		*err = "expected a name after 'as'";
		return -1;
	}
	while (name_char(*s))
		s++;
	*name = xstrndup(*sp, (size_t)(s - *sp));
	*sp = s;
	return 0;
}

void agg_specs_free(struct agg_spec *specs, int n)
{
	if (!specs)
		return;
	for (int i = 0; i < n; i++) {
		free(specs[i].field);
		free(specs[i].name);
	}
	free(specs);
}

int agg_parse(const char *text, struct agg_spec **out, char *err, size_t errlen)
{
	struct agg_spec *specs = NULL;
	int n = 0, cap = 0;
	const char *s = skip_ws(text), *msg = NULL;
	*out = NULL;
	if (!*s) {
		snprintf(err, errlen, "empty aggregate list");
		return -1;
	}
	for (;;) {
		s = skip_ws(s);
		const char *w = s;
		while (!word_end(*s))
			s++;
		size_t wn = (size_t)(s - w);
		if (wn == 0) {
			snprintf(err, errlen, "%s", n ? "expected an aggregate after ','"
						      : "expected an aggregate");
			goto fail;
		}
		struct agg_spec sp = {.kind = AGG_COUNT, .slot = -1};
		bool known = false;
		for (size_t k = 0; k < sizeof kind_words / sizeof kind_words[0]; k++)
			if (strlen(kind_words[k].word) == wn &&
			    !memcmp(kind_words[k].word, w, wn)) {
				sp.kind = kind_words[k].kind;
				known = true;
			}
		if (!known && wn >= 2 && w[0] == 'p' && is_digit(w[1])) {
			if (!pct_parse(w, wn, &sp.pct)) {
				snprintf(err, errlen,
					 "invalid percentile '%.*s' (use p1 to p99.9...)",
					 (int)wn, w);
				goto fail;
			}
			sp.kind = AGG_PCT;
			known = true;
		}
		if (!known) {
			snprintf(err, errlen, "unknown aggregate '%.*s'", (int)wn, w);
			goto fail;
		}
		if (sp.kind == AGG_MEDIAN)
			sp.pct = 50;
		bool wants_field = sp.kind != AGG_COUNT && sp.kind != AGG_RATE;
		s = skip_ws(s);
		char *pathtext = NULL;
		if (wants_field) {
			if (*s == '(')
				s = skip_ws(s + 1);
			else
				s = NULL;
			if (!s || *s == ')') {
				snprintf(err, errlen,
					 "aggregate '%.*s' needs a field: %.*s(f)",
					 (int)wn, w, (int)wn, w);
				goto fail;
			}
			struct path p;
			const char *f = s;
			if (path_parse(&s, &p, &msg) < 0) {
				snprintf(err, errlen, "%s", msg);
				goto fail;
			}
			sp.field = xstrndup(f, (size_t)(s - f));
			pathtext = p.text;
			p.text = NULL;
			path_free(&p);
			s = skip_ws(s);
			if (*s != ')') {
				free(sp.field);
				free(pathtext);
				snprintf(err, errlen, "expected ')'");
				goto fail;
			}
			s++;
		} else if (*s == '(') {
			s = skip_ws(s + 1);
			if (*s != ')') {
				snprintf(err, errlen, "aggregate '%.*s' takes no field",
					 (int)wn, w);
				goto fail;
			}
			s++;
		}
		s = skip_ws(s);
		bool named = false;
		if (s[0] == 'a' && s[1] == 's' && !name_char(s[2])) {
			s = skip_ws(s + 2);
			if (name_parse(&s, &sp.name, &msg) < 0) {
				free(sp.field);
				free(pathtext);
				snprintf(err, errlen, "%s", msg);
				goto fail;
			}
			named = true;
		} else {
			sp.name = default_name(w, wn, pathtext);
		}
		free(pathtext);
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			specs = xrealloc(specs, (size_t)cap * sizeof *specs);
		}
		specs[n++] = sp;
		s = skip_ws(s);
		if (*s == ',') {
			s++;
			continue;
		}
		if (!*s)
			break;
		snprintf(err, errlen, "%s", named ? "expected ','" : "expected ',' or 'as'");
		goto fail;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(specs[i].name, specs[j].name)) {
				snprintf(err, errlen, "duplicate aggregate name '%s'",
					 specs[i].name);
				goto fail;
			}
	*out = specs;
	return n;
fail:
	agg_specs_free(specs, n);
	return -1;
}

/* Tested as a bit of a constant: agg_state_add asks for each value. */
#define TEXT_KINDS (1u << AGG_COUNT | 1u << AGG_RATE | 1u << AGG_FIRST | \
		    1u << AGG_LAST | 1u << AGG_DISTINCT)

bool agg_needs_number(enum agg_kind k)
{
	return !(TEXT_KINDS >> k & 1);
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

/* A number of the input: an int64 or a double. */
struct num {
	bool isint;
	int64_t i;
	double d;
};

static struct num num_of(const struct value *v)
{
	struct num x = {.isint = v->t == V_INT};
	if (x.isint)
		x.i = v->u.i;
	else
		x.d = v->u.d;
	return x;
}

static double num_d(const struct num *x)
{
	return x->isint ? (double)x->i : x->d;
}

/* Compares an int with a double exactly (NaN compares as equal). */
static int cmp_int_double(int64_t a, double b)
{
	if (b >= 9223372036854775808.0)
		return -1;
	if (b < -9223372036854775808.0)
		return 1;
	if (b != b)
		return 0;
	int64_t bi = (int64_t)b;	/* truncated toward zero */
	if (a != bi)
		return a < bi ? -1 : 1;
	double frac = b - (double)bi;
	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

static int num_cmp(const struct num *a, const struct num *b)
{
	if (a->isint && b->isint)
		return a->i < b->i ? -1 : a->i > b->i;
	if (a->isint)
		return cmp_int_double(a->i, b->d);
	if (b->isint)
		return -cmp_int_double(b->i, a->d);
	return a->d < b->d ? -1 : a->d > b->d;
}

/* Neumaier's compensated sum: s + c is the sum. */
static void ksum(double *s, double *c, double x)
{
	double t = *s + x;
	if (fabs(*s) >= fabs(x))
		*c += (*s - t) + x;
	else
		*c += (x - t) + *s;
	*s = t;
}

static void ksum_int(double *s, double *c, int64_t i)
{
	/* Two exact halves, so that big ints lose nothing on the way in. */
	int64_t hi = i / 4294967296, lo = i % 4294967296;
	ksum(s, c, (double)hi * 4294967296.0);
	ksum(s, c, (double)lo);
}

/* A double result; non-finite sums (input beyond double range) are null. */
static void out_double(struct value *o, double d)
{
	o->s = NULL;
	o->n = 0;
	if (isfinite(d)) {
		o->t = V_DOUBLE;
		o->u.d = d;
	} else {
		o->t = V_NULL;
	}
}

static void out_int(struct value *o, int64_t i)
{
	o->t = V_INT;
	o->u.i = i;
	o->s = NULL;
	o->n = 0;
}

static void out_null(struct value *o)
{
	o->t = V_NULL;
	o->s = NULL;
	o->n = 0;
}

static void out_num(struct value *o, const struct num *x)
{
	if (x->isint)
		out_int(o, x->i);
	else
		out_double(o, x->d);
}

/* ------------------------------------------------------------------ */
/* Hashing (distinct)                                                  */
/* ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* 64-bit hash of bytes: each 8-byte word is folded in through the
 * splitmix64 finalizer (a bijection), the length into the seed. */
static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = mix64(seed ^ (n * 0x9e3779b97f4a7c15ULL));
	while (n >= 8) {
		uint64_t k;
		memcpy(&k, b, 8);
		h = mix64(h ^ k) + 0x9e3779b97f4a7c15ULL;
		b += 8;
		n -= 8;
	}
	if (n) {
		uint64_t k = 0;
		memcpy(&k, b, n);
		h = mix64(h ^ k ^ 0x5bd1e9955bd1e995ULL);
	}
	return mix64(h);
}

#define HASH_SEED1 0x243f6a8885a308d3ULL
#define HASH_SEED2 0x13198a2e03707344ULL

/* ------------------------------------------------------------------ */
/* t-digest (merging variant)                                          */
/* ------------------------------------------------------------------ */

/*
 * Dunning & Ertl, "Computing extremely accurate quantiles using
 * t-digests": values are buffered; when the buffer is full, buffer and
 * centroids are sorted together and swept once, greedily merging
 * neighbours while the merged centroid spans at most 1 in k, with the
 * scale function k1(q) = delta / (2 pi) * asin(2q - 1). Sweeps alternate
 * in direction so that neither tail collects the leftovers. Adjacent
 * centroids together always span more than 1, so there are at most delta
 * of them (k1 ranges over delta / 2). delta = 300 (not the paper's usual
 * 100): with 100, the rank error at p99 of skewed data reached 0.1%; the
 * memory is mostly the buffer anyway. The bounds measured with
 * tests/unit/agg-test.c, stated in es-window(1): rank error below 0.5% of
 * n for any percentile, 0.2% at p99 / p1 and beyond, 0.1% at p99.9 / p0.1
 * and beyond (worst seen: 0.19%, 0.073%, 0.033%).
 */
#define TD_DELTA 300.0
#define TD_MAXC 316		/* centroids after a sweep (bound above: delta) */
#define TD_BUF 500		/* buffered values before a sweep */

struct centroid {
	double mean, w;
	bool pure;		/* all its values are equal (== mean) */
};

struct tdigest {
	double total;		/* weight of the centroids c[0..nc) */
	double bufw;		/* weight of the buffer c[nc..nc+nb) */
	double min, max;
	int nc, nb;
	bool flip;
	struct centroid c[TD_MAXC + TD_BUF];
};

static double td_k(double q)
{
	return TD_DELTA / (2 * M_PI) * asin(2 * q - 1);
}

static double td_kinv(double k)
{
	if (k >= TD_DELTA / 4)
		return 1;
	return (sin(k * 2 * M_PI / TD_DELTA) + 1) / 2;
}

/* Sorts c[0..n) by mean: quicksort (median of three, insertion sort for
 * short runs), heapsort past a depth limit, so never quadratic. */
static void centroid_swap(struct centroid *a, struct centroid *b)
{
	struct centroid t = *a;
	*a = *b;
	*b = t;
}

static void centroid_sift(struct centroid *c, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && c[l].mean > c[m].mean)
			m = l;
		if (l + 1 < n && c[l + 1].mean > c[m].mean)
			m = l + 1;
		if (m == i)
			return;
		centroid_swap(&c[i], &c[m]);
		i = m;
	}
}

static void centroid_heapsort(struct centroid *c, size_t n)
{
	for (size_t k = n / 2; k-- > 0;)
		centroid_sift(c, n, k);
	while (n > 1) {
		centroid_swap(&c[0], &c[--n]);
		centroid_sift(c, n, 0);
	}
}

static void centroid_sort(struct centroid *c, size_t n, int depth)
{
	while (n > 16) {
		if (depth-- == 0) {
			centroid_heapsort(c, n);
			return;
		}
		size_t mid = n / 2;
		if (c[mid].mean < c[0].mean)
			centroid_swap(&c[mid], &c[0]);
		if (c[n - 1].mean < c[0].mean)
			centroid_swap(&c[n - 1], &c[0]);
		if (c[n - 1].mean < c[mid].mean)
			centroid_swap(&c[n - 1], &c[mid]);
		double pivot = c[mid].mean;
		size_t i = 0, j = n - 1;
		for (;;) {	/* Hoare: equal keys split evenly */
			while (c[i].mean < pivot)
				i++;
			while (pivot < c[j].mean)
				j--;
			if (i >= j)
				break;
			centroid_swap(&c[i++], &c[j--]);
		}
		/* [0, j] <= pivot <= [j + 1, n); recurse on the smaller side */
		size_t left = j + 1;
		if (left < n - left) {
			centroid_sort(c, left, depth);
			c += left;
			n -= left;
		} else {
			centroid_sort(c + left, n - left, depth);
			n = left;
		}
	}
	for (size_t i = 1; i < n; i++) {
		struct centroid x = c[i];
		size_t j = i;
		for (; j > 0 && c[j - 1].mean > x.mean; j--)
			c[j] = c[j - 1];
		c[j] = x;
	}
}

static struct tdigest *td_new(void)
{
	struct tdigest *td = xmalloc(sizeof *td);
	td->total = td->bufw = 0;
	td->min = INFINITY;
	td->max = -INFINITY;
	td->nc = td->nb = 0;
	td->flip = false;
	return td;
}

/*
 * The greedy sweep: takes centroids in order of mean (ascending, or
 * descending when step is -1) and merges each into the current one while
 * the result spans at most 1 in k; writes the finished ones at out[o],
 * o moving by step.
 */
struct sweep {
	struct centroid *out;
	int o, step;
	double W, before, limit;	/* before: weight ahead of cur */
	struct centroid cur;
	bool started;
};

static void sweep_push(struct sweep *sw, const struct centroid *x)
{
	if (!sw->started) {
		sw->started = true;
		sw->cur = *x;
		sw->limit = sw->W * td_kinv(td_k(0) + 1);
		return;
	}
	struct centroid *cur = &sw->cur;
	if (sw->before + cur->w + x->w <= sw->limit) {
		cur->pure = cur->pure && x->pure && x->mean == cur->mean;
		cur->w += x->w;
		cur->mean += (x->mean - cur->mean) * x->w / cur->w;
		return;
	}
	sw->out[sw->o] = *cur;
	sw->o += sw->step;
	sw->before += cur->w;
	sw->limit = sw->W * td_kinv(td_k(sw->before / sw->W) + 1);
	*cur = *x;
}

/* Ends a sweep that wrote upward from c[0]: sets the centroids. A sweep
 * leaves at most delta centroids (adjacent pairs span more than 1 in k,
 * whose range is delta / 2); should rounding ever leave more than
 * TD_MAXC, the excess is folded into the last one. */
static void td_set(struct tdigest *td, int nc, double W)
{
	struct centroid *c = td->c;
	td->nc = nc;
	td->nb = 0;
	td->total = W;
	td->bufw = 0;
	while (td->nc > TD_MAXC) {
		struct centroid *a = &c[td->nc - 2], *b = &c[td->nc - 1];
		a->pure = a->pure && b->pure && a->mean == b->mean;
		a->mean += (b->mean - a->mean) * b->w / (a->w + b->w);
		a->w += b->w;
		td->nc--;
	}
}

/*
 * Sorts the buffer and sweeps it with the centroids into new centroids;
 * sweeps alternate in direction so that neither tail collects the
 * leftovers. The old centroids are copied aside (at most TD_MAXC); the
 * output is written over the array, never ahead of what is still to be
 * read: going up, the buffer stays at c[nc..) and the output index is at
 * most the number of items read; going down, the buffer is first moved
 * to c[0..nb) and the output written from the top down, then moved to
 * the front.
 */
static void td_compress(struct tdigest *td)
{
	if (td->nb == 0)
		return;
	struct centroid *c = td->c, old[TD_MAXC];
	int nc = td->nc, nb = td->nb, n = nc + nb;
	memcpy(old, c, (size_t)nc * sizeof *c);
	centroid_sort(c + nc, (size_t)nb, 64);
	bool down = td->flip;
	const struct centroid *buf = c + nc;
	if (down) {
		memmove(c, c + nc, (size_t)nb * sizeof *c);
		buf = c;
	}
	struct sweep sw = {.out = c, .o = down ? n - 1 : 0, .step = down ? -1 : 1,
			   .W = td->total + td->bufw};
	/* ia, ib: next of old / buf to read (from the end when down) */
	int ia = down ? nc - 1 : 0, ib = down ? nb - 1 : 0;
	for (int k = 0; k < n; k++) {
		bool take_a = ib < 0 || ib >= nb ? true
			    : ia < 0 || ia >= nc ? false
			    : down ? old[ia].mean >= buf[ib].mean
				   : old[ia].mean <= buf[ib].mean;
		if (take_a) {
			sweep_push(&sw, &old[ia]);
			ia += sw.step;
		} else {
			sweep_push(&sw, &buf[ib]);
			ib += sw.step;
		}
	}
	c[sw.o] = sw.cur;
	int out = down ? n - sw.o : sw.o + 1;
	if (down)
		memmove(c, c + sw.o, (size_t)out * sizeof *c);
	td_set(td, out, sw.W);
	td->flip = !down;
}

/* A new digest of n sorted values in one sweep (more accurate than adding
 * them one by one: every centroid is sized knowing all the data). */
static struct tdigest *td_build(const double *v, uint32_t n)
{
	struct tdigest *td = td_new();
	if (!n)
		return td;
	struct sweep sw = {.out = td->c, .step = 1, .W = n};
	for (uint32_t i = 0; i < n; i++)
		sweep_push(&sw, &(struct centroid){v[i], 1, true});
	td->c[sw.o] = sw.cur;
	td->min = v[0];
	td->max = v[n - 1];
	td_set(td, sw.o + 1, n);
	return td;
}

static void td_add(struct tdigest *td, double x, double w, bool pure)
{
	if (x < td->min)
		td->min = x;
	if (x > td->max)
		td->max = x;
	td->c[td->nc + td->nb++] = (struct centroid){x, w, pure};
	td->bufw += w;
	if (td->nc + td->nb == TD_MAXC + TD_BUF)
		td_compress(td);
}

/* Adds the centroids and buffer of src (left as it is). */
static void td_merge(struct tdigest *td, const struct tdigest *src)
{
	for (int i = 0; i < src->nc + src->nb; i++)
		td_add(td, src->c[i].mean, src->c[i].w, src->c[i].pure);
	if (src->min < td->min)
		td->min = src->min;
	if (src->max > td->max)
		td->max = src->max;
}

/*
 * The value at position x of the sorted data, where the value of rank r
 * (1-based) sits at x = r - 1/2. Knots (position, value): min at 1/2, each
 * centroid at the middle of its weight, max at W - 1/2. A pure centroid
 * (one value repeated, a single value included) owns its whole weight,
 * w/2 on either side, as do min and max (weight 1); between what the
 * knots own, linear interpolation.
 */
static double td_at(struct tdigest *td, double x)
{
	td_compress(td);
	const struct centroid *c = td->c;
	double W = td->total;
	if (x <= 1)
		return td->min;
	if (x >= W - 1)
		return td->max;
	double pp = 0.5, pv = td->min, pown = 0.5, cum = 0;
	for (int i = 0; i <= td->nc; i++) {
		double P, V, own;	/* own: half-width owned */
		if (i < td->nc) {
			P = cum + c[i].w / 2;
			V = c[i].mean;
			own = c[i].pure ? c[i].w / 2 : 0;
			cum += c[i].w;
		} else {
			P = W - 0.5;
			V = td->max;
			own = 0.5;
		}
		if (fabs(x - P) <= own)
			return V;
		if (x < P) {
			double lo = pp + pown, hi = P - own;
			if (x <= lo)
				return pv;
			if (x >= hi)
				return V;
			return pv + (x - lo) / (hi - lo) * (V - pv);
		}
		pp = P;
		pv = V;
		pown = own;
	}
	return td->max;
}

/* ------------------------------------------------------------------ */
/* HyperLogLog                                                          */
/* ------------------------------------------------------------------ */

#define HLL_P 14
#define HLL_M (1 << HLL_P)
#define HLL_Q (64 - HLL_P)

static void hll_add(uint8_t *reg, uint64_t h)
{
	uint32_t idx = (uint32_t)(h >> HLL_Q);
	uint64_t w = h << HLL_P;
	uint8_t rho = w ? (uint8_t)(__builtin_clzll(w) + 1) : HLL_Q + 1;
	if (rho > reg[idx])
		reg[idx] = rho;
}

static double hll_sigma(double x)
{
	if (x == 1)
		return INFINITY;
	double y = 1, z = x, zp;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (zp != z);
	return z;
}

static double hll_tau(double x)
{
	if (x == 0 || x == 1)
		return 0;
	double y = 1, z = 1 - x, zp;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (zp != z);
	return z / 3;
}

/* Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
 * (2017), the improved raw estimator: unbiased from 0 up, no empirical
 * bias tables and no switch to linear counting needed (sigma does that). */
static double hll_estimate(const uint8_t *reg)
{
	int hist[HLL_Q + 2] = {0};
	for (int i = 0; i < HLL_M; i++)
		hist[reg[i]]++;
	double m = HLL_M;
	double z = m * hll_tau((m - hist[HLL_Q + 1]) / m);
	for (int k = HLL_Q; k >= 1; k--)
		z = (z + hist[k]) * 0.5;
	z += m * hll_sigma(hist[0] / m);
	return m * m / (2 * M_LN2) / z;
}

/* ------------------------------------------------------------------ */
/* Slots                                                               */
/* ------------------------------------------------------------------ */

struct s_count {
	int64_t n;
};

/* Ints are summed exactly in 128 bits (two's complement hi:lo), so the
 * sum is an int whenever it fits, whatever the order; once a double is
 * seen, a compensated double sum. */
struct s_sum {
	int64_t n;
	uint64_t lo;
	int64_t hi;
	double s, c;
	bool dbl;
};

static void sum_int(struct s_sum *s, int64_t v)
{
	uint64_t old = s->lo;
	s->lo += (uint64_t)v;
	s->hi += (v < 0 ? -1 : 0) + (s->lo < old);
}

static void ksum_128(double *s, double *c, int64_t hi, uint64_t lo)
{
	ksum(s, c, (double)hi * 18446744073709551616.0);
	ksum(s, c, (double)(lo >> 32) * 4294967296.0);
	ksum(s, c, (double)(lo & 0xffffffffu));
}

static void sum_to_double(struct s_sum *s)
{
	if (s->dbl)
		return;
	s->dbl = true;
	ksum_128(&s->s, &s->c, s->hi, s->lo);
}

struct s_ext {
	bool have;
	struct num x;
};

/*
 * The mean is the compensated sum over n. Welford's running mean and m2
 * serve var and stddev, and the mean only where the sum can leave the
 * range of doubles: n values under 2^960 each sum to under 2^1023, so a
 * mean alone keeps Welford's (a division an event: agg_state_add went from
 * 9.9% to 7.3% of es-window's CSV job without it) only from its first
 * value at or past 2^960 on ("big"), started there from the sum so far.
 */
#define MOM_BIG 0x1p960
struct s_mom {
	int64_t n;
	double mean;		/* Welford: var, stddev, a big mean */
	union {
		double m2;	/* Welford: var, stddev */
		bool big;	/* mean: mean is kept */
	};
	double s, c;		/* compensated sum, for the mean */
};

/* A mean turns big: its running mean starts from the sum so far. */
static void mom_big(struct s_mom *s)
{
	if (!s->big)
		s->mean = s->n ? (s->s + s->c) / (double)s->n : 0;
	s->big = true;
}

static void mom_add(struct s_mom *s, const struct value *v, bool mean_only)
{
	double x = value_num(v);
	if (mean_only && !s->big && !(fabs(x) < MOM_BIG))
		mom_big(s);
	s->n++;
	if (!mean_only) {
		double d = x - s->mean;
		s->mean += d / (double)s->n;
		s->m2 += d * (x - s->mean);
	} else if (s->big) {
		s->mean += (x - s->mean) / (double)s->n;
	}
	if (v->t == V_INT)
		ksum_int(&s->s, &s->c, v->u.i);
	else
		ksum(&s->s, &s->c, x);
}

#define VC_INLINE 32
struct s_val {
	bool have, text;
	enum vtype type;
	int64_t t;
	union {
		bool b;
		int64_t i;
		double d;
	} u;
	size_t n, cap;
	char *heap;
	char inl[VC_INLINE];
};

struct s_delta {
	bool have;
	int64_t tf, tl;
	struct num f, l;
};

struct s_quant {
	uint32_t n, cap;	/* exact values */
	bool sorted, anydbl;
	double *v;
	struct tdigest *td;	/* once past AGG_EXACT_MAX */
};

/* Distinct values: an open-addressing table of {hash, where the key is in
 * the arena}. A key is a type tag byte and the value's bytes; keys of more
 * than DIST_TEXT_MAX bytes are kept as the tag and a second, independent
 * 64-bit hash (a 128-bit fingerprint in all). */
#define DIST_TEXT_MAX 32
#define DIST_FP 0x80000000u
#define DIST_ARENA_MAX ((size_t)AGG_EXACT_MAX * (DIST_TEXT_MAX + 1))
struct dent {
	uint64_t h;
	uint32_t off, len;	/* len 0: empty slot; DIST_FP: fingerprint */
};

struct s_dist {
	uint32_t count, cap;
	struct dent *tab;
	char *arena;
	size_t alen, acap;
	uint8_t *hll;		/* once past AGG_EXACT_MAX */
};

/* A slot's size by kind, from a table: agg_state_add steps by it for each
 * aggregate of each event. */
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)
static const size_t slot_sizes[] = {
	[AGG_COUNT] = ALIGN8(sizeof(struct s_count)),
	[AGG_RATE] = ALIGN8(sizeof(struct s_count)),
	[AGG_SUM] = ALIGN8(sizeof(struct s_sum)),
	[AGG_MIN] = ALIGN8(sizeof(struct s_ext)),
	[AGG_MAX] = ALIGN8(sizeof(struct s_ext)),
	[AGG_MEAN] = ALIGN8(sizeof(struct s_mom)),
	[AGG_STDDEV] = ALIGN8(sizeof(struct s_mom)),
	[AGG_VAR] = ALIGN8(sizeof(struct s_mom)),
	[AGG_FIRST] = ALIGN8(sizeof(struct s_val)),
	[AGG_LAST] = ALIGN8(sizeof(struct s_val)),
	[AGG_DELTA] = ALIGN8(sizeof(struct s_delta)),
	[AGG_MEDIAN] = ALIGN8(sizeof(struct s_quant)),
	[AGG_PCT] = ALIGN8(sizeof(struct s_quant)),
	[AGG_DISTINCT] = ALIGN8(sizeof(struct s_dist)),
};
_Static_assert(sizeof slot_sizes / sizeof *slot_sizes == AGG_DELTA + 1,
	       "a size for every kind (AGG_DELTA the last)");

static size_t slot_size(enum agg_kind k)
{
	return slot_sizes[k];
}

size_t agg_state_size(const struct agg_spec *specs, int n)
{
	size_t sz = 0;
	for (int i = 0; i < n; i++)
		sz += slot_size(specs[i].kind);
	return sz ? sz : 8;
}

void agg_state_init(const struct agg_spec *specs, int n, void *st)
{
	memset(st, 0, agg_state_size(specs, n));
}

/* ---- first / last ---- */

static void val_set(struct s_val *s, const struct value *v, int64_t t)
{
	s->have = true;
	s->t = t;
	s->type = v->t;
	s->u.i = 0;
	if (v->t == V_BOOL)
		s->u.b = v->u.b;
	else if (v->t == V_INT)
		s->u.i = v->u.i;
	else if (v->t == V_DOUBLE)
		s->u.d = v->u.d;
	s->text = v->t == V_STRING || (v->s && (v->t == V_INT ||
			v->t == V_DOUBLE || v->t == V_RAW));
	s->n = s->text ? v->n : 0;
	if (s->n > VC_INLINE && s->n > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		while (cap < s->n)
			cap *= 2;
		free(s->heap);
		s->heap = xmalloc(cap);
		s->cap = cap;
	}
	if (s->n)
		memcpy(s->n > VC_INLINE ? s->heap : s->inl, v->s, s->n);
}

/* The value as a struct value pointing into s. */
static struct value val_get(const struct s_val *s)
{
	struct value v = {.t = s->type};
	if (s->type == V_BOOL)
		v.u.b = s->u.b;
	else if (s->type == V_INT)
		v.u.i = s->u.i;
	else if (s->type == V_DOUBLE)
		v.u.d = s->u.d;
	if (s->text) {
		v.s = s->n > VC_INLINE ? s->heap : s->inl;
		v.n = s->n;
	}
	return v;
}

/* ---- exact values / t-digest ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void quant_to_sketch(struct s_quant *q)
{
	if (!q->sorted && q->n > 1)
		qsort(q->v, q->n, sizeof *q->v, cmp_double);
	q->td = td_build(q->v, q->n);
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
}

static void quant_add(struct s_quant *q, double x)
{
	if (!q->td && q->n == AGG_EXACT_MAX)
		quant_to_sketch(q);
	if (q->td) {
		td_add(q->td, x, 1, true);
		return;
	}
	if (q->n == q->cap) {
		/* 16, 64, then twice as much: a window of 33 values (10 s of
		 * readings every 0.3 s) costs two allocations, not three, and
		 * a quiet group's window still takes 16 places */
		uint32_t cap = !q->cap ? 16 : q->cap < 64 ? 64 : q->cap * 2;
		if (cap > AGG_EXACT_MAX)
			cap = AGG_EXACT_MAX;
		q->v = xrealloc(q->v, cap * sizeof *q->v);
		q->cap = cap;
	}
	q->v[q->n++] = x;
	q->sorted = false;
}

/* Selection (Hoare's quickselect) of the value of rank k + 1 in a[0..n):
 * median-of-three pivots, insertion sort for short runs, and a sort of
 * what is left past a depth limit, so never quadratic. */
static void dswap(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

static double select_kth(double *a, size_t n, size_t k)
{
	int depth = 64;
	while (n > 16) {
		if (depth-- == 0) {
			qsort(a, n, sizeof *a, cmp_double);
			return a[k];
		}
		size_t mid = n / 2;
		if (a[mid] < a[0])
			dswap(&a[mid], &a[0]);
		if (a[n - 1] < a[0])
			dswap(&a[n - 1], &a[0]);
		if (a[n - 1] < a[mid])
			dswap(&a[n - 1], &a[mid]);
		double p = a[mid];
		size_t i = 0, j = n - 1;
		for (;;) {	/* a[0] <= p <= a[n-1] bound both scans */
			while (a[i] < p)
				i++;
			while (p < a[j])
				j--;
			if (i >= j)
				break;
			dswap(&a[i++], &a[j--]);
		}
		/* a[0..j] <= p <= a[j+1..n) */
		if (k <= j) {
			n = j + 1;
		} else {
			a += j + 1;
			k -= j + 1;
			n -= j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		double x = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
	return a[k];
}

/* The RANK_NEAR smallest (or, with top, largest) of v, their worst in
 * buf[m - 1]: for a rank near either end of many windows' few values (the
 * p95 of 34 is the second largest) one pass with a few compares beats a
 * selection's copy and partitions (measured: 5.5% of es-window's CSV job
 * to 1.9%). Equal values are interchangeable here: a zero's sign is
 * settled by rank_value afterwards. */
#define RANK_NEAR 8
static double rank_near(const double *v, size_t n, size_t m, bool top)
{
	double buf[RANK_NEAR];
	size_t have = 0;
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		if (have == m && !(top ? x > buf[m - 1] : x < buf[m - 1]))
			continue;
		size_t j = have < m ? have++ : m - 1;
		for (; j > 0 && (top ? buf[j - 1] < x : buf[j - 1] > x); j--)
			buf[j] = buf[j - 1];
		buf[j] = x;
	}
	return buf[m - 1];
}

/*
 * The value of rank r (1-based) of v[0..n) in sorted order, as a stable
 * sort would give it: v stays in arrival order (selection works on a
 * copy), so that where -0 and 0 tie, the zero of rank r is the one a
 * stable sort puts there (the (r - negatives)-th zero to arrive).
 */
static double rank_value(const double *v, size_t n, size_t r)
{
	double x;
	if (n - r + 1 <= RANK_NEAR) {
		x = rank_near(v, n, n - r + 1, true);
	} else if (r <= RANK_NEAR) {
		x = rank_near(v, n, r, false);
	} else {
		/* A window's values are few (tens) as a rule: the copy is on
		 * the stack then, on the heap for the rest (up to
		 * AGG_EXACT_MAX). */
		double small[64];
		double *tmp = n <= 64 ? small : xmalloc(n * sizeof *tmp);
		memcpy(tmp, v, n * sizeof *v);
		x = select_kth(tmp, n, r - 1);
		if (tmp != small)
			free(tmp);
	}
	if (x != 0)
		return x;
	size_t below = 0;
	for (size_t i = 0; i < n; i++)
		below += v[i] < 0;
	for (size_t i = 0, z = 0; i < n; i++)
		if (v[i] == 0 && ++z == r - below)
			return v[i];
	return x;
}

/* Nearest rank: ceil(pct / 100 * n), in [1, n]. The tolerance absorbs the
 * rounding of pct (at most 6 decimals, so true fractions are >= 1e-8 from
 * an integer while n <= AGG_EXACT_MAX). */
static double rank_of(double pct, double n)
{
	double x = pct / 100 * n;
	double r = ceil(x - x * 1e-12);
	return r < 1 ? 1 : r > n ? n : r;
}

static void quant_result(struct s_quant *q, double pct, struct value *o)
{
	if (q->td) {
		double r = rank_of(pct, q->td->total + q->td->bufw);
		out_double(o, td_at(q->td, r - 0.5));
		return;
	}
	if (q->n == 0) {
		out_null(o);
		return;
	}
	size_t r = (size_t)rank_of(pct, q->n);
	double x = q->sorted ? q->v[r - 1] : rank_value(q->v, q->n, r);
	if (!q->anydbl && fabs(x) <= 9007199254740992.0)
		out_int(o, (int64_t)x);
	else
		out_double(o, x);
}

static void quant_merge(struct s_quant *d, const struct s_quant *s)
{
	d->anydbl |= s->anydbl;
	if (!d->td && !s->td) {
		/* Exact and exact: append; past the limit, one sketch of all. */
		uint32_t n = d->n + s->n;
		if (n > d->cap) {
			uint32_t cap = d->cap ? d->cap : 16;
			while (cap < n)
				cap *= 2;
			if (cap > AGG_EXACT_MAX)
				cap = n > AGG_EXACT_MAX ? n : AGG_EXACT_MAX;
			d->v = xrealloc(d->v, cap * sizeof *d->v);
			d->cap = cap;
		}
		if (s->n)
			memcpy(d->v + d->n, s->v, s->n * sizeof *s->v);
		d->n = n;
		d->sorted = false;
		if (n > AGG_EXACT_MAX)
			quant_to_sketch(d);
		return;
	}
	if (!d->td)
		quant_to_sketch(d);
	if (s->td)
		td_merge(d->td, s->td);
	else
		for (uint32_t i = 0; i < s->n; i++)
			td_add(d->td, s->v[i], 1, true);
}

/* ---- distinct ---- */

/* The key of a value: tag and bytes (numbers by value: 1, 1.0, 1e0 are
 * one value; an integral double within int64 is that int). */
struct dkey {
	char tag;
	const char *p;
	size_t n;
	char buf[8];
	uint64_t h;
};

static bool dkey_of(const struct value *v, struct dkey *k)
{
	switch (v->t) {
	case V_MISSING: case V_NULL:
		return false;
	case V_BOOL:
		k->tag = 'b';
		k->buf[0] = v->u.b ? 1 : 0;
		k->p = k->buf;
		k->n = 1;
		break;
	case V_INT: case V_DOUBLE: {
		int64_t i = v->u.i;
		bool isint = v->t == V_INT;
		double d = v->u.d;
		if (!isint && d == floor(d) && d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0) {
			isint = true;
			i = (int64_t)d;
		}
		k->tag = isint ? 'i' : 'd';
		if (isint)
			memcpy(k->buf, &i, 8);
		else
			memcpy(k->buf, &d, 8);
		k->p = k->buf;
		k->n = 8;
		break;
	}
	case V_STRING: case V_RAW:
		k->tag = v->t == V_STRING ? 's' : 'r';
		k->p = v->s ? v->s : "";
		k->n = v->s ? v->n : 0;
		break;
	}
	k->h = hash_bytes(k->p, k->n, HASH_SEED1 + (uint64_t)(unsigned char)k->tag);
	return true;
}

/* The stored form of a key: the text, or (long keys) the second hash. */
static size_t dkey_stored(const struct dkey *k, char *tmp, const char **p)
{
	if (k->n <= DIST_TEXT_MAX) {
		*p = k->p;
		return k->n;
	}
	uint64_t h2 = hash_bytes(k->p, k->n,
				 HASH_SEED2 + (uint64_t)(unsigned char)k->tag);
	memcpy(tmp, &h2, 8);
	*p = tmp;
	return 8;
}

static void dist_to_sketch(struct s_dist *d)
{
	d->hll = xmalloc(HLL_M);
	memset(d->hll, 0, HLL_M);
	for (uint32_t i = 0; i < d->cap; i++)
		if (d->tab[i].len)
			hll_add(d->hll, d->tab[i].h);
	free(d->tab);
	free(d->arena);
	d->tab = NULL;
	d->arena = NULL;
	d->count = d->cap = 0;
	d->alen = d->acap = 0;
}

static void dist_grow(struct s_dist *d)
{
	uint32_t cap = d->cap ? d->cap * 2 : 16;
	struct dent *t = xmalloc(cap * sizeof *t);
	memset(t, 0, cap * sizeof *t);
	for (uint32_t i = 0; i < d->cap; i++) {
		if (!d->tab[i].len)
			continue;
		uint32_t j = (uint32_t)d->tab[i].h & (cap - 1);
		while (t[j].len)
			j = (j + 1) & (cap - 1);
		t[j] = d->tab[i];
	}
	free(d->tab);
	d->tab = t;
	d->cap = cap;
}

/* Adds a key given by its hash, tag and stored bytes (sn bytes at sp;
 * fp: sp is a fingerprint). */
static void dist_insert(struct s_dist *d, uint64_t h, char tag, const char *sp,
			size_t sn, bool fp)
{
	if (d->hll) {
		hll_add(d->hll, h);
		return;
	}
	uint32_t len = (uint32_t)(sn + 1) | (fp ? DIST_FP : 0);
	if (d->cap) {
		for (uint32_t j = (uint32_t)h & (d->cap - 1);; j = (j + 1) & (d->cap - 1)) {
			const struct dent *e = &d->tab[j];
			if (!e->len)
				break;
			if (e->h == h && e->len == len && d->arena[e->off] == tag &&
			    !memcmp(d->arena + e->off + 1, sp, sn))
				return;
		}
	}
	if (d->count == AGG_EXACT_MAX) {
		dist_to_sketch(d);
		hll_add(d->hll, h);
		return;
	}
	if ((d->count + 1) * 4 > d->cap * 3)
		dist_grow(d);
	if (d->alen + sn + 1 > d->acap) {
		size_t cap = d->acap ? d->acap * 2 : 256;
		while (cap < d->alen + sn + 1)
			cap *= 2;
		if (cap > DIST_ARENA_MAX)	/* all that AGG_EXACT_MAX keys need */
			cap = DIST_ARENA_MAX;
		d->arena = xrealloc(d->arena, cap);
		d->acap = cap;
	}
	uint32_t j = (uint32_t)h & (d->cap - 1);
	while (d->tab[j].len)
		j = (j + 1) & (d->cap - 1);
	d->tab[j] = (struct dent){h, (uint32_t)d->alen, len};
	d->arena[d->alen] = tag;
	if (sn)
		memcpy(d->arena + d->alen + 1, sp, sn);
	d->alen += sn + 1;
	d->count++;
}

static void dist_add(struct s_dist *d, const struct value *v)
{
	struct dkey k;
	if (!dkey_of(v, &k))
		return;
	if (d->hll) {
		hll_add(d->hll, k.h);
		return;
	}
	char tmp[8];
	const char *sp;
	size_t sn = dkey_stored(&k, tmp, &sp);
	dist_insert(d, k.h, k.tag, sp, sn, k.n > DIST_TEXT_MAX);
}

static void dist_merge(struct s_dist *d, const struct s_dist *s)
{
	if (s->hll) {
		if (!d->hll)
			dist_to_sketch(d);
		for (int i = 0; i < HLL_M; i++)
			if (s->hll[i] > d->hll[i])
				d->hll[i] = s->hll[i];
		return;
	}
	for (uint32_t i = 0; i < s->cap; i++) {
		const struct dent *e = &s->tab[i];
		if (!e->len)
			continue;
		uint32_t sn = (e->len & ~DIST_FP) - 1;
		dist_insert(d, e->h, s->arena[e->off], s->arena + e->off + 1, sn,
			    e->len & DIST_FP);
	}
}

static void dist_result(const struct s_dist *d, struct value *o)
{
	if (d->hll)
		out_int(o, (int64_t)llround(hll_estimate(d->hll)));
	else if (d->count)
		out_int(o, d->count);
	else
		out_null(o);
}

/* ---- the operations over all slots ---- */

void agg_state_add(const struct agg_spec *specs, int n, void *st,
		   const struct value *vals, int64_t t)
{
	char *p = st;
	for (int i = 0; i < n; p += slot_size(specs[i].kind), i++) {
		enum agg_kind k = specs[i].kind;
		const struct value *v = &vals[i];
		if (k == AGG_COUNT || k == AGG_RATE) {
			((struct s_count *)p)->n++;
			continue;
		}
		if (v->t == V_MISSING || v->t == V_NULL)
			continue;
		if (agg_needs_number(k) && !value_is_num(v))
			continue;	/* the caller rejects these */
		switch (k) {
		case AGG_SUM: {
			struct s_sum *s = (struct s_sum *)p;
			s->n++;
			if (!s->dbl && v->t == V_INT) {
				sum_int(s, v->u.i);
				break;
			}
			sum_to_double(s);
			if (v->t == V_INT)
				ksum_int(&s->s, &s->c, v->u.i);
			else
				ksum(&s->s, &s->c, v->u.d);
			break;
		}
		case AGG_MIN: case AGG_MAX: {
			struct s_ext *s = (struct s_ext *)p;
			if (s->have && v->t == V_DOUBLE && !s->x.isint) {
				/* doubles kept, a double come: the compare
				 * num_cmp would make (NaN never replaces) */
				double d = v->u.d;
				if (k == AGG_MIN ? d < s->x.d : d > s->x.d)
					s->x.d = d;
				break;
			}
			struct num x = num_of(v);
			int c = s->have ? num_cmp(&x, &s->x) : 0;
			if (!s->have || (k == AGG_MIN ? c < 0 : c > 0)) {
				s->x = x;
				s->have = true;
			}
			break;
		}
		case AGG_MEAN: case AGG_STDDEV: case AGG_VAR:
			mom_add((struct s_mom *)p, v, k == AGG_MEAN);
			break;
		case AGG_FIRST: {
			struct s_val *s = (struct s_val *)p;
			if (!s->have || t < s->t)
				val_set(s, v, t);
			break;
		}
		case AGG_LAST: {
			struct s_val *s = (struct s_val *)p;
			if (!s->have || t >= s->t)
				val_set(s, v, t);
			break;
		}
		case AGG_DELTA: {
			struct s_delta *s = (struct s_delta *)p;
			struct num x = num_of(v);
			if (!s->have || t < s->tf) {
				s->f = x;
				s->tf = t;
			}
			if (!s->have || t >= s->tl) {
				s->l = x;
				s->tl = t;
			}
			s->have = true;
			break;
		}
		case AGG_MEDIAN: case AGG_PCT: {
			struct s_quant *s = (struct s_quant *)p;
			if (v->t != V_INT)
				s->anydbl = true;
			quant_add(s, value_num(v));
			break;
		}
		case AGG_DISTINCT:
			dist_add((struct s_dist *)p, v);
			break;
		case AGG_COUNT: case AGG_RATE:
			break;
		}
	}
}

/* Chan, Golub & LeVeque: the moments of the union of two sets. Two means
 * that are not big only add their sums. */
static void mom_merge(struct s_mom *d, const struct s_mom *s, bool mean_only)
{
	if (!s->n)
		return;
	if (!d->n) {
		*d = *s;
		return;
	}
	if (mean_only && !d->big && !s->big) {
		d->n += s->n;
		ksum(&d->s, &d->c, s->s);
		ksum(&d->s, &d->c, s->c);
		return;
	}
	struct s_mom sb = *s;
	if (mean_only) {
		mom_big(d);
		mom_big(&sb);
		s = &sb;
	}
	double na = (double)d->n, nb = (double)s->n, nn = na + nb;
	double delta = s->mean - d->mean;
	if (mean_only) {	/* big: delta * nb could overflow */
		d->mean += delta * (nb / nn);
	} else {
		d->mean += delta * nb / nn;
		d->m2 += s->m2 + delta * delta * na * nb / nn;
	}
	d->n += s->n;
	ksum(&d->s, &d->c, s->s);
	ksum(&d->s, &d->c, s->c);
}

void agg_state_merge(const struct agg_spec *specs, int n, void *dst,
		     const void *src)
{
	char *p = dst;
	const char *q = src;
	for (int i = 0; i < n; i++) {
		enum agg_kind k = specs[i].kind;
		switch (k) {
		case AGG_COUNT: case AGG_RATE:
			((struct s_count *)p)->n += ((const struct s_count *)q)->n;
			break;
		case AGG_SUM: {
			struct s_sum *d = (struct s_sum *)p;
			const struct s_sum *s = (const struct s_sum *)q;
			if (!s->n)
				break;
			d->n += s->n;
			if (!d->dbl && !s->dbl) {
				uint64_t old = d->lo;
				d->lo += s->lo;
				d->hi += s->hi + (d->lo < old);
				break;
			}
			sum_to_double(d);
			if (s->dbl) {
				ksum(&d->s, &d->c, s->s);
				ksum(&d->s, &d->c, s->c);
			} else {
				ksum_128(&d->s, &d->c, s->hi, s->lo);
			}
			break;
		}
		case AGG_MIN: case AGG_MAX: {
			struct s_ext *d = (struct s_ext *)p;
			const struct s_ext *s = (const struct s_ext *)q;
			if (!s->have)
				break;
			int c = d->have ? num_cmp(&s->x, &d->x) : 0;
			if (!d->have || (k == AGG_MIN ? c < 0 : c > 0))
				*d = *s;
			break;
		}
		case AGG_MEAN: case AGG_STDDEV: case AGG_VAR:
			mom_merge((struct s_mom *)p, (const struct s_mom *)q,
				  k == AGG_MEAN);
			break;
		case AGG_FIRST: case AGG_LAST: {
			struct s_val *d = (struct s_val *)p;
			const struct s_val *s = (const struct s_val *)q;
			if (!s->have)
				break;
			if (!d->have || (k == AGG_FIRST ? s->t < d->t : s->t >= d->t)) {
				struct value v = val_get(s);
				val_set(d, &v, s->t);
			}
			break;
		}
		case AGG_DELTA: {
			struct s_delta *d = (struct s_delta *)p;
			const struct s_delta *s = (const struct s_delta *)q;
			if (!s->have)
				break;
			if (!d->have || s->tf < d->tf) {
				d->f = s->f;
				d->tf = s->tf;
			}
			if (!d->have || s->tl >= d->tl) {
				d->l = s->l;
				d->tl = s->tl;
			}
			d->have = true;
			break;
		}
		case AGG_MEDIAN: case AGG_PCT:
			quant_merge((struct s_quant *)p, (const struct s_quant *)q);
			break;
		case AGG_DISTINCT:
			dist_merge((struct s_dist *)p, (const struct s_dist *)q);
			break;
		}
		p += slot_size(k);
		q += slot_size(k);
	}
}

void agg_state_result(const struct agg_spec *specs, int n, void *st,
		      int64_t length_us, struct value *out)
{
	char *p = st;
	for (int i = 0; i < n; p += slot_size(specs[i].kind), i++) {
		struct value *o = &out[i];
		out_null(o);
		switch (specs[i].kind) {
		case AGG_COUNT:
			out_int(o, ((struct s_count *)p)->n);
			break;
		case AGG_RATE: {
			int64_t c = ((struct s_count *)p)->n;
			if (length_us > 0)
				out_double(o, (double)c / ((double)length_us / 1e6));
			break;
		}
		case AGG_SUM: {
			struct s_sum *s = (struct s_sum *)p;
			if (!s->n)
				break;
			if (!s->dbl && ((s->hi == 0 && s->lo <= INT64_MAX) ||
					(s->hi == -1 && s->lo > INT64_MAX))) {
				out_int(o, (int64_t)s->lo);
				break;
			}
			double sum = s->s, c = s->c;
			if (!s->dbl)	/* an int sum beyond int64 */
				ksum_128(&sum, &c, s->hi, s->lo);
			out_double(o, sum + c);
			break;
		}
		case AGG_MIN: case AGG_MAX: {
			struct s_ext *s = (struct s_ext *)p;
			if (s->have)
				out_num(o, &s->x);
			break;
		}
		case AGG_MEAN: {
			struct s_mom *s = (struct s_mom *)p;
			if (!s->n)
				break;
			double sum = s->s + s->c;
			out_double(o, isfinite(sum) ? sum / (double)s->n : s->mean);
			break;
		}
		case AGG_VAR: case AGG_STDDEV: {
			struct s_mom *s = (struct s_mom *)p;
			if (s->n < 2)
				break;
			double var = s->m2 / (double)(s->n - 1);
			out_double(o, specs[i].kind == AGG_VAR ? var : sqrt(var));
			break;
		}
		case AGG_FIRST: case AGG_LAST: {
			struct s_val *s = (struct s_val *)p;
			if (s->have)
				*o = val_get(s);
			break;
		}
		case AGG_DELTA: {
			struct s_delta *s = (struct s_delta *)p;
			int64_t d;
			if (!s->have)
				break;
			if (s->f.isint && s->l.isint &&
			    !__builtin_sub_overflow(s->l.i, s->f.i, &d))
				out_int(o, d);
			else
				out_double(o, num_d(&s->l) - num_d(&s->f));
			break;
		}
		case AGG_MEDIAN: case AGG_PCT:
			quant_result((struct s_quant *)p, specs[i].pct, o);
			break;
		case AGG_DISTINCT:
			dist_result((struct s_dist *)p, o);
			break;
		}
	}
}

void agg_state_free(const struct agg_spec *specs, int n, void *st)
{
	char *p = st;
	for (int i = 0; i < n; p += slot_size(specs[i].kind), i++) {
		switch (specs[i].kind) {
		case AGG_FIRST: case AGG_LAST: {
			struct s_val *s = (struct s_val *)p;
			free(s->heap);
			s->heap = NULL;
			s->cap = 0;
			break;
		}
		case AGG_MEDIAN: case AGG_PCT: {
			struct s_quant *s = (struct s_quant *)p;
			free(s->v);
			free(s->td);
			s->v = NULL;
			s->td = NULL;
			break;
		}
		case AGG_DISTINCT: {
			struct s_dist *s = (struct s_dist *)p;
			free(s->tab);
			free(s->arena);
			free(s->hll);
			s->tab = NULL;
			s->arena = NULL;
			s->hll = NULL;
			break;
		}
		default:
			break;
		}
	}
}

/* What one slot holds on the heap; 0 for the kinds that hold nothing. */
static size_t slot_heap(enum agg_kind kind, const char *p)
{
	switch (kind) {
	case AGG_FIRST: case AGG_LAST:
		return ((const struct s_val *)p)->cap;
	case AGG_MEDIAN: case AGG_PCT: {
		const struct s_quant *s = (const struct s_quant *)p;
		return s->cap * sizeof(double) + (s->td ? sizeof *s->td : 0);
	}
	case AGG_DISTINCT: {
		const struct s_dist *s = (const struct s_dist *)p;
		return s->cap * sizeof(struct dent) + s->acap +
		       (s->hll ? HLL_M : 0);
	}
	default:
		return 0;
	}
}

size_t agg_state_heap(const struct agg_spec *specs, int n, const void *st)
{
	const char *p = st;
	size_t sz = 0;
	for (int i = 0; i < n; p += slot_size(specs[i].kind), i++)
		sz += slot_heap(specs[i].kind, p);
	return sz;
}

int agg_heap_slots(const struct agg_spec *specs, int n,
		   struct agg_heap_slot *out)
{
	size_t off = 0;
	int m = 0;
	for (int i = 0; i < n; off += slot_size(specs[i].kind), i++) {
		switch (specs[i].kind) {
		case AGG_FIRST: case AGG_LAST: case AGG_MEDIAN: case AGG_PCT:
		case AGG_DISTINCT:
			out[m++] = (struct agg_heap_slot){ specs[i].kind, off };
			break;
		default:
			break;
		}
	}
	return m;
}

size_t agg_slots_heap(const struct agg_heap_slot *hs, int n, const void *st)
{
	size_t sz = 0;
	for (int i = 0; i < n; i++)
		sz += slot_heap(hs[i].kind, (const char *)st + hs[i].off);
	return sz;
}
