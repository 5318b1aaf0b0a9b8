/* opts.h - the options every program shares, parsed one way */
#ifndef ES_OPTS_H
#define ES_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "record.h"

/* Long options with no short form get codes from here up. */
enum {
	OPT_DEAD_LETTER = 256, OPT_STRICT, OPT_STATS, OPT_HELP, OPT_VERSION,
	OPT_STATS_FILE, OPT_STATS_EVERY, OPT_CONFIG, OPT_CHECK, OPT_WATCH_CONFIG,
	OPT_NULL_VALUES, OPT_TIMEZONE,
	/* the shared option groups (lib/optgroup.h) */
	OPT_TIME_FIELD, OPT_TIME_UNIT, OPT_MAX_AHEAD, OPT_MAX_KEYS,
	OPT_MAX_STATE, OPT_TIME_MODE, OPT_TIME_FORMAT, OPT_LATENESS, OPT_LATE,
	OPT_IDLE,
	OPT_MEASUREMENT, OPT_TAGS, OPT_TIMESTAMP_FIELD, OPT_PRECISION,
	OPT_PROGRAM = 300	/* programs number their own from here */
};

#define OPTS_COMMON_SHORT "i:o:d:"
#define OPTS_COMMON_LONG \
	{"input-format", required_argument, 0, 'i'}, \
	{"output-format", required_argument, 0, 'o'}, \
	{"delimiter", required_argument, 0, 'd'}, \
	{"null-values", required_argument, 0, OPT_NULL_VALUES}, \
	{"timezone", required_argument, 0, OPT_TIMEZONE}, \
	{"measurement", required_argument, 0, OPT_MEASUREMENT}, \
	{"tags", required_argument, 0, OPT_TAGS}, \
	{"timestamp-field", required_argument, 0, OPT_TIMESTAMP_FIELD}, \
	{"precision", required_argument, 0, OPT_PRECISION}, \
	{"dead-letter", required_argument, 0, OPT_DEAD_LETTER}, \
	{"strict", no_argument, 0, OPT_STRICT}, \
	{"stats", no_argument, 0, OPT_STATS}, \
	{"stats-file", required_argument, 0, OPT_STATS_FILE}, \
	{"stats-every", required_argument, 0, OPT_STATS_EVERY}, \
	{"config", required_argument, 0, OPT_CONFIG}, \
	{"check", no_argument, 0, OPT_CHECK}, \
	{"watch-config", no_argument, 0, OPT_WATCH_CONFIG}, \
	{"help", no_argument, 0, OPT_HELP}, \
	{"version", no_argument, 0, OPT_VERSION}

/*
 * An option as data: the long name and argument kind getopt_long takes,
 * the code the program's parser receives (a short letter, or OPT_PROGRAM
 * and up), the argument's name and the help text (lines split by '\n')
 * --help prints. help NULL: an alias, printed as "the same as --OTHER" (-X/--OTHER when OTHER has a letter)
 * where OTHER is the entry before it. help "": said in the program's own
 * prose (options that go in pairs, such as es-detect's methods). A table ends with an entry whose
 * name is NULL.
 */
struct opts_entry {
	const char *name;
	int has_arg;		/* no_argument or required_argument */
	int code;
	const char *arg;	/* "F1,F2"; NULL without an argument */
	const char *help;
};
/* --time-unit's help, the same in every program that reads event time
 * (optgroup_time_unit parses it). */
#define OPTS_TIME_UNIT_HELP \
	"s, ms, us, ns or auto (default auto: guessed\n" \
	"from the first value: below 1e11 s, 1e14 ms,\n" \
	"1e17 us, else ns); strings are RFC 3339"
/* The common options (every program takes them). */
extern const struct opts_entry opts_common_table[];
/* Prints a table's options as --help shows them (text at column 27). */
void opts_table_help(FILE *f, const struct opts_entry *t);
/* getopt_long's tables for the common options and t: a struct option
 * array and a short-option string (both allocated, kept for the run). */
void opts_table_getopt(const struct opts_entry *t, struct option **longopts,
		       char **shortopts);

struct es_opts {
	enum format in_fmt, out_fmt;
	const char *dead_letter;
	const char *stats_file;	/* --stats-file: counters rewritten there */
	const char *config;	/* --config FILE (already expanded into argv) */
	const char *null_values;	/* --null-values LIST (reader) */
	const char *timezone;	/* --timezone ZONE (times without an offset) */
	/* -o influx (lib/influx.h): --measurement, --tags, --timestamp-field,
	 * --precision (0: ns) */
	const char *measurement, *tags, *timestamp_field;
	enum time_repr precision;
	char delimiter;		/* -d: the CSV field delimiter (0: ',') */
	int64_t stats_every;	/* --stats-every, us (0: not given) */
	bool strict, stats, help, version;
	bool check;		/* --check: validate the options, read nothing */
	bool watch_config;	/* --watch-config (lib/reload.h) */
};

void opts_init(struct es_opts *o);
/* --config FILE: argv with the file's options after the command line's
 * (lib/config.h); a file that cannot be read or parsed is a usage error.
 * Call before getopt_long. */
char **opts_config(int *argc, char **argv);
extern char **opts_argv;
/* The command line as main() got it, before --config (for reloading). */
extern int opts_orig_argc;
extern char **opts_orig_argv;
/* Handles a common option; returns false if c is not one (or 2 with a
 * usage error for a bad argument). */
bool opts_common(struct es_opts *o, int c, const char *arg);
/* After parsing: applies dead letter, strict, stats. --help and --version
 * are the framework's (lib/prog.c: --help prints the program's usage,
 * then calls opts_common_help). */
void opts_apply(struct es_opts *o);
void opts_common_help(FILE *f);
/* A usage error in an option's text (an expression): the message, the
 * text and a caret under column col (from 0); exit 2. */
__attribute__((noreturn))
void opts_syntax_error(const char *text, const char *msg, size_t col);
/* --late FILE (NULL: none) opened for the late events; a file that cannot
 * be opened is a runtime failure (exit 1). */
void opts_late(const char *path);
/* An option's duration in microseconds (250ms, 10s, 1h30m), above 0
 * unless zero_ok; a count above 0. Anything else is a usage error naming
 * the option. */
int64_t opts_duration(const char *opt, const char *arg, bool zero_ok);
long opts_count(const char *opt, const char *arg);
/* A count from lo to hi, else a usage error saying that range. */
long opts_count_in(const char *opt, const char *arg, long lo, long hi);
/* A finite number, at least 0 if nonneg, else a usage error saying so. */
double opts_number(const char *opt, const char *arg, bool nonneg);

#endif
