/* diag.h - diagnostics and exit statuses */
#ifndef ES_DIAG_H
#define ES_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of DESIGN.md */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_BADINPUT = 3 };

extern const char *diag_prog;

/* The exit status a program ends with: 1 once a runtime error that does
 * not stop it (e.g. a file that cannot be opened) was reported. */
extern int diag_status;

void diag_init(const char *prog);

/* "prog: message" on stderr. */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn, format(printf, 2, 3)))
void diag_fatal(int status, const char *fmt, ...);
/* "prog: message\nTry 'prog --help' for more information." and exit 2. */
__attribute__((noreturn, format(printf, 1, 2)))
void diag_usage(const char *fmt, ...);

/*
 * The library's way to end a run (a write error, a closed pipe, --strict's
 * first bad line, a side file that cannot be reopened): the caller has said
 * why; diag_end runs diag_finish at once (what was done goes out, as an
 * exit there would have it: held records, the main output, the side
 * files, --stats), after which the main output takes no more; sets
 * loop_stop, so that every loop ends as at SIGTERM; and returns. The
 * framework (lib/prog.c) then exits with diag_end_status instead of
 * finishing the program. The first status stays.
 */
void diag_end(int status);
/* The status diag_end was given, -1 while the run goes on. */
extern int diag_end_status;

/* The program's main output, flushed by diag_finish, before any exit, so
 * that the good records before a bad one are not lost. */
struct outbuf;
void diag_set_output(struct outbuf *o);
/* At exit: flushes the main output (which then takes no more), then runs
 * the hooks registered with diag_at_finish (the dead-letter and late
 * files, --stats, --stats-file), in the order registered; once.
 * diag_fatal and diag_end call it. */
void diag_finish(void);
/* A hook for diag_finish: the layers above diag say what to do at exit
 * without diag knowing them (at most 4). */
void diag_at_finish(void (*fn)(void));
/* One hook diag_finish runs first, before it flushes the main output: a
 * program that holds records back (es-archive, until their batch is
 * committed) lets them go there, also when diag_end ends the run
 * (--strict). */
void diag_before_flush(void (*fn)(void));

#endif
