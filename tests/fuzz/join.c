/* join.c - fuzz target: es-join's stream-stream interval join
 *
 * The program itself is compiled in (its main renamed), so that its static
 * state and functions are those under test. Per input:
 *   - the first bytes pick a join definition, as options parsed by the
 *     program's own parse_args/check_args (--within D or LOW,HIGH, --type,
 *     --on K, K=RK or K1,K2, --time-field F or F=RF, --time-unit,
 *     --lateness, --max-buffered, --max-state, --idle, prefixes);
 *   - the rest becomes the lines of two inputs, A and B (NDJSON or CSV
 *     each), written to two memfds that --left and --right name as
 *     /proc/self/fd/N and read by the real reader, and a schedule: which
 *     input is read next (the fuzzer's interleaving, as live inputs may
 *     arrive, or the program's own pick_side), stretches of silence
 *     (on_silence, the --idle rule) and reloads to another definition or
 *     the same one with other knobs (stream_apply, the --config path;
 *     a reload may swap the inputs);
 *   - each record goes through on_event, the end of an input through
 *     side_eof; then everything is freed (stream_free, join_free), so that
 *     each run starts clean and a leak shows.
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
 *     that can_expire left; the
 *     watermarks never go back; idle_timeout (what the poll loop would
 *     wait) -1 or at least 1 ms; nothing buffered once both inputs ended.
 * FUZZ_JOIN_DEBUG=1 prints a run's command lines, schedule, inputs and
 * output, and per stretch its events, pairs and brute-force pairs.
 * Diagnostics (bad lines, warnings) go to /dev/null while a run lasts;
 * sanitizer reports and broken invariants still reach the real stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

int es_join_main(int argc, char **argv);
#define main es_join_main
#define splice es_join_splice	/* _GNU_SOURCE's fcntl.h has one */
#include "../../cmd/es-join.c"
#undef splice
#undef main

#include "prog.h"

static int in_fd[2] = { -1, -1 };
static char in_name[2][40];

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

/* A command line and the words it owns; cfg's strings point into it while
 * it is in force. */
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
	/* Off: the checks follow the record in hand, and the rule holds
	 * far-ahead records back (lib/watermark.c; its own paths are run by
	 * the window target and tests/es-join.bats). */
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
	struct def def;		/* RELOAD */
	struct cmdline cmd;	/* RELOAD: in force after it */
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
			 * wait for the program's pick or the end. */
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
		name_of(&rec->fields[i].key, s, &p, &n);
		if (same(p, n, name, strlen(name))) {
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

/* Notes the event just taken by side si (its record still in hand). */
static void taken(struct seg *sg, int si, const struct record *rec)
{
	struct scratch s = { 0 };
	struct value v, tv;
	int64_t t;
	/* The side's unit is now resolved: the time the program got. */
	enum time_repr u = S[si].unit;
	PCHECK(record_time(rec, &rec->slots[S[si].time_slot], "ts", &u, &s, &t,
			   &tv) == 0);
	GROW(sg->ev, sg->nev, sg->cap);
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

static void seg_start(struct seg *sg, const struct outbuf *o)
{
	sg->nev = 0;
	sg->from = o->len;
	sg->swap = strcmp(cfg.left, in_name[0]) != 0;
	sg->low = cfg.low;
	sg->high = cfg.high;
	sg->outer[0] = cfg.type == J_LEFT || cfg.type == J_FULL;
	sg->outer[1] = cfg.type == J_RIGHT || cfg.type == J_FULL;
	sg->evicted = evicted;
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
			GROW(p, n, cap);
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
static void seg_end(struct seg *sg, const struct outbuf *o)
{
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
			GROW(got, ngot, capgot);
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
static void check_state(int64_t prev_wm[2])
{
	PCHECK(nbuffered <= (size_t)cfg.max_buffered);
	PCHECK(S[0].nheap + S[1].nheap == nbuffered);
	/* --max-state: the running total is what the events hold */
	size_t evb = 0;
	for (int si = 0; si < 2; si++)
		for (size_t i = 0; i < S[si].nheap; i++) {
			const struct bev *e = S[si].heap[i];
			PCHECK(e->bytes == view_bytes(&e->v));
			evb += e->bytes;
		}
	PCHECK(evb == ev_bytes);
	PCHECK(state_bytes() <= cfg.max_state || nbuffered <= 1);
	PCHECK(state_bytes() <= peak_state);
	for (int si = 0; si < 2; si++) {
		PCHECK(S[si].wm >= prev_wm[si]);
		prev_wm[si] = S[si].wm;
		PCHECK(!S[si].nheap || !can_expire(si, S[si].heap[0]->v.t));
		PCHECK(!S[si].nheap || keytab_count(S[si].keys) > 0);
	}
	/* what the poll loop would wait for (--idle) */
	int to = idle_timeout(loop_now_ms());
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

/* Reads the next record of side si, as stream_run does; false if the
 * side has nothing (ended, or nothing yet). */
static bool read_side(int si, struct seg *sg, int64_t prev_wm[2])
{
	struct record rec;
	if (S[si].eof)
		return false;
	int got = reader_next(S[si].r, &rec);
	if (got < 0)
		return false;
	if (got == 0) {
		side_eof(si);
	} else {
		uint64_t bad = stats.bad, late = stats.late;
		set_format(&rec);
		last_read = si;
		on_event(si, &rec);
		if (stats.bad == bad && stats.late == late)
			taken(sg, si, &rec);
	}
	check_state(prev_wm);
	return true;
}

static void reload(struct step *st, struct seg *sg, int64_t prev_wm[2])
{
	struct es_opts no;
	struct conf nc;
	char said[1024];
	opts_init(&no);
	parse_args(st->cmd.argc, st->cmd.argv, &no, &nc);
	check_args(&nc, st->cmd.argc - optind);
	PCHECK(inputs_changed(&nc) == NULL);
	bool same = stream_def_same(&nc, &cfg);
	stream_apply(&nc, said, sizeof said);
	if (!same) {
		/* the old definition's events went: its stretch is over */
		seg_end(sg, &out);
		seg_start(sg, &out);
		prev_wm[0] = prev_wm[1] = INT64_MIN;
		PCHECK(nbuffered == 0);
	}
	check_state(prev_wm);
}

static void run(struct bytes *b)
{
	static struct gen g;
	static struct cmdline cmd;
	memset(&g, 0, sizeof g);
	g.cur = def_core(take(b), take(b));
	def_knobs(&g.cur, take(b));
	make_cmd(&g.cur, &cmd);
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

	/* As main() does for a stream-stream join. */
	struct es_opts o;
	memset(&stats, 0, sizeof stats);
	opts_init(&o);
	parse_args(cmd.argc, cmd.argv, &o, &cfg);
	check_args(&cfg, cmd.argc - optind);
	out_init(&keybuf, -1, "key");
	out_init(&out, -1, "output");
	wr = writer_open(&out, FMT_NDJSON);
	ofmt = FMT_NDJSON;
	side_setup(0, cfg.left, &o);
	side_setup(1, cfg.right, &o);
	S[0].last_ms = S[1].last_ms = loop_now_ms();

	static struct seg sg;
	seg_start(&sg, &out);
	int64_t prev_wm[2] = { INT64_MIN, INT64_MIN };
	for (int i = 0; i < g.nstep; i++) {
		struct step *st = &g.step[i];
		switch (st->kind) {
		case READ:
			read_side(st->input ^ sg.swap, &sg, prev_wm);
			break;
		case PICK:
			read_side(pick_side(), &sg, prev_wm);
			break;
		case RELOAD:
			reload(st, &sg, prev_wm);
			break;
		case SILENCE:
			on_silence(loop_now_ms() + st->silence_ms);
			check_state(prev_wm);
		}
	}
	/* The rest, in the program's order, to the end of both inputs. */
	while (!(S[0].eof && S[1].eof)) {
		int si = pick_side();
		if (!read_side(si, &sg, prev_wm))
			PCHECK(read_side(!si, &sg, prev_wm));
	}
	PCHECK(nbuffered == 0);
	seg_end(&sg, &out);
	if (debug)
		dprintf(real_err, "output:\n%.*s", (int)out.len, out.buf);

	writer_close(wr);
	wr = NULL;
	stream_free();
	join_free();
	out_free(&out);
	for (int x = 0; x < 2; x++)
		out_free(&g.text[x]);
	free(sg.ev);
	memset(&sg, 0, sizeof sg);
}

