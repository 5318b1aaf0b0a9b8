/* es-dedup - drop records whose key was already seen
 *
 * Keys are remembered by --last N, --within D (event time) or up to
 * --max-keys, all bounded by --max-state too: the engine is lib/dedup.c;
 * this file holds the options and the wiring.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dead.h"
#include "dedup.h"
#include "diag.h"
#include "mem.h"
#include "optgroup.h"
#include "prog.h"
#include "proghooks.h"
#include "path.h"
#include "record.h"
#include "size.h"
#include "time.h"
#include "watermark.h"

#define DEFAULT_MAX_KEYS 1000000L
#define MAX_COUNT 1000000000L	/* the most --last and --max-keys take */

enum {
	OPT_WITHIN = OPT_PROGRAM, OPT_LAST,
};

static const struct dedup_conf conf_defaults = {
	.max_keys = DEFAULT_MAX_KEYS, .max_state = SIZE_DEFAULT_MAX_STATE,
	.time_field = "ts", .max_ahead = WM_DEFAULT_AHEAD
};

static struct dedup dd;	/* the engine */

static const struct opts_entry options[] = {
	OPTGROUP_KEY("the fields that make the key (required; given\n"
		     "twice, the last one counts)"),
	{"within", required_argument, OPT_WITHIN, "D",
	 "a duplicate has a time at most D from the\n"
	 "passed record's (event time); records older\n"
	 "than the largest time seen minus D are late"},
	{"last", required_argument, OPT_LAST, "N",
	 "remember the last N distinct keys passed"},
	OPTGROUP_MAX_KEYS("without --last: remember at most N keys\n"
			  "(default 1000000); past it the oldest are forgotten"),
	OPTGROUP_MAX_STATE("remember at most SIZE bytes of keys (default\n"
			   "64M; 512k, 64M, 2G); past it the oldest are\n"
			   "forgotten"),
	OPTGROUP_TIME_FIELD(OPTGROUP_TIME_FIELD_HELP),
	OPTGROUP_TIME_UNIT,
	{"lateness", required_argument, OPT_LATENESS, "L",
	 "with --within: allowed lateness (default 0);\n"
	 "the watermark is the largest time minus L"},
	OPTGROUP_LATE("with --within: write late records to FILE\n"
		      "(default: count and drop them)"),
	OPTGROUP_MAX_AHEAD("with --within: a record more than D (default\n"
			   "1d) ahead of the stream's time waits for 2 more\n"
			   "to confirm the jump, else it is bad input; 0: off"),
	{0}
};

static void stats_extra(char *buf, size_t n)
{
	dedup_stats(&dd, buf, n);
}

/* ---- options ---- */

static void key_free(struct dedup_conf *c)
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
static void parse_key(struct dedup_conf *c, const char *text)
{
	key_free(c);
	c->key_text = text;
	optgroup_keys(&c->key, &c->nkey, "--key", text);
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct dedup_conf *c = conf;
	switch (code) {
	case 'k': parse_key(c, arg); break;
	case OPT_WITHIN:
		c->within = opts_duration("--within", arg, false);
		c->within_text = arg;
		break;
	case OPT_LAST:
		c->last = opts_count_in("--last", arg, 1, MAX_COUNT);
		break;
	case OPT_MAX_KEYS:
		c->max_keys = opts_count_in("--max-keys", arg, 1, MAX_COUNT);
		break;
	case OPT_MAX_STATE:
		c->max_state = optgroup_size("--max-state", arg);
		break;
	case OPT_TIME_FIELD: c->time_field = arg; break;
	case OPT_TIME_UNIT: optgroup_time_unit(arg, &c->unit); break;
	case OPT_LATE: c->late = arg; break;
	case OPT_LATENESS:
		c->lateness = opts_duration("--lateness", arg, true);
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
	*(struct dedup_conf *)conf = conf_defaults;
}

static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	const struct dedup_conf *c = conf;
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

static void emit(const struct record *rec, void *ctx)
{
	const char *err;
	if (writer_put(ctx, rec, &err) < 0)
		record_bad(rec, err);
}

/*
 * On SIGHUP, or with --watch-config when the file changed. The same key
 * definition keeps the remembered keys, and the new --within, --lateness,
 * --last, --max-keys or --max-state applies to them from the next record
 * (a smaller cap forgets the oldest at once); another one forgets them.
 * --late and the common options keep their start-up values.
 */
PROGHOOKS_ENGINE(dedup, dd)

static void setup(struct prog_run *run)
{
	dedup_init(&dd, run->conf, run->fs);
}

static void start(struct prog_run *run)
{
	const struct dedup_conf *c = run->conf;
	if (c->late)
		opts_late(c->late);
	dedup_start(&dd, emit, run->w, fieldset_count(run->fs));
}

static void conf_free(void *conf)
{
	key_free(conf);
}

const struct prog program = {
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
	.conf_size = sizeof(struct dedup_conf),
	PROGHOOKS,
};
