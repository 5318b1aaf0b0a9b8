/* es-dedup - drop records whose key was already seen
 *
 * Three ways to remember keys, all bounded:
 *   --last N     the last N distinct keys passed (a ring of key ids; the
 *                oldest is forgotten when a new one comes);
 *   --within D   keys passed within D of event time: a record is a
 *                duplicate of a passed one with the same key when their
 *                times are at most D apart (either order). The watermark W
 *                is the largest time seen minus --lateness; a record before
 *                W - D is late (its copy may have been forgotten), and a key
 *                passed at t0 is forgotten once t0 < W - 2D, when no record
 *                that is not late can be within D of it (a min-heap by t0);
 *   neither      every key, up to --max-keys, oldest forgotten first.
 * --max-keys caps the last two; --max-state caps the bytes of the keys in
 * all three (a key is as long as its fields' values: the input decides).
 * At either cap the oldest keys go early, said once on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "keys.h"
#include "prog.h"
#include "path.h"
#include "record.h"
#include "time.h"
#include "watermark.h"

#define DEFAULT_MAX_KEYS 1000000L

enum {
	OPT_KEY = OPT_PROGRAM, OPT_WITHIN, OPT_LAST, OPT_MAX_KEYS, OPT_MAX_STATE,
	OPT_TIME_FIELD, OPT_TIME_UNIT, OPT_LATE, OPT_LATENESS, OPT_MAX_AHEAD,
};

/* What the options say: parsed at start and again on a reload. */
struct conf {
	const char *key_text;	/* --key as given (the last one counts) */
	struct path *key;
	int nkey;
	int *slots;		/* the key paths' slots (setup_fields) */
	const char *within_text;
	int64_t within;		/* 0: not by time */
	int64_t lateness;
	int64_t max_ahead;	/* --max-ahead (lib/watermark.h) */
	long last;		/* 0: not --last */
	long max_keys;
	size_t max_state;	/* bytes of keys */
	const char *time_field;
	enum time_repr unit;	/* as given */
	const char *late;
	bool lateness_given, max_ahead_given;
	int time_slot;
};

static const struct conf conf_defaults = {
	.max_keys = DEFAULT_MAX_KEYS, .max_state = OPTS_DEFAULT_MAX_STATE,
	.time_field = "ts", .max_ahead = WM_DEFAULT_AHEAD
};

static struct conf *cfg;	/* the one in use */
static enum time_repr unit;	/* cfg->unit, or the unit guessed */

static struct keytab *keys;
static struct outbuf key;	/* the key of the record at hand */
static struct scratch sc;
static unsigned long long duplicates, evicted;
static long peak_keys;
static size_t peak_bytes;

/* Per key id: the time it passed at, and a generation that tells a heap
 * entry of the key from one of an earlier key with the same id. */
static int64_t *key_time;
static unsigned *key_gen;
static int id_cap;

/* --last and the default: key ids in the order they passed. */
static int *ring;
static long ring_head, ring_n, ring_cap;

/* --within: (time, id, generation), smallest time on top. */
struct hitem {
	int64_t t;
	int id;
	unsigned gen;
};
static struct hitem *heap;
static size_t heap_n, heap_cap;

static int64_t max_t;
static bool have_time;

static const struct opts_entry options[] = {
	{"key", required_argument, 'k', "F1,F2",
	 "the fields that make the key (required; given\n"
	 "twice, the last one counts)"},
	{"within", required_argument, OPT_WITHIN, "D",
	 "a duplicate has a time at most D from the\n"
	 "passed record's (event time); records older\n"
	 "than the largest time seen minus D are late"},
	{"last", required_argument, OPT_LAST, "N",
	 "remember the last N distinct keys passed"},
	{"max-keys", required_argument, OPT_MAX_KEYS, "N",
	 "without --last: remember at most N keys\n"
	 "(default 1000000); past it the oldest are forgotten"},
	{"max-state", required_argument, OPT_MAX_STATE, "SIZE",
	 "remember at most SIZE bytes of keys (default\n"
	 "64M; 512k, 64M, 2G); past it the oldest are\n"
	 "forgotten"},
	{"time-field", required_argument, OPT_TIME_FIELD, "F",
	 "event time field (default: ts)"},
	{"time-unit", required_argument, OPT_TIME_UNIT, "U",
	 "s, ms, us, ns or auto (default auto: guessed\n"
	 "from the first value: below 1e11 s, 1e14 ms,\n"
	 "1e17 us, else ns); strings are RFC 3339"},
	{"lateness", required_argument, OPT_LATENESS, "L",
	 "with --within: allowed lateness (default 0);\n"
	 "the watermark is the largest time minus L"},
	{"late", required_argument, OPT_LATE, "FILE",
	 "with --within: write late records to FILE\n"
	 "(default: count and drop them)"},
	{"max-ahead", required_argument, OPT_MAX_AHEAD, "D",
	 "with --within: a record more than D (default\n"
	 "1d) ahead of the stream's time waits for 2 more\n"
	 "to confirm the jump, else it is bad input; 0: off"},
	{0}
};

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"duplicates\":%llu,\"keys\":%ld,\"evicted\":%llu,"
		 "\"state_bytes\":%zu", duplicates, peak_keys, evicted, peak_bytes);
}

/* ---- options ---- */

static long opt_count(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v <= 0 || v > 1000000000L)
		diag_usage("invalid argument '%s' for %s: expected a count from 1 "
			   "to 1000000000", arg, opt);
	return v;
}

static void key_free(struct conf *c)
{
	free(c->slots);
	c->slots = NULL;
	for (int i = 0; i < c->nkey; i++)
		path_free(&c->key[i]);
	free(c->key);
	c->key = NULL;
	c->nkey = 0;
}

/* The key paths of --key text into c (a second --key replaces the first,
 * as a --config file's replaces the command line's). */
static void parse_key(struct conf *c, const char *text)
{
	const char *s = text, *err;
	key_free(c);
	c->key_text = text;
	while (*s) {
		c->key = xrealloc(c->key, (size_t)(c->nkey + 1) * sizeof *c->key);
		if (path_parse(&s, &c->key[c->nkey], &err))
			diag_usage("invalid --key '%s' at column %d: %s", text,
				   (int)(s - text) + 1, err);
		c->nkey++;
		if (*s == ',')
			s++;
		else if (*s)
			diag_usage("invalid --key '%s' at column %d: expected ','",
				   text, (int)(s - text) + 1);
	}
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	const char *err;
	switch (code) {
	case 'k': parse_key(c, arg); break;
	case OPT_WITHIN:
		if (duration_parse(arg, false, &c->within, &err))
			diag_usage("invalid duration '%s' for --within: %s", arg,
				   err);
		c->within_text = arg;
		if (c->within == 0)
			diag_usage("invalid duration '%s' for --within: must be "
				   "above 0", arg);
		break;
	case OPT_LAST: c->last = opt_count("--last", arg); break;
	case OPT_MAX_KEYS: c->max_keys = opt_count("--max-keys", arg); break;
	case OPT_MAX_STATE: c->max_state = opts_size("--max-state", arg); break;
	case OPT_TIME_FIELD: c->time_field = arg; break;
	case OPT_TIME_UNIT: time_unit_opt(arg, &c->unit); break;
	case OPT_LATE: c->late = arg; break;
	case OPT_LATENESS:
		if (duration_parse(arg, false, &c->lateness, &err))
			diag_usage("invalid duration '%s' for --lateness: %s", arg,
				   err);
		c->lateness_given = true;
		break;
	case OPT_MAX_AHEAD:
		c->max_ahead = opts_duration("--max-ahead", arg, true);
		c->max_ahead_given = true;
		break;
	}
}

static void conf_init(void *conf)
{
	*(struct conf *)conf = conf_defaults;
}

static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	const struct conf *c = conf;
	(void)run, (void)argc, (void)argv;
	const char *err;
	struct path tp;
	if (!c->nkey)
		diag_usage("--key is required");
	if (c->within && c->last)
		diag_usage("--within and --last cannot be used together");
	if (c->late && !c->within)
		diag_usage("--late goes with --within");
	if (c->lateness_given && !c->within)
		diag_usage("--lateness goes with --within");
	if (c->max_ahead_given && !c->within)
		diag_usage("--max-ahead goes with --within");
	if (c->within) {
		if (path_parse_all(c->time_field, &tp, &err))
			diag_usage("invalid --time-field '%s': %s", c->time_field,
				   err);
		path_free(&tp);
	}
}

/* cfg's fields in fs (which only grows). */
static void setup_fields(struct fieldset *fs)
{
	const char *err;
	free(cfg->slots);
	cfg->slots = xmalloc((size_t)cfg->nkey * sizeof *cfg->slots);
	for (int i = 0; i < cfg->nkey; i++)
		cfg->slots[i] = fieldset_add(fs, &cfg->key[i]);
	if (cfg->within) {
		struct path tp;
		path_parse_all(cfg->time_field, &tp, &err);	/* checked */
		cfg->time_slot = fieldset_add(fs, &tp);
		path_free(&tp);
	}
}

static long ring_size(const struct conf *c)
{
	return c->within ? 0 : c->last ? c->last : c->max_keys;
}

/* ---- remembered keys ---- */

static void ids_fit(int id)
{
	if (id < id_cap)
		return;
	int cap = id_cap ? id_cap : 1024;
	while (cap <= id)
		cap *= 2;
	key_time = xrealloc(key_time, (size_t)cap * sizeof *key_time);
	key_gen = xrealloc(key_gen, (size_t)cap * sizeof *key_gen);
	memset(key_gen + id_cap, 0, (size_t)(cap - id_cap) * sizeof *key_gen);
	id_cap = cap;
}

/* A heap entry of a key that has passed again since is stale. */
static bool heap_live(const struct hitem *h)
{
	return key_gen[h->id] == h->gen && key_time[h->id] == h->t;
}

/* Moves heap[i] down to its place. */
static void sift_down(size_t i)
{
	struct hitem it = heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= heap_n)
			break;
		if (c + 1 < heap_n && heap[c + 1].t < heap[c].t)
			c++;
		if (heap[c].t >= it.t)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = it;
}

/*
 * Keeps the live entries only. A key that passes again far from its copy
 * leaves a stale entry, which goes when its time expires; but times out of
 * order within --lateness (one key at 0 s, 1.5 s, 0 s... under --within
 * 1s --lateness 2s) would pile them up without bound. Done when the heap
 * is full and at least half stale: O(1) a push on the whole, and the heap
 * stays within four entries a key.
 */
static void heap_compact(void)
{
	size_t n = 0;
	for (size_t i = 0; i < heap_n; i++)
		if (heap_live(&heap[i]))
			heap[n++] = heap[i];
	heap_n = n;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(i);
}

static void heap_push(int64_t t, int id)
{
	if (heap_n == heap_cap && heap_n / 2 >= (size_t)keytab_count(keys))
		heap_compact();
	if (heap_n == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 1024;
		heap = xrealloc(heap, heap_cap * sizeof *heap);
	}
	size_t i = heap_n++;
	while (i > 0 && heap[(i - 1) / 2].t > t) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = (struct hitem){ t, id, key_gen[id] };
}

static struct hitem heap_pop(void)
{
	struct hitem top = heap[0];
	heap[0] = heap[--heap_n];
	if (heap_n)
		sift_down(0);
	return top;
}

static void forget(int id)
{
	key_gen[id]++;
	keytab_remove(keys, id);
}

/* --within: forgets the keys passed before limit. */
static void expire(int64_t limit)
{
	while (heap_n && heap[0].t < limit) {
		struct hitem h = heap_pop();
		if (heap_live(&h))
			forget(h.id);
	}
}

static void warn_cap(void)
{
	static bool warned;
	if (warned)
		return;
	warned = true;
	diag_warn("--max-keys %ld reached: forgetting the oldest keys early, so "
		  "their duplicates may pass (counted as \"evicted\" in --stats)",
		  cfg->max_keys);
}

static bool state_warned;	/* again after a reload that changes it */

static void warn_state(void)
{
	char size[32];
	if (state_warned)
		return;
	state_warned = true;
	diag_warn("--max-state %s reached: forgetting the oldest keys early, so "
		  "their duplicates may pass (counted as \"evicted\" in --stats)",
		  opts_size_text(cfg->max_state, size, sizeof size));
}

/* Would n more bytes of keys be over --max-state? (O(1)) */
static bool over(size_t n)
{
	return keytab_bytes(keys) + n > cfg->max_state;
}

/* --within: forgets the key that passed at the earliest time. */
static void heap_evict(void)
{
	while (heap_n) {
		struct hitem h = heap_pop();
		if (heap_live(&h)) {
			forget(h.id);
			evicted++;
			return;
		}
	}
}

/* The counting modes: forgets the key that passed first. */
static void ring_drop(void)
{
	forget(ring[ring_head]);
	ring_head = (ring_head + 1) % ring_cap;
	ring_n--;
}

/* Forgets the oldest keys until n more bytes fit in --max-state (or none
 * is left: a key alone over it is still remembered). Every key is in the
 * ring, or has one live heap entry. */
static void fit_state(size_t n)
{
	while (over(n) && keytab_count(keys) > 0) {
		warn_state();
		if (cfg->within) {
			heap_evict();
		} else {
			ring_drop();
			evicted++;
		}
	}
}

/* Makes room for one more key of n bytes: at --max-keys (or --last N)
 * the oldest key goes, then more of them while over --max-state. */
static void make_room(size_t n)
{
	if (cfg->within && keytab_count(keys) >= cfg->max_keys) {
		warn_cap();
		heap_evict();
	} else if (!cfg->within && ring_n == ring_cap) {
		if (!cfg->last) {
			warn_cap();
			evicted++;
		}
		ring_drop();
	}
	fit_state(n);
}

static void remember(int64_t t)
{
	make_room(key.len);
	int id = keytab_add(keys, key.buf, key.len);
	ids_fit(id);
	key_gen[id]++;
	key_time[id] = t;
	if (cfg->within) {
		heap_push(t, id);
	} else {
		if (!ring)
			ring = xmalloc((size_t)ring_cap * sizeof *ring);
		ring[(ring_head + ring_n) % ring_cap] = id;
		ring_n++;
	}
	if (keytab_count(keys) > peak_keys)
		peak_keys = keytab_count(keys);
	if (keytab_bytes(keys) > peak_bytes)
		peak_bytes = keytab_bytes(keys);
}

/* ---- per record ---- */

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* The record's key into `key`; false (reported) if a key field is missing. */
static bool make_key(const struct record *rec)
{
	static char msg[200];
	key.len = 0;
	for (int i = 0; i < cfg->nkey; i++) {
		const struct span *sp = &rec->slots[cfg->slots[i]];
		struct value v;
		if (sp->kind == SPAN_MISSING || value_load(sp, &v, &sc)) {
			snprintf(msg, sizeof msg, "missing key field '%s'",
				 cfg->key[i].text);
			record_bad(rec, msg);
			return false;
		}
		key_append(&key, &v);
	}
	return true;
}

/* Event time for --within; false (reported) if it cannot be read. */
static bool event_time(const struct record *rec, int64_t *t)
{
	return record_time(rec, &rec->slots[cfg->time_slot], cfg->time_field,
			   &unit, &sc, t, NULL) == 0;
}

/* True if rec (its key made) is to be written. */
static bool judge(const struct record *rec, int64_t t)
{
	if (cfg->within) {
		int64_t wm = sat_add(max_t, -cfg->lateness);
		if (have_time && t < sat_add(wm, -cfg->within)) {
			wm_late(rec, t, wm);
			return false;
		}
		if (!have_time || t > max_t)
			max_t = t;
		have_time = true;
		wm = sat_add(max_t, -cfg->lateness);
		expire(sat_add(sat_add(wm, -cfg->within), -cfg->within));
	}
	int id = keytab_find(keys, key.buf, key.len);
	if (id < 0) {
		remember(t);
		return true;
	}
	if (cfg->within) {
		int64_t d = t > key_time[id] ? t - key_time[id] : key_time[id] - t;
		if (d > cfg->within) {
			/* Far from the passed copy: a new event, remembered
			 * from now on (the old heap entry goes stale). */
			key_gen[id]++;
			key_time[id] = t;
			heap_push(t, id);
			return true;
		}
	}
	duplicates++;
	return false;
}

/* Far-ahead records wait here for confirmation (lib/watermark.h). */
static struct wmark wmk;
static struct writer *out_w;
static const struct record *in_hand;	/* its key is in key */

static void put(const struct record *rec)
{
	const char *err;
	if (writer_put(out_w, rec, &err) < 0)
		record_bad(rec, err);
}

/* A record whose time the watermark rule accepted; a held one comes back
 * later, its key to be made again. */
static void timed_record(const struct record *rec, int64_t t, void *ctx)
{
	(void)ctx;
	if (rec != in_hand) {
		scratch_reset(&sc);
		if (!make_key(rec))
			return;
	}
	if (judge(rec, t))
		put(rec);
}

static void on_record(const struct record *rec)
{
	int64_t t = 0;
	scratch_reset(&sc);
	if (!make_key(rec))
		return;
	if (!cfg->within) {
		if (judge(rec, t))
			put(rec);
		return;
	}
	if (!event_time(rec, &t))
		return;
	in_hand = rec;
	wm_event(&wmk, rec, t, timed_record, NULL);
	in_hand = NULL;
}

/* ---- reloading --config ---- */

/* Forgets every key: a new key definition, or times not comparable. */
static void forget_all(void)
{
	keytab_free(keys);
	keys = keytab_new();
	heap_n = 0;
	free(ring);
	ring = NULL;
	ring_head = ring_n = 0;
	have_time = false;
	max_t = 0;
	wm_reset(&wmk);
}

/* The ring at a new size, the keys in the order they passed; past the
 * size the oldest are forgotten (evicted, if by --max-keys). */
static void ring_resize(long cap, bool by_max_keys)
{
	if (ring) {
		int *nr = xmalloc((size_t)cap * sizeof *nr);
		long n = 0;
		for (long i = 0; i < ring_n; i++) {
			int id = ring[(ring_head + i) % ring_cap];
			if (ring_n - i > cap) {
				forget(id);
				if (by_max_keys) {
					warn_cap();
					evicted++;
				}
			} else {
				nr[n++] = id;
			}
		}
		free(ring);
		ring = nr;
		ring_n = n;
		ring_head = 0;
	}
	ring_cap = cap;
}

/* --within under a smaller --max-keys: the oldest keys go at once. */
static void heap_trim(void)
{
	while (keytab_count(keys) > cfg->max_keys && heap_n) {
		warn_cap();
		heap_evict();
	}
}

static bool paths_same(const struct conf *a, const struct conf *b)
{
	if (a->nkey != b->nkey)
		return false;
	for (int i = 0; i < a->nkey; i++)
		if (strcmp(a->key[i].text, b->key[i].text))
			return false;
	return true;
}

/* Do the remembered keys still mean the same under nc? Their bytes come
 * from the key fields; under --within their times from the time field,
 * and the ring of the counting modes has no times. */
static bool keys_fit(const struct conf *nc)
{
	if (!paths_same(nc, cfg) || !nc->within != !cfg->within)
		return false;
	return !nc->within || (!strcmp(nc->time_field, cfg->time_field) &&
			       nc->unit == cfg->unit);
}

/* The settings as a --key ... line, for the reload message. */
static void conf_text(char *buf, size_t n)
{
	char mode[64], size[32];
	if (cfg->within)
		snprintf(mode, sizeof mode, "--within %s", cfg->within_text);
	else if (cfg->last)
		snprintf(mode, sizeof mode, "--last %ld", cfg->last);
	else
		snprintf(mode, sizeof mode, "--max-keys %ld", cfg->max_keys);
	snprintf(buf, n, "--key %s %s --max-state %s", cfg->key_text, mode,
		 opts_size_text(cfg->max_state, size, sizeof size));
}

/*
 * On SIGHUP, or with --watch-config when the file changed. The same key
 * definition keeps the remembered keys, and the new --within, --lateness,
 * --last, --max-keys or --max-state applies to them from the next record
 * (a smaller cap forgets the oldest at once); another one forgets them.
 * --late and the common options keep their start-up values.
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	struct conf *nc = nconf;
	bool keep = keys_fit(nc);
	int had = keytab_count(keys);
	/* Records held for confirmation were read under the old fields. */
	wm_end(&wmk, timed_record, NULL);
	if (!keep)
		forget_all();
	if (nc->max_state != cfg->max_state)
		state_warned = false;	/* the new limit is said when reached */
	cfg = nc;
	if (!keep)
		unit = cfg->unit;	/* else as guessed */
	setup_fields(run->fs);
	wm_set(&wmk, cfg->within ? cfg->max_ahead : 0, fieldset_count(run->fs));
	if (cfg->within)
		heap_trim();
	else if (ring_size(cfg) != ring_cap)
		ring_resize(ring_size(cfg), !cfg->last);
	fit_state(0);
	char text[256];
	conf_text(text, sizeof text);
	if (keep)
		snprintf(said, n, "%s; %d remembered key%s kept", text,
			 keytab_count(keys), keytab_count(keys) == 1 ? "" : "s");
	else
		snprintf(said, n, "%s; %d remembered key%s forgotten", text, had,
			 had == 1 ? "" : "s");
	return true;
}

static void setup(struct prog_run *run)
{
	cfg = run->conf;
	setup_fields(run->fs);
}

static void start(struct prog_run *run)
{
	if (cfg->late)
		diag_set_late(cfg->late);
	wm_init(&wmk, cfg->within ? cfg->max_ahead : 0, fieldset_count(run->fs));
	unit = cfg->unit;
	ring_cap = ring_size(cfg);
	keys = keytab_new();
	out_init(&key, -1, "key");
	out_w = run->w;
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
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	wm_free(&wmk);
	keytab_free(keys);
	out_free(&key);
	scratch_free(&sc);
	free(key_time);
	free(key_gen);
	free(ring);
	free(heap);
}

static void conf_free(void *conf)
{
	key_free(conf);
}

static const struct prog es_dedup = {
	.name = "es-dedup",
	.synopsis = "--key F1,F2 [OPTION]... [FILE]...",
	.about = "Write the records of FILEs (or standard input) whose key was not\n"
		 "seen before, byte for byte; drop the duplicates.",
	.opts = options,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies from the next\n"
		       "record; the keys remembered are kept if --key (and, with --within,\n"
		       "the time field and unit) did not change, else forgotten.",
	.notes = "\n--stats adds duplicates, keys, evicted, state_bytes (the most bytes\n"
		 "of keys remembered at once).\n"
		 "Durations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
		 "\nExamples:\n"
		 "  es-dedup --key device,seq --within 5m readings.ndjson\n"
		 "  es-dedup -k msg_id --last 10000 --stats\n",
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
	return prog_main(&es_dedup, argc, argv);
}
