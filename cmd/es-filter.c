/* es-filter - pass the records for which an expression is true */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "expr.h"
#include "prog.h"
#include "reload.h"
#include "stats.h"

enum { OPT_EXPR = OPT_PROGRAM };

static const struct opts_entry options[] = {
	{"invert", no_argument, 'v', NULL,
	 "write the records for which EXPR is false"},
	{"count", no_argument, 'c', NULL,
	 "print only the number of records written"},
	{"expr", required_argument, OPT_EXPR, "EXPR",
	 "the expression (then every operand is a FILE);\n"
	 "in a --config file: expr = EXPR"},
	{0}
};

/* What the options say (parsed at start and again on a reload). */
struct conf {
	bool invert, count;
	const char *text;	/* the expression */
};

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	if (code == 'v')
		c->invert = true;
	else if (code == 'c')
		c->count = true;
	else if (code == OPT_EXPR)
		c->text = arg;
}

/* The first operand is the expression unless --expr gave it. */
static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	(void)run;
	struct conf *c = conf;
	if (!c->text && optind < argc)
		c->text = argv[optind++];
	if (!c->text)
		diag_usage("missing expression");
}

static struct expr *expr;	/* the compiled expression in force */
static struct scratch sc;
static unsigned long long filtered;

/* --stats: records read that the expression did not pass. */
static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"filtered\":%llu", filtered);
}

static void setup(struct prog_run *run)
{
	const struct conf *c = run->conf;
	char msg[256];
	size_t col;
	expr = expr_compile(c->text, run->fs, msg, sizeof msg, &col);
	if (!expr)
		opts_syntax_error(c->text, msg, col);
}

static void on_record(struct prog_run *run, struct record *rec)
{
	const struct conf *c = run->conf;
	bool truth;
	char msg[256];
	scratch_reset(&sc);
	if (expr_test(expr, rec->slots, &sc, &truth, msg, sizeof msg) < 0) {
		record_bad(rec, msg);
		return;
	}
	if (truth == c->invert) {
		filtered++;
		return;
	}
	const char *err;
	if (c->count)
		stats.out++;
	else if (writer_put(run->w, rec, &err) < 0)
		record_bad(rec, err);
}

/*
 * On SIGHUP, or with --watch-config when the file changed: the new
 * expression and --invert apply from the next record; --count and the
 * common options keep their start-up values.
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	struct conf *nc = nconf;
	const struct conf *c = run->conf;
	char msg[256];
	size_t col;
	struct expr *ne = expr_compile(nc->text, run->fs, msg, sizeof msg, &col);
	if (!ne) {	/* cannot be after the check; kept for safety */
		reload_refuse("no expression");
		return false;
	}
	expr_free(expr);
	expr = ne;
	nc->count = c->count;
	snprintf(said, n, "%s%s", nc->invert ? "-v " : "", nc->text);
	return true;
}

static void finish(struct prog_run *run)
{
	const struct conf *c = run->conf;
	if (!c->count)
		return;
	char line[32];
	int n = snprintf(line, sizeof line, "%llu\n",
			 (unsigned long long)stats.out);
	out_put(&run->out, line, (size_t)n);
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	scratch_free(&sc);
	expr_free(expr);
}

const struct prog program = {
	.name = "es-filter",
	.synopsis = "[OPTION]... EXPR [FILE]...",
	.about = "Write the records of FILEs (or standard input) for which EXPR is\n"
		 "true, byte for byte as they came. See edgestream(7) for the\n"
		 "expression language.",
	.opts = options,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies the file's expr\n"
		       "and invert from the next record.",
	.notes = "\nExamples:\n"
		 "  es-filter 'sensor == \"temp\" && value > 37.5' readings.ndjson\n"
		 "  es-filter -v 'device =~ \"^gw-00\"' --dead-letter bad.csv plant.csv\n",
	.conf_size = sizeof(struct conf),
	.option = conf_option,
	.check = conf_check,
	.setup = setup,
	.record = on_record,
	.reload = conf_reload,
	.stats = stats_extra,
	.finish = finish,
	.cleanup = cleanup,
};
