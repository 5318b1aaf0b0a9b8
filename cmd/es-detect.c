/* es-detect - online anomaly detection per key, in one pass
 *
 * Each record gets two fields: anomaly (true or false) and score (how far
 * the value is from what its key's recent values lead to expect, or null
 * while that is not known). The methods and the engine are in
 * lib/detect.c; this file holds the options and the wiring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "diag.h"
#include "optgroup.h"
#include "prog.h"
#include "proghooks.h"
#include "size.h"
#include "time.h"
#include "watermark.h"

enum {
	OPT_ZSCORE = OPT_PROGRAM, OPT_WINDOW, OPT_EWMA,
	OPT_THRESHOLD, OPT_MAD, OPT_ABOVE, OPT_BELOW, OPT_CLEAR, OPT_WARMUP,
	OPT_ONLY,
};

#define MAX_WINDOW DETECT_MAX_WINDOW
#define TIME_WINDOW_MAX DETECT_TIME_WINDOW_MAX
#define DEFAULT_WARMUP DETECT_DEFAULT_WARMUP

/* ---- options ---- */

static const struct opts_entry options[] = {
	/* the methods: in the help's own words (they go in pairs) */
	{"zscore", required_argument, OPT_ZSCORE, "K", ""},
	{"window", required_argument, OPT_WINDOW, "N|D", ""},
	{"ewma", required_argument, OPT_EWMA, "A", ""},
	{"threshold", required_argument, OPT_THRESHOLD, "K", ""},
	{"mad", required_argument, OPT_MAD, "K", ""},
	{"above", required_argument, OPT_ABOVE, "X", ""},
	{"below", required_argument, OPT_BELOW, "X", ""},
	{"clear", required_argument, OPT_CLEAR, "Y", ""},
	OPTGROUP_KEY("one series per value of these fields\n"
		     "(default: the whole stream is one series)"),
	OPTGROUP_FIELD,
	{"warmup", required_argument, OPT_WARMUP, "W",
	 "no anomaly until W points of history: the\n"
	 "window holds W points (default: N for --window\n"
	 "N, " OPTGROUP_XSTR(DEFAULT_WARMUP) " for --window D and --ewma; at least 2)"},
	{"only-anomalies", no_argument, OPT_ONLY, NULL,
	 "write only the anomalies"},
	OPTGROUP_TIME_FIELD("event time field, for --window D (default: ts)"),
	OPTGROUP_TIME_UNIT,
	OPTGROUP_MAX_AHEAD("with a --window of time: a record more than D\n"
			   "(default 1d) ahead of the stream's time waits\n"
			   "for 2 more to confirm the jump, else it is bad\n"
			   "input; 0: off"),
	OPTGROUP_MAX_KEYS(OPTGROUP_KEYED_MAX_KEYS_HELP),
	OPTGROUP_MAX_STATE("at most SIZE bytes of keys and windows\n"
			   "(default 64M; 512k, 64M, 2G); at the limit\n"
			   "the least recently seen keys are forgotten"),
	{0}
};

static double opt_positive(const char *opt, const char *arg)
{
	double v = opts_number(opt, arg, false);
	if (v <= 0)
		diag_usage("invalid argument '%s' for %s: must be above 0", arg,
			   opt);
	return v;
}

/* --window N (a count) or D (a duration). */
static void opt_window(struct detect_conf *c, const char *arg)
{
	const char *err;
	if (arg[0] && strspn(arg, "0123456789") == strlen(arg)) {
		c->window = opts_count_in("--window", arg, 2, MAX_WINDOW);
		return;
	}
	if (duration_parse(arg, false, &c->span, &err))
		diag_usage("invalid argument '%s' for --window: %s (a count or "
			   "a duration)", arg, err);
	if (!c->span)
		diag_usage("invalid argument '%s' for --window: must be above 0",
			   arg);
}

static void set_method(struct detect_conf *c, enum detect_method m, const char *opt)
{
	bool thresholds = c->method == DETECT_THRESHOLD && m == DETECT_THRESHOLD;
	if (c->method != DETECT_NONE && !thresholds)
		diag_usage("%s: only one method may be given", opt);
	c->method = m;
}

static void opt_clear(struct detect_conf *c, const char *arg)
{
	double y = opts_number("--clear", arg, false);
	if (c->last_level == OPT_ABOVE) {
		if (y > c->above_x)
			diag_usage("--clear %s is above --above %g: it must not be",
				   arg, c->above_x);
		c->above_clear = y;
	} else if (c->last_level == OPT_BELOW) {
		if (y < c->below_x)
			diag_usage("--clear %s is below --below %g: it must not be",
				   arg, c->below_x);
		c->below_clear = y;
	} else {
		diag_usage("--clear goes after --above or --below");
	}
}

static void parse_one(struct detect_conf *c, int ch, const char *arg)
{
	switch (ch) {
	case OPT_ZSCORE:
		set_method(c, DETECT_ZSCORE, "--zscore");
		c->k = opt_positive("--zscore", arg);
		break;
	case OPT_MAD:
		set_method(c, DETECT_MAD, "--mad");
		c->k = opt_positive("--mad", arg);
		break;
	case OPT_EWMA:
		set_method(c, DETECT_EWMA, "--ewma");
		c->alpha = opt_positive("--ewma", arg);
		if (c->alpha > 1)
			diag_usage("invalid argument '%s' for --ewma: expected "
				   "0 < A <= 1", arg);
		break;
	case OPT_THRESHOLD:
		c->k = opt_positive("--threshold", arg);
		c->has_threshold = true;
		break;
	case OPT_WINDOW: opt_window(c, arg); break;
	case OPT_ABOVE:
		set_method(c, DETECT_THRESHOLD, "--above");
		c->above = true;
		c->above_x = c->above_clear = opts_number("--above", arg, false);
		c->last_level = OPT_ABOVE;
		break;
	case OPT_BELOW:
		set_method(c, DETECT_THRESHOLD, "--below");
		c->below = true;
		c->below_x = c->below_clear = opts_number("--below", arg, false);
		c->last_level = OPT_BELOW;
		break;
	case OPT_CLEAR: opt_clear(c, arg); break;
	case OPT_WARMUP:
		c->warmup = opts_count_in("--warmup", arg, 2, MAX_WINDOW);
		break;
	case OPT_ONLY: c->only = true; break;
	default: optgroup_series(&c->s, ch, arg);
	}
}

static void check_args(struct detect_conf *c)
{
	bool windowed = c->method == DETECT_ZSCORE || c->method == DETECT_MAD;
	if (c->method == DETECT_NONE)
		diag_usage("a method is needed: --zscore, --ewma, --mad, --above "
			   "or --below");
	if (windowed && !c->window && !c->span)
		diag_usage("%s needs --window N or D",
			   c->method == DETECT_ZSCORE ? "--zscore" : "--mad");
	if (!windowed && (c->window || c->span))
		diag_usage("--window goes with --zscore or --mad");
	if (c->method == DETECT_EWMA && !c->has_threshold)
		diag_usage("--ewma needs --threshold K");
	if (c->method != DETECT_EWMA && c->has_threshold)
		diag_usage("--threshold goes with --ewma");
	if (c->method == DETECT_THRESHOLD && c->warmup >= 0)
		diag_usage("--warmup does not go with --above or --below");
	if (c->window && c->warmup > c->window)
		diag_usage("--warmup %ld is more than the --window of %ld points",
			   c->warmup, c->window);
	if (c->warmup < 0)
		c->warmup = c->window ? c->window : DEFAULT_WARMUP;
}

static void conf_init(void *conf)
{
	*(struct detect_conf *)conf = (struct detect_conf){
		.s = SERIES_CONF_DEFAULTS, .warmup = -1 };
}

static void conf_option(void *conf, int code, const char *arg)
{
	parse_one(conf, code, arg);
}

static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	struct detect_conf *c = conf;
	(void)run, (void)argc, (void)argv;
	check_args(c);
}

static void conf_free(void *conf)
{
	series_conf_free(&((struct detect_conf *)conf)->s);
}

static struct detect det;	/* the engine */

static void stats_extra(char *buf, size_t n)
{
	detect_stats(&det, buf, n);
}

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * records: the new options apply from the next record. If the series are
 * the same (same keys, value, method, window and time read the same way),
 * every key keeps its statistics (window, weighted mean and variance,
 * points seen, an excursion under way) and the guessed time unit stays.
 * Otherwise every key starts again, with a warm-up; nothing is held back,
 * so nothing is written then. A lower --max-keys or --max-state forgets
 * the keys over it at once (evictions). The file was checked by
 * reload_argv(); the common options keep their start-up values.
 */
PROGHOOKS_ENGINE(detect, det)

static void setup(struct prog_run *run)
{
	char err[256];
	if (detect_init(&det, run->conf, run->fs, err, sizeof err))
		diag_usage("%s", err);
	if (run->o.out_fmt == FMT_CSV)
		fieldset_want_members(run->fs, true);	/* NDJSON to CSV */
}

static void start(struct prog_run *run)
{
	detect_start(&det, run->w, &run->out, run->o.out_fmt,
		     fieldset_count(run->fs));
}

const struct prog program = {
	.name = "es-detect",
	.synopsis = "METHOD [OPTION]... [FILE]...",
	.about = "Flag anomalies per key in one pass: write each record with the fields\n"
		 "anomaly (true/false) and score (null while unknown) added.\n"
		 "\n"
		 "Method (one of):\n"
		 "      --zscore K --window N|D  |value - mean| > K sample deviations of\n"
		 "                           the key's last N points (or last D of event\n"
		 "                           time) before it\n"
		 "      --ewma A --threshold K   |value - m| > K * sqrt(v), m and v the\n"
		 "                           exponentially weighted mean and variance of\n"
		 "                           the points before (0 < A <= 1)\n"
		 "      --mad K --window N|D     |value - median| > K * 1.4826 * MAD of\n"
		 "                           the window (median absolute deviation)\n"
		 "      --above X [--clear Y]    one anomaly when the value goes above X,\n"
		 "                           none more until it is back at or below Y\n"
		 "                           (default Y = X); score = value - X\n"
		 "      --below X [--clear Y]    the same downwards; score = X - value\n"
		 "                           (--clear goes with the --above/--below\n"
		 "                           before it; both may be given)",
	.opts = options,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies the file's options\n"
		       "from the next record. Each key keeps its statistics unless --key,\n"
		       "--field, the method or the --window (and its time field and unit)\n"
		       "changed; then every key starts again with a warm-up.",
	.notes = "\nEvery point enters its key's statistics, anomalies too. Scores are\n"
		 "rounded to 4 decimals. A count window holds at most " OPTGROUP_XSTR(MAX_WINDOW) " points, a\n"
		 "window of time " OPTGROUP_XSTR(TIME_WINDOW_MAX) " per key. --stats adds filtered (the records\n"
		 "--only-anomalies did not write), anomalies, keys, evicted, trimmed,\n"
		 "state_bytes (the most bytes of --max-state held at once).\n"
		 "Durations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
		 "\nExamples:\n"
		 "  es-detect -k device --zscore 5 --window 100 readings.ndjson\n"
		 "  es-detect -k device --above 80 --clear 75 --only-anomalies temps.csv\n",
	.conf_size = sizeof(struct detect_conf),
	PROGHOOKS,
};
