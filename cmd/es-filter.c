/* es-filter - pass the records for which an expression is true */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "expr.h"
#include "opts.h"
#include "record.h"
#include "reload.h"

enum { OPT_EXPR = OPT_PROGRAM };

static void usage(void)
{
	printf("Usage: es-filter [OPTION]... EXPR [FILE]...\n"
	       "Write the records of FILEs (or standard input) for which EXPR is\n"
	       "true, byte for byte as they came. See edgestream(7) for the\n"
	       "expression language.\n"
	       "\n"
	       "  -v, --invert             write the records for which EXPR is false\n"
	       "  -c, --count              print only the number of records written\n"
	       "      --expr EXPR          the expression (then every operand is a FILE);\n"
	       "                           in a --config file: expr = EXPR\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) applies the file's expr\n"
	       "and invert from the next record.\n"
	       "\n");
	opts_common_help(stdout);
	printf("\nExamples:\n"
	       "  es-filter 'sensor == \"temp\" && value > 37.5' readings.ndjson\n"
	       "  es-filter -v 'device =~ \"^gw-00\"' --dead-letter bad.csv plant.csv\n");
	exit(EXIT_OK);
}

static unsigned long long filtered;

/* --stats: records read that the expression did not pass. */
static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"filtered\":%llu", filtered);
}

static void flush_out(void *ctx)
{
	out_flush(ctx);
}

/* Prints a syntax error with the expression and a caret under the column:
 * tabs are copied and UTF-8 continuation bytes skipped, so that the caret
 * lines up on a terminal. */
static void syntax_error(const char *text, const char *msg, size_t col)
{
	fprintf(stderr, "%s: syntax error at column %zu: %s\n  %s\n  ",
		diag_prog, col + 1, msg, text);
	for (size_t i = 0; i < col && text[i]; i++)
		if (text[i] == '\t')
			fputc('\t', stderr);
		else if (((unsigned char)text[i] & 0xC0) != 0x80)
			fputc(' ', stderr);
	fputs("^\n", stderr);
	exit(EXIT_USAGE);
}

/* What the options say (parsed at start and again on a reload). */
struct conf {
	bool invert, count;
	const char *text;	/* the expression */
};

/* Parses argv into c; the first operand is the expression unless --expr
 * gave it (optind is left at the first FILE). */
static void parse_args(int argc, char **argv, struct es_opts *o, struct conf *c)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"invert", no_argument, 0, 'v'},
		{"count", no_argument, 0, 'c'},
		{"expr", required_argument, 0, OPT_EXPR},
		{0, 0, 0, 0}
	};
	int ch;
	optind = 0;	/* a reload parses again from the start */
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT "vc", longopts,
				 NULL)) != -1) {
		if (opts_common(o, ch, optarg))
			continue;
		if (ch == 'v')
			c->invert = true;
		else if (ch == 'c')
			c->count = true;
		else if (ch == OPT_EXPR)
			c->text = optarg;
		else
			opts_bad_option();
	}
	if (!c->text && !o->help && optind < argc)
		c->text = argv[optind++];
}

/*
 * On SIGHUP, or with --watch-config when the file changed: the new
 * expression and --invert apply from the next record. The file was
 * checked by reload_argv(); other options keep their start-up values.
 */
static char **conf_words;	/* the reloaded command line in use */

static void conf_reload(struct expr **e, bool *invert, struct fieldset *fs,
			struct reader *r)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return;
	struct es_opts no;
	struct conf nc = { 0 };
	opts_init(&no);
	parse_args(ac, av, &no, &nc);
	char msg[256];
	size_t col;
	struct expr *ne = nc.text ? expr_compile(nc.text, fs, msg, sizeof msg, &col)
				  : NULL;
	if (!ne) {	/* cannot be after the check; kept for safety */
		reload_refuse("no expression");
		reload_free(av);
		return;
	}
	reader_fields_changed(r);
	expr_free(*e);
	*e = ne;
	*invert = nc.invert;
	char said[512];
	snprintf(said, sizeof said, "%s%s", nc.invert ? "-v " : "", nc.text);
	reload_said(said);
	reload_free(conf_words);
	conf_words = av;
}

int main(int argc, char **argv)
{
	struct es_opts o;
	struct conf c = { 0 };

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o, &c);
	if (o.help)
		usage();
	opts_apply(&o);
	diag_set_stats_extra(stats_extra);
	if (!c.text)
		diag_usage("missing expression");
	bool invert = c.invert;

	struct fieldset *fs = fieldset_new();
	char msg[256];
	size_t col;
	struct expr *e = expr_compile(c.text, fs, msg, sizeof msg, &col);
	if (!e)
		syntax_error(c.text, msg, col);
	opts_check_done(&o);
	loop_signals();
	reload_init(&o);

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	reader_set_timeout(r, reload_timeout(-1));
	struct writer *w = writer_open(&out, o.out_fmt);
	struct scratch sc = { 0 };
	struct record rec;
	int got;
	for (;;) {
		/* Between two records, with none in hand: the reload's
		 * reader_fields_changed() moves the slots a record points into. */
		if (reload_due())
			conf_reload(&e, &invert, fs, r);
		if ((got = reader_next(r, &rec)) == 0)
			break;
		if (got < 0)
			continue;
		struct value v;
		scratch_reset(&sc);
		if (expr_eval(e, rec.slots, &sc, &v, msg, sizeof msg) < 0) {
			record_bad(&rec, msg);
			continue;
		}
		if (value_truthy(&v) == invert) {
			filtered++;
			continue;
		}
		const char *err;
		if (c.count)
			stats.out++;
		else if (writer_put(w, &rec, &err) < 0)
			record_bad(&rec, err);
	}
	if (c.count) {
		char line[32];
		int n = snprintf(line, sizeof line, "%llu\n",
				 (unsigned long long)stats.out);
		out_put(&out, line, (size_t)n);
	}
	writer_close(w);
	reader_close(r);
	scratch_free(&sc);
	expr_free(e);
	reload_free(conf_words);
	fieldset_free(fs);
	diag_finish();
	out_free(&out);
	return diag_status;
}
