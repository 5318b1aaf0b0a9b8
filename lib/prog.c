/* prog.c - a program declared once, run by prog_main() */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "evloop.h"
#include "loop.h"
#include "mem.h"
#include "notify.h"
#include "prog.h"
#include "reload.h"
#include "stats.h"

#ifndef ES_VERSION
#define ES_VERSION "0.1.0"
#endif

/* Whether g is a group, not the entry that ends the list. */
#define PROG_GROUP(g) ((g) && ((g)->opts || (g)->heading))

/* Blocks of --help are parted by a blank line; a PROG_CONT group goes on
 * the block before it. */
static void prog_usage(const struct prog *p)
{
	bool open = false;	/* a block printed, its blank line not yet */
	printf("Usage: %s %s\n%s\n\n", p->name, p->synopsis, p->about);
	if (p->opts) {
		opts_table_help(stdout, p->opts);
		open = true;
	}
	for (const struct prog_group *g = p->groups; PROG_GROUP(g); g++) {
		bool cont = g->heading && !*g->heading;
		if (open && !cont)
			printf("\n");
		if (g->heading && !cont)
			printf("%s\n", g->heading);
		if (g->opts)
			opts_table_help(stdout, g->opts);
		open = true;
	}
	if (open)
		printf("\n");
	if (p->reload_note)
		printf("%s\n\n", p->reload_note);
	opts_common_help(stdout);
	if (p->notes)
		fputs(p->notes, stdout);
	exit(EXIT_OK);
}

/* The program's options in one table: opts, then the groups' (getopt
 * takes them all at once). Allocated. */
static struct opts_entry *prog_table(const struct prog *p)
{
	size_t n = 0;
	const struct opts_entry *e;
	for (e = p->opts; e && e->name; e++)
		n++;
	for (const struct prog_group *g = p->groups; PROG_GROUP(g); g++)
		for (e = g->opts; e && e->name; e++)
			n++;
	struct opts_entry *t = xmalloc((n + 1) * sizeof *t), *o = t;
	for (e = p->opts; e && e->name; e++)
		*o++ = *e;
	for (const struct prog_group *g = p->groups; PROG_GROUP(g); g++)
		for (e = g->opts; e && e->name; e++)
			*o++ = *e;
	*o = (struct opts_entry){ 0 };
	return t;
}

/* getopt_long's tables, built once from the program's and the common. */
static struct option *longopts;
static char *shortopts;

/* Parses argv into o and a new conf: at start, and again on a reload
 * (whose command line passed --check, so it cannot fail). */
static void *prog_parse(const struct prog *p, int argc, char **argv,
			struct es_opts *o)
{
	void *conf = xmalloc(p->conf_size ? p->conf_size : 1);
	memset(conf, 0, p->conf_size);
	if (p->conf_init)
		p->conf_init(conf);
	opts_init(o);
	optind = 0;	/* a reload parses again from the start */
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opts_common(o, c, optarg))
			continue;
		if (c == '?' || c == ':' || !p->option) {
			/* getopt_long said why */
			fprintf(stderr, "Try '%s --help' for more information.\n",
				diag_prog);
			exit(EXIT_USAGE);
		}
		p->option(conf, c, optarg);
	}
	return conf;
}

static void prog_conf_free(const struct prog *p, void *conf)
{
	if (conf && p->conf_free)
		p->conf_free(conf);
	free(conf);
}

/* The reloaded command line in use: run->conf's values point into it. */
static char **conf_words;

/* The program running: prog_read and prog_reload are its run hook's. */
static const struct prog *prog;
static struct prog_run *prog_running;

void *prog_reload_conf(char ***words)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return NULL;
	struct es_opts no;
	void *nconf = prog_parse(prog, ac, av, &no);
	if (prog->check)
		prog->check(prog_running, nconf, ac, av);
	*words = av;
	return nconf;
}

void prog_conf_drop(void *conf)
{
	prog_conf_free(prog, conf);
}

void prog_conf_replace(struct prog_run *run, void *nconf)
{
	prog_conf_free(prog, run->conf);
	run->conf = nconf;
}

/* Between two records, with none in hand: the program applies the new
 * options, and the next record is read with the fields they locate. */
static void prog_apply_reload(const struct prog *p, struct prog_run *run)
{
	char **av;
	void *nconf = prog_reload_conf(&av);
	if (!nconf)
		return;
	char said[2048] = "";
	if (!p->reload || !p->reload(run, nconf, said, sizeof said)) {
		if (!p->reload)
			reload_refuse("the program takes no reload");
		prog_conf_drop(nconf);
		reload_free(av);
		return;
	}
	prog_conf_replace(run, nconf);
	if (run->r)	/* a run hook tells its own readers */
		reader_fields_changed(run->r);
	reload_said(said);
	reload_free(conf_words);
	conf_words = av;
}

bool prog_reload(struct prog_run *run)
{
	if (!reload_due())
		return false;
	prog_apply_reload(prog, run);
	return true;
}

/* The reader's idle callback: before it waits for input. */
static void prog_idle(void *ctx)
{
	struct prog_run *run = ctx;
	out_flush(&run->out);
	if (prog->idle)
		prog->idle(run);
}

void prog_read(struct prog_run *run)
{
	const struct prog *p = prog;
	struct record rec;
	if (!run->r)
		run->r = reader_open(run->argv, run->argc, run->o.in_fmt, run->fs,
				     prog_idle, run);
	reader_set_timeout(run->r, reload_timeout(-1));
	for (;;) {
		if (p->done && p->done(run))
			break;
		if (prog_reload(run))
			continue;	/* a reload may have ended the work */
		if (p->timeout)
			reader_set_timeout(run->r, reload_timeout(p->timeout(run)));
		int got = reader_next(run->r, &rec);
		if (got == 0)
			break;
		run->timed_out = got < 0;
		if (got > 0)
			p->record(run, &rec);
	}
}

/* A program that reads no records: its event loop's turns, with a reload
 * between two, until it is done or a signal stops it. Output is flushed
 * after each turn, so a live pipe sees each record at once. */
static void prog_serve(const struct prog *p, struct prog_run *run)
{
	while (!loop_stop && !(p->done && p->done(run))) {
		if (prog_reload(run))
			continue;
		int ms = p->timeout ? p->timeout(run) : -1;
		if (evloop_run_once(&run->ev, ms) < 0)
			diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
		if (run->out.len)
			out_flush(&run->out);
	}
}

/* Standard output, and the operands open for reading unless the program
 * reads inputs of its own. */
static void prog_open(const struct prog *p, struct prog_run *run)
{
	out_init(&run->out, 1, "stdout");
	diag_set_output(&run->out);
	if (!p->run && p->record)
		run->r = reader_open(run->argv, run->argc, run->o.in_fmt,
				     run->fs, prog_idle, run);
	run->w = writer_open(&run->out, run->o.out_fmt);
}

void prog_exit(int status)
{
	diag_finish();
	exit(status);
}

void prog_fail(int status, const char *why)
{
	if (status == EXIT_USAGE)
		diag_usage("%s", why);
	diag_fatal(status, "%s", why);
	exit(status);	/* not reached: for the noreturn */
}

void prog_check(int status, const char *why)
{
	if (status)
		prog_fail(status, why);
}

void prog_usage_unless(bool ok, const char *why)
{
	if (!ok)
		diag_usage("%s", why);
}

bool prog_took(int took, const char *why)
{
	prog_usage_unless(took >= 0, why);
	return took > 0;
}

int prog_main(const struct prog *p, int argc, char **argv)
{
	static struct prog_run run;	/* static: reachable at any exit */
	prog = p;
	prog_running = &run;
	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	struct opts_entry *table = prog_table(p);
	opts_table_getopt(table, &longopts, &shortopts);
	free(table);	/* getopt's copy points to the names, not into it */
	run.conf = prog_parse(p, argc, argv, &run.o);
	if (run.o.help)
		prog_usage(p);
	if (run.o.version) {
		printf("%s (edgestream) %s\n", diag_prog, ES_VERSION);
		exit(EXIT_OK);
	}
	opts_apply(&run.o);
	run.fs = fieldset_new();
	if (p->want_members)
		fieldset_want_members(run.fs, true);
	if (p->check)
		p->check(&run, run.conf, argc, argv);
	if (p->stats)
		stats_set_extra(p->stats);
	run.argc = argc - optind;
	run.argv = argv + optind;
	if (p->setup)
		p->setup(&run);
	/* --strict and a bad line in a file the options name (a Modbus map):
	 * the run ends before it starts, not after a first poll. */
	if (diag_end_status >= 0)
		prog_exit(diag_end_status);
	if (run.o.check)
		exit(EXIT_OK);	/* the options are good */
	loop_signals();
	reload_init(&run.o);
	prog_open(p, &run);
	evloop_init(&run.ev);
	if (p->start)
		p->start(&run);
	if (!p->ready_when_connected)
		notify_ready();	/* systemd: started (a no-op outside a notify unit) */
	if (p->run)
		p->run(&run);
	else if (p->record)
		prog_read(&run);
	else
		prog_serve(p, &run);
	/* The library ended the run (diag_end: a write error, a closed pipe,
	 * --strict's first bad line): what was done went out then; the
	 * program's finish does not run, as at an exit there. */
	if (diag_end_status >= 0)
		prog_exit(diag_end_status);
	if (p->finish)
		p->finish(&run);
	writer_close(run.w);
	reader_close(run.r);
	if (p->cleanup)
		p->cleanup(&run);
	fieldset_free(run.fs);
	prog_conf_free(p, run.conf);
	reload_free(conf_words);
	free(longopts);
	free(shortopts);
	diag_finish();
	out_free(&run.out);
	/* diag_end during finish (a closed pipe while the last windows go
	 * out) decides the status too. */
	return diag_end_status >= 0 ? diag_end_status : diag_status;
}
