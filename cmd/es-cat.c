/* es-cat - concatenate, validate and convert records */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "prog.h"

static const struct opts_entry options[] = {
	{"head", required_argument, 'n', "N", "stop after N records"},
	{0}
};

/* What the options say (parsed at start and again on a reload). */
struct conf {
	long long head;		/* -1: no --head */
};

static void conf_init(void *conf)
{
	((struct conf *)conf)->head = -1;
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	char *end;
	if (code != 'n')
		return;
	errno = 0;
	c->head = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || c->head < 0)
		diag_usage("invalid argument '%s' for -n/--head: expected a "
			   "count >= 0", arg);
}

static long long written;

static void on_record(struct prog_run *run, struct record *rec)
{
	const char *err;
	if (writer_put(run->w, rec, &err) < 0)
		record_bad(rec, err);
	else
		written++;
}

static bool head_reached(struct prog_run *run)
{
	const struct conf *c = run->conf;
	return c->head >= 0 && written >= c->head;
}

/*
 * On SIGHUP, or with --watch-config when the file changed: --head applies
 * from the next record, counted over the records written since the start
 * (a head already reached ends the stream there).
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	const struct conf *nc = nconf;
	(void)run;
	if (nc->head < 0)
		snprintf(said, n, "no --head (%lld written)", written);
	else
		snprintf(said, n, "--head %lld (%lld written)", nc->head, written);
	return true;
}

const struct prog program = {
	.name = "es-cat",
	.synopsis = "[OPTION]... [FILE]...",
	.about = "Concatenate records from FILEs (or standard input) to standard\n"
		 "output, checking that each is valid and converting NDJSON <-> CSV.",
	.opts = options,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies the file's head\n"
		       "from the next record, counting the records written since the start.",
	.notes = "\nExamples:\n"
		 "  es-cat -o csv readings.ndjson > readings.csv\n"
		 "  es-cat --dead-letter bad.ndjson --stats a.ndjson b.ndjson\n",
	.conf_size = sizeof(struct conf),
	.conf_init = conf_init,
	.option = conf_option,
	.done = head_reached,
	.record = on_record,
	.reload = conf_reload,
};
