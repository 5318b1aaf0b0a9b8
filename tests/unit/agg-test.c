/* agg-test - a driver for lib/agg.c (tests/agg.bats)
 *
 *   agg-test AGGS [--length DUR] [--merge K|alt] [--types] [--mem]
 *       Reads lines "T VALUE" from stdin (T an integer event time, VALUE
 *       typed like JSON: 5, 2.5, "str", true, null, {"a":1}, or "-" or
 *       nothing for a missing field), gives VALUE to every aggregate of
 *       the list and prints one "name=result" line per aggregate. Numbers
 *       are printed as the input wrote them (first/last) or in the
 *       shortest text that reads back as the same double, with ".0" when
 *       a double looks integral, so ints and doubles differ.
 *       --length: the window length for rate (default 1s).
 *       --merge K: lines 1..K go to one state, the others to a second,
 *       which is then merged into the first; --merge alt: odd and even
 *       lines. --types: " (int)" etc. after each result. --mem: a last
 *       line "size=FIXED heap=HEAP" (before the results are computed).
 *   agg-test --parse AGGS
 *       Prints the parsed specs, one a line: name=N kind=K field=F.
 *   agg-test --quantile-error DIST N [--parts K] SEED...
 *       For each seed, N values of DIST (uniform normal exponential
 *       lognormal ascending descending discrete) into
 *       p0.1,p1,p50,p95,p99,p99.9 (split over K states merged at the end if
 *       --parts), and prints per percentile the largest rank error over
 *       the seeds: |estimated rank - nearest rank| / N, where the
 *       estimate's rank is taken as close to the target as its ties
 *       allow. Then "heap=BYTES" of the (merged) state of the last seed.
 *   agg-test --rank-check N SEED
 *       Exact percentiles against a stable sort (run_rank_check).
 *   agg-test --distinct-error N [--parts K] SEED...
 *       For each seed, 2N events over N distinct strings (each once,
 *       then N repeats) into distinct(x); prints "seed=S estimate=E
 *       error=R" per seed (R relative) and "max=R", then "heap=BYTES".
 * Errors: "agg-test: MESSAGE" on stderr, exit 2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "number.h"
#include "value.h"

__attribute__((noreturn))
static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "agg-test: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static struct agg_spec *parse_or_die(const char *text, int *n)
{
	struct agg_spec *specs;
	char err[256];
	*n = agg_parse(text, &specs, err, sizeof err);
	if (*n < 0)
		die("%s", err);
	return specs;
}

static void *state_new(const struct agg_spec *specs, int n)
{
	void *st = malloc(agg_state_size(specs, n));
	if (!st)
		die("%s", "out of memory");
	agg_state_init(specs, n, st);
	return st;
}

static void state_del(const struct agg_spec *specs, int n, void *st)
{
	agg_state_free(specs, n, st);
	free(st);
}

/* ---- printing ---- */

static void print_double(double d)
{
	char buf[40];
	if (!isfinite(d)) {
		printf("%s", isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	printf("%s%s", buf, strpbrk(buf, ".e") ? "" : ".0");
}

static void print_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *type_name(enum vtype t)
{
	static const char *names[] = {"missing", "null", "bool", "int",
				      "double", "string", "raw"};
	return names[t];
}

static void print_value(const struct value *v, bool types)
{
	switch (v->t) {
	case V_MISSING: printf("missing"); break;
	case V_NULL: printf("null"); break;
	case V_BOOL: printf("%s", v->u.b ? "true" : "false"); break;
	case V_INT:
		if (v->s)
			printf("%.*s", (int)v->n, v->s);
		else
			printf("%lld", (long long)v->u.i);
		break;
	case V_DOUBLE:
		if (v->s)
			printf("%.*s", (int)v->n, v->s);
		else
			print_double(v->u.d);
		break;
	case V_STRING: print_string(v->s, v->n); break;
	case V_RAW: printf("%.*s", (int)v->n, v->s); break;
	}
	if (types)
		printf(" (%s)", type_name(v->t));
}

/* ---- reading "T VALUE" ---- */

static bool parse_value(const char *s, size_t n, struct value *v,
			struct scratch *sc)
{
	memset(v, 0, sizeof *v);
	if (n == 0 || (n == 1 && s[0] == '-')) {
		v->t = V_MISSING;
		return true;
	}
	if (n == 4 && !memcmp(s, "null", 4)) {
		v->t = V_NULL;
		return true;
	}
	if ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5))) {
		v->t = V_BOOL;
		v->u.b = n == 4;
		return true;
	}
	if (s[0] == '{' || s[0] == '[') {
		v->t = V_RAW;
		v->s = s;
		v->n = n;
		return true;
	}
	if (s[0] == '"') {
		if (n < 2 || s[n - 1] != '"')
			return false;
		struct span sp = {.p = s, .n = n, .kind = SPAN_JSTRING,
				  .escaped = memchr(s, '\\', n) != NULL};
		return value_load(&sp, v, sc) == 0;
	}
	return number_parse(s, n, v);
}

static int64_t parse_length(const char *s)
{
	char *end;
	double x = strtod(s, &end);
	double unit = !strcmp(end, "us") ? 1 : !strcmp(end, "ms") ? 1e3
		    : !strcmp(end, "s") ? 1e6 : !strcmp(end, "m") ? 6e7
		    : !strcmp(end, "h") ? 3.6e9 : -1;
	if (end == s || unit < 0 || x < 0)
		die("bad --length '%s'", s);
	return (int64_t)llround(x * unit);
}

static int run_lines(const char *aggs, int argc, char **argv)
{
	int64_t length = 1000000;
	const char *merge = NULL;
	bool types = false, mem = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--length") && i + 1 < argc)
			length = parse_length(argv[++i]);
		else if (!strcmp(argv[i], "--merge") && i + 1 < argc)
			merge = argv[++i];
		else if (!strcmp(argv[i], "--types"))
			types = true;
		else if (!strcmp(argv[i], "--mem"))
			mem = true;
		else
			die("unknown argument '%s'", argv[i]);
	}
	int n;
	struct agg_spec *specs = parse_or_die(aggs, &n);
	void *a = state_new(specs, n), *b = merge ? state_new(specs, n) : NULL;
	long split = merge && strcmp(merge, "alt") ? atol(merge) : -1;
	struct value *vals = calloc((size_t)n, sizeof *vals);
	struct scratch sc = {0};
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	long lineno = 0;
	while ((len = getline(&line, &lcap, stdin)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (len == 0)
			continue;
		lineno++;
		char *end;
		long long t = strtoll(line, &end, 10);
		if (end == line || (*end && *end != ' '))
			die("bad time in line '%s'", line);
		while (*end == ' ')
			end++;
		struct value v;
		scratch_reset(&sc);
		if (!parse_value(end, strlen(end), &v, &sc))
			die("bad value in line '%s'", line);
		for (int i = 0; i < n; i++)
			vals[i] = v;
		void *st = !merge ? a
			 : split < 0 ? (lineno % 2 ? a : b)
			 : lineno <= split ? a : b;
		agg_state_add(specs, n, st, vals, t);
	}
	free(line);
	if (b) {
		agg_state_merge(specs, n, a, b);
		state_del(specs, n, b);
	}
	size_t heap = agg_state_heap(specs, n, a);
	/* the slots es-window recounts after each event hold all of it */
	struct agg_heap_slot hs[64];
	if (n > 64)
		die("%s", "at most 64 aggregates");
	int nh = agg_heap_slots(specs, n, hs);
	if (agg_slots_heap(hs, nh, a) != heap)
		die("%s", "agg_slots_heap differs from agg_state_heap");
	agg_state_result(specs, n, a, length, vals);
	for (int i = 0; i < n; i++) {
		printf("%s=", specs[i].name);
		print_value(&vals[i], types);
		putchar('\n');
	}
	if (mem)
		printf("size=%zu heap=%zu\n", agg_state_size(specs, n), heap);
	state_del(specs, n, a);
	agg_specs_free(specs, n);
	scratch_free(&sc);
	free(vals);
	return 0;
}

static int run_parse(const char *aggs)
{
	static const char *kinds[] = {"count", "sum", "min", "max", "mean",
		"stddev", "var", "first", "last", "median", "pct", "distinct",
		"rate", "delta"};
	int n;
	struct agg_spec *specs = parse_or_die(aggs, &n);
	for (int i = 0; i < n; i++) {
		printf("name=%s kind=%s", specs[i].name, kinds[specs[i].kind]);
		if (specs[i].kind == AGG_PCT)
			printf("(%g)", specs[i].pct);
		printf(" field=%s\n", specs[i].field ? specs[i].field : "-");
	}
	agg_specs_free(specs, n);
	return 0;
}

/* ---- the sketch checks ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* In (0, 1]. */
static double rng_unit(void)
{
	return (double)((rng_next() >> 11) + 1) * 0x1p-53;
}

static double rng_normal(void)
{
	return sqrt(-2 * log(rng_unit())) * cos(2 * M_PI * rng_unit());
}

/* Sorts doubles ascending (quicksort, insertion sort for short runs):
 * qsort's callback would dominate the run time of the checks. */
static void sort_doubles(double *v, long n)
{
	while (n > 16) {
		double a = v[0], b = v[n / 2], c = v[n - 1];
		double pivot = a < b ? (b < c ? b : a < c ? c : a)
				     : (a < c ? a : b < c ? c : b);
		long i = 0, j = n - 1;
		for (;;) {
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i >= j)
				break;
			double t = v[i];
			v[i++] = v[j];
			v[j--] = t;
		}
		if (j + 1 < n - j - 1) {
			sort_doubles(v, j + 1);
			v += j + 1;
			n -= j + 1;
		} else {
			sort_doubles(v + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (long i = 1; i < n; i++) {
		double x = v[i];
		long j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

enum dist { UNIFORM, NORMAL, EXPONENTIAL, LOGNORMAL, DISCRETE, ASCENDING,
	    DESCENDING };

static enum dist dist_parse(const char *s)
{
	static const char *names[] = {"uniform", "normal", "exponential",
		"lognormal", "discrete", "ascending", "descending"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i]))
			return (enum dist)i;
	die("unknown distribution '%s'", s);
}

static void generate(enum dist dist, double *v, long n)
{
	for (long i = 0; i < n; i++) {
		switch (dist) {
		case NORMAL: v[i] = rng_normal(); break;
		case EXPONENTIAL: v[i] = -log(rng_unit()); break;
		case LOGNORMAL: v[i] = exp(2 * rng_normal()); break;
		case DISCRETE: v[i] = (double)(rng_next() % 100); break;
		default: v[i] = rng_unit(); break;
		}
	}
	if (dist == ASCENDING || dist == DESCENDING)
		sort_doubles(v, n);
	if (dist == DESCENDING)
		for (long i = 0, j = n - 1; i < j; i++, j--) {
			double t = v[i];
			v[i] = v[j];
			v[j] = t;
		}
}

/* Number of sorted values < x (strict) or <= x. */
static long count_below(const double *s, long n, double x, bool strict)
{
	long lo = 0, hi = n;
	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;
		if (strict ? s[mid] < x : s[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static long parse_count(const char *s)
{
	char *end;
	double x = strtod(s, &end);
	if (end == s || *end || x < 1 || x > 1e9)
		die("bad count '%s'", s);
	return (long)x;
}

/* Feeds values (or, for distinct, the strings of value indices) split
 * over parts states, merges them into the first; returns it. */
static void *feed_parts(const struct agg_spec *specs, int n, long count,
			int parts, struct value (*get)(long i, void *ctx),
			void *ctx)
{
	void *st[64] = {0};
	for (int p = 0; p < parts; p++)
		st[p] = state_new(specs, n);
	struct value vals[8];
	for (long i = 0; i < count; i++) {
		struct value v = get(i, ctx);
		for (int k = 0; k < n; k++)
			vals[k] = v;
		agg_state_add(specs, n, st[(long long)i * parts / count], vals, i);
	}
	for (int p = 1; p < parts; p++) {
		agg_state_merge(specs, n, st[0], st[p]);
		state_del(specs, n, st[p]);
	}
	return st[0];
}

static struct value get_double(long i, void *ctx)
{
	struct value v = {.t = V_DOUBLE};
	v.u.d = ((double *)ctx)[i];
	return v;
}

struct dctx {
	long n;
	uint64_t seed;
	char buf[32];
};

static struct value get_string(long i, void *ctx)
{
	struct dctx *d = ctx;
	/* Values 0..n-1 once each, then n repeats of random ones. */
	long k = i < d->n ? i : (long)(rng_next() % (uint64_t)d->n);
	int len = snprintf(d->buf, sizeof d->buf, "s%llu-%ld",
			   (unsigned long long)d->seed, k);
	struct value v = {.t = V_STRING, .s = d->buf, .n = (size_t)len};
	return v;
}

static int parse_parts(int *argc, char ***argv)
{
	int parts = 1;
	if (*argc >= 2 && !strcmp((*argv)[0], "--parts")) {
		parts = atoi((*argv)[1]);
		if (parts < 1 || parts > 64)
			die("bad --parts '%s'", (*argv)[1]);
		*argc -= 2;
		*argv += 2;
	}
	if (*argc < 1)
		die("%s", "no seeds");
	return parts;
}

static int run_quantile_error(int argc, char **argv)
{
	if (argc < 3)
		die("%s", "usage: --quantile-error DIST N [--parts K] SEED...");
	enum dist dist = dist_parse(argv[0]);
	long count = parse_count(argv[1]);
	argc -= 2;
	argv += 2;
	int parts = parse_parts(&argc, &argv);
	int n;
	struct agg_spec *specs = parse_or_die("p0.1(x),p1(x),p50(x),p95(x),p99(x),p99.9(x)", &n);
	double *v = malloc((size_t)count * sizeof *v);
	double worst[6] = {0};
	size_t heap = 0;
	for (int s = 0; s < argc; s++) {
		rng_state = strtoull(argv[s], NULL, 10) * 0x2545F4914F6CDD1DULL;
		generate(dist, v, count);
		void *st = feed_parts(specs, n, count, parts, get_double, v);
		heap = agg_state_heap(specs, n, st);
		struct value res[6];
		agg_state_result(specs, n, st, 1000000, res);
		state_del(specs, n, st);
		sort_doubles(v, count);
		for (int i = 0; i < n; i++) {
			double x = value_num(&res[i]);
			double r = specs[i].pct / 100 * (double)count;
			r = ceil(r - r * 1e-12);
			long lo = count_below(v, count, x, true) + 1;
			long hi = count_below(v, count, x, false);
			double e = r < (double)lo ? (double)lo - r
				 : r > (double)hi ? r - (double)hi : 0;
			e /= (double)count;
			if (e > worst[i])
				worst[i] = e;
		}
	}
	for (int i = 0; i < n; i++)
		printf("%s %.6f\n", specs[i].name, worst[i]);
	printf("heap=%zu\n", heap);
	free(v);
	agg_specs_free(specs, n);
	return 0;
}

static int run_distinct_error(int argc, char **argv)
{
	if (argc < 2)
		die("%s", "usage: --distinct-error N [--parts K] SEED...");
	long count = parse_count(argv[0]);
	argc -= 1;
	argv += 1;
	int parts = parse_parts(&argc, &argv);
	int n;
	struct agg_spec *specs = parse_or_die("distinct(x)", &n);
	double worst = 0;
	size_t heap = 0;
	for (int s = 0; s < argc; s++) {
		struct dctx d = {.n = count, .seed = strtoull(argv[s], NULL, 10)};
		rng_state = d.seed;
		void *st = feed_parts(specs, n, 2 * count, parts, get_string, &d);
		heap = agg_state_heap(specs, n, st);
		struct value res;
		agg_state_result(specs, n, st, 1000000, &res);
		state_del(specs, n, st);
		double e = ((double)res.u.i - (double)count) / (double)count;
		printf("seed=%s estimate=%lld error=%.6f\n", argv[s],
		       (long long)res.u.i, e);
		if (fabs(e) > worst)
			worst = fabs(e);
	}
	printf("max=%.6f\nheap=%zu\n", worst, heap);
	agg_specs_free(specs, n);
	return 0;
}

/* The nearest-rank value of v (n of them) at pct, as a stable sort has
 * it: among equal values (0 and -0) the one first in v. */
static double rank_stable(const double *v, long n, double pct)
{
	double r = ceil(pct / 100 * (double)n - pct / 100 * (double)n * 1e-12);
	long k = r < 1 ? 1 : r > (double)n ? n : (long)r;
	double *u = malloc((size_t)n * sizeof *u);
	memcpy(u, v, (size_t)n * sizeof *u);
	for (long i = 1; i < n; i++) {	/* insertion sort: stable */
		double x = u[i];
		long j = i;
		for (; j > 0 && u[j - 1] > x; j--)
			u[j] = u[j - 1];
		u[j] = x;
	}
	double x = u[k - 1];
	free(u);
	return x;
}

/*
 *   agg-test --rank-check N SEED
 *       For every count 1..N, arrays of values with many ties (-2, -0,
 *       0, 0.5, 3 and random ones) into p0.1 ... p99.9 (16 of them):
 *       each result against a stable sort's nearest rank, the sign of a
 *       zero included. Prints "checked C, differ D"; the first
 *       difference is said on stderr.
 */
static int run_rank_check(int argc, char **argv)
{
	if (argc != 2)
		die("%s", "usage: --rank-check N SEED");
	long max = parse_count(argv[0]);
	rng_state = strtoull(argv[1], NULL, 10);
	int n;
	struct agg_spec *specs = parse_or_die(
		"p0.1(x),p1(x),p2(x),p5(x),p10(x),p20(x),p25(x),p40(x),"
		"p50(x),p60(x),p75(x),p80(x),p90(x),p95(x),p98(x),p99.9(x)", &n);
	static const double pick[] = { -2, -0.0, 0, 0.5, 3 };
	double *v = malloc((size_t)max * sizeof *v);
	long checked = 0, differ = 0;
	for (long count = 1; count <= max; count++) {
		for (long i = 0; i < count; i++) {
			uint64_t r = rng_next();
			v[i] = r % 3 ? pick[(r >> 8) % 5] : rng_normal();
		}
		void *st = state_new(specs, n);
		struct value vals[16];
		for (long i = 0; i < count; i++) {
			for (int k = 0; k < n; k++)
				vals[k] = get_double(i, v);
			agg_state_add(specs, n, st, vals, i);
		}
		struct value res[16];
		agg_state_result(specs, n, st, 1000000, res);
		for (int k = 0; k < n; k++, checked++) {
			double want = rank_stable(v, count, specs[k].pct);
			double got = value_num(&res[k]);
			if (got == want && signbit(got) == signbit(want))
				continue;
			if (!differ++)
				fprintf(stderr, "count %ld %s: %.17g, want %.17g\n",
					count, specs[k].name, got, want);
		}
		state_del(specs, n, st);
	}
	printf("checked %ld, differ %ld\n", checked, differ);
	free(v);
	agg_specs_free(specs, n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("%s", "usage: agg-test AGGS [options] < lines (see the source)");
	if (!strcmp(argv[1], "--parse") && argc == 3)
		return run_parse(argv[2]);
	if (!strcmp(argv[1], "--quantile-error"))
		return run_quantile_error(argc - 2, argv + 2);
	if (!strcmp(argv[1], "--rank-check"))
		return run_rank_check(argc - 2, argv + 2);
	if (!strcmp(argv[1], "--distinct-error"))
		return run_distinct_error(argc - 2, argv + 2);
	return run_lines(argv[1], argc - 2, argv + 2);
}
