/* es-deadband - report by exception: pass a record only when its value moved
 *
 * Per key, a record passes when its value moved more than --abs or --pct
 * from the last value passed for that key (the first record of a key always
 * passes), or when --max-silence of event time went by without one.
 *
 * --swinging-door E keeps instead the points a historian needs to redraw the
 * series within E by straight lines between kept points. From the last kept
 * point A (the pivot), the door is the range of slopes [lo, hi] of lines
 * from A that pass within E of every point since A. A new point P is held
 * while the slope from A to P lies inside the door of the points before it;
 * then P's own range narrows the door. When the slope to P falls outside,
 * the door closes: the held point (the one before P) is kept and becomes the
 * pivot, and P is judged from there. So every dropped point lies within E of
 * the line between the kept points around it. A held point is written late
 * (when its door closes, or at the end of input), so it is kept as a copy.
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
#include "time.h"
#include "watermark.h"

enum {
	OPT_ABS = OPT_PROGRAM, OPT_PCT, OPT_MAX_SILENCE,
	OPT_DOOR, OPT_TIME_FIELD, OPT_TIME_UNIT, OPT_MAX_KEYS, OPT_MAX_STATE,
	OPT_MAX_AHEAD,
};

/* What the options say (parsed at start and again on a reload); the
 * running one is cfg-> Option values point into the command line's words. */
struct conf {
	const char *field, *time_field;
	struct path *kpaths;	/* --key */
	int nkeys;
	double abs, pct, door;
	bool has_abs, has_pct, has_door;
	int64_t silence;	/* us; 0: off */
	int64_t max_ahead;	/* --max-ahead (lib/watermark.h) */
	enum time_repr unit_opt;	/* --time-unit as given */
	enum time_repr unit;		/* in use: TIME_AUTO until guessed */
	long max_keys;
	size_t max_state;	/* bytes */
};

static struct conf *cfg;	/* the options in force */

/* ---- a held record, copied so that it can be written later ---- */

/* CSV headers of the inputs read so far, copied: a held row may outlive
 * its input. */
static struct csv_header **hdrs;
static int nhdrs;

static const struct csv_header *header_copy(const struct csv_header *h)
{
	for (int i = nhdrs - 1; i >= 0; i--)
		if (hdrs[i]->gen == h->gen)
			return hdrs[i];
	struct csv_header *c = xmalloc(sizeof *c);
	size_t bytes = 0;
	for (size_t i = 0; i < h->n; i++)
		bytes += h->names[i].n;
	*c = *h;
	c->raw = xmalloc(h->rawlen + 1 + bytes);
	memcpy(c->raw, h->raw, h->rawlen + 1);
	c->names = xmalloc((h->n ? h->n : 1) * sizeof *c->names);
	char *o = c->raw + h->rawlen + 1;
	for (size_t i = 0; i < h->n; i++) {
		memcpy(o, h->names[i].p, h->names[i].n);
		c->names[i] = (struct span){ o, h->names[i].n, SPAN_CSV, false };
		o += h->names[i].n;
	}
	hdrs = xrealloc(hdrs, (size_t)(nhdrs + 1) * sizeof *hdrs);
	hdrs[nhdrs++] = c;
	return c;
}

struct saved {
	char *buf;		/* raw text, then (CSV) the cells' bytes */
	size_t cap;
	struct member *cells;	/* CSV: header names with cell values */
	size_t capcells;
	struct record rec;	/* points into the above */
};

static void save(struct saved *s, const struct record *rec)
{
	size_t need = rec->rawlen, nc = rec->fmt == FMT_CSV ? rec->nfields : 0;
	for (size_t i = 0; i < nc; i++)
		need += rec->fields[i].val.n;
	if (need > s->cap || !s->buf) {
		s->cap = need > 2 * s->cap ? need : 2 * s->cap;
		s->buf = xrealloc(s->buf, s->cap ? s->cap : 1);
	}
	if (nc > s->capcells) {
		s->capcells = nc;
		s->cells = xrealloc(s->cells, nc * sizeof *s->cells);
	}
	memcpy(s->buf, rec->raw, rec->rawlen);
	s->rec = *rec;
	s->rec.raw = s->buf;
	s->rec.slots = NULL;
	if (rec->fmt != FMT_CSV) {
		s->rec.fields = NULL;	/* the writer scans the copy if needed */
		s->rec.nfields = 0;
		return;
	}
	const struct csv_header *h = header_copy(rec->header);
	char *o = s->buf + rec->rawlen;
	for (size_t i = 0; i < nc; i++) {
		const struct span *v = &rec->fields[i].val;
		memcpy(o, v->p, v->n);
		s->cells[i].key = h->names[i];
		s->cells[i].val = (struct span){ o, v->n, v->kind, v->escaped };
		o += v->n;
	}
	s->rec.fields = s->cells;
	s->rec.header = h;
}

/* What a held copy takes: it is as big as the record, so --max-state
 * counts it. */
static size_t saved_bytes(const struct saved *s)
{
	return sizeof *s + s->cap + s->capcells * sizeof *s->cells;
}

static void saved_free(struct saved *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s->cells);
	free(s);
}

/* ---- per key ---- */

struct kstate {
	double last;		/* the value last passed (the pivot) */
	int64_t last_t;		/* and its event time */
	/* --swinging-door */
	bool held;
	double xh, lo, hi;	/* held value; the door's slopes (per us) */
	int64_t th;
	uint64_t hseq;		/* arrival order of the held record */
	struct saved *sv;
};

static struct keyed *keys;
static struct keyed_counts last_counts;	/* once keys is freed */
static int *kslot, vslot, tslot;
static struct writer *out_w;
static struct scratch sc;
static uint64_t seq;
static unsigned long long bytes_in, bytes_out;
/* Records read well and not written: inside the band, or a held point
 * whose door let a later one through. */
static unsigned long long filtered;

static void pass(const struct record *rec)
{
	const char *err;
	if (writer_put(out_w, rec, &err) < 0) {
		record_bad(rec, err);
		return;
	}
	bytes_out += rec->rawlen + 1;
}

static void set_pivot(struct kstate *st, double x, int64_t t)
{
	st->last = x;
	st->last_t = t;
	st->held = false;
}

/* The door closes: the held point is kept and becomes the pivot. */
static void emit_held(struct kstate *st)
{
	if (!st->held)
		return;
	pass(&st->sv->rec);
	set_pivot(st, st->xh, st->th);
}

static void hold(struct kstate *st, const struct record *rec, double x,
		 int64_t t)
{
	if (!st->sv) {
		st->sv = xmalloc(sizeof *st->sv);
		memset(st->sv, 0, sizeof *st->sv);
	}
	save(st->sv, rec);
	st->held = true;
	st->xh = x;
	st->th = t;
	st->hseq = seq;
	/* may forget other keys, whose held points go out first */
	keyed_held(keys, st, saved_bytes(st->sv));
}

static void door_event(struct kstate *st, const struct record *rec, double x,
		       int64_t t)
{
	for (;;) {
		if (t <= st->last_t) {
			/* Not after the pivot: no line from it can pass
			 * through P, so P is kept. */
			emit_held(st);
			pass(rec);
			set_pivot(st, x, t);
			return;
		}
		double dt = (double)(t - st->last_t);
		double s = (x - st->last) / dt;
		double lo = (x - cfg->door - st->last) / dt;
		double hi = (x + cfg->door - st->last) / dt;
		if (!st->held) {
			hold(st, rec, x, t);
			st->lo = lo;
			st->hi = hi;
			return;
		}
		if (s >= st->lo && s <= st->hi) {
			filtered++;	/* the point held before P */
			hold(st, rec, x, t);
			if (lo > st->lo)
				st->lo = lo;
			if (hi < st->hi)
				st->hi = hi;
			return;
		}
		emit_held(st);	/* and judge P from the new pivot */
	}
}

static bool moved(const struct kstate *st, double x)
{
	double d = fabs(x - st->last);
	return (cfg->has_abs && d > cfg->abs) ||
	       (cfg->has_pct && d > cfg->pct / 100 * fabs(st->last));
}

/* ---- per record ---- */

/* The record's value, or false after reporting it as bad input. */
static bool get_value(const struct record *rec, double *x)
{
	return record_number(rec, &rec->slots[vslot], cfg->field, &sc, x) == 0;
}

static bool get_time(const struct record *rec, int64_t *t)
{
	if (!cfg->silence && !cfg->has_door) {
		*t = 0;
		return true;
	}
	return record_time(rec, &rec->slots[tslot], cfg->time_field, &cfg->unit,
			   &sc, t, NULL) == 0;
}

/* Far-ahead records wait here for confirmation (lib/watermark.h). */
static struct wmark wmk;
static const struct record *in_hand;	/* and its value: */
static double in_x;

static void timed_record(const struct record *rec, int64_t t, void *ctx);
static bool uses_time(const struct conf *c);

static void on_record(const struct record *rec)
{
	int64_t t;
	scratch_reset(&sc);
	if (!get_value(rec, &in_x) || !get_time(rec, &t))
		return;
	in_hand = rec;
	if (uses_time(cfg))
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
	(void)ctx;
	if (rec != in_hand) {
		scratch_reset(&sc);
		if (!get_value(rec, &x))
			return;
	}
	bytes_in += rec->rawlen + 1;
	seq++;
	struct kstate *st = keyed_get(keys, rec->slots, kslot, cfg->nkeys, &sc,
				      &fresh);
	if (fresh || (cfg->silence && t - st->last_t >= cfg->silence)) {
		emit_held(st);
		pass(rec);
		set_pivot(st, x, t);
	} else if (cfg->has_door) {
		door_event(st, rec, x, t);
	} else if (moved(st, x)) {
		pass(rec);
		set_pivot(st, x, t);
	} else {
		filtered++;
	}
}

/* ---- end of input: the held points, in order of arrival ---- */

static struct kstate **pending;
static size_t npending;

static void collect(void *state, void *ctx)
{
	(void)ctx;
	struct kstate *st = state;
	if (st->held)
		pending[npending++] = st;
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
static size_t emit_all_held(void)
{
	size_t n = 0;
	keyed_each(keys, count_keys, &n);
	pending = xmalloc((n ? n : 1) * sizeof *pending);
	npending = 0;
	keyed_each(keys, collect, NULL);
	qsort(pending, npending, sizeof *pending, by_arrival);
	for (size_t i = 0; i < npending; i++)
		emit_held(pending[i]);
	free(pending);
	return npending;
}

/* A key forgotten at --max-keys or --max-state: its held point goes out
 * first (so the series can still be redrawn), then its copy is freed. */
static bool draining;
static void drop(void *state, void *ctx)
{
	(void)ctx;
	struct kstate *st = state;
	if (!draining)
		emit_held(st);
	saved_free(st->sv);
	st->sv = NULL;
}

/* ---- options ---- */

#define STR(x) #x
#define XSTR(x) STR(x)

static const struct opts_entry options[] = {
	{"key", required_argument, 'k', "F1,F2",
	 "keep one series per value of these fields\n"
	 "(default: the whole stream is one series)"},
	{"field", required_argument, 'f', "F", "the value (default: value)"},
	{"abs", required_argument, OPT_ABS, "X",
	 "pass when |value - last passed| > X"},
	{"pct", required_argument, OPT_PCT, "P",
	 "pass when |value - last passed| > P% of |last|\n"
	 "(with --abs too: when either says so)"},
	{"swinging-door", required_argument, OPT_DOOR, "E",
	 "instead, keep the points needed to redraw the\n"
	 "series within +-E by straight lines between\n"
	 "kept points (a held point is written when the\n"
	 "door closes, or at the end of input)"},
	{"max-silence", required_argument, OPT_MAX_SILENCE, "D",
	 "also pass a record when D of event time went\n"
	 "by since the last one passed for its key"},
	{"time-field", required_argument, OPT_TIME_FIELD, "F",
	 "event time field, for --max-silence and\n"
	 "--swinging-door (default: ts)"},
	{"time-unit", required_argument, OPT_TIME_UNIT, "U",
	 "s, ms, us, ns or auto (default auto: guessed\n"
	 "from the first value: below 1e11 s, 1e14 ms,\n"
	 "1e17 us, else ns); strings are RFC 3339"},
	{"max-ahead", required_argument, OPT_MAX_AHEAD, "D",
	 "with event time: a record more than D (default\n"
	 "1d) ahead of the stream's time waits for 2 more\n"
	 "to confirm the jump, else it is bad input; 0: off"},
	{"max-keys", required_argument, OPT_MAX_KEYS, "N",
	 "at most N keys (default " XSTR(KEYED_DEFAULT_MAX) "); at the limit the\n"
	 "least recently seen key is forgotten"},
	{"max-state", required_argument, OPT_MAX_STATE, "SIZE",
	 "at most SIZE bytes of keys and held points\n"
	 "(default 64M; 512k, 64M, 2G); at the limit\n"
	 "the least recently seen keys are forgotten"},
	{0}
};

static double opt_number(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0)
		diag_usage("invalid argument '%s' for %s: expected a number >= 0",
			   arg, opt);
	return v;
}

static void conf_init(void *conf)
{
	*(struct conf *)conf = (struct conf){
		.field = "value", .time_field = "ts",
		.max_ahead = WM_DEFAULT_AHEAD, .max_keys = KEYED_DEFAULT_MAX,
		.max_state = OPTS_DEFAULT_MAX_STATE };
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *cf = conf;
	const char *err;
	switch (code) {
	case 'k': keyed_parse_keys(&cf->kpaths, &cf->nkeys, arg); break;
	case 'f': cf->field = arg; break;
	case OPT_ABS:
		cf->abs = opt_number("--abs", arg);
		cf->has_abs = true;
		break;
	case OPT_PCT:
		cf->pct = opt_number("--pct", arg);
		cf->has_pct = true;
		break;
	case OPT_DOOR:
		cf->door = opt_number("--swinging-door", arg);
		cf->has_door = true;
		break;
	case OPT_MAX_SILENCE:
		if (duration_parse(arg, false, &cf->silence, &err))
			diag_usage("invalid duration '%s' for --max-silence: %s",
				   arg, err);
		if (!cf->silence)
			diag_usage("invalid duration '%s' for --max-silence: "
				   "must be above 0", arg);
		break;
	case OPT_TIME_FIELD: cf->time_field = arg; break;
	case OPT_TIME_UNIT:
		time_unit_opt(arg, &cf->unit_opt);
		cf->unit = cf->unit_opt;
		break;
	case OPT_MAX_KEYS: cf->max_keys = keyed_max_keys(arg); break;
	case OPT_MAX_AHEAD:
		cf->max_ahead = opts_duration("--max-ahead", arg, true);
		break;
	case OPT_MAX_STATE: cf->max_state = opts_size("--max-state", arg); break;
	}
}

static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	const struct conf *cf = conf;
	(void)run, (void)argc, (void)argv;
	if (cf->has_door && (cf->has_abs || cf->has_pct))
		diag_usage("--swinging-door does not go with --abs or --pct");
	if (!cf->has_door && !cf->has_abs && !cf->has_pct)
		diag_usage("say how far a value must move: --abs, --pct or "
			   "--swinging-door");
}

/* The slots of cfg's fields (again after a reload). */
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

static void setup_fields(struct prog_run *run)
{
	struct fieldset *fs = run->fs;
	kslot = keyed_slots(fs, cfg->kpaths, cfg->nkeys, kslot);
	vslot = fieldset_add_text(fs, cfg->field, "--field");
	/* only --max-silence and --swinging-door read the time */
	tslot = uses_time(cfg) ? fieldset_add_text(fs, cfg->time_field,
						    "--time-field")
				: add_optional(fs, cfg->time_field, "--time-field");
}

static void stats_extra(char *buf, size_t n)
{
	char r1[32] = "null", r2[32] = "null";
	struct keyed_counts kc = keyed_counts(keys, &last_counts);
	if (stats.out) {
		snprintf(r1, sizeof r1, "%.4g", (double)seq /
			 (double)stats.out);
		snprintf(r2, sizeof r2, "%.4g", (double)bytes_in / (double)bytes_out);
	}
	snprintf(buf, n, ",\"filtered\":%llu,\"keys\":%d,\"evicted\":%llu,"
		 "\"bytes_in\":%llu,\"bytes_out\":%llu,\"ratio\":%s,"
		 "\"bytes_ratio\":%s,\"state_bytes\":%zu",
		 filtered, kc.peak, kc.evicted, bytes_in, bytes_out, r1, r2,
		 kc.peak_bytes);
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	keyed_paths_free(c->kpaths, c->nkeys);
}

static bool uses_time(const struct conf *c)
{
	return c->silence || c->has_door;
}

/* True if a key's state under a means the same under b: the same series
 * (keys, value), the same method, and times read the same way. */
static bool same_series(const struct conf *a, const struct conf *b)
{
	if (!keyed_same_keys(a->kpaths, a->nkeys, b->kpaths, b->nkeys) ||
	    strcmp(a->field, b->field) || a->has_door != b->has_door ||
	    uses_time(a) != uses_time(b))
		return false;
	return !uses_time(a) || (!strcmp(a->time_field, b->time_field) &&
				 a->unit_opt == b->unit_opt);
}

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * records: the new options apply from the next record. If the series are
 * the same (same_series), every key keeps its state (last value passed,
 * its time, a held point and its door) and the guessed time unit stays;
 * the new --abs, --pct, --swinging-door width, --max-silence,
 * --max-keys and --max-state judge the next records (a lower cap forgets
 * keys at once, their held points written first). Otherwise the held
 * points are written, as at the end of input, and every key starts again
 * (its next record passes as a first). The file was checked by
 * reload_argv(); the common options keep their start-up values.
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
	/* the held points complete the old series before it is forgotten */
	size_t held = same ? 0 : emit_all_held();
	int k = keyed_reload(keys, same, said, n);
	if (!same)
		snprintf(said + k, n - (size_t)k, ", %zu held point%s written",
			 held, held == 1 ? "" : "s");
	cfg = nc;
	setup_fields(run);
	wm_set(&wmk, cfg->max_ahead, fieldset_count(run->fs));
	keyed_set_max(keys, cfg->max_keys, cfg->max_state);
	return true;
}

static void setup(struct prog_run *run)
{
	cfg = run->conf;
	setup_fields(run);
}

static void start(struct prog_run *run)
{
	keys = keyed_new(sizeof(struct kstate), cfg->max_keys, cfg->max_state,
			 drop, NULL);
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

/* End of input or SIGINT/SIGTERM: the held points complete the series
 * either way. */
static void finish(struct prog_run *run)
{
	(void)run;
	wm_end(&wmk, timed_record, NULL);
	wm_free(&wmk);
	emit_all_held();
	draining = true;
	/* --stats at exit still reports the table's counters */
	last_counts = keyed_counts(keys, NULL);
	keyed_free(keys);
	keys = NULL;
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	for (int i = 0; i < nhdrs; i++) {
		free(hdrs[i]->raw);
		free(hdrs[i]->names);
		free(hdrs[i]);
	}
	free(hdrs);
	free(kslot);
	scratch_free(&sc);
}

static const struct prog es_deadband = {
	.name = "es-deadband",
	.synopsis = "--abs X|--pct P|--swinging-door E [OPTION]... [FILE]...",
	.about = "Report by exception: write a record (byte for byte) only when its value\n"
		 "moved enough since the last one written for its key.",
	.opts = options,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies the file's options\n"
		       "from the next record. The state of each key is kept unless --key,\n"
		       "--field, the method (--swinging-door or --abs/--pct) or the event time\n"
		       "(whether read, --time-field, --time-unit) changed; then the held points\n"
		       "are written and every key starts again.",
	.notes = "\n--stats adds filtered (records not written), keys, evicted,\n"
		 "bytes_in, bytes_out (records as read)\n"
		 "and ratio, bytes_ratio (read per written: the reduction), state_bytes\n"
		 "(the most bytes of --max-state held at once).\n"
		 "Durations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
		 "\nExamples:\n"
		 "  es-deadband -k device,sensor --abs 0.5 --max-silence 5m readings.ndjson\n"
		 "  es-deadband -k device --swinging-door 0.1 --time-unit ms plant.csv\n",
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
	return prog_main(&es_deadband, argc, argv);
}
