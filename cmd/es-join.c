/* es-join - enrich records from a table; join two streams within an interval
 *
 * Stream-table (enrichment, lib/enrich.c): each input record is merged
 * with the row of its key in a table (CSV or NDJSON), which is reloaded on
 * SIGHUP and when the file changes. It reads the operands in lib/prog's
 * reading loop.
 *
 * Stream-stream (the interval join, lib/ijoin.c): a left event L and a
 * right event R join when their keys are equal and LOW <= R.t - L.t <=
 * HIGH. Both inputs are read as data arrives (lib/ijoin_read.c), in the
 * program's run hook.
 *
 * This file holds the options, their checks and the wiring, and applies
 * --config reloads (SIGHUP, --watch-config) between two records: a new
 * table, key or prefix loads the table again (all or nothing); a new join
 * definition first lets the buffered events go as at the end of input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dead.h"
#include "diag.h"
#include "loop.h"
#include "mem.h"
#include "optgroup.h"
#include "size.h"
#include "stats.h"
#include "enrich.h"
#include "ijoin_read.h"
#include "prog.h"
#include "record.h"
#include "reload.h"
#include "time.h"
#include "watermark.h"

enum {
	OPT_TYPE = OPT_PROGRAM, OPT_TABLE_PREFIX, OPT_LEFT, OPT_RIGHT,
	OPT_WITHIN, OPT_MAX_BUFFERED,
	OPT_LEFT_PREFIX, OPT_RIGHT_PREFIX,
};

/* What the options say: parsed at start and again on a reload. */
struct conf {
	const char *table, *left, *right, *on, *within, *time_field;
	const char *table_prefix, *left_prefix, *right_prefix, *late;
	enum join_type type;
	int64_t low, high, lateness, idle;
	int64_t max_ahead;	/* --max-ahead (lib/watermark.h) */
	long max_buffered;
	uint64_t max_state;		/* --max-state, bytes */
	enum time_repr unit;
	/* the first stream-mode option given, to tell the two modes apart */
	const char *stream_opt;
	/* compiled by conf_check: --on ([0] the input or left side, [1] the
	 * table or right side) and --time-field */
	struct join_pairs keys, time;
};

static struct conf *cfg;	/* the one in use */

/* The program's state: one engine (and the stream mode's inputs). */
static struct {
	bool table;		/* the mode: --table, else --left/--right */
	struct enrich *en;	/* --table */
	struct ijoin_read *rd;	/* --left, --right */
	struct enrich_counts en_last;	/* for --stats, once freed */
	struct ijoin_counts ij_last;
} P;

/* ---- options ---- */

static const struct opts_entry join_opts[] = {
	{"on", required_argument, 'k', "KEYS",
	 "key field paths, comma-separated; KEY=OTHER\n"
	 "when the table (or right side) names it\n"
	 "otherwise: --on badge=id, --on site,gate"},
	{"type", required_argument, OPT_TYPE, "T",
	 "inner (default): only records that match;\n"
	 "left: unmatched left records too; with\n"
	 "--left/--right also right, and full (both)"},
	{0}
};

static const struct opts_entry table_opts[] = {
	{"table", required_argument, 't', "FILE",
	 "the table, CSV or NDJSON (detected); reloaded\n"
	 "on SIGHUP and when the file changes (checked\n"
	 "once a second); duplicate keys: the last row\n"
	 "wins"},
	{"table-prefix", required_argument, OPT_TABLE_PREFIX, "P",
	 "table fields come as P+name (default: as they\n"
	 "are, and left out where the record has a\n"
	 "field of that name: input fields win)"},
	{0}
};

static const struct opts_entry stream_opts[] = {
	{"left", required_argument, OPT_LEFT, "A",
	 "the left input: a file or named pipe (- stdin)"},
	{"right", required_argument, OPT_RIGHT, "B",
	 "the right input, read at the same time"},
	{"within", required_argument, OPT_WITHIN, "D",
	 "-D <= R.t - L.t <= D; or LOW,HIGH: -2s,5s"},
	OPTGROUP_TIME_FIELD("event time field (default: ts); F=RF when the\n"
			    "right side names it otherwise"),
	OPTGROUP_TIME_UNIT,
	OPTGROUP_LATENESS("allowed lateness per side (default 0)"),
	OPTGROUP_MAX_AHEAD(OPTGROUP_MAX_AHEAD_HELP),
	OPTGROUP_LATE(OPTGROUP_LATE_HELP),
	OPTGROUP_IDLE("after D of silence on a side, advance its\n"
		      "watermark with the wall clock"),
	{"max-buffered", required_argument, OPT_MAX_BUFFERED, "N",
	 "at most N buffered events (default " OPTGROUP_XSTR(IJOIN_DEFAULT_MAX_BUFFERED) "); at\n"
	 "the limit the oldest are evicted"},
	OPTGROUP_MAX_STATE("at most SIZE bytes (512k, 64M, 2G; default 64M)\n"
			   "of buffered events and their keys; at the\n"
			   "limit the oldest are evicted"),
	{"left-prefix", required_argument, OPT_LEFT_PREFIX, "P",
	 "for the left side's time field and fields\n"
	 "both sides have (default: left_)"},
	{"right-prefix", required_argument, OPT_RIGHT_PREFIX, "P",
	 "the same for the right side (default: right_)"},
	{0}
};

static const struct prog_group groups[] = {
	{ NULL, join_opts },
	{ "Stream-table (enrichment):", table_opts },
	{ "Stream-stream (interval join):", stream_opts },
	{ NULL, NULL }
};

static void conf_init(void *conf)
{
	*(struct conf *)conf = (struct conf){
		.time_field = "ts", .left_prefix = "left_",
		.right_prefix = "right_",
		.max_buffered = IJOIN_DEFAULT_MAX_BUFFERED,
		.max_state = SIZE_DEFAULT_MAX_STATE, .max_ahead = WM_DEFAULT_AHEAD,
	};
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	for (const struct opts_entry *e = stream_opts; e->name; e++)
		if (e->code == code && !c->stream_opt)
			c->stream_opt = e->name;
	switch (code) {
	case 't': c->table = arg; break;
	case 'k': c->on = arg; break;
	case OPT_TYPE:
		if (join_type_parse(arg, &c->type))
			diag_usage("invalid argument '%s' for --type: expected "
				   "inner, left, right or full", arg);
		break;
	case OPT_TABLE_PREFIX: c->table_prefix = arg; break;
	case OPT_LEFT: c->left = arg; break;
	case OPT_RIGHT: c->right = arg; break;
	case OPT_WITHIN: c->within = arg; break;
	case OPT_TIME_FIELD: c->time_field = arg; break;
	case OPT_TIME_UNIT: optgroup_time_unit(arg, &c->unit); break;
	case OPT_LATENESS:
		c->lateness = opts_duration("--lateness", arg, true);
		break;
	case OPT_LATE: c->late = arg; break;
	case OPT_IDLE: c->idle = opts_duration("--idle", arg, false); break;
	case OPT_MAX_BUFFERED:
		c->max_buffered = opts_count("--max-buffered", arg);
		break;
	case OPT_MAX_STATE:
		c->max_state = optgroup_size("--max-state", arg);
		break;
	case OPT_LEFT_PREFIX: c->left_prefix = arg; break;
	case OPT_RIGHT_PREFIX: c->right_prefix = arg; break;
	case OPT_MAX_AHEAD:
		c->max_ahead = opts_duration("--max-ahead", arg, true);
		break;
	}
}

/* KEY[=OTHER] pairs (--on, --time-field); a bad list is a usage error. */
static void pairs_parse(struct join_pairs *jp, const char *opt,
			const char *text)
{
	char err[512];
	if (join_pairs_parse(jp, opt, text, err, sizeof err))
		diag_usage("%s", err);
}

/* Checks c (a usage error says why) and compiles its paths. */
static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	struct conf *c = conf;
	int nfiles = argc - optind;
	char err[512];
	(void)run, (void)argv;
	bool stream = c->left || c->right;
	if (c->table && stream)
		diag_usage("--table and --left/--right do not go together");
	if (!c->table && !stream)
		diag_usage("either --table, or --left and --right, is needed");
	if (!c->on)
		diag_usage("--on is needed: the key field(s) to join on");
	if (c->table) {
		if (c->stream_opt)
			diag_usage("--%s goes with --left and --right", c->stream_opt);
		if (c->type == JOIN_RIGHT || c->type == JOIN_FULL)
			diag_usage("--type %s goes with --left and --right",
				   join_type_names[c->type]);
		if (!strcmp(c->table, "-"))
			diag_usage("--table must name a file, not standard input");
		pairs_parse(&c->keys, "--on", c->on);
		return;
	}
	if (c->table_prefix)
		diag_usage("--table-prefix goes with --table");
	if (!c->left || !c->right)
		diag_usage("%s is needed too", c->left ? "--right" : "--left");
	if (nfiles)
		diag_usage("with --left and --right, no FILE arguments");
	if (!strcmp(c->left, "-") && !strcmp(c->right, "-"))
		diag_usage("--left and --right cannot both be standard input");
	if (!c->within)
		diag_usage("--within is needed with --left and --right");
	if (ijoin_parse_within("--within", c->within, &c->low, &c->high, err,
			       sizeof err))
		diag_usage("%s", err);
	if (!*c->left_prefix || !*c->right_prefix)
		diag_usage("--left-prefix and --right-prefix must not be empty");
	if (!strcmp(c->left_prefix, c->right_prefix))
		diag_usage("--left-prefix and --right-prefix must differ");
	pairs_parse(&c->keys, "--on", c->on);
	pairs_parse(&c->time, "--time-field", c->time_field);
	if (c->time.n != 1)
		diag_usage("invalid --time-field '%s': one field, or F=RF",
			   c->time_field);
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	join_pairs_free(&c->keys);
	join_pairs_free(&c->time);
}

static struct enrich_conf enrich_conf_of(const struct conf *c)
{
	return (struct enrich_conf){
		.table = c->table, .prefix = c->table_prefix, .keys = c->keys,
		.type = c->type,
	};
}

static struct ijoin_conf ijoin_conf_of(const struct conf *c)
{
	return (struct ijoin_conf){
		.keys = c->keys, .time = c->time, .type = c->type,
		.low = c->low, .high = c->high, .lateness = c->lateness,
		.idle = c->idle, .max_ahead = c->max_ahead,
		.max_buffered = c->max_buffered, .max_state = c->max_state,
		.unit = c->unit, .prefix = { c->left_prefix, c->right_prefix },
	};
}

/* ---- --stats ---- */

static void stats_extra(char *buf, size_t n)
{
	if (P.table) {
		struct enrich_counts c = P.en ? enrich_counts(P.en) : P.en_last;
		snprintf(buf, n, ",\"filtered\":%llu,\"matched\":%llu,"
			 "\"unmatched\":%llu,\"table_rows\":%zu,\"reloads\":%llu",
			 c.filtered, c.matched, c.unmatched, c.rows, c.reloads);
		return;
	}
	struct ijoin_counts c = P.rd ? ijoin_read_counts(P.rd) : P.ij_last;
	snprintf(buf, n, ",\"filtered\":%llu,\"matched\":%llu,\"unmatched\":%llu,"
		 "\"evicted\":%llu,\"buffered\":%zu,\"state_bytes\":%zu",
		 c.filtered, c.pairs, c.unmatched, c.evicted, c.peak_buffered,
		 c.peak_state);
}

/* ---- the table mode: lib/prog's reading loop ---- */

/* The first load, at start-up and under --check (where a table that does
 * not load is a bad configuration: es-ctl must not apply it). */
static void table_first(struct prog_run *run)
{
	char err[512];
	bool loaded;
	struct enrich_conf ec = enrich_conf_of(cfg);
	P.en = enrich_new(run->fs);
	if (enrich_apply(P.en, &ec, &loaded, err, sizeof err))
		diag_fatal(run->o.check ? EXIT_USAGE : EXIT_RUNTIME,
			   "cannot load table: %s", err);
}

/* Before each read, after a --config reload (a SIGHUP that loads a new
 * table from it is that table's reload too): the quiet input's look at
 * the table. */
static int table_timeout(struct prog_run *run)
{
	if (run->timed_out)
		enrich_watch(P.en, true);
	return ENRICH_CHECK_MS;
}

static void table_record(struct prog_run *run, struct record *rec)
{
	(void)run;
	enrich_watch(P.en, false);	/* the table applies to this record */
	enrich_record(P.en, rec);
}

/* The reader is about to wait: the next watch looks at the clock. */
static void table_idle(struct prog_run *run)
{
	(void)run;
	enrich_waited(P.en);
}

/* Table mode: a new table file, keys or prefix load the table anew (all
 * or nothing); the rest applies from the next record. */
static bool table_apply(struct conf *nc, char *said, size_t n)
{
	char err[512], why[600];
	bool loaded;
	struct enrich_conf ec = enrich_conf_of(nc);
	if (enrich_apply(P.en, &ec, &loaded, err, sizeof err)) {
		snprintf(why, sizeof why, "cannot load table: %s", err);
		reload_refuse(why);
		return false;
	}
	size_t rows = enrich_counts(P.en).rows;
	snprintf(said, n, "--table %s (%s %zu row%s) --on %s --type %s%s%s",
		 nc->table, loaded ? "loaded," : "unchanged,", rows,
		 rows == 1 ? "" : "s", nc->on, join_type_names[nc->type],
		 nc->table_prefix ? " --table-prefix " : "",
		 nc->table_prefix ? nc->table_prefix : "");
	return true;
}

/* ---- the stream mode: lib/ijoin_read.c reads the two inputs ---- */

/* Between two records: a --config reload that is due. */
static void stream_between(void *ctx)
{
	prog_reload(ctx);
}

static void stream_run(struct prog_run *run)
{
	struct ijoin_conf ic = ijoin_conf_of(cfg);
	P.rd = ijoin_read_new(&ic, cfg->left, cfg->right, run->o.in_fmt, run->w,
			      &run->out, run->o.out_fmt);
	ijoin_read_run(P.rd, stream_between, run);
}

/* ---- the run ---- */

/*
 * On SIGHUP, or with --watch-config when the file changed. The file was
 * checked by reload_argv() (with --check, which also loads a table);
 * the common options and --late keep their start-up values.
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	struct conf *nc = nconf;
	struct ijoin_conf ic = ijoin_conf_of(nc);
	(void)run;
	if (!nc->table != !P.table) {
		reload_refuse("a reload cannot change between --table and "
			      "--left/--right");
		return false;
	}
	if (P.table) {
		if (!table_apply(nc, said, n))
			return false;
	} else if (ijoin_read_reconf(P.rd, &ic, nc->left, nc->right, said, n)) {
		reload_refuse(said);
		return false;
	}
	cfg = nc;
	return true;
}

static void setup(struct prog_run *run)
{
	cfg = run->conf;
	P.table = cfg->table != NULL;
	if (P.table)
		table_first(run);	/* --check loads the table too */
}

static void start(struct prog_run *run)
{
	if (cfg->late)
		opts_late(cfg->late);
	if (P.table)
		enrich_output(P.en, run->w, &run->out, run->o.out_fmt);
}

static void run_join(struct prog_run *run)
{
	if (P.table)
		prog_read(run);
	else
		stream_run(run);
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	P.en_last = enrich_counts(P.en);	/* --stats comes after */
	P.ij_last = ijoin_read_counts(P.rd);
	enrich_free(P.en);
	ijoin_read_free(P.rd);
	P.en = NULL;
	P.rd = NULL;
}

const struct prog program = {
	.name = "es-join",
	.synopsis = "--table FILE --on KEYS [OPTION]... [FILE]...\n"
		    "  or:  es-join --left A --right B --on KEYS --within D [OPTION]...",
	.about = "Enrich each record of FILEs (or standard input) with the row of a\n"
		 "table that has its key; or join two streams: a left event L and a\n"
		 "right event R whose keys match and with LOW <= R.t - L.t <= HIGH\n"
		 "make one output record (an interval join; every pair, once).",
	.groups = groups,
	.reload_note = "A pair is written as: the time field (the later of the two times),\n"
		       "the left fields, then the right fields but the shared keys.\n"
		       "\n"
		       "A reload of --config (SIGHUP, --watch-config) applies from the next\n"
		       "record; a new table, keys or prefix loads the table (all or nothing);\n"
		       "a new join definition first ends the buffered events as at the end\n"
		       "of input. --check loads the table too.",
	.notes = "\n--stats adds filtered (the records a join type does not write: those\n"
		 "without a row, or an inner side's events that expired without a\n"
		 "match), matched, unmatched, and table_rows, reloads (table) or\n"
		 "evicted, buffered, state_bytes (streams).\n"
		 "Durations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
		 "\nExamples:\n"
		 "  es-join --table visitors.csv --on badge --type left readings.ndjson\n"
		 "  es-join --left thermal.fifo --right badges.fifo --on door --within 2s\n",
	PROG_CONF_HOOKS,
	.setup = setup,
	.start = start,
	.timeout = table_timeout,
	.record = table_record,
	.idle = table_idle,
	.run = run_join,
	.reload = conf_reload,
	.stats = stats_extra,
	.cleanup = cleanup,
};
