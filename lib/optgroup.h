/* optgroup.h - the option groups several programs share
 *
 * The grouping key and its caps (-k/--key, --max-keys, --max-state) and
 * the event time (--time-field, --time-unit, --max-ahead, --time
 * event|processing, --time-format, --lateness, --late, --idle):
 * each table entry's name, code and argument are the group's, its help
 * the program's (what the option does there). The parsers say a bad value
 * as a usage error, in the same words in every program.
 */
#ifndef ES_OPTGROUP_H
#define ES_OPTGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "fieldset.h"
#include "keyed.h"
#include "opts.h"
#include "path.h"
#include "series.h"
#include "time.h"

#define OPTGROUP_KEY(help) {"key", required_argument, 'k', "F1,F2", help}
#define OPTGROUP_FIELD {"field", required_argument, 'f', "F", "the value (default: value)"}
#define OPTGROUP_TIME_FIELD(help) {"time-field", required_argument, OPT_TIME_FIELD, "F", help}
#define OPTGROUP_TIME_UNIT {"time-unit", required_argument, OPT_TIME_UNIT, "U", OPTS_TIME_UNIT_HELP}
#define OPTGROUP_MAX_AHEAD(help) {"max-ahead", required_argument, OPT_MAX_AHEAD, "D", help}
#define OPTGROUP_MAX_KEYS(help) {"max-keys", required_argument, OPT_MAX_KEYS, "N", help}
#define OPTGROUP_MAX_STATE(help) {"max-state", required_argument, OPT_MAX_STATE, "SIZE", help}
#define OPTGROUP_TIME_MODE(help) {"time", required_argument, OPT_TIME_MODE, "MODE", help}
#define OPTGROUP_TIME_FORMAT(help) {"time-format", required_argument, OPT_TIME_FORMAT, "F", help}
#define OPTGROUP_LATENESS(help) {"lateness", required_argument, OPT_LATENESS, "D", help}
#define OPTGROUP_LATE(help) {"late", required_argument, OPT_LATE, "FILE", help}
#define OPTGROUP_IDLE(help) {"idle", required_argument, OPT_IDLE, "D", help}

#define OPTGROUP_STR(x) #x
#define OPTGROUP_XSTR(x) OPTGROUP_STR(x)
/* Helps that programs share word for word. */
#define OPTGROUP_TIME_FIELD_HELP "event time field (default: ts)"
#define OPTGROUP_MAX_AHEAD_HELP \
	"an event more than D (default 1d) ahead of\n" \
	"the stream's time waits for 2 more events to\n" \
	"confirm the jump, else it is bad input; 0: off"
#define OPTGROUP_LATE_HELP "write late events to FILE"
#define OPTGROUP_KEYED_MAX_KEYS_HELP \
	"at most N keys (default " OPTGROUP_XSTR(KEYED_DEFAULT_MAX) "); at the limit the\n" \
	"least recently seen key is forgotten"

/* --key F1,F2 (or its alias opt): the paths appended to *paths. */
void optgroup_keys(struct path **paths, int *n, const char *opt,
		   const char *text);
/* A size in bytes above 0 (512k, 64M, 2G) for option opt. */
uint64_t optgroup_size(const char *opt, const char *arg);
/* --time-unit s|ms|us|ns|auto. */
void optgroup_time_unit(const char *arg, enum time_repr *unit);
/* --time-format rfc3339|s|ms|us|ns: how times are written. */
void optgroup_time_format(const char *arg, enum time_repr *repr);
/* --time event|processing: true for processing (the arrival time). */
bool optgroup_time_mode(const char *arg);
/* The fieldset slot of option opt's field path. */
int optgroup_field(struct fieldset *fs, const char *opt, const char *text);
/* The options of a series (lib/series.h): -k, -f, --time-field,
 * --time-unit, --max-ahead, --max-keys, --max-state. False if code is not
 * one of them. */
bool optgroup_series(struct series_conf *c, int code, const char *arg);

#endif
