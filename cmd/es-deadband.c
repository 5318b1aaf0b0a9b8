/* es-deadband - report by exception: pass a record only when its value moved
 *
 * Per key, a record passes when its value moved more than --abs or --pct
 * from the last value passed for that key (the first record of a key always
 * passes), or when --max-silence of event time went by without one.
 *
 * --swinging-door E keeps instead the points needed to redraw the series
 * within E by straight lines between kept points. The engine is
 * lib/deadband.c; this file holds the options and the wiring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadband.h"
#include "diag.h"
#include "optgroup.h"
#include "prog.h"
#include "proghooks.h"
#include "size.h"
#include "stats.h"
#include "time.h"
#include "watermark.h"

enum {
	OPT_ABS = OPT_PROGRAM, OPT_PCT, OPT_MAX_SILENCE, OPT_DOOR,
};

/* ---- options ---- */

static const struct opts_entry options[] = {
	OPTGROUP_KEY("keep one series per value of these fields\n"
		     "(default: the whole stream is one series)"),
	OPTGROUP_FIELD,
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
	OPTGROUP_TIME_FIELD("event time field, for --max-silence and\n"
			    "--swinging-door (default: ts)"),
	OPTGROUP_TIME_UNIT,
	OPTGROUP_MAX_AHEAD("with event time: a record more than D (default\n"
			   "1d) ahead of the stream's time waits for 2 more\n"
			   "to confirm the jump, else it is bad input; 0: off"),
	OPTGROUP_MAX_KEYS(OPTGROUP_KEYED_MAX_KEYS_HELP),
	OPTGROUP_MAX_STATE("at most SIZE bytes of keys and held points\n"
			   "(default 64M; 512k, 64M, 2G); at the limit\n"
			   "the least recently seen keys are forgotten"),
	{0}
};

static void conf_init(void *conf)
{
	*(struct deadband_conf *)conf = (struct deadband_conf){
		.s = SERIES_CONF_DEFAULTS };
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct deadband_conf *cf = conf;
	const char *err;
	switch (code) {
	case OPT_ABS:
		cf->abs = opts_number("--abs", arg, true);
		cf->has_abs = true;
		break;
	case OPT_PCT:
		cf->pct = opts_number("--pct", arg, true);
		cf->has_pct = true;
		break;
	case OPT_DOOR:
		cf->door = opts_number("--swinging-door", arg, true);
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
	default: optgroup_series(&cf->s, code, arg);
	}
}

static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	const struct deadband_conf *cf = conf;
	(void)run, (void)argc, (void)argv;
	if (cf->has_door && (cf->has_abs || cf->has_pct))
		diag_usage("--swinging-door does not go with --abs or --pct");
	if (!cf->has_door && !cf->has_abs && !cf->has_pct)
		diag_usage("say how far a value must move: --abs, --pct or "
			   "--swinging-door");
}

static void conf_free(void *conf)
{
	series_conf_free(&((struct deadband_conf *)conf)->s);
}

static struct deadband db;	/* the engine */

static bool emit(const struct record *rec, void *ctx)
{
	const char *err;
	if (writer_put(ctx, rec, &err) < 0) {
		record_bad(rec, err);
		return false;
	}
	return true;
}

static void stats_extra(char *buf, size_t n)
{
	deadband_stats(&db, stats.out, buf, n);
}

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * records: the new options apply from the next record. If the series are
 * the same (same keys, value, method and time read the same way), every
 * key keeps its state (last value passed, its time, a held point and its
 * door) and the guessed time unit stays; the new --abs, --pct,
 * --swinging-door width, --max-silence, --max-keys and --max-state judge
 * the next records (a lower cap forgets keys at once, their held points
 * written first). Otherwise the held points are written, as at the end of
 * input, and every key starts again (its next record passes as a first).
 * The file was checked by reload_argv(); the common options keep their
 * start-up values. At the end of input or on SIGINT/SIGTERM the held
 * points complete the series either way.
 */
PROGHOOKS_ENGINE(deadband, db)

static void setup(struct prog_run *run)
{
	char err[256];
	if (deadband_init(&db, run->conf, run->fs, err, sizeof err))
		diag_usage("%s", err);
}

static void start(struct prog_run *run)
{
	deadband_start(&db, emit, run->w, fieldset_count(run->fs));
}

const struct prog program = {
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
	.conf_size = sizeof(struct deadband_conf),
	PROGHOOKS,
};
