/* prog.h - a program declared once, run by prog_main()
 *
 * A program is a struct prog: its name and help prose,
 * its options as a table, and hooks for what is its own. prog_main() does
 * what every program does, one way for all: --config, getopt_long built
 * from the tables, --help printed from them, --version, --check, signals,
 * the reader and the writer, the reading loop with a --config reload
 * between two records, --stats, --stats-file and the exit status.
 *
 * A connected program (a broker's client) reads no records, or reads them
 * with a loop of its own: its sockets and timers go into run->ev, the one
 * event loop (lib/evloop.h) of the run. Without a record or a run hook,
 * prog_main() runs that loop's turns itself, a reload between two, until
 * the done hook or a signal ends it (the timeout hook caps each wait).
 * A program that applies a reload later than between two records (a
 * publisher, once its queue is acknowledged) parses it with
 * prog_reload_conf() and makes it the run's with prog_conf_replace().
 *
 * The order prog_main() follows:
 *   conf_init, option (each), check    parse; usage errors exit 2 here
 *   setup                              fields and anything that may still
 *                                      be a usage error (an expression)
 *   (--check ends here with 0)
 *   the reader and writer open         (with a run hook: the writer)
 *   start                              state for the run (sockets and
 *                                      timers into run->ev)
 *   loop: reload? timeout, record      until the input ends or a signal;
 *                                      or run, which reads its own inputs;
 *                                      or, with neither, run->ev's turns
 *   finish                             held results go out
 *   cleanup                            free; --stats is printed after it
 */
#ifndef ES_PROG_H
#define ES_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "evloop.h"
#include "opts.h"
#include "record.h"

/* What a run has: prog_main fills it and passes it to every hook. */
struct prog_run {
	struct es_opts o;	/* the common options */
	void *conf;		/* the program's options in force */
	int argc;		/* the operands (FILEs) */
	char **argv;
	struct fieldset *fs;
	struct outbuf out;	/* standard output */
	struct reader *r;	/* NULL until the reading loop opens it */
	struct writer *w;
	bool timed_out;		/* the last read gave no record: the timeout
				   passed (or a reload woke the reader) */
	struct evloop ev;	/* the run's one event loop (empty until the
				   start hook adds to it) */
};

/* Options under a heading of --help ("Time:"): a program whose options
 * come in groups lists them so, ended by an entry whose heading and opts
 * are NULL. A blank line parts two groups, unless the second's heading
 * is PROG_CONT: it goes on the group before (a table shared by programs,
 * lib/mqtt.h's or lib/publish.h's, among the program's own entries). A
 * group without opts is prose (a reload note before other groups). */
struct prog_group {
	const char *heading;	/* NULL: none */
	const struct opts_entry *opts;
};
#define PROG_CONT ""

struct prog {
	const char *name;	/* "es-filter" */
	const char *synopsis;	/* after the name on the Usage line */
	const char *about;	/* what it does, lines split by '\n' */
	const struct opts_entry *opts;	/* its own options */
	const struct prog_group *groups;	/* or in groups (after opts) */
	const char *reload_note;	/* after the options: what a reload does */
	const char *notes;	/* after the common options: --stats, examples */

	size_t conf_size;	/* the program's struct of options */
	void (*conf_init)(void *conf);	/* defaults */
	/* One option of the table; a bad value is diag_usage(). */
	void (*option)(void *conf, int code, const char *arg);
	/* After the options (and the common ones applied): the operands it
	 * takes (argv from optind on; it moves optind past them), checks
	 * across options (diag_usage), and what needs run->fs (fields,
	 * expressions). Runs again on a reload, for nconf, with the same
	 * run->fs. Not called for --help or --version. */
	void (*check)(struct prog_run *run, void *conf, int argc, char **argv);
	void (*conf_free)(void *conf);

	bool want_members;	/* the reader locates every member (edit.c) */
	/* systemd's READY=1 comes from the program once it is connected
	 * (lib/mqtt.c), not from prog_main once it started. */
	bool ready_when_connected;
	void (*setup)(struct prog_run *run);
	void (*start)(struct prog_run *run);
	/* True when the program has done its work (es-cat's --head). */
	bool (*done)(struct prog_run *run);
	/* The reader's timeout before each read, in ms (-1: none); without
	 * a reader, the longest wait of a turn of run->ev. Timers
	 * that are due may run here (run->timed_out: the last read found
	 * the input silent until then). */
	int (*timeout)(struct prog_run *run);
	void (*record)(struct prog_run *run, struct record *rec);
	/* The reader is about to wait for input; the output was flushed. */
	void (*idle)(struct prog_run *run);
	/*
	 * Instead of the reading loop, for a program that reads inputs of
	 * its own (es-join's two streams): until they end or a signal
	 * (loop_stop), calling prog_reload() between two records. run->r is
	 * not open; prog_read() is the reading loop, for a program whose
	 * options choose.
	 */
	void (*run)(struct prog_run *run);
	/*
	 * A reload: nconf is the new command line parsed (it passed --check
	 * already), run->conf still the old one. Apply it, write what changed
	 * into said, and return true; prog_main then frees the old conf and
	 * keeps nconf. Return false (after reload_refuse()) to keep the old.
	 * NULL: the program takes no reload but the common options'.
	 */
	bool (*reload)(struct prog_run *run, void *nconf, char *said, size_t n);
	/* --stats: the program's counters as ",\"k\":v" text. */
	void (*stats)(char *buf, size_t n);
	void (*finish)(struct prog_run *run);
	void (*cleanup)(struct prog_run *run);
};

/* In the struct prog: the hooks of the program's options, for a program
 * that names them alike: its struct conf, conf_init, conf_option,
 * conf_check and conf_free (lib/proghooks.h, lib/gateway.h and
 * lib/pubprog.h name the rest of their programs' hooks so too). */
#define PROG_CONF_HOOKS \
	.conf_size = sizeof(struct conf), .conf_init = conf_init, \
	.option = conf_option, .check = conf_check, .conf_free = conf_free

/* The framework's exits, for what the library returned: a failure said
 * already (the library said why on stderr), or why with status (2: a
 * usage error, with the hint to --help). Both flush what was done, as
 * diag_fatal does. */
__attribute__((noreturn)) void prog_exit(int status);
__attribute__((noreturn)) void prog_fail(int status, const char *why);
/* prog_fail() unless status is 0. */
void prog_check(int status, const char *why);
/* For the option and check hooks, over a library call that returned an
 * error: a usage error with why (exit 2) unless ok; prog_took() over a
 * call that took an option (1), did not know it (0) or found its
 * argument bad (-1): true if taken. */
void prog_usage_unless(bool ok, const char *why);
bool prog_took(int took, const char *why);

/* The program a cmd/ file declares; lib/main.c's main() runs it. */
extern const struct prog program;

/* Runs p on the command line; returns the exit status. */
int prog_main(const struct prog *p, int argc, char **argv);
/* For a run hook: the reading loop over the operands (it opens run->r),
 * with the timeout, record and idle hooks, as without a run hook. */
void prog_read(struct prog_run *run);
/* For a run hook, between two records: applies a reload that is due
 * (the reload hook), as the reading loop does. True if one was due. */
bool prog_reload(struct prog_run *run);
/* A reload that is due, for a program that applies it later: the new
 * command line (checked, lib/reload.h) parsed into a new conf, or NULL
 * when there is none (said). *words: the command line, which the conf's
 * strings point into (reload_free it once the conf is gone). */
void *prog_reload_conf(char ***words);
/* A conf from prog_reload_conf freed unused, or made the run's (the old
 * one freed). */
void prog_conf_drop(void *conf);
void prog_conf_replace(struct prog_run *run, void *nconf);

#endif
