/* es-detect - online anomaly detection per key, in one pass
 *
 * Each record gets two fields: anomaly (true or false) and score (how far
 * the value is from what its key's recent values lead to expect, or null
 * while that is not known). Methods:
 *
 *   --zscore K --window N|D  score = (x - mean) / sd over the key's last N
 *                            points (or those of the last D of event time)
 *                            before this one; sd is the sample deviation
 *   --ewma A --threshold K   score = (x - m) / sqrt(v), m and v the
 *                            exponentially weighted mean and variance of
 *                            the points before (weight A for the newest)
 *   --mad K --window N|D     score = (x - median) / (1.4826 * MAD) over the
 *                            window: robust to the spikes themselves
 *   --above X / --below X    thresholds with hysteresis: one anomaly when
 *     [--clear Y]            the value crosses X, none more until it is
 *                            back past Y
 *
 * A point is an anomaly when |score| > K. Every point enters the statistics
 * of its key, anomalies too, so that a lasting change of level becomes the
 * new normal within a window instead of alarming for ever. No anomaly is
 * said during the warm-up (--warmup points of the key's history). When the
 * spread is 0 (a constant series), a value off the centre is an anomaly and
 * its score is null.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "keyed.h"
#include "prog.h"
#include "path.h"
#include "record.h"
#include "roll.h"
#include "time.h"
#include "watermark.h"

enum method { M_NONE, M_ZSCORE, M_EWMA, M_MAD, M_THRESHOLD };

enum {
	OPT_ZSCORE = OPT_PROGRAM, OPT_WINDOW, OPT_EWMA,
	OPT_THRESHOLD, OPT_MAD, OPT_ABOVE, OPT_BELOW, OPT_CLEAR, OPT_WARMUP,
	OPT_ONLY, OPT_TIME_FIELD, OPT_TIME_UNIT, OPT_MAX_KEYS, OPT_MAX_STATE,
	OPT_MAX_AHEAD,
};

#define MAX_WINDOW 100000	/* points a count window may hold */
#define TIME_WINDOW_MAX 10000	/* points a time window holds per key */
#define DEFAULT_WARMUP 10	/* time windows and --ewma */
#define MAD_SCALE 1.4826	/* MAD to sd for normal data */

/* What the options say (parsed at start and again on a reload); the
 * running one is cfg-> Option values point into the command line's words. */
struct conf {
	enum method method;
	double k, alpha;
	bool has_threshold;
	long window;		/* count window: points */
	int64_t span;		/* time window: us */
	int64_t max_ahead;	/* --max-ahead (lib/watermark.h) */
	long warmup;		/* -1: the default */
	bool above, below, only;
	double above_x, above_clear, below_x, below_clear;
	int last_level;		/* OPT_ABOVE or OPT_BELOW: what --clear is for */
	const char *field, *time_field;
	struct path *kpaths;	/* --key */
	int nkeys;
	enum time_repr unit_opt;	/* --time-unit as given */
	enum time_repr unit;		/* in use: TIME_AUTO until guessed */
	long max_keys;
	size_t max_state;	/* bytes */
};

static struct conf *cfg;	/* the options in force */

struct kstate {
	struct roll r;		/* --zscore, --mad */
	double m, v;		/* --ewma */
	long n;			/* points seen */
	bool up, down;		/* in an excursion above / below */
};

static struct keyed *keys;
static struct keyed_counts last_counts;	/* once keys is freed */
static int *kslot, vslot, tslot, aslot, sslot;
static struct scratch sc;
static struct writer *out_w;
static struct outbuf *out;
static unsigned long long anomalies, trimmed;
/* Records read well that --only-anomalies did not write. */
static unsigned long long filtered;

/* ---- scoring ---- */

struct verdict {
	bool anomaly, known;	/* known: score is a number */
	double score;
};

/* x against a centre and a spread (sd or scaled MAD). */
static struct verdict judge(double x, double centre, double spread)
{
	struct verdict v = { false, true, 0 };
	if (spread > 0) {
		v.score = (x - centre) / spread;
		v.anomaly = fabs(v.score) > cfg->k;
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

static void window_push(struct kstate *st, double x, int64_t t)
{
	int cap = st->r.cap;
	if (st->r.max == 0)
		roll_init(&st->r, cfg->window ? (int)cfg->window : TIME_WINDOW_MAX,
			  cfg->method == M_MAD);
	bool full = roll_push(&st->r, x, t);
	/* may forget other keys (not st) */
	if (st->r.cap != cap)
		keyed_held(keys, st, roll_bytes(&st->r));
	if (full && !cfg->window) {
		static bool warned;
		if (!warned)
			diag_warn("a --window of time holds %d points of one key: "
				  "the oldest go early (counted as \"trimmed\" in "
				  "--stats)", TIME_WINDOW_MAX);
		warned = true;
		trimmed++;
	}
}

static struct verdict score_window(struct kstate *st, double x, int64_t t)
{
	struct verdict v = { false, false, 0 };
	if (cfg->span && st->r.n)
		roll_expire(&st->r, t - cfg->span);
	if (st->r.n >= cfg->warmup) {
		if (cfg->method == M_ZSCORE) {
			v = judge(x, roll_mean(&st->r), roll_sd(&st->r));
		} else {
			v = judge(x, roll_median(&st->r),
				  MAD_SCALE * roll_mad(&st->r));
		}
	}
	window_push(st, x, t);
	return v;
}

static struct verdict score_ewma(struct kstate *st, double x)
{
	struct verdict v = { false, false, 0 };
	if (st->n == 0) {
		st->m = x;
		st->v = 0;
		return v;
	}
	double d = x - st->m;
	if (st->n >= cfg->warmup)
		v = judge(x, st->m, sqrt(st->v));
	st->m += cfg->alpha * d;
	st->v = (1 - cfg->alpha) * (st->v + cfg->alpha * d * d);
	return v;
}

/* One anomaly per excursion: when the value crosses the threshold; the
 * excursion ends when it is back past the clear level. */
static struct verdict score_threshold(struct kstate *st, double x)
{
	struct verdict v = { false, true, -INFINITY };
	if (cfg->above) {
		if (!st->up && x > cfg->above_x)
			st->up = v.anomaly = true;
		else if (st->up && x <= cfg->above_clear)
			st->up = false;
		v.score = x - cfg->above_x;
	}
	if (cfg->below) {
		if (!st->down && x < cfg->below_x)
			st->down = v.anomaly = true;
		else if (st->down && x >= cfg->below_clear)
			st->down = false;
		if (cfg->below_x - x > v.score)
			v.score = cfg->below_x - x;
	}
	return v;
}

/* ---- output: the record with anomaly and score ---- */

/* Writes m / 10^4 with no trailing zeros: the text double_format gives
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
	return double_format(r / 1e4, buf);
}

/* NDJSON in and out, no field of those names yet: the two fields go in
 * before the closing brace, the rest stays byte for byte. */
static void put_spliced(const struct record *rec, const struct verdict *v)
{
	size_t end = rec->rawlen;
	while (rec->raw[end - 1] != '}')
		end--;
	size_t last = end - 1;	/* the closing brace */
	size_t p = last;
	while (p > 0 && strchr(" \t\r\n", rec->raw[p - 1]))
		p--;
	bool empty = rec->raw[p - 1] == '{';
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
static struct ofield *of;
static size_t ofcap;
static struct fieldset *mfs;
static struct json_scan js;

static const struct member *members_of(const struct record *rec, size_t *n)
{
	const char *err;
	size_t col;
	if (rec->fmt == FMT_CSV || rec->fields) {
		*n = rec->nfields;
		return rec->fields;
	}
	if (!mfs) {
		mfs = fieldset_new();
		fieldset_want_members(mfs, true);
	}
	if (json_scan_line(rec->raw, rec->rawlen, mfs, &js, &err, &col) < 0) {
		*n = 0;
		return NULL;
	}
	*n = js.nmembers;
	return js.members;
}

static void key_name(const struct span *k, const char **p, size_t *n)
{
	if (k->kind == SPAN_CSV) {
		*p = k->p;
		*n = k->n;
	} else if (!k->escaped) {
		*p = k->p + 1;
		*n = k->n - 2;
	} else {
		char *b = scratch_alloc(&sc, k->n);
		*n = json_unescape(k, b);
		*p = b;
	}
}

static bool named(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && !memcmp(p, name, n);
}

static void put_rebuilt(const struct record *rec, const struct verdict *v)
{
	size_t nm, nf = 0;
	const struct member *m = members_of(rec, &nm);
	char buf[40];
	if (nm + 2 > ofcap) {
		ofcap = nm + 2;
		of = xrealloc(of, ofcap * sizeof *of);
	}
	for (size_t i = 0; i < nm; i++) {
		struct ofield *f = &of[nf];
		key_name(&m[i].key, &f->name, &f->namelen);
		if (named(f->name, f->namelen, "anomaly") ||
		    named(f->name, f->namelen, "score"))
			continue;
		if (value_load(&m[i].val, &f->v, &sc))
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
	if (writer_put_fields(out_w, of, nf, &err) < 0)
		record_bad(rec, err);
}

static enum format ofmt;	/* -o, else the first record's format */

static void put(const struct record *rec, const struct verdict *v)
{
	if (ofmt == FMT_AUTO) {
		ofmt = rec->fmt;
		writer_set_format(out_w, ofmt);
	}
	bool plain = rec->fmt == FMT_NDJSON && ofmt == FMT_NDJSON &&
		     rec->slots[aslot].kind == SPAN_MISSING &&
		     rec->slots[sslot].kind == SPAN_MISSING;
	if (plain)
		put_spliced(rec, v);
	else
		put_rebuilt(rec, v);
}

/* ---- per record ---- */

/* The record's value, or false after reporting it as bad input. */
static bool get_value(const struct record *rec, double *x)
{
	return record_number(rec, &rec->slots[vslot], cfg->field, &sc, x) == 0;
}

/* Only a window of time needs the event time. */
static bool get_time(const struct record *rec, int64_t *t)
{
	*t = 0;
	if (!cfg->span)
		return true;
	return record_time(rec, &rec->slots[tslot], cfg->time_field, &cfg->unit,
			   &sc, t, NULL) == 0;
}

/* Far-ahead records wait here for confirmation (lib/watermark.h). */
static struct wmark wmk;
static const struct record *in_hand;	/* and its value: */
static double in_x;

static void timed_record(const struct record *rec, int64_t t, void *ctx);

static void on_record(const struct record *rec)
{
	int64_t t;
	scratch_reset(&sc);
	if (!get_value(rec, &in_x) || !get_time(rec, &t))
		return;
	in_hand = rec;
	if (cfg->span)
		wm_event(&wmk, rec, t, timed_record, NULL);
	else
		timed_record(rec, t, NULL);
	in_hand = NULL;
}

/* A record whose time the watermark rule accepted; a held one comes
 * back later, its value to be read again. */
static void timed_record(const struct record *rec, int64_t t, void *ctx)
{
	double x = in_x;
	bool fresh;
	struct verdict v;
	(void)ctx;
	if (rec != in_hand) {
		scratch_reset(&sc);
		if (!get_value(rec, &x))
			return;
	}
	struct kstate *st = keyed_get(keys, rec->slots, kslot, cfg->nkeys, &sc,
				      &fresh);
	switch (cfg->method) {
	case M_EWMA: v = score_ewma(st, x); break;
	case M_THRESHOLD: v = score_threshold(st, x); break;
	default: v = score_window(st, x, t); break;
	}
	st->n++;
	if (v.anomaly)
		anomalies++;
	if (v.anomaly || !cfg->only)
		put(rec, &v);
	else
		filtered++;
}

static void drop(void *state, void *ctx)
{
	(void)ctx;
	roll_free(&((struct kstate *)state)->r);
}

/* ---- options ---- */

#define STR(x) #x
#define XSTR(x) STR(x)

static const struct opts_entry options[] = {
	/* the methods: in the help's own words (they go in pairs) */
	{"zscore", required_argument, OPT_ZSCORE, "K", ""},
	{"window", required_argument, OPT_WINDOW, "N|D", ""},
	{"ewma", required_argument, OPT_EWMA, "A", ""},
	{"threshold", required_argument, OPT_THRESHOLD, "K", ""},
	{"mad", required_argument, OPT_MAD, "K", ""},
	{"above", required_argument, OPT_ABOVE, "X", ""},
	{"below", required_argument, OPT_BELOW, "X", ""},
	{"clear", required_argument, OPT_CLEAR, "Y", ""},
	{"key", required_argument, 'k', "F1,F2",
	 "one series per value of these fields\n"
	 "(default: the whole stream is one series)"},
	{"field", required_argument, 'f', "F", "the value (default: value)"},
	{"warmup", required_argument, OPT_WARMUP, "W",
	 "no anomaly until W points of history: the\n"
	 "window holds W points (default: N for --window\n"
	 "N, " XSTR(DEFAULT_WARMUP) " for --window D and --ewma; at least 2)"},
	{"only-anomalies", no_argument, OPT_ONLY, NULL,
	 "write only the anomalies"},
	{"time-field", required_argument, OPT_TIME_FIELD, "F",
	 "event time field, for --window D (default: ts)"},
	{"time-unit", required_argument, OPT_TIME_UNIT, "U",
	 "s, ms, us, ns or auto (default auto: guessed\n"
	 "from the first value: below 1e11 s, 1e14 ms,\n"
	 "1e17 us, else ns); strings are RFC 3339"},
	{"max-ahead", required_argument, OPT_MAX_AHEAD, "D",
	 "with a --window of time: a record more than D\n"
	 "(default 1d) ahead of the stream's time waits\n"
	 "for 2 more to confirm the jump, else it is bad\n"
	 "input; 0: off"},
	{"max-keys", required_argument, OPT_MAX_KEYS, "N",
	 "at most N keys (default " XSTR(KEYED_DEFAULT_MAX) "); at the limit the\n"
	 "least recently seen key is forgotten"},
	{"max-state", required_argument, OPT_MAX_STATE, "SIZE",
	 "at most SIZE bytes of keys and windows\n"
	 "(default 64M; 512k, 64M, 2G); at the limit\n"
	 "the least recently seen keys are forgotten"},
	{0}
};

static double opt_number(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v))
		diag_usage("invalid argument '%s' for %s: expected a number", arg,
			   opt);
	return v;
}

static double opt_positive(const char *opt, const char *arg)
{
	double v = opt_number(opt, arg);
	if (v <= 0)
		diag_usage("invalid argument '%s' for %s: must be above 0", arg,
			   opt);
	return v;
}

static long opt_count(const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi)
		diag_usage("invalid argument '%s' for %s: expected a count from "
			   "%ld to %ld", arg, opt, lo, hi);
	return v;
}

/* --window N (a count) or D (a duration). */
static void opt_window(struct conf *c, const char *arg)
{
	const char *err;
	if (arg[0] && strspn(arg, "0123456789") == strlen(arg)) {
		c->window = opt_count("--window", arg, 2, MAX_WINDOW);
		return;
	}
	if (duration_parse(arg, false, &c->span, &err))
		diag_usage("invalid argument '%s' for --window: %s (a count or "
			   "a duration)", arg, err);
	if (!c->span)
		diag_usage("invalid argument '%s' for --window: must be above 0",
			   arg);
}

static void set_method(struct conf *c, enum method m, const char *opt)
{
	bool thresholds = c->method == M_THRESHOLD && m == M_THRESHOLD;
	if (c->method != M_NONE && !thresholds)
		diag_usage("%s: only one method may be given", opt);
	c->method = m;
}

static void opt_clear(struct conf *c, const char *arg)
{
	double y = opt_number("--clear", arg);
	if (c->last_level == OPT_ABOVE) {
		if (y > c->above_x)
			diag_usage("--clear %s is above --above %g: it must not be",
				   arg, c->above_x);
		c->above_clear = y;
	} else if (c->last_level == OPT_BELOW) {
		if (y < c->below_x)
			diag_usage("--clear %s is below --below %g: it must not be",
				   arg, c->below_x);
		c->below_clear = y;
	} else {
		diag_usage("--clear goes after --above or --below");
	}
}

static void parse_one(struct conf *c, int ch, const char *arg)
{
	switch (ch) {
	case 'k': keyed_parse_keys(&c->kpaths, &c->nkeys, arg); break;
	case 'f': c->field = arg; break;
	case OPT_ZSCORE:
		set_method(c, M_ZSCORE, "--zscore");
		c->k = opt_positive("--zscore", arg);
		break;
	case OPT_MAD:
		set_method(c, M_MAD, "--mad");
		c->k = opt_positive("--mad", arg);
		break;
	case OPT_EWMA:
		set_method(c, M_EWMA, "--ewma");
		c->alpha = opt_positive("--ewma", arg);
		if (c->alpha > 1)
			diag_usage("invalid argument '%s' for --ewma: expected "
				   "0 < A <= 1", arg);
		break;
	case OPT_THRESHOLD:
		c->k = opt_positive("--threshold", arg);
		c->has_threshold = true;
		break;
	case OPT_WINDOW: opt_window(c, arg); break;
	case OPT_ABOVE:
		set_method(c, M_THRESHOLD, "--above");
		c->above = true;
		c->above_x = c->above_clear = opt_number("--above", arg);
		c->last_level = OPT_ABOVE;
		break;
	case OPT_BELOW:
		set_method(c, M_THRESHOLD, "--below");
		c->below = true;
		c->below_x = c->below_clear = opt_number("--below", arg);
		c->last_level = OPT_BELOW;
		break;
	case OPT_CLEAR: opt_clear(c, arg); break;
	case OPT_WARMUP:
		c->warmup = opt_count("--warmup", arg, 2, MAX_WINDOW);
		break;
	case OPT_ONLY: c->only = true; break;
	case OPT_TIME_FIELD: c->time_field = arg; break;
	case OPT_TIME_UNIT:
		time_unit_opt(arg, &c->unit_opt);
		break;
	case OPT_MAX_KEYS: c->max_keys = keyed_max_keys(arg); break;
	case OPT_MAX_AHEAD:
		c->max_ahead = opts_duration("--max-ahead", arg, true);
		break;
	case OPT_MAX_STATE:
		c->max_state = opts_size("--max-state", arg);
		break;
	}
}

static void check_args(struct conf *c)
{
	bool windowed = c->method == M_ZSCORE || c->method == M_MAD;
	if (c->method == M_NONE)
		diag_usage("a method is needed: --zscore, --ewma, --mad, --above "
			   "or --below");
	if (windowed && !c->window && !c->span)
		diag_usage("%s needs --window N or D",
			   c->method == M_ZSCORE ? "--zscore" : "--mad");
	if (!windowed && (c->window || c->span))
		diag_usage("--window goes with --zscore or --mad");
	if (c->method == M_EWMA && !c->has_threshold)
		diag_usage("--ewma needs --threshold K");
	if (c->method != M_EWMA && c->has_threshold)
		diag_usage("--threshold goes with --ewma");
	if (c->method == M_THRESHOLD && c->warmup >= 0)
		diag_usage("--warmup does not go with --above or --below");
	if (c->window && c->warmup > c->window)
		diag_usage("--warmup %ld is more than the --window of %ld points",
			   c->warmup, c->window);
	if (c->warmup < 0)
		c->warmup = c->window ? c->window : DEFAULT_WARMUP;
}

static void conf_init(void *conf)
{
	*(struct conf *)conf = (struct conf){
		.field = "value", .time_field = "ts",
		.max_ahead = WM_DEFAULT_AHEAD, .warmup = -1,
		.max_keys = KEYED_DEFAULT_MAX,
		.max_state = OPTS_DEFAULT_MAX_STATE };
}

static void conf_option(void *conf, int code, const char *arg)
{
	parse_one(conf, code, arg);
}

static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	struct conf *c = conf;
	(void)run, (void)argc, (void)argv;
	c->unit = c->unit_opt;
	check_args(c);
}

/* A path the program can do without (a field it only tests for, or does
 * not read under these options): no warning for a CSV header without it. */
static int add_optional(struct fieldset *fs, const char *text, const char *opt)
{
	struct path p;
	const char *err;
	if (path_parse_all(text, &p, &err))
		return fieldset_add_text(fs, text, opt);	/* says why */
	int slot = fieldset_add_optional(fs, &p);
	path_free(&p);
	return slot;
}

/* The slots of cfg's fields (again after a reload). */
static void setup_fields(struct fieldset *fs)
{
	kslot = keyed_slots(fs, cfg->kpaths, cfg->nkeys, kslot);
	vslot = fieldset_add_text(fs, cfg->field, "--field");
	/* only a --window of time reads the time */
	tslot = cfg->span ? fieldset_add_text(fs, cfg->time_field, "--time-field")
			 : add_optional(fs, cfg->time_field, "--time-field");
	/* Present already: the record is rebuilt with them replaced. */
	aslot = add_optional(fs, "anomaly", "field");
	sslot = add_optional(fs, "score", "field");
}

static void stats_extra(char *buf, size_t n)
{
	struct keyed_counts kc = keyed_counts(keys, &last_counts);
	snprintf(buf, n, ",\"filtered\":%llu,\"anomalies\":%llu,\"keys\":%d,"
		 "\"evicted\":%llu,\"trimmed\":%llu,\"state_bytes\":%zu",
		 filtered, anomalies, kc.peak,
		 kc.evicted, trimmed, kc.peak_bytes);
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	keyed_paths_free(c->kpaths, c->nkeys);
}

/* True if a key's statistics under a mean the same under b: the same
 * series (keys, value), method and window, times read the same way.
 * Thresholds (K, --above, --below, --clear), --ewma's weight, --warmup
 * and --only-anomalies do not change what the statistics are. */
static bool same_series(const struct conf *a, const struct conf *b)
{
	if (!keyed_same_keys(a->kpaths, a->nkeys, b->kpaths, b->nkeys) ||
	    strcmp(a->field, b->field) || a->method != b->method ||
	    a->window != b->window || a->span != b->span)
		return false;
	return !a->span || (!strcmp(a->time_field, b->time_field) &&
			    a->unit_opt == b->unit_opt);
}

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * records: the new options apply from the next record. If the series are
 * the same (same_series), every key keeps its statistics (window, weighted
 * mean and variance, points seen, an excursion under way) and the guessed
 * time unit stays. Otherwise every key starts again, with a warm-up;
 * nothing is held back, so nothing is written then. A lower --max-keys
 * or --max-state forgets the keys over it at once (evictions). The file
 * was checked by reload_argv(); the common options keep their start-up
 * values.
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	struct conf *nc = nconf;
	bool same = same_series(cfg, nc);
	if (same)
		nc->unit = cfg->unit;
	/* Records held for confirmation were read under the old fields. */
	wm_end(&wmk, timed_record, NULL);
	if (!same)
		wm_reset(&wmk);
	keyed_reload(keys, same, said, n);
	cfg = nc;
	setup_fields(run->fs);
	wm_set(&wmk, cfg->max_ahead, fieldset_count(run->fs));
	keyed_set_max(keys, cfg->max_keys, cfg->max_state);
	return true;
}

static void setup(struct prog_run *run)
{
	cfg = run->conf;
	setup_fields(run->fs);
	if (run->o.out_fmt == FMT_CSV)
		fieldset_want_members(run->fs, true);	/* NDJSON to CSV */
}

static void start(struct prog_run *run)
{
	keys = keyed_new(sizeof(struct kstate), cfg->max_keys, cfg->max_state,
			 drop, NULL);
	out = &run->out;
	ofmt = run->o.out_fmt;
	out_w = run->w;
	wm_init(&wmk, cfg->max_ahead, fieldset_count(run->fs));
}

static int timeout(struct prog_run *run)
{
	(void)run;
	return wm_idle(&wmk, timed_record, NULL);
}

static void on_record_run(struct prog_run *run, struct record *rec)
{
	(void)run;
	on_record(rec);
}

static void finish(struct prog_run *run)
{
	(void)run;
	wm_end(&wmk, timed_record, NULL);
	wm_free(&wmk);
	/* --stats at exit still reports the table's counters */
	last_counts = keyed_counts(keys, NULL);
	keyed_free(keys);
	keys = NULL;
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	if (mfs)
		fieldset_free(mfs);
	free(js.slots);
	free(js.members);
	free(of);
	free(kslot);
	scratch_free(&sc);
}

static const struct prog es_detect = {
	.name = "es-detect",
	.synopsis = "METHOD [OPTION]... [FILE]...",
	.about = "Flag anomalies per key in one pass: write each record with the fields\n"
		 "anomaly (true/false) and score (null while unknown) added.\n"
		 "\n"
		 "Method (one of):\n"
		 "      --zscore K --window N|D  |value - mean| > K sample deviations of\n"
		 "                           the key's last N points (or last D of event\n"
		 "                           time) before it\n"
		 "      --ewma A --threshold K   |value - m| > K * sqrt(v), m and v the\n"
		 "                           exponentially weighted mean and variance of\n"
		 "                           the points before (0 < A <= 1)\n"
		 "      --mad K --window N|D     |value - median| > K * 1.4826 * MAD of\n"
		 "                           the window (median absolute deviation)\n"
		 "      --above X [--clear Y]    one anomaly when the value goes above X,\n"
		 "                           none more until it is back at or below Y\n"
		 "                           (default Y = X); score = value - X\n"
		 "      --below X [--clear Y]    the same downwards; score = X - value\n"
		 "                           (--clear goes with the --above/--below\n"
		 "                           before it; both may be given)",
	.opts = options,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies the file's options\n"
		       "from the next record. Each key keeps its statistics unless --key,\n"
		       "--field, the method or the --window (and its time field and unit)\n"
		       "changed; then every key starts again with a warm-up.",
	.notes = "\nEvery point enters its key's statistics, anomalies too. Scores are\n"
		 "rounded to 4 decimals. A count window holds at most " XSTR(MAX_WINDOW) " points, a\n"
		 "window of time " XSTR(TIME_WINDOW_MAX) " per key. --stats adds filtered (the records\n"
		 "--only-anomalies did not write), anomalies, keys, evicted, trimmed,\n"
		 "state_bytes (the most bytes of --max-state held at once).\n"
		 "Durations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
		 "\nExamples:\n"
		 "  es-detect -k device --zscore 5 --window 100 readings.ndjson\n"
		 "  es-detect -k device --above 80 --clear 75 --only-anomalies temps.csv\n",
	.conf_size = sizeof(struct conf),
	.conf_init = conf_init,
	.option = conf_option,
	.check = conf_check,
	.conf_free = conf_free,
	.setup = setup,
	.start = start,
	.timeout = timeout,
	.record = on_record_run,
	.reload = conf_reload,
	.stats = stats_extra,
	.finish = finish,
	.cleanup = cleanup,
};

int main(int argc, char **argv)
{
	return prog_main(&es_detect, argc, argv);
}
