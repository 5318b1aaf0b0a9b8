/* opts.c - the options every program shares, parsed one way */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dead.h"
#include "diag.h"
#include "influx.h"
#include "mem.h"
#include "opts.h"
#include "stats.h"
#include "time.h"

void opts_init(struct es_opts *o)
{
	memset(o, 0, sizeof *o);
}

/* The argv opts_config made: a global, so that it stays reachable (its
 * words are in use until exit) and no optimiser drops the store. */
char **opts_argv;
int opts_orig_argc;
char **opts_orig_argv;

char **opts_config(int *argc, char **argv)
{
	char err[512];
	opts_orig_argc = *argc;
	opts_orig_argv = argv;
	char **a = config_expand(argc, argv, err, sizeof err);
	if (!a)
		diag_usage("--config %s", err);
	/* getopt's messages name argv[0]: make it the name ours use, not the
	 * path the program was started by. */
	a[0] = (char *)diag_prog;
	opts_argv = a;
	return a;
}

static enum format parse_format(const char *opt, const char *arg, bool in)
{
	if (!strcmp(arg, "ndjson"))
		return FMT_NDJSON;
	/* Output is always one record a line; input "json" takes any layout. */
	if (!strcmp(arg, "json"))
		return in ? FMT_JSON : FMT_NDJSON;
	if (!strcmp(arg, "csv"))
		return FMT_CSV;
	if (!in && !strcmp(arg, "influx"))
		return FMT_INFLUX;
	diag_usage("invalid argument '%s' for %s: expected %s", arg, opt,
		   in ? "ndjson, json or csv" : "ndjson, csv or influx");
}

/* -d: one byte, or a name for the ones a shell makes awkward. */
static char parse_delimiter(const char *arg)
{
	if (!strcmp(arg, "tab") || !strcmp(arg, "\\t"))
		return '\t';
	if (!strcmp(arg, "semicolon"))
		return ';';
	if (!strcmp(arg, "pipe"))
		return '|';
	if (!strcmp(arg, "comma"))
		return ',';
	if (strlen(arg) != 1 || arg[0] == '"' || arg[0] == '\n' ||
	    arg[0] == '\r')
		diag_usage("invalid argument '%s' for -d/--delimiter: expected one "
			   "character other than a quote or a line break, or tab, "
			   "semicolon, pipe, comma", arg);
	return arg[0];
}

bool opts_common(struct es_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'i':
		o->in_fmt = parse_format("-i/--input-format", arg, true);
		return true;
	case 'o':
		o->out_fmt = parse_format("-o/--output-format", arg, false);
		return true;
	case 'd':
		o->delimiter = parse_delimiter(arg);
		return true;
	case OPT_NULL_VALUES:
		o->null_values = arg;
		return true;
	case OPT_TIMEZONE:
		o->timezone = arg;
		return true;
	case OPT_MEASUREMENT:
		o->measurement = arg;
		return true;
	case OPT_TAGS:
		o->tags = arg;
		return true;
	case OPT_TIMESTAMP_FIELD:
		o->timestamp_field = arg;
		return true;
	case OPT_PRECISION:
		if (time_unit_parse(arg, &o->precision) < 0 ||
		    o->precision == TIME_AUTO)
			diag_usage("invalid argument '%s' for --precision: "
				   "expected s, ms, us or ns", arg);
		return true;
	case OPT_DEAD_LETTER:
		o->dead_letter = arg;
		return true;
	case OPT_STRICT:
		o->strict = true;
		return true;
	case OPT_STATS:
		o->stats = true;
		return true;
	case OPT_STATS_FILE:
		o->stats_file = arg;
		return true;
	case OPT_STATS_EVERY:
		o->stats_every = opts_duration("--stats-every", arg, false);
		return true;
	case OPT_CONFIG:
		o->config = arg;	/* read by opts_config() already */
		return true;
	case OPT_CHECK:
		o->check = true;
		return true;
	case OPT_WATCH_CONFIG:
		o->watch_config = true;
		return true;
	case OPT_HELP:
		o->help = true;
		return true;
	case OPT_VERSION:
		o->version = true;
		return true;
	}
	return false;
}

/* -o influx's options: only with it, and it needs a measurement. */
static void opts_influx(const struct es_opts *o)
{
	const char *opt = o->measurement ? "--measurement"
			  : o->tags ? "--tags"
			  : o->timestamp_field ? "--timestamp-field"
			  : o->precision ? "--precision" : NULL;
	if (o->out_fmt != FMT_INFLUX) {
		if (opt)
			diag_usage("%s goes with -o influx", opt);
		return;
	}
	if (!o->measurement)
		diag_usage("-o influx needs --measurement NAME (or '{FIELD}')");
	struct influx_conf c = { o->measurement, o->tags, o->timestamp_field,
				 o->precision };
	const char *err;
	if (influx_configure(&c, &err))
		diag_usage("%s", err);
}

void opts_apply(struct es_opts *o)
{
	/* --check writes nothing: a reload runs it beside the running
	 * program, whose dead letter and stats file these are. */
	char why[512];
	if (o->dead_letter && !o->check &&
	    dead_set_dead_letter(o->dead_letter, why, sizeof why))
		diag_fatal(EXIT_RUNTIME, "%s", why);
	dead_set_strict(o->strict);
	stats_set_print(o->stats);
	reader_set_delimiter(o->delimiter ? o->delimiter : ',');
	reader_set_null_values(o->null_values);
	const char *err;
	if (time_set_zone(o->timezone ? o->timezone : "UTC", &err))
		diag_usage("invalid argument '%s' for --timezone: %s",
			   o->timezone, err);
	opts_influx(o);
	if (o->watch_config && !o->config)
		diag_usage("--watch-config goes with --config");
	if (o->stats_every && !o->stats_file)
		diag_usage("--stats-every goes with --stats-file");
	if (o->stats_file && !o->check) {
		int64_t ms = o->stats_every ? (o->stats_every + 999) / 1000 : 10000;
		stats_set_file(o->stats_file, ms);
	}
}

const struct opts_entry opts_common_table[] = {
	{"input-format", required_argument, 'i', "FMT",
	 "ndjson, json or csv (default: detected per input\n"
	 "from its first non-blank byte: '{' NDJSON, else\n"
	 "CSV); json reads a top-level array of objects or\n"
	 "objects in any layout (pretty-printed)"},
	{"output-format", required_argument, 'o', "FMT",
	 "ndjson, csv or influx (default: the format of\n"
	 "the first record read); influx: InfluxDB line\n"
	 "protocol, one line a record (edgestream(7))"},
	{"measurement", required_argument, OPT_MEASUREMENT, "NAME",
	 "-o influx: the measurement, or '{F}' for the\n"
	 "value of field F"},
	{"tags", required_argument, OPT_TAGS, "F1,F2",
	 "-o influx: these fields are the tag set; every\n"
	 "other field but the time is a field"},
	{"timestamp-field", required_argument, OPT_TIMESTAMP_FIELD, "F",
	 "-o influx: the line's time is F's event time\n"
	 "(default ts; none: no time, the server's clock)"},
	{"precision", required_argument, OPT_PRECISION, "UNIT",
	 "-o influx: s, ms, us or ns (default ns); the\n"
	 "server must be told the same (&precision=)"},
	{"delimiter", required_argument, 'd', "C",
	 "the CSV field delimiter: one character, or tab,\n"
	 "semicolon, pipe (default ,); input only, CSV\n"
	 "output is comma-separated"},
	{"null-values", required_argument, OPT_NULL_VALUES, "LIST",
	 "comma-separated cell texts read as null, e.g.\n"
	 "'-200,NA,' (an empty item: the empty cell)"},
	{"timezone", required_argument, OPT_TIMEZONE, "ZONE",
	 "the zone of times written without an offset:\n"
	 "UTC (default) or a tz name (Europe/Rome)"},
	{"dead-letter", required_argument, OPT_DEAD_LETTER, "FILE",
	 "append bad input lines to FILE (CSV: under\n"
	 "their header line)"},
	{"strict", no_argument, OPT_STRICT, NULL,
	 "stop at the first bad line (exit status 3)"},
	{"stats", no_argument, OPT_STATS, NULL,
	 "print counters as one JSON line on stderr at exit"},
	{"stats-file", required_argument, OPT_STATS_FILE, "FILE",
	 "keep the counters in FILE (one JSON object,\n"
	 "replaced atomically), for watchers; FILE.prom:\n"
	 "Prometheus text (node_exporter's textfile)"},
	{"stats-every", required_argument, OPT_STATS_EVERY, "D",
	 "how often FILE is rewritten (default 10s)"},
	{"config", required_argument, OPT_CONFIG, "FILE",
	 "more options from FILE, one a line: name = value\n"
	 "or name; they win over the command line's.\n"
	 "SIGHUP reloads it (see the program's page)"},
	{"watch-config", no_argument, OPT_WATCH_CONFIG, NULL,
	 "reload --config FILE also when it changes"},
	{"check", no_argument, OPT_CHECK, NULL,
	 "check the options (and --config FILE), exit 0\n"
	 "if good, 2 with why if not; read nothing"},
	{"help", no_argument, OPT_HELP, NULL, "show this help and exit"},
	{"version", no_argument, OPT_VERSION, NULL,
	 "show the version and exit"},
	{0}
};

static bool entry_letter(const struct opts_entry *e)
{
	return e->code > ' ' && e->code < 127;
}

/* Options with a short letter show it: "  -k, --key F"; others line up. */
static int entry_head(char *buf, size_t n, const struct opts_entry *e)
{
	bool letter = entry_letter(e);
	return snprintf(buf, n, "  %c%c%c --%s%s%s", letter ? '-' : ' ',
			letter ? e->code : ' ', letter ? ',' : ' ', e->name,
			e->arg ? " " : "", e->arg ? e->arg : "");
}

/* The help column; a longer head keeps one space before its text. */
enum { HELP_COL = 27 };

static void entry_help(FILE *f, const struct opts_entry *e,
		       const struct opts_entry *of)
{
	char head[128], alias[128];
	int w = entry_head(head, sizeof head, e);
	const char *text = e->help;
	if (!text) {
		/* named as its own help line names it: "-k/--key" */
		if (entry_letter(of))
			snprintf(alias, sizeof alias, "the same as -%c/--%s",
				 of->code, of->name);
		else
			snprintf(alias, sizeof alias, "the same as --%s", of->name);
		text = alias;
	}
	fprintf(f, "%s%*s", head, w < HELP_COL ? HELP_COL - w : 1, "");
	for (const char *p = text;;) {
		const char *nl = strchr(p, '\n');
		if (!nl) {
			fprintf(f, "%s\n", p);
			return;
		}
		fprintf(f, "%.*s\n%*s", (int)(nl - p), p, HELP_COL, "");
		p = nl + 1;
	}
}

void opts_table_help(FILE *f, const struct opts_entry *t)
{
	for (const struct opts_entry *e = t; e->name; e++)
		if (!e->help || *e->help)
			entry_help(f, e, e > t ? e - 1 : e);
}

static size_t table_len(const struct opts_entry *t)
{
	size_t n = 0;
	while (t && t[n].name)
		n++;
	return n;
}

static void add_getopt(const struct opts_entry *t, struct option *lo,
		       size_t *nl, char *so, size_t *ns)
{
	for (; t && t->name; t++) {
		lo[(*nl)++] = (struct option){ t->name, t->has_arg, 0, t->code };
		if (t->code <= ' ' || t->code >= 127 || memchr(so, t->code, *ns))
			continue;
		so[(*ns)++] = (char)t->code;
		if (t->has_arg == required_argument)
			so[(*ns)++] = ':';
	}
}

void opts_table_getopt(const struct opts_entry *t, struct option **longopts,
		       char **shortopts)
{
	size_t n = table_len(opts_common_table) + table_len(t), nl = 0, ns = 0;
	struct option *lo = xmalloc((n + 1) * sizeof *lo);
	char *so = xmalloc(2 * n + 2);
	/* '+' would stop at the first operand; getopt's default order lets
	 * options follow FILEs, as the programs always have. */
	add_getopt(opts_common_table, lo, &nl, so, &ns);
	add_getopt(t, lo, &nl, so, &ns);
	lo[nl] = (struct option){ 0, 0, 0, 0 };
	so[ns] = 0;
	*longopts = lo;
	*shortopts = so;
}

void opts_common_help(FILE *f)
{
	fputs("Common options:\n", f);
	opts_table_help(f, opts_common_table);
	fputs("\n"
	      "Exit status: 0 success, 1 runtime failure, 2 usage error,\n"
	      "3 bad input under --strict.\n", f);
}

void opts_syntax_error(const char *text, const char *msg, size_t col)
{
	fprintf(stderr, "%s: syntax error at column %zu: %s\n  %s\n  ",
		diag_prog, col + 1, msg, text);
	/* tabs copied and UTF-8 continuation bytes skipped: the caret lines
	 * up on a terminal */
	for (size_t i = 0; i < col && text[i]; i++)
		if (text[i] == '\t')
			fputc('\t', stderr);
		else if (((unsigned char)text[i] & 0xC0) != 0x80)
			fputc(' ', stderr);
	fputs("^\n", stderr);
	exit(EXIT_USAGE);
}

void opts_late(const char *path)
{
	char why[512];
	if (dead_set_late(path, why, sizeof why))
		diag_fatal(EXIT_RUNTIME, "%s", why);
}

int64_t opts_duration(const char *opt, const char *arg, bool zero_ok)
{
	int64_t us;
	const char *err;
	if (duration_parse(arg, false, &us, &err))
		diag_usage("invalid duration '%s' for %s: %s", arg, opt, err);
	if (!zero_ok && us == 0)
		diag_usage("invalid duration '%s' for %s: must be above 0", arg, opt);
	return us;
}

/* A decimal count from lo to hi into *v. */
static bool count_parse(const char *arg, long lo, long hi, long *v)
{
	char *end;
	errno = 0;
	*v = strtol(arg, &end, 10);
	return !errno && end != arg && !*end && *v >= lo && *v <= hi;
}

long opts_count(const char *opt, const char *arg)
{
	long v;
	if (!count_parse(arg, 1, LONG_MAX, &v))
		diag_usage("invalid argument '%s' for %s: expected a count > 0",
			   arg, opt);
	return v;
}

double opts_number(const char *opt, const char *arg, bool nonneg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || (nonneg && v < 0))
		diag_usage("invalid argument '%s' for %s: expected a number%s",
			   arg, opt, nonneg ? " >= 0" : "");
	return v;
}

long opts_count_in(const char *opt, const char *arg, long lo, long hi)
{
	long v;
	if (!count_parse(arg, lo, hi, &v))
		diag_usage("invalid argument '%s' for %s: expected a count from "
			   "%ld to %ld", arg, opt, lo, hi);
	return v;
}
