/* es-window - event-time windows with watermarks, group-by and aggregates
 *
 * The engine (windows, panes, sessions, the watermark, the groups and their
 * caps) is lib/window.c; this is its options, their checks, and the wiring
 * on lib/prog.h: --late, the --idle clock, --config reloads and --stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dead.h"
#include "diag.h"
#include "influx.h"
#include "loop.h"
#include "optgroup.h"
#include "size.h"
#include "stats.h"
#include "path.h"
#include "prog.h"
#include "record.h"
#include "reload.h"
#include "time.h"
#include "watermark.h"
#include "window.h"

enum {
	OPT_TUMBLING = OPT_PROGRAM, OPT_HOPPING, OPT_EVERY, OPT_SLIDING,
	OPT_SESSION, OPT_MAX_SESSION, OPT_COUNTW, OPT_COUNT, OPT_OFFSET,
	OPT_FLUSH_ON_EXIT, OPT_MAX_GROUPS,
};

/*
 * What the options say: parsed at start and again on a reload (lib/prog.h).
 * w is the engine's part (lib/window.h); the group paths are owned here,
 * strings point into the command line in use.
 */
struct conf {
	struct window_conf w;
	struct path *gpaths;	/* --key, w.gpaths */
	int ngroup;
	bool flush_on_exit;
	const char *late_path, *every_arg;
};

static struct conf *cfg;	/* the options in force */
static struct window *win;
static struct window_counts last_counts;	/* once win is freed */
static enum format out_fmt;	/* the output's, once known */
static unsigned long long reloads;
/* The clock of a time-driven run (--idle, --time processing): when the
 * last record came, and the reader's timeout until a window could close. */
static bool clocked;
static int64_t last_input;
static int clock_timeout;

/* ---- options ---- */

static const struct opts_entry window_opts[] = {
	{"tumbling", required_argument, OPT_TUMBLING, "D",
	 "fixed windows [k*D, (k+1)*D)"},
	/* one line for the pair; the argument's last space keeps the text
	 * two spaces off, clear of the longer head */
	{"hopping", required_argument, OPT_HOPPING, "D --every S ",
	 "windows of size D starting every S"},
	{"sliding", required_argument, OPT_SLIDING, "D",
	 "per event, the preceding D of its group"},
	{"session", required_argument, OPT_SESSION, "GAP",
	 "open while events come less than GAP apart"},
	{"max-session", required_argument, OPT_MAX_SESSION, "D",
	 "cap a session's length at D"},
	{"count-window", required_argument, OPT_COUNTW, "N",
	 "windows of N events per group"},
	{"count", required_argument, OPT_COUNT, "N", NULL},
	{"every", required_argument, OPT_EVERY, "M",
	 "with --count-window: a new window every M events"},
	{"offset", required_argument, OPT_OFFSET, "D",
	 "shift tumbling/hopping windows by D"},
	{0}
};

static const struct opts_entry group_opts[] = {
	OPTGROUP_KEY("group by these field paths"),
	{"group-by", required_argument, 'g', "F1,F2", NULL},
	{"agg", required_argument, 'a', "LIST",
	 "aggregates (default: count): count, sum(f),\n"
	 "min(f), max(f), mean(f), stddev(f), var(f),\n"
	 "first(f), last(f), median(f), p<N>(f),\n"
	 "distinct(f), rate, delta(f); 'as name'"},
	{0}
};

static const struct opts_entry time_opts[] = {
	OPTGROUP_TIME_FIELD(OPTGROUP_TIME_FIELD_HELP),
	OPTGROUP_TIME_UNIT,
	OPTGROUP_TIME_MODE("event (default) or processing (arrival time)"),
	OPTGROUP_TIME_FORMAT("window_start/end as rfc3339, s, ms, us or ns\n"
			     "(default: as the input's times)"),
	OPTGROUP_LATENESS("allowed lateness (default 0)"),
	OPTGROUP_LATE(OPTGROUP_LATE_HELP),
	OPTGROUP_MAX_AHEAD(OPTGROUP_MAX_AHEAD_HELP),
	OPTGROUP_IDLE("after D of silence, advance the watermark with\n"
		      "the wall clock (windows close on a quiet input)"),
	{"flush-on-exit", no_argument, OPT_FLUSH_ON_EXIT, NULL,
	 "on SIGINT/SIGTERM, emit the open windows"},
	OPTGROUP_MAX_KEYS("at most N groups (default " OPTGROUP_XSTR(WINDOW_DEFAULT_MAX_GROUPS) "); at the limit the\n"
			  "least recently seen group's windows go out early"),
	{"max-groups", required_argument, OPT_MAX_GROUPS, "N", NULL},
	OPTGROUP_MAX_STATE("at most SIZE bytes (512k, 64M, 2G; default 64M) of\n"
			   "group keys, aggregate values and buffered events;\n"
			   "at the limit, as at --max-keys"),
	{0}
};

static const struct prog_group groups[] = {
	{ "Window (one of):", window_opts },
	{ "Groups and aggregates:", group_opts },
	{ "Time:", time_opts },
	{ NULL, NULL }
};

/* A window kind option: one kind, given once or more. */
static void set_kind(struct window_conf *w, enum window_kind k, const char *opt)
{
	if (w->kind != WINDOW_NONE && w->kind != k)
		diag_usage("%s: only one window kind may be given", opt);
	w->kind = k;
}

static void conf_init(void *conf)
{
	struct conf *c = conf;
	window_conf_init(&c->w);
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	for (int i = 0; i < c->ngroup; i++)
		path_free(&c->gpaths[i]);
	free(c->gpaths);
}

/* Options of how time is read and the watermark moves. */
static void conf_time(struct window_conf *w, int code, const char *arg)
{
	switch (code) {
	case OPT_TIME_FIELD: w->time_field = arg; break;
	case OPT_TIME_UNIT: optgroup_time_unit(arg, &w->unit); break;
	case OPT_TIME_MODE: w->processing = optgroup_time_mode(arg); break;
	case OPT_TIME_FORMAT: optgroup_time_format(arg, &w->out_repr); break;
	case OPT_LATENESS:
		w->lateness = opts_duration("--lateness", arg, true);
		break;
	case OPT_IDLE: w->idle = opts_duration("--idle", arg, false); break;
	case OPT_MAX_AHEAD:
		w->max_ahead = opts_duration("--max-ahead", arg, true);
		break;
	}
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	struct window_conf *w = &c->w;
	switch (code) {
	case OPT_TUMBLING:
		set_kind(w, WINDOW_TUMBLING, "--tumbling");
		w->size = opts_duration("--tumbling", arg, false);
		break;
	case OPT_HOPPING:
		set_kind(w, WINDOW_HOPPING, "--hopping");
		w->size = opts_duration("--hopping", arg, false);
		break;
	case OPT_SLIDING:
		set_kind(w, WINDOW_SLIDING, "--sliding");
		w->size = opts_duration("--sliding", arg, false);
		break;
	case OPT_SESSION:
		set_kind(w, WINDOW_SESSION, "--session");
		w->gap = opts_duration("--session", arg, false);
		break;
	case OPT_COUNTW:	/* and its old name, said as given */
	case OPT_COUNT: {
		const char *opt = code == OPT_COUNT ? "--count"
						    : "--count-window";
		set_kind(w, WINDOW_COUNT, opt);
		w->count = opts_count(opt, arg);
		break;
	}
	case OPT_EVERY: c->every_arg = arg; break;
	case OPT_MAX_SESSION:
		w->max_session = opts_duration("--max-session", arg, false);
		break;
	case OPT_OFFSET: w->offset = opts_duration("--offset", arg, true); break;
	case 'k': optgroup_keys(&c->gpaths, &c->ngroup, "--key", arg); break;
	case 'g':
		optgroup_keys(&c->gpaths, &c->ngroup, "--group-by", arg);
		break;
	case 'a': w->agg_text = arg; break;
	case OPT_LATE: c->late_path = arg; break;
	case OPT_FLUSH_ON_EXIT: c->flush_on_exit = true; break;
	case OPT_MAX_KEYS: w->max_groups = opts_count("--max-keys", arg); break;
	case OPT_MAX_GROUPS:
		w->max_groups = opts_count("--max-groups", arg);
		break;
	case OPT_MAX_STATE:
		w->max_state = optgroup_size("--max-state", arg);
		break;
	default: conf_time(w, code, arg);
	}
}

/* --every is a duration or a count, as the window kind says. */
static void check_every(struct conf *c)
{
	struct window_conf *w = &c->w;
	if (c->every_arg) {
		if (w->kind == WINDOW_HOPPING)
			w->every = opts_duration("--every", c->every_arg, false);
		else if (w->kind == WINDOW_COUNT)
			w->count_every = opts_count("--every", c->every_arg);
		else
			diag_usage("--every goes with --hopping or "
				   "--count-window");
	} else if (w->kind == WINDOW_HOPPING) {
		diag_usage("--hopping needs --every");
	}
}

static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	struct conf *c = conf;
	struct window_conf *w = &c->w;
	char err[256];
	(void)run, (void)argc, (void)argv;
	w->gpaths = c->gpaths;	/* complete now: --key may come again */
	w->ngroup_fields = c->ngroup;
	if (w->kind == WINDOW_NONE)
		diag_usage("a window is needed: --tumbling, --hopping, --sliding, "
			   "--session or --count-window");
	check_every(c);
	if (window_conf_check(w, c->every_arg, err, sizeof err))
		diag_usage("%s", err);
}

/* ---- the engine's callbacks, --stats ---- */

static void emit(const struct ofield *f, size_t n, void *ctx)
{
	struct prog_run *run = ctx;
	const char *err;
	if (writer_put_fields(run->w, f, n, &err) < 0) {
		diag_warn("cannot write a window: %s", err);
		stats.dropped++;	/* said and counted, never silent */
	}
}

static void stats_extra(char *buf, size_t n)
{
	struct window_counts wc = win ? window_counts(win) : last_counts;
	int len = snprintf(buf, n, ",\"groups\":%d,\"evicted\":%llu,"
			   "\"state_bytes\":%zu", wc.groups, wc.evicted,
			   wc.state_bytes);
	if (reload_enabled() && len >= 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, ",\"reloads\":%llu", reloads);
}

/* SIGINT/SIGTERM without --flush-on-exit: the open windows are not
 * written; say so (counted as "dropped" in --stats). */
static void drop_open_windows(void)
{
	unsigned long long nev, n = window_open(win, &nev);
	if (!n)
		return;
	stats.dropped += n;
	diag_warn("stopped by a signal: %llu open window%s not written (%llu "
		  "event%s in %s; --flush-on-exit writes them)", n,
		  n == 1 ? "" : "s", nev, nev == 1 ? "" : "s",
		  n == 1 ? "it" : "them");
}

/* JSON and line protocol are UTF-8; CSV is bytes. */
static bool wants_utf8(enum format fmt)
{
	return fmt == FMT_NDJSON || fmt == FMT_JSON || fmt == FMT_INFLUX;
}

/* -o influx: can a line be made of the fields of w's windows? NULL, or
 * why not, naming them. */
static const char *influx_why(const struct window *w, enum format fmt)
{
	static char why[512];
	size_t n;
	const struct ofield *f = window_fields(w, &n);
	const char *bad = fmt == FMT_INFLUX ? influx_fields_ok(f, n) : NULL;
	if (!bad)
		return NULL;
	int len = snprintf(why, sizeof why, "-o influx: %s; the windows have",
			   bad);
	for (size_t i = 0; i < n && len >= 0 && (size_t)len < sizeof why; i++)
		len += snprintf(why + len, sizeof why - (size_t)len, "%s %.*s",
				i ? "," : "", (int)f[i].namelen, f[i].name);
	return why;
}

/* ---- the run ---- */

static void setup(struct prog_run *run)
{
	char err[256];
	struct window_cb cb = { emit, NULL, NULL, run };
	cfg = run->conf;
	win = window_new(&cfg->w, run->fs, &cb, err, sizeof err);
	if (!win)
		diag_usage("%s", err);
	const char *why = influx_why(win, run->o.out_fmt);
	if (why)
		diag_usage("%s", why);
}

static void start(struct prog_run *run)
{
	if (cfg->late_path)
		opts_late(cfg->late_path);
	out_fmt = run->o.out_fmt;
	window_set_utf8(win, wants_utf8(out_fmt));
	last_input = loop_now_ms();
	clocked = cfg->w.processing || cfg->w.idle;
	clock_timeout = clocked ? (int)((cfg->w.idle + 999) / 1000) : -1;
}

/* Before each read: a silence the last read found may close windows (the
 * wall clock moves the watermark), and held far-ahead events may be due. */
static int timeout(struct prog_run *run)
{
	if (run->timed_out) {
		clock_timeout = window_silence(win, loop_now_ms() - last_input);
		out_flush(&run->out);
	}
	return wm_timeout(clock_timeout, window_idle(win));
}

static void on_record(struct prog_run *run, struct record *rec)
{
	if (out_fmt == FMT_AUTO) {	/* for a new writer, at a reload */
		out_fmt = rec->fmt;	/* NDJSON first: later CSV files too */
		window_set_utf8(win, wants_utf8(out_fmt));
	}
	writer_set_format(run->w, rec->fmt);
	window_record(win, rec);
	if (clocked) {	/* only a time-driven run needs the clock */
		last_input = loop_now_ms();
		clock_timeout = window_silence(win, 0);
	}
}

/* ---- reloading --config ---- */

/* Can --late FILE be opened (created, appended to)? */
static bool late_ok(const char *path, char *why, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(why, n, "cannot open late-events file %s: %s", path,
			 strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * records (the file was checked by reload_argv()): the engine keeps or
 * replaces the definition, the other options apply. The running
 * configuration stays when a new --late file cannot be opened (said).
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	struct conf *c = nconf;
	char why[PATH_MAX + 128];
	/* The silence the last read found counts under the definition it
	 * was found under. */
	if (run->timed_out)
		clock_timeout = window_silence(win, loop_now_ms() - last_input);
	bool late_moved = !c->late_path != !cfg->late_path ||
			  (c->late_path && strcmp(c->late_path, cfg->late_path));
	if (late_moved && c->late_path && !late_ok(c->late_path, why, sizeof why)) {
		reload_refuse(why);
		return false;
	}
	if (out_fmt == FMT_INFLUX) {	/* the new windows' fields */
		struct window_cb cb = { emit, NULL, NULL, run };
		struct window *t = window_new(&c->w, run->fs, &cb, why,
					      sizeof why);
		const char *bad = t ? influx_why(t, out_fmt) : NULL;
		if (bad)
			snprintf(why, sizeof why, "%s", bad);
		window_free(t);
		if (!t || bad) {
			reload_refuse(why);
			return false;
		}
	}
	enum window_change done = window_reconf(win, &c->w, said, n);
	if (done == WINDOW_BAD) {	/* --check passed it: cannot happen */
		reload_refuse(said);
		return false;
	}
	cfg = c;
	if (done == WINDOW_NEW_FIELDS) {	/* CSV: a new header line */
		writer_close(run->w);
		run->w = writer_open(&run->out, out_fmt);
	}
	opts_late(cfg->late_path);	/* the same file, or a new one */
	if (late_moved)
		dead_reopen();
	reloads++;
	if (!clocked)	/* silence counts from now */
		last_input = loop_now_ms();
	clocked = cfg->w.processing || cfg->w.idle;
	clock_timeout = window_silence(win, loop_now_ms() - last_input);
	return true;
}

/* End of input or SIGINT/SIGTERM: held events are decided; the open
 * windows go out unless a signal stopped the run without --flush-on-exit. */
static void finish(struct prog_run *run)
{
	(void)run;
	window_end(win);
	if (!loop_stop || cfg->flush_on_exit)
		window_flush(win);
	else
		drop_open_windows();
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	last_counts = window_counts(win);	/* --stats comes after */
	window_free(win);
	win = NULL;
}

const struct prog program = {
	.name = "es-window",
	.synopsis = "WINDOW [OPTION]... [FILE]...",
	.about = "Aggregate records into event-time windows per group; write one\n"
		 "record per window and group (window_start, window_end, the group\n"
		 "fields, the aggregates).",
	.groups = groups,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) keeps the open windows if\n"
		       "the window definition is the same; if not, it writes them out first.",
	.notes = "\nDurations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
		 "\nExamples:\n"
		 "  es-window --tumbling 10s -k device,sensor -a 'count,mean(value),p95(value)'\n"
		 "  es-window --session 30s --idle 5s -k badge -a 'count,first(gate),last(gate)'\n",
	PROG_CONF_HOOKS,
	.setup = setup,
	.start = start,
	.timeout = timeout,
	.record = on_record,
	.reload = conf_reload,
	.stats = stats_extra,
	.finish = finish,
	.cleanup = cleanup,
};
