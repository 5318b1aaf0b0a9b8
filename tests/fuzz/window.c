/* window.c - fuzz target: the window engine (lib/window.h)
 *
 * The engine is linked from the library, as es-window uses it. Per input:
 *   - the first bytes pick a window definition, as es-window options
 *     (every kind, with and without group-by, several aggregate lists,
 *     lateness, --max-groups, --max-state, time unit and output time
 *     format), read into a struct window_conf by conf_of() with the
 *     library's own parsers of durations, counts and sizes;
 *   - the rest becomes a sequence of events written as NDJSON or CSV lines
 *     (times that go forward, back, stay, jump by years, hit the ends of
 *     the range, RFC 3339 strings, bad times; keys from a small set; values
 *     of every type), read by the real reader and fed to window_record(),
 *     with stretches of silence (window_silence(), the --idle rule) and
 *     reloads to another definition (window_reconf(), the path of a
 *     --config reload) between them; the windows are written by the real
 *     writer;
 *   - then window_end() and window_flush() as at the end of the input, and
 *     everything is freed, so that each run starts clean and a leak shows.
 * Invariants:
 *   - no record is lost or counted twice: over the stretch a definition
 *     was in force, the counts of the windows written add up to the events
 *     taken (neither bad nor late) for tumbling windows, sessions, count
 *     windows whose --every is N and hopping windows whose --every is the
 *     size; a sliding window is written per event taken; a hopping window
 *     holds each event at least once;
 *   - window bounds (in us with --time-format us): tumbling, hopping and
 *     sliding windows are the size long, sessions end after they start and
 *     within --max-session, count windows do not end before they start;
 *   - tumbling and hopping windows come out by start when no group was
 *     evicted; the watermark never goes back (but when a reload changes
 *     how time is read);
 *   - after each event, silence and reload, window_audit() finds the
 *     engine as it should be: no pane or session that the watermark has
 *     passed still open; the groups held within --max-groups; the bytes
 *     --max-state counts, kept as a running total, those a walk over every
 *     group, window and buffered event finds (key bytes, agg_state_heap of
 *     each window, each event's values), within --max-state but for the
 *     one group of the event in hand.
 * Diagnostics (bad lines, warnings) go to /dev/null while a run lasts;
 * sanitizer reports and broken invariants still reach the real stderr.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "diag.h"
#include "mem.h"
#include "optgroup.h"
#include "opts.h"
#include "path.h"
#include "record.h"
#include "size.h"
#include "stats.h"
#include "time.h"
#include "watermark.h"
#include "window.h"

#include "prog.h"

static int in_fd = -1;

/* ---- a definition, as a command line ---- */

static const char *const dur[] = { "1ms", "3ms", "10ms", "64ms", "250ms",
				   "1s", "1m", "1d", "3652425d" };
static const int64_t dur_us[] = { 1000, 3000, 10000, 64000, 250000, 1000000,
				  60000000, 86400000000LL,
				  315569520000000000LL };	/* 10000 years */
#define NDUR (sizeof dur / sizeof *dur)
static const char *const aggs[] = {
	"count",
	"count,sum(v),mean(v)",
	"count,min(v),max(v),first(v),last(v)",
	"count,p50(v),distinct(v),rate",
	"count,stddev(v),var(v),delta(v),median(v)",
	"count,first(d),last(d),distinct(d)",
	"count,sum(v) as s,p99.9(v),p1(v)",
	"count,first(e.x),last(v)",
};
static const char *const groups_by[] = { NULL, "d", "d,e.x", "e.x" };
/* Their paths, parsed once: a definition in force points to them. */
static struct path group_paths[4][2];
static int ngroup_paths[4];
static const char *const lateness[] = { NULL, "3ms", "100ms", "1s" };
static const char *const max_groups[] = { NULL, "1", "2", "3" };
/* A key is 6 bytes or so, a window's distinct set 512, a percentile's
 * values 128 and more, a sliding window's event 32 per aggregate. */
static const char *const max_states[] = { "16", "100", "600", "2k" };
static const char *const units[] = { "ms", "auto", "us", "s" };
static const char *const formats[] = { "us", NULL, "rfc3339", "ms" };

static void arg_num(struct cmdline *c, long n)
{
	char *w = c->words[c->nwords++];
	snprintf(w, sizeof c->words[0], "%ld", n);
	arg(c, w);
}

/* What the invariants need to know of a definition. */
struct def {
	enum window_kind kind;
	bool exact;		/* each event taken in exactly one window */
	bool us;		/* bounds written in us */
	int64_t size, max_session;	/* from conf_of */
};

static struct def make_def(struct bytes *b, struct cmdline *c)
{
	struct def d = { 0 };
	c->argc = c->nwords = 0;
	arg(c, "es-window");
	unsigned k = take(b), s = take(b), x = take(b), y = take(b);
	unsigned size = s % NDUR, other = (s / NDUR) % NDUR;
	switch (k % 5) {
	case 0:
		d.kind = WINDOW_TUMBLING;
		arg(c, "--tumbling");
		arg(c, dur[size]);
		if (k & 8) {
			arg(c, "--offset");
			arg(c, dur[other]);
		}
		d.exact = true;
		break;
	case 1:
		d.kind = WINDOW_HOPPING;
		arg(c, "--hopping");
		arg(c, dur[size]);
		/* An event is in about size/every windows: at most 64 here,
		 * or runs take seconds (a user's 1d every 1ms would too). */
		other %= size + 1;
		if (dur_us[size] / dur_us[other] > 64)
			other = size;
		arg(c, "--every");
		arg(c, dur[other]);
		d.exact = other == size;
		if (k & 8) {
			arg(c, "--offset");
			arg(c, dur[(k >> 4) % NDUR]);
		}
		break;
	case 2:
		d.kind = WINDOW_SLIDING;
		arg(c, "--sliding");
		arg(c, dur[size]);
		break;
	case 3:
		d.kind = WINDOW_SESSION;
		arg(c, "--session");
		arg(c, dur[size]);
		if (k & 8) {
			arg(c, "--max-session");
			arg(c, dur[other]);
		}
		d.exact = true;
		break;
	default: {
		long n = 1 + (long)(s % 5), m = 1 + (long)((s / 5) % (unsigned)n);
		d.kind = WINDOW_COUNT;
		arg(c, "--count");
		arg_num(c, n);
		if (k & 8) {
			arg(c, "--every");
			arg_num(c, m);
		}
		d.exact = !(k & 8) || m == n;
		break;
	}
	}
	if (groups_by[x % 4]) {
		arg(c, "-g");
		arg(c, groups_by[x % 4]);
	}
	arg(c, "-a");
	arg(c, aggs[(x >> 2) % (sizeof aggs / sizeof *aggs)]);
	if (lateness[(x >> 5) % 4]) {
		arg(c, "--lateness");
		arg(c, lateness[(x >> 5) % 4]);
	}
	if (max_groups[y % 4]) {
		arg(c, "--max-groups");
		arg(c, max_groups[y % 4]);
	}
	if (x & 128) {
		arg(c, "--max-state");
		arg(c, max_states[s >> 6]);
	}
	/* the far-future rule: default 1d, off, or tight */
	if (((s >> 1) & 3) == 1 || ((s >> 1) & 3) == 2) {
		arg(c, "--max-ahead");
		arg(c, ((s >> 1) & 3) == 1 ? "0" : "1s");
	}
	arg(c, "--time-unit");
	arg(c, units[(y >> 2) % 4]);
	const char *f = formats[(y >> 4) % 4];
	if (f) {
		arg(c, "--time-format");
		arg(c, f);
	}
	d.us = f && !strcmp(f, "us");
	if ((y >> 6) == 3) {
		arg(c, "--idle");
		arg(c, (k & 16) ? "5ms" : "1s");
	}
	/* Processing time follows the wall clock: rare (and the run is not
	 * repeatable, though every invariant holds). */
	if ((k >> 5) == 7 && (s & 1)) {
		arg(c, "--time");
		arg(c, "processing");
	}
	return d;
}

/* The group paths of a -g list. */
static void group_by(struct window_conf *w, const char *list)
{
	for (int i = 1; i < 4; i++)
		if (!strcmp(list, groups_by[i])) {
			w->gpaths = group_paths[i];
			w->ngroup_fields = ngroup_paths[i];
		}
}

/* The definition a command line of make_def says, as es-window reads it. */
static void conf_of(const struct cmdline *c, struct window_conf *w)
{
	static const struct { const char *opt; enum window_kind k; } kinds[] = {
		{ "--tumbling", WINDOW_TUMBLING }, { "--hopping", WINDOW_HOPPING },
		{ "--sliding", WINDOW_SLIDING }, { "--session", WINDOW_SESSION },
	};
	window_conf_init(w);
	for (int i = 1; i + 1 < c->argc; i += 2) {
		const char *o = c->argv[i], *v = c->argv[i + 1];
		for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
			if (!strcmp(o, kinds[k].opt)) {
				w->kind = kinds[k].k;
				w->size = opts_duration(o, v, false);
			}
		if (!strcmp(o, "--session")) {
			w->gap = w->size;
			w->size = 0;
		} else if (!strcmp(o, "--count")) {
			w->kind = WINDOW_COUNT;
			w->count = opts_count(o, v);
		} else if (!strcmp(o, "--every") && w->kind == WINDOW_COUNT)
			w->count_every = opts_count(o, v);
		else if (!strcmp(o, "--every"))
			w->every = opts_duration(o, v, false);
		else if (!strcmp(o, "--offset"))
			w->offset = opts_duration(o, v, true);
		else if (!strcmp(o, "--max-session"))
			w->max_session = opts_duration(o, v, false);
		else if (!strcmp(o, "-g"))
			group_by(w, v);
		else if (!strcmp(o, "-a"))
			w->agg_text = v;
		else if (!strcmp(o, "--lateness"))
			w->lateness = opts_duration(o, v, true);
		else if (!strcmp(o, "--max-groups"))
			w->max_groups = opts_count(o, v);
		else if (!strcmp(o, "--max-state"))
			w->max_state = optgroup_size(o, v);
		else if (!strcmp(o, "--max-ahead"))
			w->max_ahead = opts_duration(o, v, true);
		else if (!strcmp(o, "--time-unit"))
			optgroup_time_unit(v, &w->unit);
		else if (!strcmp(o, "--time-format") && !strcmp(v, "rfc3339"))
			w->out_repr = TIME_RFC3339;
		else if (!strcmp(o, "--time-format"))
			FUZZ_CHECK(time_unit_parse(v, &w->out_repr) == 0);
		else if (!strcmp(o, "--idle"))
			w->idle = opts_duration(o, v, false);
		else if (!strcmp(o, "--time"))
			w->processing = !strcmp(v, "processing");
	}
}

static void setup_once(void)
{
	if (!prog_setup("es-window"))
		return;
	char name[] = "/tmp/es-fuzz-window.XXXXXX";
	in_fd = mkstemp(name);
	FUZZ_CHECK(in_fd >= 0);
	unlink(name);	/* the descriptor is enough; nothing is left behind */
	for (int i = 1; i < 4; i++) {
		const char *s = groups_by[i], *err;
		while (*s) {
			FUZZ_CHECK(path_parse(&s, &group_paths[i][ngroup_paths[i]++],
					      &err) == 0);
			if (*s == ',')
				s++;
		}
	}
}

/* ---- the events, as input lines ---- */

/* Something to do before the record of a given input line. */
struct action {
	uint64_t line;
	bool reload;		/* else silence */
	int64_t silence_ms;
	struct def def;
	struct cmdline cmd;	/* in force after it: conf points into it */
	struct window_conf conf;
};

struct gen {
	struct outbuf text;	/* the input */
	bool csv;
	uint64_t lines;
	int64_t t;		/* the last time, in the input's unit */
	struct action act[64];
	int nact;
};

static const char *const keys_json[] = { "\"a\"", "\"b\"", "1", "1.0", "null",
					 "\"1\"", "true", "-0" };
static const char *const keys_csv[] = { "a", "b", "1", "1.0", "", "\"x,y\"",
					"true", "-0" };
static const char *const vals_json[] = {
	"1", "-7", "2.5", "9223372036854775807", "-9223372036854775808",
	"1e308", "\"str\"", "null", "true", "{\"o\":1}", "[1,2]", "-0", "0.1",
	"1e-300", "\"\"", "42",
};
static const char *const vals_csv[] = {
	"1", "-7", "2.5", "9223372036854775807", "-9223372036854775808",
	"1e308", "str", "", "true", "-0", "0.1", "1e-300", "\"a\"\"b\"", "42",
	"nan", "inf",
};

static void put(struct gen *g, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	FUZZ_CHECK(n >= 0 && (size_t)n < sizeof buf);
	out_put(&g->text, buf, (size_t)n);
}

/* One record line: time text (NULL: missing), key and value choices. */
static void record_line(struct gen *g, const char *ts, unsigned kd, unsigned kv)
{
	g->lines++;
	if (g->csv) {
		put(g, "%s,%s,%s,%s\n", ts ? ts : "", keys_csv[kd % 8],
		    keys_csv[(kd >> 3) % 8], vals_csv[kv % 16]);
		return;
	}
	put(g, "{");
	if (ts)
		put(g, "\"ts\":%s,", ts);
	put(g, "\"d\":%s,\"e\":{\"x\":%s}", keys_json[kd % 8],
	    keys_json[(kd >> 3) % 8]);
	if (kv % 17 != 16)
		put(g, ",\"v\":%s", vals_json[kv % 16]);
	put(g, "}\n");
}

/* The next time, in the input's unit: steps of every size and direction. */
static void step_time(struct gen *g, unsigned op, struct bytes *b)
{
	int64_t d;
	switch (op % 7) {
	case 0: g->t += take(b); break;
	case 1: break;
	case 2: g->t -= take(b); break;
	case 3: d = (int64_t)take(b) * take(b) * 1000; g->t += d; break;
	case 4: d = (int64_t)take(b) * 1000; g->t -= d; break;
	case 5:	/* years, either way */
		d = (int64_t)(take(b) & 0x3f) << 35;
		g->t += (op & 8) ? -d : d;
		break;
	default: {
		static const int64_t ends[] = {
			0, -62135596800000LL, 253402300799999LL, 1798761600000LL,
			-1, 253402300800000LL, INT64_MAX / 2, -62167219200000LL,
			/* the ends of the range, years -99999 to 99999 */
			3093527980799999LL, 3093527980800000LL,
			-3217830796800000LL, -3217830796800001LL,
		};
		g->t = ends[take(b) % 12];
	}
	}
	/* Keep clear of overflow in the generator itself. */
	if (g->t > INT64_MAX / 4)
		g->t = INT64_MAX / 4;
	if (g->t < -(INT64_MAX / 4))
		g->t = -(INT64_MAX / 4);
}

static void gen_events(struct gen *g, struct bytes *b)
{
	while (b->n && g->lines < 4000) {
		unsigned op = take(b);
		char ts[64];
		if ((op & 7) != 7) {
			step_time(g, op >> 3, b);
			snprintf(ts, sizeof ts, "%lld", (long long)g->t);
			record_line(g, ts, take(b), op >> 3);
			continue;
		}
		unsigned sub = take(b);
		switch (sub % 8) {
		case 0:	/* a reload to another definition */
			if (g->nact < 64) {
				struct action *a = &g->act[g->nact++];
				a->line = g->lines + 1;
				a->reload = true;
				a->def = make_def(b, &a->cmd);
			}
			break;
		case 1:	/* silence before the next record */
			if (g->nact < 64) {
				struct action *a = &g->act[g->nact++];
				a->line = g->lines + 1;
				a->reload = false;
				a->silence_ms = (int64_t)take(b) * take(b);
			}
			break;
		case 2:	/* a time that is not one */
			record_line(g, g->csv ? "soon" : "\"soon\"", take(b), sub >> 3);
			break;
		case 3:	/* no time */
			record_line(g, NULL, take(b), sub >> 3);
			break;
		case 4: {	/* the same instant as RFC 3339 (as if in ms) */
			char buf[48];
			int64_t us;
			if (__builtin_mul_overflow(g->t, (int64_t)1000, &us))
				us = 0;
			size_t n = rfc3339_format(us, buf);
			snprintf(ts, sizeof ts, g->csv ? "%.*s" : "\"%.*s\"",
				 (int)n, buf);
			record_line(g, ts, take(b), sub >> 3);
			break;
		}
		case 5:	/* a fraction */
			snprintf(ts, sizeof ts, "%lld.%u", (long long)g->t, take(b));
			record_line(g, ts, take(b), sub >> 3);
			break;
		case 6: {	/* raw bytes as a line */
			unsigned n = take(b) % 32;
			for (unsigned i = 0; i < n && b->n; i++) {
				char ch = (char)take(b);
				if (ch == '\n' || ch == '\r')
					ch = ' ';
				out_putc(&g->text, ch);
			}
			out_putc(&g->text, '\n');
			g->lines++;
			break;
		}
		default:	/* an exponent, or a number out of range */
			snprintf(ts, sizeof ts, "%lld%s%s", (long long)g->t,
				 (sub & 16) ? "000000" : "", (sub & 8) ? "" : "e3");
			record_line(g, ts, take(b), sub >> 3);
		}
	}
}

/* ---- the checks ---- */

/* Groups evicted so far in a run. */
static unsigned long long evictions;

/* The windows written while one definition was in force. */
struct seg {
	size_t from;		/* output checked up to here */
	uint64_t sum, lines, taken;
	int64_t prev_start;
	unsigned long long evicted;	/* at its start */
};

static void seg_start(struct seg *sg, const struct outbuf *o)
{
	sg->from = o->len;
	sg->sum = sg->lines = sg->taken = 0;
	sg->prev_start = INT64_MIN;
	sg->evicted = evictions;
}

static struct fieldset *out_fs;	/* window_start, window_end, count */
static struct json_scan out_js;

static int64_t int_of(const struct span *sp, bool *ok)
{
	struct value v;
	struct scratch scr = { 0 };
	*ok = value_load(sp, &v, &scr) == 0 && v.t == V_INT;
	int64_t r = *ok ? v.u.i : 0;
	scratch_free(&scr);
	return r;
}

/* Checks the windows written since sg->from, under definition d. */
static void check_lines(const struct outbuf *o, struct seg *sg,
			const struct def *d)
{
	if (getenv("FUZZ_WINDOW_DEBUG") && sg->from < o->len)
		dprintf(real_err, "output:\n%.*s", (int)(o->len - sg->from),
			o->buf + sg->from);
	if (!out_fs) {
		out_fs = fieldset_new();
		const char *names[] = { "window_start", "window_end", "count" };
		for (int i = 0; i < 3; i++) {
			struct path p;
			const char *err;
			FUZZ_CHECK(path_parse_all(names[i], &p, &err) == 0);
			fieldset_add(out_fs, &p);
			path_free(&p);
		}
		out_js.slots = xmalloc(3 * sizeof *out_js.slots);
	}
	size_t i = sg->from;
	while (i < o->len) {
		const char *line = o->buf + i;
		const char *nl = memchr(line, '\n', o->len - i);
		PCHECK(nl != NULL);
		size_t n = (size_t)(nl - line);
		const char *err;
		size_t col;
		PCHECK(json_scan_line(line, n, out_fs, &out_js, &err, &col) == 0);
		bool ok, ok2;
		int64_t c = int_of(&out_js.slots[2], &ok);
		PCHECK(ok && c >= 1);
		sg->sum += (uint64_t)c;
		sg->lines++;
		int64_t s = int_of(&out_js.slots[0], &ok);
		int64_t e = int_of(&out_js.slots[1], &ok2);
		if (d->us && ok && ok2) {
			switch (d->kind) {
			case WINDOW_TUMBLING:
			case WINDOW_HOPPING:
			case WINDOW_SLIDING:
				PCHECK(e - s == d->size);
				break;
			case WINDOW_SESSION:
				PCHECK(e > s);
				PCHECK(!d->max_session || e - s <= d->max_session);
				break;
			default:
				PCHECK(s <= e);
			}
			if ((d->kind == WINDOW_TUMBLING || d->kind == WINDOW_HOPPING) &&
			    evictions == sg->evicted) {
				PCHECK(s >= sg->prev_start);
				sg->prev_start = s;
			}
		}
		i += n + 1;
	}
	sg->from = i;
}

/* At the end of a definition's stretch: no event lost or counted twice. */
static void seg_end(const struct outbuf *o, struct seg *sg, const struct def *d)
{
	check_lines(o, sg, d);
	if (getenv("FUZZ_WINDOW_DEBUG"))
		dprintf(real_err, "segment: %llu windows, count %llu, %llu "
			"events taken\n", (unsigned long long)sg->lines,
			(unsigned long long)sg->sum,
			(unsigned long long)sg->taken);
	if (d->kind == WINDOW_SLIDING)
		PCHECK(sg->lines == sg->taken);
	else if (d->exact)
		PCHECK(sg->sum == sg->taken);
	else if (d->kind == WINDOW_HOPPING)
		PCHECK(sg->sum >= sg->taken);
	seg_start(sg, o);
}

/* After each event, silence and reload: the engine is what its running
 * totals and the watermark say; the watermark only goes forward. */
static void check_state(const struct window *w, int64_t *prev_wm)
{
	const char *bad = window_audit(w);
	if (bad)
		dprintf(real_err, "window_audit: %s\n", bad);
	PCHECK(!bad);
	PCHECK(window_watermark(w) >= *prev_wm);
	*prev_wm = window_watermark(w);
}

/* ---- the run ---- */

static struct writer *out_w;

static void emit(const struct ofield *f, size_t n, void *ctx)
{
	const char *err;
	(void)ctx;
	PCHECK(writer_put_fields(out_w, f, n, &err) == 0);
}

static void late(const struct record *rec, int64_t t, int64_t wm, void *ctx)
{
	(void)ctx;
	wm_late(rec, t, wm);
}

static void evict(const struct value *group, int n, void *ctx)
{
	(void)group;
	(void)n;
	(void)ctx;
	evictions++;
}

static const struct window_cb callbacks = { emit, late, evict, NULL };

/* FUZZ_WINDOW_DEBUG=1: what a run does, on the real stderr. */
static void debug_run(const struct cmdline *cmd, const struct gen *g)
{
	dump_cmd("start", cmd);
	for (int i = 0; i < g->nact; i++) {
		if (g->act[i].reload) {
			dprintf(real_err, "line %llu: ",
				(unsigned long long)g->act[i].line);
			dump_cmd("reload", &g->act[i].cmd);
		} else {
			dprintf(real_err, "silence %lld ms before line %llu\n",
				(long long)g->act[i].silence_ms,
				(unsigned long long)g->act[i].line);
		}
	}
	dprintf(real_err, "input:\n%.*s", (int)g->text.len, g->text.buf);
}

/* The events the far-ahead rule released (and before them, took[0..3) of
 * held, bad and late), less those found bad or late: taken. */
static void taken_since(struct seg *sg, const struct window *w,
			const uint64_t took[3])
{
	sg->taken += took[0] - (uint64_t)window_held(w) -
		     (stats.bad - took[1]) - (stats.late - took[2]);
}

static void took_now(const struct window *w, uint64_t took[3])
{
	took[0] = (uint64_t)window_held(w);
	took[1] = stats.bad;
	took[2] = stats.late;
}

/* A reload action: the engine takes its definition, as es-window would. */
static void reload(struct window *w, struct action *a, struct reader *r,
		   struct outbuf *out, struct seg *sg, struct def *d,
		   int64_t *prev_wm)
{
	char said[256];
	uint64_t took[3];
	check_lines(out, sg, d);
	conf_of(&a->cmd, &a->conf);
	/* window_reconf decides the held events first, under the old
	 * definition: what they write (a sliding window each, windows they
	 * close) is in the old time format. Done here first, it is checked
	 * as the old segment's; window_reconf then finds none held. */
	took_now(w, took);
	window_end(w);
	taken_since(sg, w, took);
	check_lines(out, sg, d);
	took_now(w, took);
	enum window_change done = window_reconf(w, &a->conf, said, sizeof said);
	PCHECK(done == WINDOW_KEPT || done == WINDOW_NEW ||
	       done == WINDOW_NEW_FIELDS);
	taken_since(sg, w, took);
	if (done != WINDOW_KEPT) {
		reader_fields_changed(r);
		seg_end(out, sg, d);
		if (window_watermark(w) == INT64_MIN)
			*prev_wm = INT64_MIN;	/* another clock */
	}
	if (done == WINDOW_NEW_FIELDS) {
		writer_close(out_w);
		out_w = writer_open(out, FMT_NDJSON);
	}
	*d = a->def;
	d->size = a->conf.size;
	d->max_session = a->conf.max_session;
	check_state(w, prev_wm);
}

/* The input of a run into in_fd, for the reader; its name in name. */
static void write_input(const struct gen *g, char *name, size_t n)
{
	FUZZ_CHECK(ftruncate(in_fd, 0) == 0);
	FUZZ_CHECK(pwrite(in_fd, g->text.buf, g->text.len, 0) ==
		   (ssize_t)g->text.len);
	snprintf(name, n, "/proc/self/fd/%d", in_fd);
}

static void run(struct bytes *b)
{
	static struct cmdline cmd;
	static struct gen g;
	struct def d = make_def(b, &cmd);
	memset(&g, 0, sizeof g);
	out_init(&g.text, -1, "input");
	g.csv = take(b) & 1;
	if (g.csv)
		put(&g, "ts,d,e.x,v\n");
	g.lines = g.csv;
	g.t = (int64_t)take(b) << 8;
	gen_events(&g, b);
	char name[64];
	write_input(&g, name, sizeof name);
	char *files[] = { name };
	if (getenv("FUZZ_WINDOW_DEBUG"))
		debug_run(&cmd, &g);

	memset(&stats, 0, sizeof stats);
	evictions = 0;
	struct window_conf conf;
	conf_of(&cmd, &conf);
	d.size = conf.size;
	d.max_session = conf.max_session;
	struct fieldset *fs = fieldset_new();
	char err[256];
	struct window *w = window_new(&conf, fs, &callbacks, err, sizeof err);
	PCHECK(w != NULL);
	window_set_utf8(w, true);	/* the windows are written as NDJSON */
	struct outbuf out;
	out_init(&out, -1, "output");
	out_w = writer_open(&out, FMT_NDJSON);
	struct reader *r = reader_open(files, 1, FMT_AUTO, fs, NULL, NULL);
	struct seg sg;
	seg_start(&sg, &out);
	int64_t prev_wm = INT64_MIN;
	int next = 0;
	uint64_t line = g.csv;	/* the last line read */
	uint64_t took[3];
	struct record rec;
	for (;;) {
		/* Between two records, as the program does: the record read
		 * next is the first the new definition sees. */
		for (; next < g.nact && g.act[next].line <= line + 1; next++) {
			struct action *a = &g.act[next];
			if (a->reload) {
				reload(w, a, r, &out, &sg, &d, &prev_wm);
				continue;
			}
			window_silence(w, a->silence_ms);
			check_state(w, &prev_wm);
		}
		if (reader_next(r, &rec) <= 0)
			break;
		line = rec.line;
		/* Taken: this record and the held ones released, but for
		 * those found bad or late (the --max-ahead rule holds some). */
		took_now(w, took);
		window_record(w, &rec);
		sg.taken++;
		taken_since(&sg, w, took);
		check_state(w, &prev_wm);
		check_lines(&out, &sg, &d);
	}
	/* the end of the input decides what is held */
	took_now(w, took);
	window_end(w);
	taken_since(&sg, w, took);
	window_flush(w);
	seg_end(&out, &sg, &d);
	window_free(w);
	writer_close(out_w);
	out_w = NULL;
	reader_close(r);
	fieldset_free(fs);
	out_free(&out);
	out_free(&g.text);
}
