/* es-filter - pass the records for which an expression is true */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "config.h"
#include "diag.h"
#include "expr.h"
#include "opts.h"
#include "record.h"

enum { OPT_EXPR = OPT_PROGRAM, OPT_CHECK, OPT_WATCH_CONFIG };

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
	       "      --check              check the options and the expression, exit 0\n"
	       "                           (2 with why if they are wrong); read nothing\n"
	       "      --watch-config       reload --config when the file changes (SIGHUP\n"
	       "                           always reloads it): its expr and invert apply\n"
	       "                           from the next record\n"
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

/* ---- --config: reloading the expression ---- */

static struct {
	const char *path;	/* --config FILE, or NULL */
	bool watch;		/* --watch-config */
	struct timespec mtime;
	bool mtime_ok;
	int64_t checked;	/* when the file was last looked at (ms) */
	sig_atomic_t hups;	/* SIGHUPs handled */
} conf;

static bool same_mtime(const struct stat *st)
{
	return conf.mtime_ok && st->st_mtim.tv_sec == conf.mtime.tv_sec &&
	       st->st_mtim.tv_nsec == conf.mtime.tv_nsec;
}

/* The expression and --invert the file says now; false with why. */
static bool conf_read(char **text, bool *invert, char *why, size_t whyn)
{
	char *args[] = { (char *)diag_prog, "--config", (char *)conf.path, NULL };
	int ac = 3;
	char **av = config_expand(&ac, args, why, whyn);
	if (!av)
		return false;
	*text = NULL;
	for (int i = 3; i < ac; i++) {
		if (!strncmp(av[i], "--expr=", 7)) {
			free(*text);
			*text = xstrdup(av[i] + 7);
		} else if (!strcmp(av[i], "--invert")) {
			*invert = true;
		}
	}
	config_free(av, args);
	if (!*text) {
		snprintf(why, whyn, "%s: no 'expr = ...' line", conf.path);
		return false;
	}
	return true;
}

/*
 * On SIGHUP, or with --watch-config when the file changed (looked at once a
 * second at most): the file's expression and --invert apply from the next
 * record. A file that does not read or compile keeps the running ones, and
 * says why. Other options keep their start-up values.
 */
static void conf_reload(struct expr **e, bool *invert, struct fieldset *fs,
			struct reader *r, bool timed_out)
{
	bool hup = loop_hups != conf.hups;
	if (!hup && !conf.watch)
		return;
	int64_t now = loop_now_ms();
	if (!hup && !timed_out && now - conf.checked < 1000)
		return;
	conf.checked = now;
	conf.hups = loop_hups;
	struct stat st;
	if (!hup && (stat(conf.path, &st) < 0 || same_mtime(&st)))
		return;	/* unchanged (or gone: the running one stays) */
	if (stat(conf.path, &st) == 0) {
		conf.mtime = st.st_mtim;
		conf.mtime_ok = true;
	}
	char why[512], msg[256];
	char *text = NULL;
	bool inv = false;
	size_t col;
	if (!conf_read(&text, &inv, why, sizeof why)) {
		diag_warn("cannot reload --config %s; keeping the running "
			  "configuration", why);
		return;
	}
	struct expr *ne = expr_compile(text, fs, msg, sizeof msg, &col);
	if (!ne) {
		diag_warn("cannot reload --config %s: syntax error at column %zu: "
			  "%s; keeping the running configuration", conf.path,
			  col + 1, msg);
		free(text);
		return;
	}
	reader_fields_changed(r);
	expr_free(*e);
	*e = ne;
	*invert = inv;
	diag_warn("--config %s reloaded: %s%s", conf.path, inv ? "-v " : "", text);
	free(text);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"invert", no_argument, 0, 'v'},
		{"count", no_argument, 0, 'c'},
		{"expr", required_argument, 0, OPT_EXPR},
		{"check", no_argument, 0, OPT_CHECK},
		{"watch-config", no_argument, 0, OPT_WATCH_CONFIG},
		{0, 0, 0, 0}
	};
	struct es_opts o;
	bool invert = false, count = false, check = false;
	const char *text = NULL;
	int c;

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	while ((c = getopt_long(argc, argv, OPTS_COMMON_SHORT "vc", longopts,
				NULL)) != -1) {
		if (opts_common(&o, c, optarg))
			continue;
		if (c == 'v')
			invert = true;
		else if (c == 'c')
			count = true;
		else if (c == OPT_EXPR)
			text = optarg;
		else if (c == OPT_CHECK)
			check = true;
		else if (c == OPT_WATCH_CONFIG)
			conf.watch = true;
		else
			opts_bad_option();
	}
	if (o.help)
		usage();
	opts_apply(&o);
	diag_set_stats_extra(stats_extra);
	conf.path = o.config;
	if (conf.watch && !conf.path)
		diag_usage("--watch-config goes with --config");
	if (!text) {
		if (optind >= argc)
			diag_usage("missing expression");
		text = argv[optind++];
	}

	struct fieldset *fs = fieldset_new();
	char msg[256];
	size_t col;
	struct expr *e = expr_compile(text, fs, msg, sizeof msg, &col);
	if (!e)
		syntax_error(text, msg, col);
	if (check)
		exit(EXIT_OK);	/* --check: the configuration is good */
	loop_signals();
	conf.hups = loop_hups;
	struct stat st;
	if (conf.path && stat(conf.path, &st) == 0) {
		conf.mtime = st.st_mtim;
		conf.mtime_ok = true;
	}

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	if (conf.path)
		reader_set_timeout(r, 1000);	/* a quiet input still reloads */
	struct writer *w = writer_open(&out, o.out_fmt);
	struct scratch sc = { 0 };
	struct record rec;
	int got;
	while ((got = reader_next(r, &rec)) != 0) {
		if (conf.path)
			conf_reload(&e, &invert, fs, r, got < 0);
		if (got < 0)
			continue;
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
