/* reload.h - applying a changed --config FILE while the program runs
 *
 * On SIGHUP, and with --watch-config when the file's modification time
 * changes (looked at once a second at most), a program reloads its
 * configuration between two records. reload_argv() reads the file again and
 * builds the new command line: the original one with the file's options in
 * place of --config FILE. It checks that command line by running the
 * program itself on it with --check, so a reload is validated by the same
 * code, with the same messages, as a start; only then does the program parse
 * it (which cannot fail any more) and apply what changed. A file that does
 * not read or check keeps the running configuration, with a warning that
 * says why. What a program applies and what it keeps is on its man page;
 * the common options (formats, dead letter, stats) keep their start-up
 * values.
 */
#ifndef ES_RELOAD_H
#define ES_RELOAD_H

#include <stdbool.h>
#include "opts.h"

/* After opts_apply: remembers --config and --watch-config (nothing to do
 * without --config). SIGHUP then also wakes a reader blocked on input. */
void reload_init(const struct es_opts *o);
bool reload_enabled(void);
/* The reader timeout to use instead of timeout_ms (-1: none), so that a
 * quiet input still sees a changed file within a second. */
int reload_timeout(int timeout_ms);
/* True when a reload is due: a SIGHUP came, or the watched file changed.
 * Cheap; call it before each record and on each reader timeout. */
bool reload_due(void);
/*
 * The new command line, checked (see above): *argc words and a NULL, to
 * be parsed with getopt_long after optind = 0. NULL when the file does not
 * read or the program rejects it: the warning is given and the running
 * configuration stays. Option values point into the returned words: keep
 * them while in use, then reload_free() them.
 */
char **reload_argv(int *argc);
void reload_free(char **argv);
/* "--config FILE reloaded: what" on stderr. */
void reload_said(const char *what);
/* For a reload the program itself cannot apply (after the check passed):
 * the same one line as a rejected file, "cannot reload --config FILE: why;
 * keeping the running configuration". */
void reload_refuse(const char *why);

struct reader;
struct record;
/*
 * Reads r to the end of its input (or SIGINT/SIGTERM), calling on_record
 * with each record. A reload that is due is applied (reload(r)) between
 * two records, with none in hand, so that the next one is read with the
 * new fields located; a reader timeout is only a chance to look.
 */
void reload_read_all(struct reader *r, void (*reload)(struct reader *r),
		     void (*on_record)(const struct record *rec));

#endif
