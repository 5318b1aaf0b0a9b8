/* es-archive - keep the raw records on the gateway, bounded; query a slice
 *
 * Store mode passes every record through and stores it in --dir (the
 * store is lib/archive.c: SQLite, one transaction a batch). A record goes
 * downstream only after the batch holding it committed, so that whatever
 * a reader downstream saw is in the archive, even after a SIGKILL. Query
 * mode (--from, --to, --where, --key-is) writes the archive's records in
 * event-time order instead (lib/archive_query.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "archive_query.h"
#include "diag.h"
#include "expr.h"
#include "keys.h"
#include "loop.h"
#include "mem.h"
#include "optgroup.h"
#include "path.h"
#include "prog.h"
#include "reload.h"
#include "size.h"
#include "stats.h"
#include "time.h"

#define DEFAULT_COMMIT_EVERY 10000L
#define DEFAULT_COMMIT_INTERVAL (200 * US_PER_MS)
/* After a failed write (disk full) the archive rests this long. */
#define PAUSE_MS 1000

enum {
	OPT_DIR = OPT_PROGRAM, OPT_TIME, OPT_MAX_SIZE,
	OPT_MAX_AGE, OPT_COMMIT_EVERY, OPT_COMMIT_INTERVAL, OPT_SYNC,
	OPT_FROM, OPT_TO, OPT_WHERE, OPT_KEY_IS,
};

static const struct opts_entry store_opts[] = {
	{"dir", required_argument, OPT_DIR, "DIR",
	 "the archive's directory (required; made if\n"
	 "missing): DIR/archive.db, SQLite"},
	{"key", required_argument, 'k', "F1,F2",
	 "the fields --key-is queries by (fixed when\n"
	 "the archive is made)"},
	{"time", required_argument, OPT_TIME, "MODE",
	 "event (default) or processing (the arrival\n"
	 "time: for records without a time of their own)"},
	OPTGROUP_TIME_FIELD(OPTGROUP_TIME_FIELD_HELP),
	OPTGROUP_TIME_UNIT,
	{"max-size", required_argument, OPT_MAX_SIZE, "SIZE",
	 "keep at most SIZE of records (512k, 64M, 2G):\n"
	 "the oldest are deleted past it"},
	{"max-age", required_argument, OPT_MAX_AGE, "D",
	 "delete records older than the newest by more\n"
	 "than D (the newest taken no later than now)"},
	{"commit-every", required_argument, OPT_COMMIT_EVERY, "N",
	 "commit a batch every N records (default 10000)"},
	{"commit-interval", required_argument, OPT_COMMIT_INTERVAL, "D",
	 "or D after its first record (default 200ms),\n"
	 "or when the input pauses, whichever first"},
	{"sync", required_argument, OPT_SYNC, "MODE",
	 "normal (default): a commit survives a crash of\n"
	 "the program; full: fsynced, survives power loss"},
	{0}
};

static const struct opts_entry query_opts[] = {
	{"from", required_argument, OPT_FROM, "T",
	 "records at T or later (RFC 3339 or epoch)"},
	{"to", required_argument, OPT_TO, "T",
	 "records before T"},
	{"where", required_argument, OPT_WHERE, "EXPR",
	 "records for which EXPR is true (es-filter's\n"
	 "language, edgestream(7))"},
	{"key-is", required_argument, OPT_KEY_IS, "F=V",
	 "records whose key field F is V; once for each\n"
	 "field of the archive's --key"},
	{0}
};

static const struct prog_group groups[] = {
	{"Storing (records pass through):", store_opts},
	{"Querying (instead of reading input):", query_opts},
	{0}
};

struct conf {
	const char *dir, *key_text, *time_field, *where;
	const char *from_text, *to_text;	/* read in check: --timezone */
	const char *store_opt;	/* the first storing option given */
	enum time_repr unit;
	uint64_t max_size;
	int64_t max_age, commit_interval, from, to;
	long commit_every;
	bool sync_full, query, processing;
	const char **key_is;	/* "F=V" */
	int nkey_is;
	struct path *key;
	int nkey;
};

/* ---- options ---- */

static void key_free(struct conf *c)
{
	for (int i = 0; i < c->nkey; i++)
		path_free(&c->key[i]);
	free(c->key);
	c->key = NULL;
	c->nkey = 0;
}

/* Splits F1,F2 into paths; spans[i] (if not NULL) gets where path i's
 * text begins and ends. Returns 0, or -1 with err and *at. */
static int key_split(const char *text, struct path **key, int *nkey,
		     const char *(*spans)[2], const char **err, int *at)
{
	const char *s = text;
	while (*s) {
		const char *start = s;
		*key = xrealloc(*key, (size_t)(*nkey + 1) * sizeof **key);
		if (path_parse(&s, &(*key)[*nkey], err))
			return *at = (int)(s - text), -1;
		if (spans) {
			spans[*nkey][0] = start;
			spans[*nkey][1] = s;
		}
		(*nkey)++;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return *err = "expected ','", *at = (int)(s - text), -1;
	}
	return 0;
}

static void parse_key(struct conf *c, const char *text)
{
	const char *err;
	int at;
	key_free(c);
	c->key_text = text;
	if (key_split(text, &c->key, &c->nkey, NULL, &err, &at))
		diag_usage("invalid --key '%s' at column %d: %s", text, at + 1,
			   err);
}

/* --from/--to: RFC 3339, or an epoch number in a unit its size says. */
static int64_t time_opt(const char *opt, const char *arg)
{
	struct value v = { .t = V_STRING, .s = arg, .n = strlen(arg) };
	enum time_repr unit = TIME_AUTO;
	const char *err;
	int64_t us;
	if (time_from_value(&v, &unit, &us, &err))
		diag_usage("invalid time '%s' for %s: %s", arg, opt, err);
	return us;
}

static void store_option(struct conf *c, int code, const char *arg)
{
	switch (code) {
	case 'k': parse_key(c, arg); break;
	case OPT_TIME:
		if (strcmp(arg, "event") && strcmp(arg, "processing"))
			diag_usage("invalid argument '%s' for --time: expected "
				   "event or processing", arg);
		c->processing = strcmp(arg, "processing") == 0;
		break;
	case OPT_TIME_FIELD: c->time_field = arg; break;
	case OPT_TIME_UNIT: optgroup_time_unit(arg, &c->unit); break;
	case OPT_MAX_SIZE: c->max_size = optgroup_size("--max-size", arg); break;
	case OPT_MAX_AGE:
		c->max_age = opts_duration("--max-age", arg, false);
		break;
	case OPT_COMMIT_EVERY:
		c->commit_every = opts_count("--commit-every", arg);
		break;
	case OPT_COMMIT_INTERVAL:
		c->commit_interval = opts_duration("--commit-interval", arg,
						   false);
		break;
	case OPT_SYNC:
		if (strcmp(arg, "normal") && strcmp(arg, "full"))
			diag_usage("invalid argument '%s' for --sync: expected "
				   "normal or full", arg);
		c->sync_full = strcmp(arg, "full") == 0;
		break;
	}
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	switch (code) {
	case OPT_DIR: c->dir = arg; return;
	case OPT_FROM: c->from_text = arg; break;
	case OPT_TO: c->to_text = arg; break;
	case OPT_WHERE: c->where = arg; break;
	case OPT_KEY_IS:
		if (!strchr(arg, '='))
			diag_usage("invalid argument '%s' for --key-is: expected "
				   "FIELD=VALUE", arg);
		c->key_is = xrealloc(c->key_is, (size_t)(c->nkey_is + 1) *
				     sizeof *c->key_is);
		c->key_is[c->nkey_is++] = arg;
		break;
	default:
		for (const struct opts_entry *e = store_opts; e->name; e++)
			if (e->code == code && !c->store_opt)
				c->store_opt = e->name;
		store_option(c, code, arg);
		return;
	}
	c->query = true;
}

static void conf_init(void *conf)
{
	struct conf *c = conf;
	c->time_field = "ts";
	c->commit_every = DEFAULT_COMMIT_EVERY;
	c->commit_interval = DEFAULT_COMMIT_INTERVAL;
	c->from = INT64_MIN;
	c->to = INT64_MAX;
}

static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	(void)run;
	struct conf *c = conf;
	if (!c->dir)
		diag_usage("--dir is required");
	if (!c->query)
		return;
	if (c->store_opt)
		diag_usage("--%s goes with storing, not with a query (--from, "
			   "--to, --where, --key-is)", c->store_opt);
	if (optind < argc)
		diag_usage("a query (--from, --to, --where, --key-is) reads the "
			   "archive, not '%s'", argv[optind]);
	if (c->from_text)
		c->from = time_opt("--from", c->from_text);
	if (c->to_text)
		c->to = time_opt("--to", c->to_text);
	if (c->from >= c->to)
		diag_usage("--from must be before --to");
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	key_free(c);
	free(c->key_is);
}

/* ---- the run's state ---- */

static struct archive *arc;
static struct archive_limits limits;
static struct archive_expired expired;
static uint64_t stored, unstored, commits, filtered, bytes;
static struct scratch sc;
static bool storing;		/* not a query */

/* Store mode: records wait in pending (written by pw) until their batch
 * committed; CSV records are made NDJSON in conv (by cw) to be stored. */
static struct outbuf pending, conv, keybuf;
static struct writer *pw, *cw;
static int tslot, *kslots;
static enum time_repr unit;
static int64_t deadline_ms;	/* commit by then (the batch's first + D) */
static uint64_t held;		/* records in pending */
static bool failing;		/* from a failed write to the next commit */
static int64_t pause_end_ms;	/* no write is tried before then */

/* --stats: the archive's counters as of the last commit. */
static void stats_extra(char *buf, size_t n)
{
	int64_t lo, hi;
	char a[40] = "null", b[40] = "null", t[32];
	if (arc && archive_span(arc, &lo, &hi)) {
		t[rfc3339_format(lo, t)] = 0;
		snprintf(a, sizeof a, "\"%s\"", t);
		t[rfc3339_format(hi, t)] = 0;
		snprintf(b, sizeof b, "\"%s\"", t);
	}
	if (!storing) {
		snprintf(buf, n, ",\"filtered\":%llu",
			 (unsigned long long)filtered);
		return;
	}
	snprintf(buf, n, ",\"stored\":%llu,\"unstored\":%llu,\"commits\":%llu,"
		 "\"expired_age\":%llu,\"expired_size\":%llu,\"bytes\":%llu,"
		 "\"oldest\":%s,\"newest\":%s",
		 (unsigned long long)stored, (unsigned long long)unstored,
		 (unsigned long long)commits,
		 (unsigned long long)expired.age,
		 (unsigned long long)expired.size, (unsigned long long)bytes,
		 a, b);
}

static void open_archive(const struct conf *c, bool write)
{
	char err[512];
	arc = archive_open(c->dir, write, c->sync_full, err, sizeof err);
	if (!arc)
		diag_fatal(EXIT_RUNTIME, "%s", err);
}

/* ---- storing ---- */

/* The archive failed to take lost records: they pass on unstored, and
 * the archive rests PAUSE_MS before it tries again. Said once until a
 * commit succeeds again (a disk full for hours is one message). */
static void store_failed(const struct conf *c, uint64_t lost)
{
	unstored += lost;
	if (!failing)
		diag_warn("cannot store into %s (%s): archive writes pause for "
			  "%ds at a time while the records pass on (counted as "
			  "\"unstored\" in --stats)", c->dir, archive_error(arc),
			  PAUSE_MS / 1000);
	failing = true;
	pause_end_ms = loop_now_ms() + PAUSE_MS;
}

/* Commits the open batch, then lets its records go downstream. */
static void commit_point(struct prog_run *run)
{
	const struct conf *c = run->conf;
	uint64_t n = archive_pending(arc);
	if (n && archive_commit(arc, &limits, &expired))
		store_failed(c, n);
	else if (n) {
		stored += n;
		commits++;
		if (failing)
			diag_warn("archive writes into %s resumed (%llu records "
				  "unstored)", c->dir,
				  (unsigned long long)unstored);
		failing = false;
	}
	if (n)
		bytes = archive_bytes(arc);
	out_put(&run->out, pending.buf, pending.len);
	pending.len = 0;
	held = 0;
}

/* The key of rec in normal form (as --key-is makes it). */
static const char *record_key(const struct record *rec, size_t *n)
{
	keybuf.len = 0;
	struct value v;
	for (int i = 0; kslots && kslots[i] >= 0; i++) {
		if (value_load(&rec->slots[kslots[i]], &v, &sc))
			v.t = V_MISSING;
		key_append_loose(&keybuf, &v);
	}
	*n = keybuf.len;
	return kslots ? keybuf.buf : NULL;
}

/* The NDJSON text stored for rec (CSV rows are converted), or NULL after
 * reporting it bad. */
static const char *record_text(const struct record *rec, size_t *n)
{
	if (rec->fmt == FMT_NDJSON) {
		*n = rec->rawlen;
		return rec->raw;
	}
	const char *err;
	conv.len = 0;
	if (writer_put(cw, rec, &err) < 0) {
		record_bad(rec, err);
		return NULL;
	}
	stats.out--;	/* a copy to store, not a record written */
	*n = conv.len - 1;	/* without its newline */
	return conv.buf;
}

static void store(const struct conf *c, const struct record *rec, int64_t t,
		  const char *text, size_t n)
{
	if (failing && loop_now_ms() < pause_end_ms) {
		unstored++;
		return;
	}
	size_t kn;
	const char *key = record_key(rec, &kn);
	uint64_t batch = archive_pending(arc) + 1;
	if (archive_put(arc, t, key, kn, text, n))
		store_failed(c, batch);
}

static void on_record(struct prog_run *run, struct record *rec)
{
	const struct conf *c = run->conf;
	const char *err, *text;
	int64_t t;
	size_t n;
	scratch_reset(&sc);
	if (c->processing)
		t = time_now_us();
	else if (record_time(rec, &rec->slots[tslot], c->time_field, &unit,
			     &sc, &t, NULL))
		return;
	if (!(text = record_text(rec, &n)))
		return;
	if (writer_put(pw, rec, &err) < 0) {
		record_bad(rec, err);
		return;
	}
	store(c, rec, t, text, n);
	int64_t now = loop_now_ms();
	if (held++ == 0)
		deadline_ms = now + c->commit_interval / US_PER_MS;
	if (held >= (uint64_t)c->commit_every || now >= deadline_ms)
		commit_point(run);
}

/* The input paused: what is held is committed and goes on at once. */
static void on_idle(struct prog_run *run)
{
	if (held) {
		commit_point(run);
		out_flush(&run->out);
	}
}

/* At any exit (--strict's first bad line among them): the records held
 * are committed and go on, as at the end of the input. */
static struct prog_run *storing_run;
static void held_go(void)
{
	if (held)
		commit_point(storing_run);
}

static void store_start(struct prog_run *run)
{
	const struct conf *c = run->conf;
	char err[512];
	open_archive(c, true);
	if (archive_set_key(arc, c->key_text ? c->key_text : "", err,
			    sizeof err))
		diag_fatal(EXIT_USAGE, "%s: %s", c->dir, err);
	limits = (struct archive_limits){ c->max_size, c->max_age };
	unit = c->unit;
	out_init(&pending, -1, "pending");
	out_init(&conv, -1, "conv");
	out_init(&keybuf, -1, "key");
	pw = writer_open(&pending, run->o.out_fmt);
	cw = writer_open(&conv, FMT_NDJSON);
	storing_run = run;
	diag_before_flush(held_go);
	/* A first commit applies the limits to what is there already. */
	if (archive_commit(arc, &limits, &expired) == 0)
		bytes = archive_bytes(arc);
}

/* ---- querying ---- */

/* The key --key-is gives, in the order of the archive's key fields, in
 * normal form into keybuf. */
static void query_key(const struct conf *c)
{
	const char *akey = archive_key(arc), *err, *(*spans)[2];
	struct path *paths = NULL;
	int np = 0, at;
	if (!akey || !*akey)
		diag_fatal(EXIT_USAGE, "--key-is: the archive in %s has no key "
			   "(it was stored without --key); use --where", c->dir);
	spans = xmalloc((strlen(akey) + 1) * sizeof *spans);
	if (key_split(akey, &paths, &np, spans, &err, &at))
		diag_fatal(EXIT_RUNTIME, "%s: bad key '%s'", c->dir, akey);
	out_init(&keybuf, -1, "key");
	for (int i = 0; i < np; i++) {
		size_t fl = (size_t)(spans[i][1] - spans[i][0]);
		const char *v = NULL;
		for (int j = 0; j < c->nkey_is; j++)
			if (strncmp(c->key_is[j], spans[i][0], fl) == 0 &&
			    c->key_is[j][fl] == '=')
				v = c->key_is[j] + fl + 1;
		if (!v || c->nkey_is != np)
			diag_fatal(EXIT_USAGE, "--key-is: give one FIELD=VALUE "
				   "for each field of the archive's key, %s",
				   akey);
		struct value val = { .t = V_STRING, .s = v, .n = strlen(v) };
		key_append_loose(&keybuf, &val);
	}
	for (int i = 0; i < np; i++)
		path_free(&paths[i]);
	free(paths);
	free(spans);
}

/* Whether rec passes --where (a record the expression cannot take is bad). */
static bool query_where(const struct expr *e, const struct record *rec)
{
	struct value v;
	char msg[256];
	if (!e)
		return true;
	scratch_reset(&sc);
	if (expr_eval(e, rec->slots, &sc, &v, msg, sizeof msg) < 0) {
		record_bad(rec, msg);
		return false;
	}
	if (!value_truthy(&v)) {
		filtered++;
		return false;
	}
	return true;
}

static struct expr *where;

static void query(struct prog_run *run)
{
	const struct conf *c = run->conf;
	char err[512];
	open_archive(c, false);
	if (c->nkey_is)
		query_key(c);
	struct archive_query *q = archive_query_open(arc, c->from, c->to,
		c->nkey_is ? keybuf.buf : NULL, keybuf.len, err, sizeof err);
	if (!q)
		diag_fatal(EXIT_RUNTIME, "%s: %s", c->dir, err);
	struct json_scan js = { .slots = xmalloc(((size_t)fieldset_count(run->fs)
						  + 1) * sizeof *js.slots) };
	struct record rec = { .fmt = FMT_NDJSON, .src = c->dir };
	const char *raw, *msg;
	size_t n, col;
	int64_t t;
	int got = 0;
	while (!loop_stop &&
	       (got = archive_query_next(q, &raw, &n, &t, err, sizeof err)) > 0) {
		stats.in++;
		rec.raw = raw;
		rec.rawlen = n;
		rec.line = stats.in;
		if (json_scan_line(raw, n, run->fs, &js, &msg, &col)) {
			record_bad(&rec, msg);
			continue;
		}
		rec.slots = js.slots;
		if (query_where(where, &rec) && writer_put(run->w, &rec, &msg) < 0)
			record_bad(&rec, msg);
	}
	if (!loop_stop && got < 0)
		diag_fatal(EXIT_RUNTIME, "%s: %s", c->dir, err);
	archive_query_close(q);
	free(js.slots);
	free(js.members);
}

/* ---- reloading ---- */

/* What a running store cannot take from a reload, or NULL. */
static const char *reload_fixed(const struct conf *c, const struct conf *nc)
{
	if (nc->query)
		return "a query (--from, --to, --where, --key-is)";
	if (strcmp(c->dir, nc->dir))
		return "--dir";
	if (!c->key_text != !nc->key_text ||
	    (c->key_text && strcmp(c->key_text, nc->key_text)))
		return "--key";
	if (strcmp(c->time_field, nc->time_field) || c->unit != nc->unit ||
	    c->processing != nc->processing)
		return "--time, --time-field or --time-unit";
	if (c->sync_full != nc->sync_full)
		return "--sync";
	return NULL;
}

/*
 * On SIGHUP, or with --watch-config when the file changed: the new
 * --max-size, --max-age, --commit-every and --commit-interval apply from
 * the next commit. The archive itself (--dir, --key, the time field, --sync)
 * does not change under a running store: such a file is refused.
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	const struct conf *nc = nconf;
	const char *fixed = reload_fixed(run->conf, nc);
	char why[160], size[32] = "none", age[32] = "none", every[32];
	if (fixed) {
		snprintf(why, sizeof why, "%s cannot change while storing "
			 "(restart es-archive)", fixed);
		reload_refuse(why);
		return false;
	}
	limits = (struct archive_limits){ nc->max_size, nc->max_age };
	if (nc->max_size)
		size_text(nc->max_size, size, sizeof size);
	if (nc->max_age)
		duration_format(nc->max_age, age, sizeof age);
	duration_format(nc->commit_interval, every, sizeof every);
	snprintf(said, n, "max-size %s, max-age %s, commit-every %ld, "
		 "commit-interval %s", size, age, nc->commit_every, every);
	return true;
}

/* ---- the hooks ---- */

static void setup(struct prog_run *run)
{
	const struct conf *c = run->conf;
	if (c->query) {
		char msg[256];
		size_t col;
		if (c->where &&
		    !(where = expr_compile(c->where, run->fs, msg, sizeof msg,
					   &col)))
			diag_usage("invalid --where at column %zu: %s", col + 1,
				   msg);
		return;
	}
	storing = true;
	if (!c->processing)
		tslot = optgroup_field(run->fs, "--time-field", c->time_field);
	if (c->nkey) {
		kslots = xmalloc((size_t)(c->nkey + 1) * sizeof *kslots);
		for (int i = 0; i < c->nkey; i++)
			kslots[i] = fieldset_add(run->fs, &c->key[i]);
		kslots[c->nkey] = -1;
	}
}

static void run_mode(struct prog_run *run)
{
	const struct conf *c = run->conf;
	if (c->query) {
		query(run);
		return;
	}
	store_start(run);
	prog_read(run);
}

static void finish(struct prog_run *run)
{
	if (pw)
		commit_point(run);
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	writer_close(pw);
	writer_close(cw);
	pw = cw = NULL;
	out_free(&pending);
	out_free(&conv);
	out_free(&keybuf);
	free(kslots);
	expr_free(where);
	scratch_free(&sc);
	/* arc stays open: --stats reads its span after the cleanup */
}

static const struct prog es_archive = {
	.name = "es-archive",
	.synopsis = "--dir DIR [OPTION]... [FILE]...\n"
		    "  or:  es-archive --dir DIR --from T --to T [--where EXPR] "
		    "[--key-is F=V]...",
	.about = "Store the records of FILEs (or standard input) in DIR and write\n"
		 "them on, byte for byte, each once the batch holding it is\n"
		 "committed; or write the stored records of a span of event time\n"
		 "[--from, --to) in event-time order.",
	.groups = groups,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies --max-size,\n"
		       "--max-age, --commit-every and --commit-interval from the next commit;\n"
		       "one that changes --dir, --key, --time, the time field or --sync is\n"
		       "refused.",
	.notes = "\n--stats adds stored, unstored (passed on while the archive could not\n"
		 "be written: disk full), commits (batches), expired_age and expired_size (deleted by\n"
		 "retention), bytes (of pages in use), oldest, newest; a query adds\n"
		 "filtered (by --where).\n"
		 "Durations: 250ms, 10s, 5m, 1h, 7d. Sizes: 512k, 64M, 2G.\n"
		 "\nExamples:\n"
		 "  es-mqtt-sub -t 'plant/+/raw' | es-archive --dir /var/lib/es/raw \\\n"
		 "    --max-size 2G --max-age 7d -k device | es-window ...\n"
		 "  es-archive --dir /var/lib/es/raw --from 2027-01-01T06:00:00Z \\\n"
		 "    --to 2027-01-01T06:05:00Z --where 'gate == \"G2\"'\n",
	.conf_size = sizeof(struct conf),
	.conf_init = conf_init,
	.option = conf_option,
	.check = conf_check,
	.conf_free = conf_free,
	.setup = setup,
	.record = on_record,
	.idle = on_idle,
	.run = run_mode,
	.reload = conf_reload,
	.stats = stats_extra,
	.finish = finish,
	.cleanup = cleanup,
};

int main(int argc, char **argv)
{
	int status = prog_main(&es_archive, argc, argv);
	archive_close(arc);
	return status;
}
