/* window.c - fuzz target: es-window's window state machine
 *
 * The program itself is compiled in (its main renamed), so that its static
 * state and functions are those under test. Per input:
 *   - the first bytes pick a window definition, as options parsed by the
 *     program's own parse_args/check_args (every kind, with and without
 *     group-by, several aggregate lists, lateness, --max-groups,
 *     --max-state, time unit and output time format);
 *   - the rest becomes a sequence of events written as NDJSON or CSV lines
 *     (times that go forward, back, stay, jump by years, hit the ends of
 *     the range, RFC 3339 strings, bad times; keys from a small set; values
 *     of every type), read by the real reader and fed to on_record(), with
 *     stretches of silence (on_silence(), the --idle rule) and reloads to
 *     another definition (conf_apply(), the path of a --config reload)
 *     between them;
 *   - then flush_all() as at the end of the input, and everything is freed,
 *     so that each run starts clean and a leak shows.
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
 *     evicted; after each event no pane or session that the watermark has
 *     passed is still open; the watermark never goes back (but when a
 *     reload changes how time is read); the groups held stay within
 *     --max-groups;
 *   - the bytes --max-state counts, kept as a running total, are those a
 *     walk over every group, window and buffered event finds (key bytes,
 *     agg_state_heap of each window, each event's values); they stay
 *     within --max-state but for the one group of the event in hand.
 * Diagnostics (bad lines, warnings) go to /dev/null while a run lasts;
 * sanitizer reports and broken invariants still reach the real stderr.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

int es_window_main(int argc, char **argv);
#define main es_window_main
#include "../../cmd/es-window.c"
#undef main

#include "prog.h"

static int in_fd = -1;

static void setup_once(void)
{
	if (!prog_setup("es-window"))
		return;
	char name[] = "/tmp/es-fuzz-window.XXXXXX";
	in_fd = mkstemp(name);
	FUZZ_CHECK(in_fd >= 0);
	unlink(name);	/* the descriptor is enough; nothing is left behind */
}

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
	enum kind kind;
	bool exact;		/* each event taken in exactly one window */
	bool us;		/* bounds written in us */
	int64_t size, max_session;	/* from cfg once in force */
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
		d.kind = K_TUMBLING;
		arg(c, "--tumbling");
		arg(c, dur[size]);
		if (k & 8) {
			arg(c, "--offset");
			arg(c, dur[other]);
		}
		d.exact = true;
		break;
	case 1:
		d.kind = K_HOPPING;
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
		d.kind = K_SLIDING;
		arg(c, "--sliding");
		arg(c, dur[size]);
		break;
	case 3:
		d.kind = K_SESSION;
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
		d.kind = K_COUNT;
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

/* ---- the events, as input lines ---- */

/* Something to do before the record of a given input line. */
struct action {
	uint64_t line;
	bool reload;		/* else silence */
	int64_t silence_ms;
	struct def def;
	struct cmdline cmd;	/* in force after it: cfg points into it */
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
	sg->evicted = evicted;
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
			case K_TUMBLING:
			case K_HOPPING:
			case K_SLIDING:
				PCHECK(e - s == d->size);
				break;
			case K_SESSION:
				PCHECK(e > s);
				PCHECK(!d->max_session || e - s <= d->max_session);
				break;
			default:
				PCHECK(s <= e);
			}
			if ((d->kind == K_TUMBLING || d->kind == K_HOPPING) &&
			    evicted == sg->evicted) {
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
	if (d->kind == K_SLIDING)
		PCHECK(sg->lines == sg->taken);
	else if (d->exact)
		PCHECK(sg->sum == sg->taken);
	else if (d->kind == K_HOPPING)
		PCHECK(sg->sum >= sg->taken);
	seg_start(sg, o);
}

/* The bytes --max-state counts, walked and summed: the running totals. */
static void check_bytes(void)
{
	size_t keyb = 0, aggb = 0, evb = 0;
	for (int gid = lru_head; gid >= 0; gid = groups[gid].next) {
		const struct group *g = &groups[gid];
		size_t kn;
		keytab_key(keys, gid, &kn);
		keyb += kn;
		for (int i = 0; i < g->nw; i++) {
			size_t h = agg_state_heap(specs, nspecs, g->w[i].st);
			PCHECK(g->w[i].heap == h);
			aggb += h;
		}
		for (int i = 0; i < g->nev; i++)
			evb += values_bytes(g->ev[i].v);
	}
	PCHECK(keyb == keytab_bytes(keys));
	PCHECK(aggb == agg_heap);
	PCHECK(evb == ev_bytes);
	PCHECK(state_bytes() <= cfg.max_state || nlive <= 1);
	PCHECK(state_bytes() <= peak_state);
}

/* After each event: the state is what the watermark says. */
static void check_state(int64_t *prev_wm)
{
	PCHECK(wm >= *prev_wm);
	*prev_wm = wm;
	PCHECK(nlive <= cfg.max_groups);
	PCHECK(nlive == keytab_count(keys));
	check_bytes();
	if (cfg.kind == K_TUMBLING || cfg.kind == K_HOPPING)
		PCHECK(!npanes || panes[0].end > wm);
	if (cfg.kind == K_SESSION)
		PCHECK(!nheap || heap[0].end > wm);
	int n = 0;
	for (int gid = lru_head; gid >= 0; gid = groups[gid].next) {
		PCHECK(groups[gid].live);
		n++;
	}
	PCHECK(n == nlive);
}

/* ---- the run ---- */

/* FUZZ_WINDOW_DEBUG=1: what a run does, on the real stderr. */
/* Makes d the running definition (as main() does at start). */
static void start(struct cmdline *c, struct def *d, struct fieldset *fs)
{
	struct es_opts o;
	opts_init(&o);
	conf_init(&cfg);
	parse_args(c->argc, c->argv, &o, &cfg);
	check_args(&cfg);
	time_unit = cfg.unit;
	state_setup(fs);
	wm_init(&wmk, cfg.max_ahead, fieldset_count(fs));
	d->size = cfg.size;
	d->max_session = cfg.max_session;
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
	FUZZ_CHECK(ftruncate(in_fd, 0) == 0);
	FUZZ_CHECK(pwrite(in_fd, g.text.buf, g.text.len, 0) ==
		   (ssize_t)g.text.len);
	char name[64];
	snprintf(name, sizeof name, "/proc/self/fd/%d", in_fd);
	char *files[] = { name };

	bool debug = getenv("FUZZ_WINDOW_DEBUG") != NULL;
	if (debug) {
		dump_cmd("start", &cmd);
		for (int i = 0; i < g.nact; i++)
			if (g.act[i].reload)
				{ dprintf(real_err, "line %llu: ", (unsigned long long)g.act[i].line); dump_cmd("reload", &g.act[i].cmd); }
			else
				dprintf(real_err, "silence %lld ms before line %llu\n",
					(long long)g.act[i].silence_ms,
					(unsigned long long)g.act[i].line);
		dprintf(real_err, "input:\n%.*s", (int)g.text.len, g.text.buf);
	}
	memset(&stats, 0, sizeof stats);
	max_t = wm = INT64_MIN;
	have_time = false;
	evicted = 0;
	peak_groups = 0;
	peak_state = 0;
	struct fieldset *fs = fieldset_new();
	start(&cmd, &d, fs);
	struct outbuf out;
	out_init(&out, -1, "output");
	out_w = writer_open(&out, FMT_NDJSON);
	struct reader *r = reader_open(files, 1, FMT_AUTO, fs, NULL, NULL);
	struct seg sg;
	seg_start(&sg, &out);
	int64_t prev_wm = INT64_MIN;
	int next = 0;
	uint64_t line = g.csv;	/* the last line read */
	struct record rec;
	for (;;) {
		/* Between two records, as the program does: the record read
		 * next is the first the new definition sees. */
		for (; next < g.nact && g.act[next].line <= line + 1; next++) {
			struct action *a = &g.act[next];
			if (!a->reload) {
				on_silence(a->silence_ms);
				check_state(&prev_wm);
				continue;
			}
			check_lines(&out, &sg, &d);
			struct cmdline *c = &a->cmd;
			char said[256];
			int done = conf_apply(c->argc, c->argv, fs, r, &out,
					      FMT_NDJSON, said, sizeof said);
			PCHECK(done == 1 || done == 2);
			if (done == 2) {
				seg_end(&out, &sg, &d);
				if (wm == INT64_MIN)
					prev_wm = INT64_MIN;	/* another clock */
			}
			d = a->def;
			d.size = cfg.size;
			d.max_session = cfg.max_session;
			check_state(&prev_wm);
		}
		if (reader_next(r, &rec) <= 0)
			break;
		line = rec.line;
		/* Taken: this record and the held ones released, but for
		 * those found bad or late (the --max-ahead rule holds some). */
		uint64_t bad = stats.bad, late = stats.late;
		int held = wmk.nheld;
		on_record(&rec);
		sg.taken += (uint64_t)(1 + held - wmk.nheld) -
			    (stats.bad - bad) - (stats.late - late);
		check_state(&prev_wm);
		check_lines(&out, &sg, &d);
	}
	/* the end of the input decides what is held */
	uint64_t bad = stats.bad, late = stats.late;
	int held = wmk.nheld;
	wm_end(&wmk, window_event, NULL);
	sg.taken += (uint64_t)held - (stats.bad - bad) - (stats.late - late);
	flush_all();
	seg_end(&out, &sg, &d);
	wm_free(&wmk);
	writer_close(out_w);
	out_w = NULL;
	reader_close(r);
	state_free();
	conf_free(&cfg);
	fieldset_free(fs);
	out_free(&out);
	out_free(&g.text);
}

