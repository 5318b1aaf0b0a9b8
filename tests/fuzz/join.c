/* join.c - fuzz target: es-join's stream-stream interval join (lib/ijoin.c)
 *
 * The engine is linked from the library and driven as cmd/es-join.c drives
 * it. Per input:
 *   - the first bytes pick a join definition (--within D or LOW,HIGH,
 *     --type, --on K, K=RK or K1,K2, --time-field F or F=RF, --time-unit,
 *     --lateness, --max-buffered, --max-state, --idle, prefixes), made
 *     into the engine's conf by the library's parsers (join_pairs_parse,
 *     ijoin_parse_within) and the common option parsers;
 *   - the rest becomes the lines of two inputs, A and B (NDJSON or CSV
 *     each), written to two memfds read by the real reader as
 *     /proc/self/fd/N, and a schedule: which input is read next (the
 *     fuzzer's interleaving, as live inputs may arrive, or the engine's
 *     own ijoin_pick), stretches of silence (ijoin_silence, the --idle
 *     rule) and reloads to another definition or the same one with other
 *     knobs (ijoin_reconf, the --config path; a reload may swap the
 *     inputs);
 *   - each record goes through ijoin_event, the end of an input through
 *     ijoin_end; then everything is freed (ijoin_free), so that each run
 *     starts clean and a leak shows.
 * Every event carries its id (field a in input A, b in B); the output
 * records are read back by these ids.
 * Invariants, per stretch of one join definition (a new one first ends
 * the buffered events as at the end of input):
 *   - when no event was evicted: the pairs written are exactly those of a
 *     brute-force O(n*m) join of the events taken (neither bad nor late):
 *     equal keys (neither null nor missing), LOW <= R.t - L.t <= HIGH;
 *     each of an outer side's events that is in no pair is written alone,
 *     once; with eviction the pairs are a subset of those;
 *   - always: no record written twice; an event alone only of an outer
 *     side, never also in a pair; every event of an outer side written;
 *   - after each step: the buffered count within --max-buffered and equal
 *     to the heaps' sizes; the bytes --max-state counts, kept as a running
 *     total, those the buffered events and keys hold, and within
 *     --max-state unless one event alone is buffered; no buffered event
 *     that could expire left (ijoin_check); the watermarks never go back;
 *     ijoin_idle_timeout (what the poll loop would wait) -1 or at least
 *     1 ms; a reload to the very same definition keeps the events;
 *     nothing buffered once both inputs ended.
 * FUZZ_JOIN_DEBUG=1 prints a run's command lines (the definitions as
 * es-join's options), schedule, inputs and output, and per stretch its
 * events, pairs and brute-force pairs.
 * Diagnostics (bad lines, warnings) go to /dev/null while a run lasts;
 * sanitizer reports and broken invariants still reach the real stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diag.h"
#include "ijoin.h"
#include "loop.h"
#include "mem.h"
#include "optgroup.h"
#include "opts.h"
#include "path.h"
#include "record.h"
#include "size.h"
#include "stats.h"
#include "time.h"

#include "prog.h"

static int in_fd[2] = { -1, -1 };
static char in_name[2][40];
static char *in_file[2] = { in_name[0], in_name[1] };	/* the readers' */

static bool debug;

static void setup_once(void)
{
	if (!prog_setup("es-join"))
		return;
	/* The inputs: files in memory, opened afresh by name on each run. */
	for (int i = 0; i < 2; i++) {
		in_fd[i] = memfd_create(i ? "join-b" : "join-a", 0);
		FUZZ_CHECK(in_fd[i] >= 0);
		snprintf(in_name[i], sizeof in_name[i], "/proc/self/fd/%d",
			 in_fd[i]);
	}
	debug = getenv("FUZZ_JOIN_DEBUG") != NULL;
}

/* ---- a definition, as a command line ---- */

static const char *const withins[] = {
	"0", "1ms", "3ms", "10ms", "100ms", "1s", "-5ms,5ms", "0,10ms",
	"-10ms,0", "2ms,8ms", "-8ms,-2ms", "0,0", "-1ms,0", "5ms,5ms",
	"-1s,1ms", "3652425d",
};
static const char *const types[] = { "inner", "left", "right", "full" };
static const char *const ons[] = { "k", "k=j", "k,j", "j=k" };
static const char *const tfields[] = { "ts", "ts=t2", "t2=ts", "t2" };
static const char *const tunits[] = { "ms", "ms", "auto", "us" };
static const char *const latenesses[] = { NULL, "1ms", "10ms", "1s" };
static const char *const maxbufs[] = { NULL, "1", "2", "5" };
/* An event holds about 320 bytes (6 fields of 48 and their text). */
static const char *const maxstates[] = { NULL, "200", "700", "2k" };

/* A definition by its choices. */
struct def {
	unsigned within, type, on, tfield, unit;	/* the join definition */
	bool swap;
	unsigned lateness, maxbuf, maxstate;		/* knobs */
	bool idle, prefix;
};

static struct def def_core(unsigned k, unsigned w)
{
	struct def d = { 0 };
	d.within = w % 16;
	d.type = (w >> 4) % 4;
	d.on = k % 4;
	d.tfield = (k >> 2) % 4;
	d.unit = (k >> 4) % 4;
	d.swap = (k >> 6) & 1;
	return d;
}

static void def_knobs(struct def *d, unsigned x)
{
	d->lateness = x % 4;
	d->maxbuf = (x >> 2) % 4;
	d->maxstate = (x >> 5) % 4;
	/* --idle follows the wall clock: rare, the runs differ. */
	d->idle = (x >> 4) == 15;
	d->prefix = (x >> 4) & 1;
}

/* The engine's conf of d; its paths are to be freed (conf_free). */
static void conf_of(const struct def *d, struct ijoin_conf *c)
{
	static const char *const prefix[2][2] = { { "left_", "right_" },
						  { "L_", "R_" } };
	char err[256];
	memset(c, 0, sizeof *c);
	FUZZ_CHECK(ijoin_parse_within("--within", withins[d->within], &c->low,
				      &c->high, err, sizeof err) == 0);
	c->type = (enum join_type)d->type;
	FUZZ_CHECK(join_pairs_parse(&c->keys, "--on", ons[d->on], err,
				    sizeof err) == 0);
	FUZZ_CHECK(join_pairs_parse(&c->time, "--time-field", tfields[d->tfield],
				    err, sizeof err) == 0);
	optgroup_time_unit(tunits[d->unit], &c->unit);
	if (latenesses[d->lateness])
		c->lateness = opts_duration("--lateness", latenesses[d->lateness],
					    true);
	c->max_buffered = maxbufs[d->maxbuf] ?
		opts_count("--max-buffered", maxbufs[d->maxbuf]) :
		IJOIN_DEFAULT_MAX_BUFFERED;
	c->max_state = maxstates[d->maxstate] ?
		optgroup_size("--max-state", maxstates[d->maxstate]) :
		SIZE_DEFAULT_MAX_STATE;
	if (d->idle)
		c->idle = opts_duration("--idle", "5ms", false);
	c->prefix[0] = prefix[d->prefix][0];
	c->prefix[1] = prefix[d->prefix][1];
}

static void conf_free(struct ijoin_conf *c)
{
	join_pairs_free(&c->keys);
	join_pairs_free(&c->time);
}

/* The same join definition (what the buffered events mean). */
static bool def_same(const struct def *a, const struct def *b)
{
	return a->within == b->within && a->type == b->type &&
	       a->on == b->on && a->tfield == b->tfield &&
	       a->unit == b->unit && a->swap == b->swap;
}

/* For FUZZ_JOIN_DEBUG: the definition as es-join's command line. */
static void opt(struct cmdline *c, const char *name, const char *val)
{
	if (!val)
		return;
	arg(c, name);
	arg(c, val);
}

static void make_cmd(const struct def *d, struct cmdline *c)
{
	c->argc = 0;
	arg(c, "es-join");
	opt(c, "--left", in_name[d->swap]);
	opt(c, "--right", in_name[!d->swap]);
	opt(c, "--within", withins[d->within]);
	opt(c, "--type", types[d->type]);
	opt(c, "--on", ons[d->on]);
	opt(c, "--time-field", tfields[d->tfield]);
	opt(c, "--time-unit", tunits[d->unit]);
	opt(c, "--lateness", latenesses[d->lateness]);
	opt(c, "--max-buffered", maxbufs[d->maxbuf]);
	opt(c, "--max-state", maxstates[d->maxstate]);
	if (d->idle)
		opt(c, "--idle", "5ms");
	/* Off (conf_of): the checks follow the record in hand, and the rule
	 * holds far-ahead records back (lib/watermark.c; its own paths are
	 * run by the window target and tests/es-join.bats). */
	opt(c, "--max-ahead", "0");
	if (d->prefix) {
		opt(c, "--left-prefix", "L_");
		opt(c, "--right-prefix", "R_");
	}
}

/* ---- the inputs and the schedule ---- */

enum step_kind { READ, PICK, RELOAD, SILENCE };

struct step {
	enum step_kind kind;
	int input;		/* READ */
	int64_t silence_ms;	/* SILENCE */
	struct def def;		/* RELOAD: in force after it */
	struct cmdline cmd;	/* RELOAD: the same, for FUZZ_JOIN_DEBUG */
};

#define MAX_LINES 600		/* per input */
#define MAX_STEPS 1500

struct gen {
	struct outbuf text[2];
	bool csv[2];
	unsigned id[2];		/* the last id written per input */
	unsigned lines[2];
	int64_t t;		/* the time cursor, shared: pairs happen */
	struct def cur;
	struct step step[MAX_STEPS];
	int nstep;
};

static void put(struct gen *g, int x, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	FUZZ_CHECK(n >= 0 && (size_t)n < sizeof buf);
	out_put(&g->text[x], buf, (size_t)n);
}

/* Keys: equal where the man page says so (7, 7.0 and "7" are one key). */
static const char *const keys_json[] = { "\"a\"", "\"b\"", "7", "7.0",
					 "\"7\"", "\"x\"", "null", NULL };
static const char *const keys_csv[] = { "a", "b", "7", "7.0", "\"7\"", "x",
					"a", "7" };
static const char *const vals_json[] = { "1", "\"s\"", "null", "{\"o\":[1]}",
					 "2.5", "true", "\"\"", "-0" };
static const char *const vals_csv[] = { "1", "s", "", "\"q,\"\"\"", "2.5",
					"true", "x y", "-0" };

static void add_step(struct gen *g, enum step_kind k, int input)
{
	if (g->nstep == MAX_STEPS)
		return;
	struct step *s = &g->step[g->nstep++];
	s->kind = k;
	s->input = input;
}

/* One record line of input x: times (NULL: missing), key and value. */
static void record_line(struct gen *g, int x, const char *ts, const char *t2,
			unsigned kv)
{
	unsigned id = ++g->id[x];
	g->lines[x]++;
	if (g->csv[x]) {
		put(g, x, "%s,%s,%s,%s,%u,%s\n", ts ? ts : "", t2 ? t2 : "",
		    keys_csv[kv % 8], keys_csv[kv % 8], id, vals_csv[(kv >> 3) % 8]);
		return;
	}
	put(g, x, "{");
	if (ts)
		put(g, x, "\"ts\":%s,", ts);
	if (t2)
		put(g, x, "\"t2\":%s,", t2);
	if (keys_json[kv % 8])
		put(g, x, "\"k\":%s,\"j\":%s,", keys_json[kv % 8],
		    keys_json[kv % 8]);
	put(g, x, "\"%c\":%u,\"v\":%s}\n", x ? 'b' : 'a', id,
	    vals_json[(kv >> 3) % 8]);
}

/* The next time (ms as written): steps of every size and direction. */
static void step_time(struct gen *g, unsigned op, struct bytes *b)
{
	static const int64_t ends[] = {
		0, -1, 253402300799999LL, 253402300800000LL, -62135596800000LL,
		99999999999LL, 100000000000LL, 99999999999999LL,
		/* the ends of the range, years -99999 to 99999 */
		3093527980799999LL, 3093527980800000LL,
		-3217830796800000LL, -3217830796800001LL,
	};
	switch (op % 8) {
	case 0: case 1: g->t += take(b) % 16; break;
	case 2: g->t -= take(b) % 16; break;
	case 3: break;
	case 4: g->t += (int64_t)take(b) * take(b); break;
	case 5: g->t -= (int64_t)take(b) * 10; break;
	case 6: g->t += 1000 + take(b); break;
	default: g->t = ends[take(b) % 12];
	}
	if (g->t > INT64_MAX / 4)
		g->t = INT64_MAX / 4;
	if (g->t < -(INT64_MAX / 4))
		g->t = -(INT64_MAX / 4);
}

/* A line that is not a record of either format: no quote, comma or brace
 * (CSV: one cell against six, ragged; NDJSON: not an object). */
static void garbage_line(struct gen *g, int x, struct bytes *b)
{
	unsigned n = 1 + take(b) % 24;
	put(g, x, "?");
	for (unsigned i = 0; i < n && b->n; i++) {
		char ch = (char)take(b);
		if (ch == '\n' || ch == '\r' || ch == '"' || ch == ',' ||
		    ch == '{' || ch == 0)
			ch = '.';
		out_putc(&g->text[x], ch);
	}
	out_putc(&g->text[x], '\n');
}

static void special_line(struct gen *g, int x, unsigned sub, struct bytes *b)
{
	char ts[64], t2[64];
	bool csv = g->csv[x];
	snprintf(t2, sizeof t2, "%lld", (long long)g->t);
	switch (sub % 8) {
	case 0:
		record_line(g, x, csv ? "soon" : "\"soon\"", t2, take(b));
		return;
	case 1:
		record_line(g, x, NULL, NULL, take(b));
		return;
	case 2: {	/* RFC 3339, the same instant if read as ms */
		char buf[48];
		int64_t us;
		if (__builtin_mul_overflow(g->t, (int64_t)1000, &us))
			us = 0;
		size_t n = rfc3339_format(us, buf);
		snprintf(ts, sizeof ts, csv ? "%.*s" : "\"%.*s\"", (int)n, buf);
		record_line(g, x, ts, ts, take(b));
		return;
	}
	case 3:
		snprintf(ts, sizeof ts, "%lld.%u", (long long)g->t, take(b) % 10);
		record_line(g, x, ts, ts, take(b));
		return;
	case 4:
		garbage_line(g, x, b);
		return;
	case 5:
		snprintf(ts, sizeof ts, "%llde0", (long long)g->t);
		record_line(g, x, ts, ts, take(b));
		return;
	case 6:
		out_putc(&g->text[x], '\n');	/* blank: no record */
		return;
	default:	/* one of the two time fields only */
		record_line(g, x, (sub & 8) ? t2 : NULL, (sub & 8) ? NULL : t2,
			    take(b));
	}
}

static void reload_step(struct gen *g, struct bytes *b)
{
	if (g->nstep == MAX_STEPS)
		return;
	unsigned r = take(b);
	struct def d = g->cur;
	if (r & 1)
		d = def_core(take(b), take(b));	/* another definition, mostly */
	def_knobs(&d, take(b));
	add_step(g, RELOAD, 0);
	struct step *s = &g->step[g->nstep - 1];
	s->def = d;
	make_cmd(&s->def, &s->cmd);
	g->cur = d;
}

static void gen_all(struct gen *g, struct bytes *b)
{
	while (b->n && g->nstep < MAX_STEPS) {
		unsigned op = take(b), x = (op >> 3) & 1;
		if ((op & 7) < 5) {
			if (g->lines[x] >= MAX_LINES)
				continue;
			step_time(g, op >> 4, b);
			char ts[32];
			snprintf(ts, sizeof ts, "%lld", (long long)g->t);
			record_line(g, x, ts, ts, take(b));
			/* Most lines are read as they are written; the rest
			 * wait for the engine's pick or the end. */
			if ((op & 7) != 4)
				add_step(g, READ, (int)x);
			continue;
		}
		switch (op & 7) {
		case 5:
			if (g->lines[x] >= MAX_LINES)
				break;
			special_line(g, x, op >> 4, b);
			add_step(g, READ, (int)x);
			break;
		case 6:
			for (unsigned i = 0; i <= (op >> 4) % 4; i++)
				add_step(g, PICK, 0);
			break;
		default:
			if (op & 8) {
				reload_step(g, b);
			} else {
				add_step(g, SILENCE, 0);
				g->step[g->nstep - 1].silence_ms =
					(int64_t)take(b) * ((op >> 4) + 1);
			}
		}
	}
}

/* ---- the model: the events taken ---- */

struct ev {
	int input;
	unsigned id;
	int64_t t;
	char key[24];		/* normal form; "" for no key */
};

/* The events taken while one join definition was in force. */
struct seg {
	struct ev *ev;
	size_t nev, cap;
	size_t from;		/* its output starts here */
	bool swap;		/* input B is the left side */
	int64_t low, high;
	bool outer[2];		/* per side */
	unsigned long long evicted;	/* at its start */
};

/* A value of a top-level member named name, or V_MISSING. */
static void member(const struct record *rec, const char *name,
		   struct scratch *s, struct value *v)
{
	v->t = V_MISSING;
	for (size_t i = 0; i < rec->nfields; i++) {
		const char *p;
		size_t n;
		join_name(&rec->fields[i].key, s, &p, &n);
		if (join_same(p, n, name, strlen(name))) {
			if (value_load(&rec->fields[i].val, v, s))
				v->t = V_NULL;
			return;
		}
	}
}

/* The key written: numbers, and strings that read as numbers, as the
 * integer they are (the generator writes 7 only); other strings as
 * themselves; null and missing: no key. */
static void key_norm(const struct value *v, char *o, size_t on)
{
	o[0] = 0;
	switch (v->t) {
	case V_INT:
		snprintf(o, on, "n%lld", (long long)v->u.i);
		break;
	case V_DOUBLE:
		snprintf(o, on, "n%lld", (long long)v->u.d);
		break;
	case V_STRING: {
		char buf[16];
		char *end;
		snprintf(buf, sizeof buf, "%.*s", (int)(v->n < 15 ? v->n : 15),
			 v->s);
		double d = strtod(buf, &end);
		if (v->n && v->n < 15 && !*end)
			snprintf(o, on, "n%lld", (long long)d);
		else
			snprintf(o, on, "s%.*s", (int)(v->n < 20 ? v->n : 20),
				 v->s);
		break;
	}
	case V_BOOL:
		snprintf(o, on, "b%d", v->u.b);
		break;
	default:
		break;
	}
}

static unsigned id_of(const struct value *v)
{
	if (v->t == V_INT)
		return (unsigned)v->u.i;
	if (v->t == V_DOUBLE)
		return (unsigned)v->u.d;
	if (v->t == V_STRING) {
		char buf[16];
		snprintf(buf, sizeof buf, "%.*s", (int)(v->n < 15 ? v->n : 15),
			 v->s);
		return (unsigned)strtoul(buf, NULL, 10);
	}
	return 0;
}

/* A run: the engine, its conf and definition, the readers of the inputs
 * (input x is read by the side x ^ the definition's swap), the output. */
struct run {
	struct ijoin *j;
	struct ijoin_conf conf;
	struct def def;
	struct reader *rd[2];	/* per input */
	struct outbuf out;
	struct writer *wr;
	int64_t prev_wm[2];	/* the watermarks never go back */
};

static void emit(void *ctx, const struct ofield *f, size_t n)
{
	struct run *R = ctx;
	const char *err;
	writer_put_fields(R->wr, f, n, &err);
}

/* Notes the event just taken by side si (its record still in hand). */
static void taken(const struct run *R, struct seg *sg, int si,
		  const struct record *rec)
{
	struct scratch s = { 0 };
	struct value v;
	int64_t t;
	/* The side's unit is now resolved: the time the engine got. */
	PCHECK(ijoin_time(R->j, si, rec, &s, &t) == 0);
	JOIN_GROW(sg->ev, sg->nev, sg->cap);
	struct ev *e = &sg->ev[sg->nev++];
	e->input = si ^ sg->swap;
	e->t = t;
	member(rec, e->input ? "b" : "a", &s, &v);
	e->id = id_of(&v);
	/* An event of the other input on this side: the sides got mixed. */
	if (!e->id && debug)
		dprintf(real_err, "no id: side %d (input %c): %.*s\n", si,
			'A' + e->input, (int)rec->rawlen, rec->raw);
	PCHECK(e->id > 0);
	member(rec, "k", &s, &v);
	key_norm(&v, e->key, sizeof e->key);
	scratch_free(&s);
}

static void seg_start(const struct run *R, struct seg *sg)
{
	const struct ijoin_conf *c = &R->conf;
	sg->nev = 0;
	sg->from = R->out.len;
	sg->swap = R->def.swap;
	sg->low = c->low;
	sg->high = c->high;
	sg->outer[0] = c->type == JOIN_LEFT || c->type == JOIN_FULL;
	sg->outer[1] = c->type == JOIN_RIGHT || c->type == JOIN_FULL;
	sg->evicted = ijoin_counts(R->j).evicted;
}

/* ---- the checks ---- */

static struct fieldset *out_fs;		/* a, b */
static struct json_scan out_js;

static void out_fields(void)
{
	if (out_fs)
		return;
	out_fs = fieldset_new();
	const char *names[] = { "a", "b" };
	for (int i = 0; i < 2; i++) {
		struct path p;
		const char *err;
		FUZZ_CHECK(path_parse_all(names[i], &p, &err) == 0);
		fieldset_add(out_fs, &p);
		path_free(&p);
	}
	out_js.slots = xmalloc(2 * sizeof *out_js.slots);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t pair_id(unsigned a, unsigned b)
{
	return (uint64_t)a << 32 | b;
}

/* The events by input and id: index+1, or 0. */
struct byid {
	size_t *ix[2];
	unsigned n[2];
};

static struct ev *find(struct seg *sg, struct byid *bi, int x, unsigned id)
{
	if (id == 0 || id > bi->n[x] || !bi->ix[x][id - 1])
		return NULL;
	return &sg->ev[bi->ix[x][id - 1] - 1];
}

/* What the brute-force join says: every pair, sorted. */
static uint64_t *expected_pairs(const struct seg *sg, size_t *np)
{
	size_t n = 0, cap = 0;
	uint64_t *p = NULL;
	for (size_t i = 0; i < sg->nev; i++) {
		const struct ev *l = &sg->ev[i];
		if (l->input != (int)sg->swap || !l->key[0])
			continue;	/* not a left event, or no key */
		for (size_t j = 0; j < sg->nev; j++) {
			const struct ev *r = &sg->ev[j];
			if (r->input == l->input || strcmp(l->key, r->key))
				continue;
			/* the times are years -99999 to 99999: no overflow */
			int64_t d = r->t - l->t;
			if (d < sg->low || d > sg->high)
				continue;
			JOIN_GROW(p, n, cap);
			p[n++] = l->input ? pair_id(r->id, l->id)
					  : pair_id(l->id, r->id);
		}
	}
	if (n)
		qsort(p, n, sizeof *p, cmp_u64);
	*np = n;
	return p;
}

/* The output of a stretch against its events. */
static void seg_end(const struct run *R, struct seg *sg)
{
	const struct outbuf *o = &R->out;
	unsigned long long evicted = ijoin_counts(R->j).evicted;
	out_fields();
	struct byid bi = { 0 };
	for (size_t i = 0; i < sg->nev; i++) {
		struct ev *e = &sg->ev[i];
		int x = e->input;
		if (e->id > bi.n[x]) {
			size_t *nx = xrealloc(bi.ix[x], e->id * sizeof *nx);
			memset(nx + bi.n[x], 0, (e->id - bi.n[x]) * sizeof *nx);
			bi.ix[x] = nx;
			bi.n[x] = e->id;
		}
		PCHECK(!bi.ix[x][e->id - 1]);	/* an id taken twice */
		bi.ix[x][e->id - 1] = i + 1;
	}
	/* per event: times written alone, times in a pair */
	unsigned *alone = calloc(sg->nev + 1, sizeof *alone);
	unsigned *paired = calloc(sg->nev + 1, sizeof *paired);
	uint64_t *got = NULL;
	size_t ngot = 0, capgot = 0;
	size_t i = sg->from;
	while (i < o->len) {
		const char *line = o->buf + i;
		const char *nl = memchr(line, '\n', o->len - i);
		PCHECK(nl != NULL);
		size_t n = (size_t)(nl - line);
		const char *err;
		size_t col;
		PCHECK(json_scan_line(line, n, out_fs, &out_js, &err, &col) == 0);
		struct scratch s = { 0 };
		struct value va, vb;
		if (value_load(&out_js.slots[0], &va, &s))
			va.t = V_MISSING;
		if (value_load(&out_js.slots[1], &vb, &s))
			vb.t = V_MISSING;
		unsigned a = va.t == V_MISSING ? 0 : id_of(&va);
		unsigned b = vb.t == V_MISSING ? 0 : id_of(&vb);
		scratch_free(&s);
		struct ev *ea = find(sg, &bi, 0, a), *eb = find(sg, &bi, 1, b);
		PCHECK(ea || eb);		/* a record of events taken */
		PCHECK(!!ea == (a != 0) && !!eb == (b != 0));
		if (ea && eb) {
			JOIN_GROW(got, ngot, capgot);
			got[ngot++] = pair_id(a, b);
			paired[ea - sg->ev]++;
			paired[eb - sg->ev]++;
		} else {
			struct ev *e = ea ? ea : eb;
			PCHECK(sg->outer[e->input ^ sg->swap]);
			alone[e - sg->ev]++;
		}
		i += n + 1;
	}
	if (ngot)
		qsort(got, ngot, sizeof *got, cmp_u64);
	for (size_t k = 1; k < ngot; k++)
		PCHECK(got[k] != got[k - 1]);	/* a pair written twice */
	size_t nexp;
	uint64_t *exp = expected_pairs(sg, &nexp);
	bool exact = evicted == sg->evicted;
	if (debug)
		dprintf(real_err, "stretch: %zu events, %zu pairs (%zu by brute "
			"force), evicted %llu\n", sg->nev, ngot, nexp,
			evicted - sg->evicted);
	if (exact) {
		PCHECK(ngot == nexp);
		PCHECK(!ngot || !memcmp(got, exp, ngot * sizeof *got));
	} else {
		/* every pair written is one of the brute force's */
		for (size_t k = 0; k < ngot; k++)
			PCHECK(nexp && bsearch(&got[k], exp, nexp,
					       sizeof *exp, cmp_u64));
	}
	for (size_t k = 0; k < sg->nev; k++) {
		const struct ev *e = &sg->ev[k];
		bool outer = sg->outer[e->input ^ sg->swap];
		PCHECK(alone[k] <= 1);
		PCHECK(!alone[k] || !paired[k]);
		if (outer)
			PCHECK(alone[k] || paired[k]);
		if (exact && outer)
			PCHECK(alone[k] == !paired[k]);
	}
	free(exp);
	free(got);
	free(alone);
	free(paired);
	free(bi.ix[0]);
	free(bi.ix[1]);
}

/* After each step: the state is what the watermarks say. */
static void check_state(struct run *R)
{
	const struct ijoin_conf *c = &R->conf;
	struct ijoin_counts n = ijoin_counts(R->j);
	const char *why = ijoin_check(R->j);
	if (why)
		dprintf(real_err, "ijoin_check: %s\n", why);
	PCHECK(why == NULL);
	PCHECK(n.buffered <= (size_t)c->max_buffered);
	/* --max-state: the running total is what the events hold */
	PCHECK(n.state_bytes <= c->max_state || n.buffered <= 1);
	PCHECK(n.state_bytes <= n.peak_state);
	for (int si = 0; si < 2; si++) {
		int64_t wm = ijoin_watermark(R->j, si);
		PCHECK(wm >= R->prev_wm[si]);
		R->prev_wm[si] = wm;
	}
	/* what the poll loop would wait (--idle) */
	int to = ijoin_idle_timeout(R->j, loop_now_ms());
	PCHECK(to == -1 || to >= 1);
}

/* ---- the run ---- */

static void dump(const struct gen *g, const struct cmdline *c)
{
	dump_cmd("start", c);
	for (int i = 0; i < g->nstep; i++) {
		const struct step *s = &g->step[i];
		if (s->kind == RELOAD)
			dump_cmd("reload", &s->cmd);
		else if (s->kind == SILENCE)
			dprintf(real_err, "silence %lld ms\n",
				(long long)s->silence_ms);
		else
			dprintf(real_err, "%s ", s->kind == PICK ? "pick" :
				s->input ? "B" : "A");
	}
	for (int x = 0; x < 2; x++)
		dprintf(real_err, "\ninput %c:\n%.*s", 'A' + x,
			(int)g->text[x].len, g->text[x].buf);
}

/* Reads the next record of side si, as es-join does; false if the side
 * has nothing (ended, or nothing yet). */
static bool read_side(struct run *R, int si, struct seg *sg)
{
	struct record rec;
	if (ijoin_ended(R->j, si))
		return false;
	int got = reader_next(R->rd[si ^ R->def.swap], &rec);
	if (got < 0)
		return false;
	if (got == 0) {
		ijoin_end(R->j, si);
	} else {
		uint64_t bad = stats.bad, late = stats.late;
		ijoin_event(R->j, si, &rec);
		if (stats.bad == bad && stats.late == late)
			taken(R, sg, si, &rec);
	}
	check_state(R);
	return true;
}

static void reload(struct run *R, struct step *st, struct seg *sg)
{
	struct ijoin_conf nc;
	conf_of(&st->def, &nc);
	bool swap = st->def.swap != R->def.swap;
	bool same = def_same(&st->def, &R->def);
	struct ijoin_said said = ijoin_reconf(R->j, &nc, swap);
	PCHECK(said.same || !same);
	conf_free(&R->conf);
	R->conf = nc;
	R->def = st->def;
	for (int si = 0; si < 2; si++)
		if (said.grew & 1u << si)
			reader_fields_changed(R->rd[si ^ R->def.swap]);
	if (!said.same) {
		/* the old definition's events went: its stretch is over */
		PCHECK(ijoin_counts(R->j).buffered == 0);
		seg_end(R, sg);
		seg_start(R, sg);
		R->prev_wm[0] = R->prev_wm[1] = INT64_MIN;
	}
	check_state(R);
}

/* As es-join starts a stream-stream join, with the output in memory. */
static void start(struct run *R, const struct def *d)
{
	static const struct ijoin_hooks hooks = { .emit = emit };
	memset(R, 0, sizeof *R);
	memset(&stats, 0, sizeof stats);
	R->def = *d;
	conf_of(d, &R->conf);
	out_init(&R->out, -1, "output");
	R->wr = writer_open(&R->out, FMT_NDJSON);
	R->j = ijoin_new(&R->conf, &hooks, R, FMT_NDJSON);
	for (int si = 0; si < 2; si++) {
		int x = si ^ d->swap;
		R->rd[x] = reader_open(&in_file[x], 1, FMT_AUTO,
				       ijoin_fieldset(R->j, si), NULL, NULL);
	}
	R->prev_wm[0] = R->prev_wm[1] = INT64_MIN;
}

static void finish(struct run *R)
{
	writer_close(R->wr);
	for (int x = 0; x < 2; x++)
		reader_close(R->rd[x]);
	ijoin_free(R->j);
	conf_free(&R->conf);
	out_free(&R->out);
}

static void run(struct bytes *b)
{
	static struct gen g;
	static struct cmdline cmd;
	static struct run R;
	memset(&g, 0, sizeof g);
	g.cur = def_core(take(b), take(b));
	def_knobs(&g.cur, take(b));
	make_cmd(&g.cur, &cmd);
	struct def first = g.cur;	/* gen_all moves g.cur on */
	unsigned f = take(b);
	for (int x = 0; x < 2; x++) {
		out_init(&g.text[x], -1, "input");
		g.csv[x] = (f >> x) & 1;
		if (g.csv[x])
			put(&g, x, "ts,t2,k,j,%c,v\n", x ? 'b' : 'a');
	}
	g.t = (int64_t)take(b) << 8;
	gen_all(&g, b);
	for (int x = 0; x < 2; x++) {
		FUZZ_CHECK(ftruncate(in_fd[x], 0) == 0);
		FUZZ_CHECK(pwrite(in_fd[x], g.text[x].buf, g.text[x].len, 0) ==
			   (ssize_t)g.text[x].len);
	}
	if (debug)
		dump(&g, &cmd);

	start(&R, &first);
	static struct seg sg;
	seg_start(&R, &sg);
	for (int i = 0; i < g.nstep; i++) {
		struct step *st = &g.step[i];
		switch (st->kind) {
		case READ:
			read_side(&R, st->input ^ R.def.swap, &sg);
			break;
		case PICK:
			read_side(&R, ijoin_pick(R.j), &sg);
			break;
		case RELOAD:
			reload(&R, st, &sg);
			break;
		case SILENCE:
			ijoin_silence(R.j, loop_now_ms() + st->silence_ms);
			check_state(&R);
		}
	}
	/* The rest, in the engine's order, to the end of both inputs. */
	while (!(ijoin_ended(R.j, 0) && ijoin_ended(R.j, 1))) {
		int si = ijoin_pick(R.j);
		if (!read_side(&R, si, &sg))
			PCHECK(read_side(&R, !si, &sg));
	}
	PCHECK(ijoin_counts(R.j).buffered == 0);
	seg_end(&R, &sg);
	if (debug)
		dprintf(real_err, "output:\n%.*s", (int)R.out.len, R.out.buf);

	finish(&R);
	for (int x = 0; x < 2; x++)
		out_free(&g.text[x]);
	free(sg.ev);
	memset(&sg, 0, sizeof sg);
}
