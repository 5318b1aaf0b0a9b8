/* es-window - event-time windows with watermarks, group-by and aggregates
 *
 * The engine (windows, panes, sessions, the watermark, the groups and their
 * caps) is lib/window.c; this is its options, their checks, and the wiring:
 * reader, writer, --late, the --idle clock, --config reloads and --stats.
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
#include "loop.h"
#include "mem.h"
#include "opts.h"
#include "path.h"
#include "record.h"
#include "reload.h"
#include "size.h"
#include "stats.h"
#include "time.h"
#include "watermark.h"
#include "window.h"

enum {
	OPT_TUMBLING = OPT_PROGRAM, OPT_HOPPING, OPT_EVERY, OPT_SLIDING,
	OPT_SESSION, OPT_MAX_SESSION, OPT_COUNTW, OPT_OFFSET, OPT_TIME_FIELD,
	OPT_TIME_UNIT, OPT_TIME, OPT_TIME_FORMAT, OPT_LATENESS, OPT_LATE,
	OPT_IDLE, OPT_FLUSH_ON_EXIT, OPT_MAX_GROUPS, OPT_MAX_STATE, OPT_MAX_AHEAD,
};

/*
 * What the options say: parsed at start and again on a reload (lib/reload.h).
 * w is the engine's part (lib/window.h); the group paths are owned here,
 * strings point into the command line in use.
 */
struct conf {
	struct window_conf w;
	struct path *gpaths;	/* --group-by, w.gpaths */
	int ngroup;
	bool flush_on_exit;
	const char *late_path, *every_arg;
};

static struct conf cfg;
static struct window *win;
static struct window_counts last_counts;	/* once win is freed */
static struct writer *out_w;
static unsigned long long reloads;

/* ---- options ---- */

static void usage(void)
{
	char size[32];
	printf("Usage: es-window WINDOW [OPTION]... [FILE]...\n"
	       "Aggregate records into event-time windows per group; write one\n"
	       "record per window and group (window_start, window_end, the group\n"
	       "fields, the aggregates).\n"
	       "\n"
	       "Window (one of):\n"
	       "      --tumbling D         fixed windows [k*D, (k+1)*D)\n"
	       "      --hopping D --every S  windows of size D starting every S\n"
	       "      --sliding D          per event, the preceding D of its group\n"
	       "      --session GAP        open while events come less than GAP apart\n"
	       "      --max-session D      cap a session's length at D\n"
	       "      --count N            windows of N events per group\n"
	       "      --every M            with --count: a new window every M events\n"
	       "      --offset D           shift tumbling/hopping windows by D\n"
	       "\n"
	       "Groups and aggregates:\n"
	       "  -g, --group-by F1,F2     group by these field paths\n"
	       "  -a, --agg LIST           aggregates (default: count): count, sum(f),\n"
	       "                           min(f), max(f), mean(f), stddev(f), var(f),\n"
	       "                           first(f), last(f), median(f), p<N>(f),\n"
	       "                           distinct(f), rate, delta(f); 'as name'\n"
	       "\n"
	       "Time:\n"
	       "      --time-field F       event time field (default: ts)\n"
	       "      --time-unit U        s, ms, us, ns or auto (default auto: guessed\n"
	       "                           from the first value: below 1e11 s, 1e14 ms,\n"
	       "                           1e17 us, else ns); strings are RFC 3339\n"
	       "      --time MODE          event (default) or processing (arrival time)\n"
	       "      --time-format F      window_start/end as rfc3339, s, ms, us or ns\n"
	       "                           (default: as the input's times)\n"
	       "      --lateness D         allowed lateness (default 0)\n"
	       "      --late FILE          write late events to FILE\n"
	       WM_OPTION_HELP
	       "      --idle D             after D of silence, advance the watermark with\n"
	       "                           the wall clock (windows close on a quiet input)\n"
	       "      --flush-on-exit      on SIGINT/SIGTERM, emit the open windows\n"
	       "      --max-groups N       at most N groups (default %d); at the limit the\n"
	       "                           least recently seen group's windows go out early\n"
	       "      --max-state SIZE     at most SIZE bytes (512k, 64M, 2G; default %s) of\n"
	       "                           group keys, aggregate values and buffered events;\n"
	       "                           at the limit, as at --max-groups\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) keeps the open windows if\n"
	       "the window definition is the same; if not, it writes them out first.\n"
	       "\n", WINDOW_DEFAULT_MAX_GROUPS,
	       size_text(SIZE_DEFAULT_MAX_STATE, size, sizeof size));
	opts_common_help(stdout);
	printf("\nDurations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
	       "\nExamples:\n"
	       "  es-window --tumbling 10s -g device,sensor -a 'count,mean(value),p95(value)'\n"
	       "  es-window --session 30s --idle 5s -g badge -a 'count,first(gate),last(gate)'\n");
	exit(EXIT_OK);
}

/* The window kind options, each with its size. */
static const struct { int ch; enum window_kind k; const char *opt; } kinds[] = {
	{ OPT_TUMBLING, WINDOW_TUMBLING, "--tumbling" },
	{ OPT_HOPPING, WINDOW_HOPPING, "--hopping" },
	{ OPT_SLIDING, WINDOW_SLIDING, "--sliding" },
	{ OPT_SESSION, WINDOW_SESSION, "--session" },
	{ OPT_COUNTW, WINDOW_COUNT, "--count" },
};

/* A window kind option: the kind, and its size (a count, a gap, a
 * duration); false if ch is none. */
static bool parse_kind(struct window_conf *w, int ch, const char *arg)
{
	size_t i = 0;
	while (i < sizeof kinds / sizeof *kinds && kinds[i].ch != ch)
		i++;
	if (i == sizeof kinds / sizeof *kinds)
		return false;
	if (w->kind != WINDOW_NONE && w->kind != kinds[i].k)
		diag_usage("%s: only one window kind may be given", kinds[i].opt);
	w->kind = kinds[i].k;
	if (w->kind == WINDOW_COUNT)
		w->count = opts_count(kinds[i].opt, arg);
	else if (w->kind == WINDOW_SESSION)
		w->gap = opts_duration(kinds[i].opt, arg, false);
	else
		w->size = opts_duration(kinds[i].opt, arg, false);
	return true;
}

static void parse_group_by(struct conf *c, const char *text)
{
	const char *s = text, *err;
	while (*s) {
		c->gpaths = xrealloc(c->gpaths, (size_t)(c->ngroup + 1) *
						      sizeof *c->gpaths);
		if (path_parse(&s, &c->gpaths[c->ngroup], &err))
			diag_usage("invalid --group-by '%s' at column %d: %s", text,
				   (int)(s - text) + 1, err);
		c->ngroup++;
		if (*s == ',')
			s++;
		else if (*s)
			diag_usage("invalid --group-by '%s' at column %d: expected ','",
				   text, (int)(s - text) + 1);
	}
	if (!c->ngroup)
		diag_usage("--group-by needs at least one field");
}

static void conf_init(struct conf *c)
{
	memset(c, 0, sizeof *c);
	window_conf_init(&c->w);
}

static void conf_free(struct conf *c)
{
	for (int i = 0; i < c->ngroup; i++)
		path_free(&c->gpaths[i]);
	free(c->gpaths);
	c->gpaths = NULL;
	c->ngroup = 0;
}

/* Another option of the window, or of how time is read and the watermark
 * moves; false if ch is none. */
static bool parse_window(struct window_conf *w, int ch, const char *arg)
{
	switch (ch) {
	case OPT_MAX_SESSION:
		w->max_session = opts_duration("--max-session", arg, false);
		break;
	case OPT_OFFSET: w->offset = opts_duration("--offset", arg, true); break;
	case 'a': w->agg_text = arg; break;
	case OPT_TIME_FIELD: w->time_field = arg; break;
	case OPT_TIME_UNIT: time_unit_opt(arg, &w->unit); break;
	case OPT_TIME:
		if (!strcmp(arg, "processing"))
			w->processing = true;
		else if (!strcmp(arg, "event"))
			w->processing = false;
		else
			diag_usage("invalid argument '%s' for --time: "
				   "expected event or processing", arg);
		break;
	case OPT_TIME_FORMAT:
		if (!strcmp(arg, "rfc3339"))
			w->out_repr = TIME_RFC3339;
		else if (time_unit_parse(arg, &w->out_repr) ||
			 w->out_repr == TIME_AUTO)
			diag_usage("invalid argument '%s' for --time-format: "
				   "expected rfc3339, s, ms, us or ns", arg);
		break;
	case OPT_LATENESS:
		w->lateness = opts_duration("--lateness", arg, true);
		break;
	case OPT_IDLE: w->idle = opts_duration("--idle", arg, false); break;
	case OPT_MAX_AHEAD:
		w->max_ahead = opts_duration("--max-ahead", arg, true);
		break;
	default: return false;
	}
	return true;
}

/* Parses argv into o and c (from the start: a reload parses again). */
static void parse_args(int argc, char **argv, struct es_opts *o,
		       struct conf *c)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"tumbling", required_argument, 0, OPT_TUMBLING},
		{"hopping", required_argument, 0, OPT_HOPPING},
		{"every", required_argument, 0, OPT_EVERY},
		{"sliding", required_argument, 0, OPT_SLIDING},
		{"session", required_argument, 0, OPT_SESSION},
		{"max-session", required_argument, 0, OPT_MAX_SESSION},
		{"count", required_argument, 0, OPT_COUNTW},
		{"offset", required_argument, 0, OPT_OFFSET},
		{"group-by", required_argument, 0, 'g'},
		{"agg", required_argument, 0, 'a'},
		{"time-field", required_argument, 0, OPT_TIME_FIELD},
		{"time-unit", required_argument, 0, OPT_TIME_UNIT},
		{"time", required_argument, 0, OPT_TIME},
		{"time-format", required_argument, 0, OPT_TIME_FORMAT},
		{"lateness", required_argument, 0, OPT_LATENESS},
		{"late", required_argument, 0, OPT_LATE},
		{"idle", required_argument, 0, OPT_IDLE},
		{"flush-on-exit", no_argument, 0, OPT_FLUSH_ON_EXIT},
		{"max-groups", required_argument, 0, OPT_MAX_GROUPS},
		{"max-state", required_argument, 0, OPT_MAX_STATE},
		{"max-ahead", required_argument, 0, OPT_MAX_AHEAD},
		{0, 0, 0, 0}
	};
	int ch;
	optind = 0;
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT "g:a:", longopts,
				 NULL)) != -1) {
		if (opts_common(o, ch, optarg))
			continue;
		if (parse_kind(&c->w, ch, optarg) ||
		    parse_window(&c->w, ch, optarg))
			continue;
		switch (ch) {
		case OPT_EVERY: c->every_arg = optarg; break;
		case 'g': parse_group_by(c, optarg); break;
		case OPT_LATE: c->late_path = optarg; break;
		case OPT_FLUSH_ON_EXIT: c->flush_on_exit = true; break;
		case OPT_MAX_GROUPS:
			c->w.max_groups = opts_count("--max-groups", optarg);
			break;
		case OPT_MAX_STATE:
			c->w.max_state = size_opt("--max-state", optarg);
			break;
		default: opts_bad_option();
		}
	}
	c->w.gpaths = c->gpaths;
	c->w.ngroup_fields = c->ngroup;
}

/* Window bounds must be exact in the --time-format asked for. */
static void check_time_format(const struct window_conf *c)
{
	int64_t unit = c->out_repr == TIME_S ? US_PER_S :
		       c->out_repr == TIME_MS ? US_PER_MS : 1;
	int64_t d[] = { c->size, c->every, c->offset, c->gap, c->max_session };
	const char *name = c->out_repr == TIME_S ? "s" : "ms";
	if (c->kind == WINDOW_COUNT || c->kind == WINDOW_SESSION)
		return;		/* bounds are event times, as exact as those */
	for (size_t i = 0; i < sizeof d / sizeof *d; i++)
		if (d[i] % unit)
			diag_usage("--time-format %s cannot show the bounds of these "
				   "windows exactly: use a finer unit or rfc3339",
				   name);
}

static void check_overlap(const struct conf *c)
{
	const struct window_conf *w = &c->w;
	long long n = 1;
	if (w->kind == WINDOW_HOPPING)
		n = w->size / w->every + (w->size % w->every != 0);
	else if (w->kind == WINDOW_COUNT)
		n = w->count / w->count_every + (w->count % w->count_every != 0);
	if (n > WINDOW_MAX_OVERLAP)
		diag_usage("--every %s puts each event in %lld windows; at most "
			   "%d: use a coarser --every", c->every_arg, n,
			   WINDOW_MAX_OVERLAP);
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
			diag_usage("--every goes with --hopping or --count");
	} else if (w->kind == WINDOW_HOPPING) {
		diag_usage("--hopping needs --every");
	}
	if (w->kind == WINDOW_COUNT && !w->count_every)
		w->count_every = w->count;
	if (w->kind == WINDOW_HOPPING && w->every > w->size)
		diag_usage("--every must not exceed the --hopping size");
	if (w->kind == WINDOW_COUNT && w->count_every > w->count)
		diag_usage("--every must not exceed the --count size");
}

static void check_args(struct conf *c)
{
	struct window_conf *w = &c->w;
	if (w->kind == WINDOW_NONE)
		diag_usage("a window is needed: --tumbling, --hopping, --sliding, "
			   "--session or --count");
	check_every(c);
	check_overlap(c);
	check_time_format(w);
	if (w->max_session && w->kind != WINDOW_SESSION)
		diag_usage("--max-session goes with --session");
	if (w->offset && w->kind != WINDOW_TUMBLING && w->kind != WINDOW_HOPPING)
		diag_usage("--offset goes with --tumbling or --hopping");
	if (w->processing && !w->out_repr)
		w->out_repr = TIME_MS;
}

/* ---- the engine's callbacks, --stats ---- */

static void emit(const struct ofield *f, size_t n, void *ctx)
{
	const char *err;
	(void)ctx;
	if (writer_put_fields(out_w, f, n, &err) < 0)
		diag_warn("cannot write a window: %s", err);
}

static void late(const struct record *rec, int64_t t, int64_t wm, void *ctx)
{
	(void)ctx;
	wm_late(rec, t, wm);
}

static const struct window_cb callbacks = { emit, late, NULL, NULL };

static void stats_extra(char *buf, size_t n)
{
	struct window_counts wc = win ? window_counts(win) : last_counts;
	int len = snprintf(buf, n, ",\"groups\":%d,\"evicted\":%llu,"
			   "\"state_bytes\":%zu", wc.groups, wc.evicted,
			   wc.state_bytes);
	if (reload_enabled() && len >= 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, ",\"reloads\":%llu", reloads);
}

static void flush_out(void *ctx)
{
	out_flush(ctx);
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

/* The command line in use since the last reload (cfg points into it). */
static char **conf_words;

/*
 * Applies the checked command line av (its words must outlive cfg's use of
 * them): the engine keeps or replaces the definition, the other options
 * apply. Returns false when the running configuration stays (a --late
 * file that cannot be opened: said); what was done in said.
 */
static bool conf_apply(int ac, char **av, struct reader *r, struct outbuf *out,
		       enum format fmt, char *said, size_t n)
{
	struct es_opts no;
	struct conf c;
	opts_init(&no);
	conf_init(&c);
	parse_args(ac, av, &no, &c);
	check_args(&c);
	char why[PATH_MAX + 128];
	bool late_moved = !c.late_path != !cfg.late_path ||
			  (c.late_path && strcmp(c.late_path, cfg.late_path));
	if (late_moved && c.late_path && !late_ok(c.late_path, why, sizeof why)) {
		reload_refuse(why);
		conf_free(&c);
		return false;
	}
	enum window_change done = window_reconf(win, &c.w, said, n);
	if (done == WINDOW_BAD) {	/* --check passed it: cannot happen */
		reload_refuse(said);
		conf_free(&c);
		return false;
	}
	conf_free(&cfg);
	cfg = c;
	if (done != WINDOW_KEPT)
		reader_fields_changed(r);
	if (done == WINDOW_NEW_FIELDS) {	/* CSV: a new header line */
		writer_close(out_w);
		out_w = writer_open(out, fmt);
	}
	dead_set_late(cfg.late_path);	/* the same file, or a new one */
	if (late_moved)
		dead_reopen();
	reloads++;
	return true;
}

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * records: the file was checked by reload_argv(). Returns false if the
 * running configuration stays.
 */
static bool conf_reload(struct reader *r, struct outbuf *out, enum format fmt)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return false;
	char said[256];
	if (!conf_apply(ac, av, r, out, fmt, said, sizeof said)) {
		reload_free(av);
		return false;
	}
	reload_said(said);
	reload_free(conf_words);
	conf_words = av;
	return true;
}

/* ---- the run ---- */

/* Reads every record, reloading between two and timing the silence. */
static void run(struct reader *r, struct outbuf *out, enum format out_fmt)
{
	struct record rec;
	int64_t last_input = loop_now_ms();
	bool clocked = cfg.w.processing || cfg.w.idle;
	int timeout = clocked ? (int)((cfg.w.idle + 999) / 1000) : -1;
	for (;;) {
		/* Between two records: the record read next is the first one
		 * the new configuration sees (its fields are in fs). */
		if (reload_due() && conf_reload(r, out, out_fmt)) {
			if (!clocked)	/* silence counts from now */
				last_input = loop_now_ms();
			clocked = cfg.w.processing || cfg.w.idle;
			timeout = window_silence(win, loop_now_ms() - last_input);
		}
		int held = window_idle(win);
		reader_set_timeout(r, reload_timeout(wm_timeout(timeout, held)));
		int got = reader_next(r, &rec);
		if (got == 0)
			break;
		if (got > 0) {
			if (out_fmt == FMT_AUTO)	/* a new writer's, at a reload */
				out_fmt = rec.fmt;
			writer_set_format(out_w, rec.fmt);
			window_record(win, &rec);
			if (clocked) {	/* only a time-driven run needs the clock */
				last_input = loop_now_ms();
				timeout = window_silence(win, 0);
			}
			continue;
		}
		timeout = window_silence(win, loop_now_ms() - last_input);
		out_flush(out);
	}
}

int main(int argc, char **argv)
{
	struct es_opts o;
	char err[256];

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	conf_init(&cfg);
	parse_args(argc, argv, &o, &cfg);
	if (o.help)
		usage();
	opts_apply(&o);
	check_args(&cfg);
	stats_set_extra(stats_extra);
	struct fieldset *fs = fieldset_new();
	win = window_new(&cfg.w, fs, &callbacks, err, sizeof err);
	if (!win)
		diag_usage("%s", err);
	opts_check_done(&o);
	if (cfg.late_path)
		dead_set_late(cfg.late_path);
	loop_signals();
	reload_init(&o);

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	out_w = writer_open(&out, o.out_fmt);
	run(r, &out, o.out_fmt);
	window_end(win);
	if (!loop_stop || cfg.flush_on_exit)
		window_flush(win);
	else
		drop_open_windows();
	writer_close(out_w);
	reader_close(r);
	last_counts = window_counts(win);
	window_free(win);
	win = NULL;
	fieldset_free(fs);
	conf_free(&cfg);
	reload_free(conf_words);
	diag_finish();
	out_free(&out);
	return diag_status;
}
