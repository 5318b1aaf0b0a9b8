/* es-cat - concatenate, validate and convert records */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "opts.h"
#include "record.h"
#include "reload.h"

enum { OPT_HEAD = OPT_PROGRAM };

static void usage(void)
{
	printf("Usage: es-cat [OPTION]... [FILE]...\n"
	       "Concatenate records from FILEs (or standard input) to standard\n"
	       "output, checking that each is valid and converting NDJSON <-> CSV.\n"
	       "\n"
	       "  -n, --head N             stop after N records\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) applies the file's head\n"
	       "from the next record, counting the records written since the start.\n"
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

/* What the options say (parsed at start and again on a reload). */
struct conf {
	long long head;		/* -1: no --head */
};

static void parse_args(int argc, char **argv, struct es_opts *o, struct conf *c)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"head", required_argument, 0, 'n'},
		{0, 0, 0, 0}
	};
	int ch;
	optind = 0;	/* a reload parses again from the start */
	c->head = -1;
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT "n:", longopts,
				 NULL)) != -1) {
		if (opts_common(o, ch, optarg))
			continue;
		if (ch == 'n')
			c->head = parse_count("-n/--head", optarg);
		else
			opts_bad_option();
	}
}

/*
 * On SIGHUP, or with --watch-config when the file changed: --head applies
 * from the next record, counted over the records written since the start
 * (a head already reached ends the stream there). The inputs are open
 * already and the common options keep their start-up values: nothing
 * else can change.
 */
static void conf_reload(struct conf *c, long long written)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return;
	struct es_opts no;
	struct conf nc;
	opts_init(&no);
	parse_args(ac, av, &no, &nc);
	*c = nc;
	char said[96];
	if (c->head < 0)
		snprintf(said, sizeof said, "no --head (%lld written)", written);
	else
		snprintf(said, sizeof said, "--head %lld (%lld written)", c->head,
			 written);
	reload_said(said);
	reload_free(av);	/* nothing points into the words */
}

static bool head_reached(const struct conf *c, long long written)
{
	return c->head >= 0 && written >= c->head;
}

int main(int argc, char **argv)
{
	struct es_opts o;
	struct conf c;

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o, &c);
	if (o.help)
		usage();
	opts_apply(&o);
	opts_check_done(&o);
	loop_signals();
	reload_init(&o);

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct fieldset *fs = fieldset_new();
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	reader_set_timeout(r, reload_timeout(-1));
	struct writer *w = writer_open(&out, o.out_fmt);
	struct record rec;
	long long written = 0;
	while (!head_reached(&c, written)) {
		/* Between two records, with none in hand: a reload may
		 * lower the head to what is written already. */
		if (reload_due()) {
			conf_reload(&c, written);
			continue;
		}
		int got = reader_next(r, &rec);
		if (got == 0)
			break;
		if (got < 0)
			continue;	/* a timeout: SIGHUP, or time to look */
		const char *err;
		if (writer_put(w, &rec, &err) < 0)
			record_bad(&rec, err);
		else
			written++;
	}
	writer_close(w);
	reader_close(r);
	fieldset_free(fs);
	diag_finish();
	out_free(&out);
	return diag_status;
}
