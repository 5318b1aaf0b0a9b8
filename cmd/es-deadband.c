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
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadband.h"
#include "diag.h"
#include "keyed.h"
#include "prog.h"
#include "size.h"
#include "stats.h"
#include "time.h"
#include "watermark.h"

enum {
	OPT_ABS = OPT_PROGRAM, OPT_PCT, OPT_MAX_SILENCE,
	OPT_DOOR, OPT_TIME_FIELD, OPT_TIME_UNIT, OPT_MAX_KEYS, OPT_MAX_STATE,
	OPT_MAX_AHEAD,
};

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
	 OPTS_TIME_UNIT_HELP},
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
	*(struct deadband_conf *)conf = (struct deadband_conf){
		.field = "value", .time_field = "ts",
		.max_ahead = WM_DEFAULT_AHEAD, .max_keys = KEYED_DEFAULT_MAX,
		.max_state = SIZE_DEFAULT_MAX_STATE };
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct deadband_conf *cf = conf;
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
	case OPT_MAX_STATE: cf->max_state = size_opt("--max-state", arg); break;
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
	struct deadband_conf *c = conf;
	keyed_paths_free(c->kpaths, c->nkeys);
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
 * start-up values.
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	deadband_reconf(&db, nconf, run->fs, said, n);
	return true;
}

static void setup(struct prog_run *run)
{
	deadband_init(&db, run->conf, run->fs);
}

static void start(struct prog_run *run)
{
	deadband_start(&db, emit, run->w, fieldset_count(run->fs));
}

static int timeout(struct prog_run *run)
{
	(void)run;
	return deadband_idle(&db);
}

static void on_record(struct prog_run *run, struct record *rec)
{
	(void)run;
	deadband_record(&db, rec);
}

/* End of input or SIGINT/SIGTERM: the held points complete the series
 * either way. */
static void finish(struct prog_run *run)
{
	(void)run;
	deadband_finish(&db);
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	deadband_free(&db);
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
	.conf_size = sizeof(struct deadband_conf),
	.conf_init = conf_init,
	.option = conf_option,
	.check = conf_check,
	.conf_free = conf_free,
	.setup = setup,
	.start = start,
	.timeout = timeout,
	.record = on_record,
	.reload = conf_reload,
	.stats = stats_extra,
	.finish = finish,
	.cleanup = cleanup,
};

int main(int argc, char **argv)
{
	return prog_main(&es_deadband, argc, argv);
}
