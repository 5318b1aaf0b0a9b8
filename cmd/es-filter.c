/* es-filter - pass the records for which an expression is true */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "expr.h"
#include "opts.h"
#include "record.h"

enum { OPT_COUNT = OPT_PROGRAM };

static void usage(void)
{
	printf("Usage: es-filter [OPTION]... EXPR [FILE]...\n"
	       "Write the records of FILEs (or standard input) for which EXPR is\n"
	       "true, byte for byte as they came. See edgestream(7) for the\n"
	       "expression language.\n"
	       "\n"
	       "  -v, --invert             write the records for which EXPR is false\n"
	       "  -c, --count              print only the number of records written\n"
	       "\n");
	opts_common_help(stdout);
	printf("\nExamples:\n"
	       "  es-filter 'sensor == \"temp\" && value > 37.5' readings.ndjson\n"
	       "  es-filter -v 'device =~ \"^gw-00\"' --dead-letter bad.csv plant.csv\n");
	exit(EXIT_OK);
}

static unsigned long long matched, unfit;

/* --stats: records read that the expression did not pass. */
static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"filtered\":%llu",
		 (unsigned long long)(stats.in - unfit - matched));
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"invert", no_argument, 0, 'v'},
		{"count", no_argument, 0, 'c'},
		{0, 0, 0, 0}
	};
	struct es_opts o;
	bool invert = false, count = false;
	int c;

	diag_init(argv[0]);
	opts_init(&o);
	while ((c = getopt_long(argc, argv, OPTS_COMMON_SHORT "vc", longopts,
				NULL)) != -1) {
		if (opts_common(&o, c, optarg))
			continue;
		if (c == 'v')
			invert = true;
		else if (c == 'c')
			count = true;
		else
			opts_bad_option();
	}
	if (o.help)
		usage();
	opts_apply(&o);
	diag_set_stats_extra(stats_extra);
	if (optind >= argc)
		diag_usage("missing expression");
	const char *text = argv[optind++];

	struct fieldset *fs = fieldset_new();
	char msg[256];
	size_t col;
	struct expr *e = expr_compile(text, fs, msg, sizeof msg, &col);
	if (!e)
		syntax_error(text, msg, col);
	loop_signals();

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	struct writer *w = writer_open(&out, o.out_fmt);
	struct scratch sc = { 0 };
	struct record rec;
	while (reader_next(r, &rec) > 0) {
		struct value v;
		scratch_reset(&sc);
		if (expr_eval(e, rec.slots, &sc, &v, msg, sizeof msg) < 0) {
			unfit++;
			record_bad(&rec, msg);
			continue;
		}
		if (value_truthy(&v) == invert)
			continue;
		const char *err;
		if (count) {
			matched++;
			stats.out++;
		} else if (writer_put(w, &rec, &err) < 0) {
			unfit++;
			record_bad(&rec, err);
		} else {
			matched++;
		}
	}
	if (count) {
		char line[32];
		int n = snprintf(line, sizeof line, "%llu\n", matched);
		out_put(&out, line, (size_t)n);
	}
	writer_close(w);
	reader_close(r);
	scratch_free(&sc);
	expr_free(e);
	fieldset_free(fs);
	diag_finish();
	out_free(&out);
	return diag_status;
}
