/* influx.h - records as InfluxDB line protocol (-o influx)
 *
 * One record is one line:
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * The measurement is a name given (--measurement NAME) or a field's value
 * (--measurement '{F}'); the tags are the fields named by --tags, sorted
 * by name as InfluxDB prefers them; the timestamp is the event time of
 * the --timestamp-field field (default ts) in --precision (default ns);
 * every other top-level field is a field: integers with 'i', other numbers
 * as floats, true/false, strings quoted, objects and arrays as strings of
 * their JSON text. Null fields and empty tags are left out, as line
 * protocol has no null. Escaping follows InfluxDB's line protocol
 * reference; what line protocol cannot carry (a newline outside a string,
 * a name ending in a backslash) makes the record bad, never a line
 * InfluxDB would read otherwise.
 */
#ifndef ES_INFLUX_H
#define ES_INFLUX_H

#include <stddef.h>
#include "out.h"
#include "record.h"
#include "time.h"

struct influx_conf {
	const char *measurement;	/* NAME, or "{F}": field F's value */
	const char *tags;		/* "f1,f2", or NULL */
	const char *time_field;		/* NULL: "ts"; "none": no timestamp */
	enum time_repr precision;	/* TIME_S ... TIME_NS (0: ns) */
};

/* The settings of every influx writer of the program (the common options
 * --measurement, --tags, --timestamp-field, --precision). 0, or -1 with
 * *err saying which option is wrong and why. */
int influx_configure(const struct influx_conf *c, const char **err);
/* Whether influx_configure was given a measurement (-o influx needs one). */
bool influx_ready(void);

/* For a program whose records always have the fields f[0..n) (their names:
 * es-window's windows): NULL if lines can be made of them, else why not
 * (the --timestamp-field or a --measurement '{F}' field is not one), so
 * that a mistaken option is said at start, not as each record is lost. */
const char *influx_fields_ok(const struct ofield *f, size_t n);

struct influx;
struct influx *influx_new(void);
void influx_free(struct influx *ix);
/* Appends the line (with its '\n') of the fields f[0..n) to o; -1 with
 * *err when the record cannot be written (o then holds part of a line:
 * the caller writes into a scratch buffer and drops it). */
int influx_line(struct influx *ix, struct outbuf *o, const struct ofield *f,
		size_t n, const char **err);

#endif
