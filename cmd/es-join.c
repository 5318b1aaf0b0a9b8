/* es-join - enrich records from a table; join two streams within an interval
 *
 * Stream-table (enrichment, lib/enrich.c): each input record is merged
 * with the row of its key in a table (CSV or NDJSON), which is reloaded on
 * SIGHUP and when the file changes.
 *
 * Stream-stream (the interval join, lib/ijoin.c): a left event L and a
 * right event R join when their keys are equal and LOW <= R.t - L.t <=
 * HIGH. Both inputs are read as data arrives: here, by one poll() over
 * the two readers, the side behind in event time first.
 *
 * This file holds the options, their checks and the wiring, and applies
 * --config reloads (SIGHUP, --watch-config) between two records: a new
 * table, key or prefix loads the table again (all or nothing); a new join
 * definition first lets the buffered events go as at the end of input.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dead.h"
#include "diag.h"
#include "enrich.h"
#include "ijoin.h"
#include "loop.h"
#include "mem.h"
#include "opts.h"
#include "record.h"
#include "reload.h"
#include "size.h"
#include "stats.h"
#include "time.h"
#include "watermark.h"

enum {
	OPT_TYPE = OPT_PROGRAM, OPT_TABLE_PREFIX, OPT_LEFT, OPT_RIGHT,
	OPT_WITHIN, OPT_LATENESS, OPT_LATE, OPT_IDLE, OPT_MAX_BUFFERED,
	OPT_MAX_STATE, OPT_LEFT_PREFIX, OPT_RIGHT_PREFIX, OPT_TIME_FIELD,
	OPT_TIME_UNIT, OPT_MAX_AHEAD,
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
	/* options given, to tell the two modes apart */
	const char *stream_opt;
	/* compiled by check_args: --on ([0] the input or left side, [1] the
	 * table or right side) and --time-field */
	struct join_pairs keys, time;
};

static const struct conf conf_defaults = {
	.time_field = "ts", .left_prefix = "left_", .right_prefix = "right_",
	.max_buffered = IJOIN_DEFAULT_MAX_BUFFERED,
	.max_state = SIZE_DEFAULT_MAX_STATE, .max_ahead = WM_DEFAULT_AHEAD,
};

/* An input of the stream mode. Its name is in a cell of its own that the
 * reader keeps the address of (it opens the file at its first read, which
 * may come after a reload swapped the sides). */
struct input_side {
	char *file;
	struct reader *r;
	bool blocked;
};

static struct conf cfg;		/* the one in use */

/* The program's state: the output, one engine and its inputs. */
static struct {
	char **conf_words;	/* the reloaded command line cfg points into */
	struct outbuf out;
	struct writer *wr;
	enum format ofmt;	/* the output format, once known */
	struct enrich *en;	/* --table */
	struct reader *r;	/* its input */
	sig_atomic_t tab_hups;	/* the SIGHUPs the table's watcher saw (lib's
				   reader consumes loop_hup, for dead letters) */
	struct ijoin *ij;	/* --left, --right */
	struct input_side in[2];
	struct input_side *side[2];	/* the input of each side */
	bool warned_write, warned_limit[2];
} P;

static void usage(void)
{
	char size[32];
	printf("Usage: es-join --table FILE --on KEYS [OPTION]... [FILE]...\n"
	       "  or:  es-join --left A --right B --on KEYS --within D [OPTION]...\n"
	       "Enrich each record of FILEs (or standard input) with the row of a\n"
	       "table that has its key; or join two streams: a left event L and a\n"
	       "right event R whose keys match and with LOW <= R.t - L.t <= HIGH\n"
	       "make one output record (an interval join; every pair, once).\n"
	       "\n"
	       "  -k, --on KEYS            key field paths, comma-separated; KEY=OTHER\n"
	       "                           when the table (or right side) names it\n"
	       "                           otherwise: --on badge=id, --on site,gate\n"
	       "      --type T             inner (default): only records that match;\n"
	       "                           left: unmatched left records too; with\n"
	       "                           --left/--right also right, and full (both)\n"
	       "\n"
	       "Stream-table (enrichment):\n"
	       "  -t, --table FILE         the table, CSV or NDJSON (detected); reloaded\n"
	       "                           on SIGHUP and when the file changes (checked\n"
	       "                           once a second); duplicate keys: the last row\n"
	       "                           wins\n"
	       "      --table-prefix P     table fields come as P+name (default: as they\n"
	       "                           are, and left out where the record has a\n"
	       "                           field of that name: input fields win)\n"
	       "\n"
	       "Stream-stream (interval join):\n"
	       "      --left A             the left input: a file or named pipe (- stdin)\n"
	       "      --right B            the right input, read at the same time\n"
	       "      --within D           -D <= R.t - L.t <= D; or LOW,HIGH: -2s,5s\n"
	       "      --time-field F       event time field (default: ts); F=RF when the\n"
	       "                           right side names it otherwise\n"
	       "      --time-unit U        s, ms, us, ns or auto (default auto: guessed\n"
	       "                           from the first value: below 1e11 s, 1e14 ms,\n"
	       "                           1e17 us, else ns); strings are RFC 3339\n"
	       "      --lateness D         allowed lateness per side (default 0)\n"
	       WM_OPTION_HELP
	       "      --late FILE          write late events to FILE\n"
	       "      --idle D             after D of silence on a side, advance its\n"
	       "                           watermark with the wall clock\n"
	       "      --max-buffered N     at most N buffered events (default %d); at\n"
	       "                           the limit the oldest are evicted\n"
	       "      --max-state SIZE     at most SIZE bytes (512k, 64M, 2G; default %s)\n"
	       "                           of buffered events and their keys; at the\n"
	       "                           limit the oldest are evicted\n"
	       "      --left-prefix P      for the left side's time field and fields\n"
	       "                           both sides have (default: left_)\n"
	       "      --right-prefix P     the same for the right side (default: right_)\n"
	       "\n"
	       "A pair is written as: the time field (the later of the two times),\n"
	       "the left fields, then the right fields but the shared keys.\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) applies from the next\n"
	       "record; a new table, keys or prefix loads the table (all or nothing);\n"
	       "a new join definition first ends the buffered events as at the end\n"
	       "of input. --check loads the table too.\n"
	       "\n", IJOIN_DEFAULT_MAX_BUFFERED,
	       size_text(SIZE_DEFAULT_MAX_STATE, size, sizeof size));
	opts_common_help(stdout);
	printf("\n--stats adds filtered (the records a join type does not write: those\n"
	       "without a row, or an inner side's events that expired without a\n"
	       "match), matched, unmatched, and table_rows, reloads (table) or\n"
	       "evicted, buffered, state_bytes (streams).\n"
	       "Durations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
	       "\nExamples:\n"
	       "  es-join --table visitors.csv --on badge --type left readings.ndjson\n"
	       "  es-join --left thermal.fifo --right badges.fifo --on door --within 2s\n");
	exit(EXIT_OK);
}

/* Parses argv into c (from the defaults); optind is left at the first
 * FILE. */
static void parse_args(int argc, char **argv, struct es_opts *o,
		       struct conf *c)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"table", required_argument, 0, 't'},
		{"on", required_argument, 0, 'k'},
		{"type", required_argument, 0, OPT_TYPE},
		{"table-prefix", required_argument, 0, OPT_TABLE_PREFIX},
		{"left", required_argument, 0, OPT_LEFT},
		{"right", required_argument, 0, OPT_RIGHT},
		{"within", required_argument, 0, OPT_WITHIN},
		{"time-field", required_argument, 0, OPT_TIME_FIELD},
		{"time-unit", required_argument, 0, OPT_TIME_UNIT},
		{"lateness", required_argument, 0, OPT_LATENESS},
		{"max-ahead", required_argument, 0, OPT_MAX_AHEAD},
		{"late", required_argument, 0, OPT_LATE},
		{"idle", required_argument, 0, OPT_IDLE},
		{"max-buffered", required_argument, 0, OPT_MAX_BUFFERED},
		{"max-state", required_argument, 0, OPT_MAX_STATE},
		{"left-prefix", required_argument, 0, OPT_LEFT_PREFIX},
		{"right-prefix", required_argument, 0, OPT_RIGHT_PREFIX},
		{0, 0, 0, 0}
	};
	bool type_ok = false;
	int ch, idx;
	*c = conf_defaults;
	optind = 0;	/* a reload parses again from the start */
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT "t:k:", longopts,
				 &idx)) != -1) {
		if (opts_common(o, ch, optarg))
			continue;
		if (ch >= OPT_LEFT && ch <= OPT_MAX_AHEAD && !c->stream_opt)
			c->stream_opt = longopts[idx].name;
		switch (ch) {
		case 't': c->table = optarg; break;
		case 'k': c->on = optarg; break;
		case OPT_TYPE:
			type_ok = false;
			for (int i = 0; i < 4; i++)
				if (!strcmp(optarg, join_type_names[i])) {
					c->type = (enum join_type)i;
					type_ok = true;
				}
			if (!type_ok)
				diag_usage("invalid argument '%s' for --type: expected "
					   "inner, left, right or full", optarg);
			break;
		case OPT_TABLE_PREFIX: c->table_prefix = optarg; break;
		case OPT_LEFT: c->left = optarg; break;
		case OPT_RIGHT: c->right = optarg; break;
		case OPT_WITHIN: c->within = optarg; break;
		case OPT_TIME_FIELD: c->time_field = optarg; break;
		case OPT_TIME_UNIT:
			time_unit_opt(optarg, &c->unit);
			break;
		case OPT_LATENESS:
			c->lateness = opts_duration("--lateness", optarg, true);
			break;
		case OPT_LATE: c->late = optarg; break;
		case OPT_IDLE: c->idle = opts_duration("--idle", optarg, false); break;
		case OPT_MAX_BUFFERED:
			c->max_buffered = opts_count("--max-buffered", optarg);
			break;
		case OPT_MAX_STATE:
			c->max_state = size_opt("--max-state", optarg);
			break;
		case OPT_LEFT_PREFIX: c->left_prefix = optarg; break;
		case OPT_RIGHT_PREFIX: c->right_prefix = optarg; break;
		case OPT_MAX_AHEAD:
			c->max_ahead = opts_duration("--max-ahead", optarg, true);
			break;
		default: opts_bad_option();
		}
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
static void check_args(struct conf *c, int nfiles)
{
	char err[512];
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

static void conf_free(struct conf *c)
{
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

static void stats_table(char *buf, size_t n)
{
	struct enrich_counts c = enrich_counts(P.en);
	snprintf(buf, n, ",\"filtered\":%llu,\"matched\":%llu,\"unmatched\":%llu,"
		 "\"table_rows\":%zu,\"reloads\":%llu", c.filtered, c.matched,
		 c.unmatched, c.rows, c.reloads);
}

static void stats_stream(char *buf, size_t n)
{
	struct ijoin_counts c = ijoin_counts(P.ij);
	snprintf(buf, n, ",\"filtered\":%llu,\"matched\":%llu,\"unmatched\":%llu,"
		 "\"evicted\":%llu,\"buffered\":%zu,\"state_bytes\":%zu",
		 c.filtered, c.pairs, c.unmatched, c.evicted, c.peak_buffered,
		 c.peak_state);
}

/* The readers' idle callback: before they wait for input. */
static void flush_out(void *ctx)
{
	out_flush(ctx);
	if (P.en)
		enrich_waited(P.en);
}

static void conf_reload(void);

/* ---- the table mode ---- */

/* The first load, at start-up and under --check (where a table that does
 * not load is a bad configuration: es-ctl must not apply it). */
static void table_first(const struct es_opts *o)
{
	char err[512];
	bool loaded;
	struct enrich_conf ec = enrich_conf_of(&cfg);
	P.en = enrich_new(P.wr, &P.out, o->out_fmt);
	if (enrich_apply(P.en, &ec, &loaded, err, sizeof err))
		diag_fatal(o->check ? EXIT_USAGE : EXIT_RUNTIME,
			   "cannot load table: %s", err);
}

/* Between records and on quiet input: a SIGHUP, or the file changed. */
static void table_watch(bool timed_out)
{
	sig_atomic_t hups = loop_hups;
	bool hup = hups != P.tab_hups;
	P.tab_hups = hups;
	enrich_watch(P.en, timed_out, hup);
}

static void table_run(char **files, int nfiles, const struct es_opts *o)
{
	struct record rec;
	P.r = reader_open(files, nfiles, o->in_fmt, enrich_fieldset(P.en),
			  flush_out, &P.out);
	reader_set_timeout(P.r, reload_timeout(ENRICH_CHECK_MS));
	for (;;) {
		/* --config only with no record in hand (its reload moves the
		 * slots a record points into), and before the table: a SIGHUP
		 * that loads a new table from it is that table's reload too. */
		if (reload_due())
			conf_reload();
		int got = reader_next(P.r, &rec);
		if (got == 0)
			break;
		if (got < 0 && reload_due())
			conf_reload();
		table_watch(got < 0);	/* the table applies to this record */
		if (got > 0)
			enrich_record(P.en, &rec);
	}
	reader_close(P.r);
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
	if (loaded)
		P.tab_hups = loop_hups;	/* this SIGHUP's table reload */
	conf_free(&cfg);
	cfg = *nc;
	reader_fields_changed(P.r);
	size_t rows = enrich_counts(P.en).rows;
	snprintf(said, n, "--table %s (%s %zu row%s) --on %s --type %s%s%s",
		 cfg.table, loaded ? "loaded," : "unchanged,", rows,
		 rows == 1 ? "" : "s", cfg.on, join_type_names[cfg.type],
		 cfg.table_prefix ? " --table-prefix " : "",
		 cfg.table_prefix ? cfg.table_prefix : "");
	return true;
}

/* ---- the stream mode ---- */

static void stream_emit(void *ctx, const struct ofield *f, size_t n)
{
	const char *err;
	(void)ctx;
	if (writer_put_fields(P.wr, f, n, &err) == 0)
		return;
	stats.dropped++;
	if (!P.warned_write)
		diag_warn("cannot write a joined record: %s (this and any "
			  "further ones are counted as dropped)", err);
	P.warned_write = true;
}

/* At --max-buffered or --max-state: each limit says so once. */
static void stream_evict(void *ctx, enum ijoin_limit why, uint64_t limit)
{
	char size[32];
	(void)ctx;
	if (P.warned_limit[why])
		return;
	P.warned_limit[why] = true;
	if (why == IJOIN_BY_COUNT)
		diag_warn("--max-buffered %llu reached: evicting the oldest "
			  "buffered events (counted as \"evicted\" in --stats)",
			  (unsigned long long)limit);
	else
		diag_warn("--max-state %s reached: evicting the oldest buffered "
			  "events (counted as \"evicted\" in --stats)",
			  size_text(limit, size, sizeof size));
}

static void stream_open(const struct es_opts *o)
{
	static const struct ijoin_hooks hooks = {
		.emit = stream_emit, .evict = stream_evict,
	};
	struct ijoin_conf ic = ijoin_conf_of(&cfg);
	const char *file[2] = { cfg.left, cfg.right };
	P.ij = ijoin_new(&ic, &hooks, NULL, o->out_fmt);
	for (int si = 0; si < 2; si++) {
		struct input_side *x = &P.in[si];
		x->file = xstrdup(file[si]);
		x->r = reader_open(&x->file, 1, o->in_fmt,
				   ijoin_fieldset(P.ij, si), flush_out, &P.out);
		reader_set_timeout(x->r, 0);
		P.side[si] = x;
	}
}

/* Polls the blocked sides (timeout ms); those with input are unblocked.
 * Returns poll's result. */
static int poll_blocked(int timeout)
{
	struct pollfd p[2];
	int idx[2], np = 0;
	for (int si = 0; si < 2; si++) {
		if (ijoin_ended(P.ij, si) || !P.side[si]->blocked)
			continue;
		int fd = reader_fd(P.side[si]->r);
		if (fd < 0) {
			P.side[si]->blocked = false;
			return 1;
		}
		p[np] = (struct pollfd){ fd, POLLIN, 0 };
		idx[np++] = si;
	}
	if (!np)
		return 1;
	int rc = poll(p, (nfds_t)np, timeout);
	for (int i = 0; rc > 0 && i < np; i++)
		if (p[i].revents)
			P.side[idx[i]]->blocked = false;
	return rc;
}

/* Reads a record of side si into the join; false if it has to wait. */
static bool stream_read(int si)
{
	struct record rec;
	int got = reader_next(P.side[si]->r, &rec);
	if (got < 0) {
		P.side[si]->blocked = true;
		return false;
	}
	if (got == 0) {
		if (!loop_stop)
			ijoin_end(P.ij, si);
		return true;
	}
	if (P.ofmt == FMT_AUTO) {
		P.ofmt = rec.fmt;
		writer_set_format(P.wr, P.ofmt);
	}
	ijoin_event(P.ij, si, &rec);
	return true;
}

/* Every open side waits for input: flush, then poll until one has some,
 * a held event is due, or a silent side's watermark would move. */
static void stream_wait(void)
{
	out_flush(&P.out);
	dead_flush();
	int held = ijoin_held(P.ij);
	int rc = poll_blocked(reload_timeout(loop_timeout(wm_timeout(
			ijoin_idle_timeout(P.ij, loop_now_ms()), held))));
	if (rc == 0 && cfg.idle) {
		ijoin_silence(P.ij, loop_now_ms());
		out_flush(&P.out);
	}
}

/* After a signal: the buffered events are dropped, not written; say how
 * many, and how many of them an outer side would have written alone
 * (those count as "dropped"). Events held for confirmation are bad. */
static void stream_stopped(void)
{
	size_t alone, n = ijoin_stop(P.ij, &alone);
	if (n)
		diag_warn("stopped by a signal: %zu buffered event%s dropped (%zu "
			  "of an outer side never matched, not written alone)",
			  n, n == 1 ? "" : "s", alone);
}

static void stream_run(void)
{
	unsigned n = 0;
	while (!loop_stop && !(ijoin_ended(P.ij, 0) && ijoin_ended(P.ij, 1))) {
		if (reload_due())
			conf_reload();
		if (loop_hup) {
			loop_hup = 0;
			dead_reopen();
		}
		int first = ijoin_pick(P.ij);
		bool progressed = false;
		for (int k = 0; k < 2 && !progressed; k++) {
			int si = k ? !first : first;
			if (!ijoin_ended(P.ij, si) && !P.side[si]->blocked)
				progressed = stream_read(si);
		}
		if (!progressed) {
			stream_wait();
		} else if ((++n & 15) == 0 &&
			   (P.side[0]->blocked || P.side[1]->blocked)) {
			poll_blocked(0);	/* did a quiet side wake up? */
		}
	}
	if (loop_stop)
		stream_stopped();
	for (int si = 0; si < 2; si++) {
		reader_close(P.in[si].r);
		free(P.in[si].file);
	}
}

/* Stream mode: the same join definition keeps the buffered events (a
 * new lateness, --idle, --max-buffered or prefix applies from the next
 * event); another one ends them as at the end of input, then starts from
 * nothing. A reload may swap the inputs. */
static void stream_apply(struct conf *nc, char *said, size_t n)
{
	char size[32];
	bool swap = strcmp(nc->left, cfg.left) != 0;
	struct ijoin_conf ic = ijoin_conf_of(nc);
	struct ijoin_said s = ijoin_reconf(P.ij, &ic, swap);
	conf_free(&cfg);
	cfg = *nc;
	if (swap) {
		struct input_side *t = P.side[0];
		P.side[0] = P.side[1];
		P.side[1] = t;
	}
	for (int si = 0; si < 2; si++)
		if (s.grew & 1u << si)
			reader_fields_changed(P.side[si]->r);
	int len;
	if (s.same)
		len = snprintf(said, n, "the join definition is unchanged: %zu "
			       "buffered event%s kept", s.kept,
			       s.kept == 1 ? "" : "s");
	else
		len = snprintf(said, n, "a new join definition: %zu buffered "
			       "event%s ended as at the end of input (%zu "
			       "written alone)", s.went, s.went == 1 ? "" : "s",
			       s.alone);
	if (s.over && len >= 0 && (size_t)len < n)
		snprintf(said + len, n - (size_t)len, "; --max-state %s: the "
			 "%zu oldest evicted",
			 size_text(cfg.max_state, size, sizeof size), s.over);
}

/* ---- reloading --config ---- */

/* The inputs are the process's: a reload may swap the two sides, but
 * neither change them nor change between the two modes. */
static const char *inputs_changed(const struct conf *nc)
{
	if (!cfg.table != !nc->table)
		return "a reload cannot change between --table and --left/--right";
	if (cfg.table)
		return NULL;
	if ((!strcmp(nc->left, cfg.left) && !strcmp(nc->right, cfg.right)) ||
	    (!strcmp(nc->left, cfg.right) && !strcmp(nc->right, cfg.left)))
		return NULL;
	return "a reload cannot change the inputs --left and --right "
	       "(it may swap them)";
}

/*
 * On SIGHUP, or with --watch-config when the file changed. The file was
 * checked by reload_argv() (with --check, which also loads a table);
 * the common options and --late keep their start-up values.
 */
static void conf_reload(void)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return;
	struct es_opts no;
	struct conf nc;
	char said[1024];
	opts_init(&no);
	parse_args(ac, av, &no, &nc);
	check_args(&nc, ac - optind);
	const char *why = inputs_changed(&nc);
	bool ok = !why;
	if (why)
		reload_refuse(why);
	else if (cfg.table)
		ok = table_apply(&nc, said, sizeof said);
	else
		stream_apply(&nc, said, sizeof said);
	if (!ok) {
		conf_free(&nc);
		reload_free(av);
		return;
	}
	reload_said(said);
	reload_free(P.conf_words);
	P.conf_words = av;
}

int main(int argc, char **argv)
{
	struct es_opts o;

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o, &cfg);
	if (o.help)
		usage();
	opts_apply(&o);
	check_args(&cfg, argc - optind);
	stats_set_extra(cfg.table ? stats_table : stats_stream);
	loop_signals();
	out_init(&P.out, 1, "stdout");
	diag_set_output(&P.out);
	P.wr = writer_open(&P.out, o.out_fmt);
	P.ofmt = o.out_fmt;
	if (cfg.table)
		table_first(&o);	/* --check loads the table too */
	opts_check_done(&o);
	reload_init(&o);
	if (cfg.late)
		dead_set_late(cfg.late);

	if (cfg.table) {
		table_run(argv + optind, argc - optind, &o);
	} else {
		stream_open(&o);
		stream_run();
	}
	writer_close(P.wr);
	diag_finish();
	enrich_free(P.en);
	ijoin_free(P.ij);
	conf_free(&cfg);
	reload_free(P.conf_words);
	out_free(&P.out);
	return diag_status;
}
