/* es-cat - concatenate, validate and convert records */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "opts.h"
#include "record.h"

enum { OPT_HEAD = OPT_PROGRAM };

static void usage(void)
{
	printf("Usage: es-cat [OPTION]... [FILE]...\n"
	       "Concatenate records from FILEs (or standard input) to standard\n"
	       "output, checking that each is valid and converting NDJSON <-> CSV.\n"
	       "\n"
	       "  -n, --head N             stop after N records\n"
	       "\n");
	opts_common_help(stdout);
	printf("\nExamples:\n"
	       "  es-cat -o csv readings.ndjson > readings.csv\n"
	       "  es-cat --dead-letter bad.ndjson --stats a.ndjson b.ndjson\n");
	exit(EXIT_OK);
}

static void flush_out(void *ctx)
{
	out_flush(ctx);
}

static long long parse_count(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < 0)
		diag_usage("invalid argument '%s' for %s: expected a count >= 0",
			   arg, opt);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"head", required_argument, 0, 'n'},
		{0, 0, 0, 0}
	};
	struct es_opts o;
	long long head = -1;
	int c;

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	while ((c = getopt_long(argc, argv, OPTS_COMMON_SHORT "n:", longopts,
				NULL)) != -1) {
		if (opts_common(&o, c, optarg))
			continue;
		if (c == 'n')
			head = parse_count("-n/--head", optarg);
		else
			opts_bad_option();
	}
	if (o.help)
		usage();
	opts_apply(&o);
	loop_signals();

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct fieldset *fs = fieldset_new();
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	struct writer *w = writer_open(&out, o.out_fmt);
	struct record rec;
	while (head != 0 && reader_next(r, &rec) > 0) {
		const char *err;
		if (writer_put(w, &rec, &err) < 0)
			record_bad(&rec, err);
		else if (head > 0)
			head--;
	}
	writer_close(w);
	reader_close(r);
	fieldset_free(fs);
	diag_finish();
	out_free(&out);
	return diag_status;
}
