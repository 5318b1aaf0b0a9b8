/* es-archive - keep the raw records on the gateway, bounded; query a slice
 *
 * Store mode passes every record through and stores it in --dir (the
 * store is lib/archive.c: SQLite, one transaction a batch). A record goes
 * downstream only after the batch holding it committed, so that whatever
 * a reader downstream saw is in the archive, even after a SIGKILL
 * (lib/archive_store.c). Query mode (--from, --to, --where, --key-is) writes
 * them in event-time order instead (lib/archive_query.c, as es-replay).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "archive_query.h"
#include "archive_store.h"
#include "diag.h"
#include "expr.h"
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

enum {
	OPT_DIR = OPT_PROGRAM, OPT_MAX_SIZE,
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
	OPTGROUP_TIME_MODE("event (default) or processing (the arrival\n"
			   "time: for records without a time of their own)"),
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
	archive_query_key_free(c->key, c->nkey);
	c->key = NULL;
	c->nkey = 0;
}

static void parse_key(struct conf *c, const char *text)
{
	const char *err;
	int at;
	key_free(c);
	c->key_text = text;
	if (archive_query_key_split(text, &c->key, &c->nkey, NULL, &err, &at))
		diag_usage("invalid --key '%s' at column %d: %s", text, at + 1,
			   err);
}

/* --from/--to: RFC 3339, or an epoch number in a unit its size says. */
static int64_t time_opt(const char *opt, const char *arg)
{
	const char *err;
	int64_t us;
	if (archive_query_time(arg, &us, &err))
		diag_usage("invalid time '%s' for %s: %s", arg, opt, err);
	return us;
}

/* An argument that is no or yes: whether it is yes. */
static bool choice(const char *opt, const char *arg, const char *no,
		   const char *yes)
{
	if (strcmp(arg, no) && strcmp(arg, yes))
		diag_usage("invalid argument '%s' for %s: expected %s or %s",
			   arg, opt, no, yes);
	return strcmp(arg, yes) == 0;
}

static void store_option(struct conf *c, int code, const char *arg)
{
	switch (code) {
	case 'k': parse_key(c, arg); break;
	case OPT_TIME_MODE: c->processing = optgroup_time_mode(arg); break;
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
		c->sync_full = choice("--sync", arg, "normal", "full");
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

static struct archive_store st;	/* store mode (lib/archive_store.c) */
static struct archive *qarc;	/* query mode */
static uint64_t filtered;
static bool storing;		/* not a query */
static int tslot, *kslots;
static enum time_repr unit;
static struct expr *where;

/* --stats: the archive's counters as of the last commit. */
static void stats_extra(char *buf, size_t n)
{
	struct archive *arc = storing ? st.arc : qarc;
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
		 (unsigned long long)st.stored, (unsigned long long)st.unstored,
		 (unsigned long long)st.commits,
		 (unsigned long long)st.expired.age,
		 (unsigned long long)st.expired.size,
		 (unsigned long long)st.bytes, a, b);
}

/* ---- storing ---- */

static void on_record(struct prog_run *run, struct record *rec)
{
	const struct conf *c = run->conf;
	int64_t t;
	scratch_reset(&st.sc);
	if (c->processing)
		t = time_now_us();
	else if (record_time(rec, &rec->slots[tslot], c->time_field, &unit,
			     &st.sc, &t, NULL))
		return;
	archive_store_record(&st, rec, t);
}

/* The input paused: what is held is committed and goes on at once. */
static void on_idle(struct prog_run *run)
{
	if (st.held) {
		archive_store_commit(&st);
		out_flush(&run->out);
	}
}

/* At any exit (--strict's first bad line among them): the records held
 * are committed and go on, as at the end of the input. (The hook takes
 * no context: hence the store is this file's.) */
static void held_go(void)
{
	if (st.held)
		archive_store_commit(&st);
}

static void store_start(struct prog_run *run)
{
	const struct conf *c = run->conf;
	char why[1024];
	bool usage;
	st.dir = c->dir;
	st.key_text = c->key_text;
	st.kslots = kslots;
	st.limits = (struct archive_limits){ c->max_size, c->max_age };
	st.commit_every = c->commit_every;
	st.commit_interval = c->commit_interval;
	st.sync_full = c->sync_full;
	st.down = &run->out;
	unit = c->unit;
	if (archive_store_start(&st, run->o.out_fmt, why, sizeof why, &usage))
		diag_fatal(usage ? EXIT_USAGE : EXIT_RUNTIME, "%s", why);
	diag_before_flush(held_go);
}

/* ---- querying ---- */

static void query(struct prog_run *run)
{
	const struct conf *c = run->conf;
	char err[1024];
	struct outbuf key;
	out_init(&key, -1, "key");
	if (!(qarc = archive_open(c->dir, false, false, err, sizeof err)))
		diag_fatal(EXIT_RUNTIME, "%s", err);
	int rc = c->nkey_is ? archive_query_key(qarc, c->dir, c->key_is,
						c->nkey_is, &key, err,
						sizeof err) : 0;
	if (rc)
		diag_fatal(rc == -1 ? EXIT_USAGE : EXIT_RUNTIME, "%s%s",
			   rc == -1 ? "--key-is: " : "", err);
	struct archive_slice sl;
	if (archive_query_slice_open(&sl, qarc, c->from, c->to,
			       c->nkey_is ? key.buf : NULL, key.len, where,
			       run->fs, c->dir, err, sizeof err) ||
	    archive_query_slice_write(&sl, run->w, &filtered, err, sizeof err) < 0)
		diag_fatal(EXIT_RUNTIME, "%s: %s", c->dir, err);
	archive_query_slice_close(&sl);
	out_free(&key);
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
	st.limits = (struct archive_limits){ nc->max_size, nc->max_age };
	st.commit_every = nc->commit_every;
	st.commit_interval = nc->commit_interval;
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
	(void)run;
	if (st.pw)
		archive_store_commit(&st);
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	archive_store_free(&st);
	free(kslots);
	expr_free(where);
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
	PROG_CONF_HOOKS,
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
	archive_close(st.arc);
	archive_close(qarc);
	return status;
}
