/* record.h - the record a program sees, reading and writing records */
#ifndef ES_RECORD_H
#define ES_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "json.h"
#include "out.h"
#include "time.h"
#include "value.h"

/* FMT_JSON (input only): JSON values in any layout (a top-level array of
 * objects, pretty-printed objects one after another); its records are
 * NDJSON records. */
/* FMT_INFLUX (output only): InfluxDB line protocol (lib/influx.h). */
enum format { FMT_AUTO = 0, FMT_NDJSON, FMT_CSV, FMT_JSON, FMT_INFLUX };

/*
 * One record: its raw text as read (no line terminator) plus the spans of the
 * fields the program asked for. Valid until the next reader_next().
 */
struct record {
	const char *raw;
	size_t rawlen;
	enum format fmt;
	const char *src;	/* input name for diagnostics */
	uint64_t line;		/* its first line number */
	const struct span *slots;	/* one per fieldset slot */
	/* every top-level field, if the fieldset wants members (NDJSON:
	 * NULL when it does not; see record_fields) */
	const struct member *fields;
	size_t nfields;
	/* CSV: the header of its input */
	const struct csv_header *header;
};

struct csv_header {
	unsigned long gen;	/* tells headers of different inputs apart */
	char *raw;		/* the header line as read */
	size_t rawlen;
	size_t n;
	struct span *names;	/* SPAN_CSV, decoded */
	bool *shadowed;		/* per column: a later one has its name (only
				   the last is read); NULL when none repeats */
};

/* rec's top-level fields. An NDJSON record read by a reader whose
 * fieldset did not want members has none collected: its text is scanned
 * again into js (mfs: a fieldset that wants members) and the fields marked
 * for --null-values as a reader marks them. NULL (and 0) if it does not
 * scan. */
const struct member *record_fields(const struct record *rec,
				   const struct fieldset *mfs,
				   struct json_scan *js, size_t *n);

struct reader;
/* Settings of every reader of the program (the common options -d and
 * --null-values), made before reader_open. delim: the CSV field delimiter
 * (default ','). list: comma-separated cell texts read as null (CSV cells
 * and NDJSON strings/numbers written exactly so), NULL for none. */
void reader_set_delimiter(char delim);
void reader_set_null_values(const char *list);
/*
 * Reads records from files (NULL or empty: stdin; "-": stdin) in format fmt
 * (FMT_AUTO: detected per input from its first non-blank byte: '{' NDJSON,
 * '[' JSON, else CSV). Fields are located for the paths in fs. Bad lines
 * are reported through dead_bad() and skipped. idle() is called before
 * blocking on input.
 *
 * CSV: of two columns with the same name the last is read (one warning per
 * header); a path of fs (but for fieldset_add_optional ones) that names no
 * column is said once per input, with the nearest name. A row whose quoted
 * field is still open after CSV_ROW_MAX_LINES lines or CSV_ROW_MAX_BYTES,
 * at the end of its input, or after CSV_ROW_WAIT_MS (1 s) of waiting for
 * input, is cut off: its first line is bad, the lines after it are read
 * again.
 */
struct reader *reader_open(char **files, int nfiles, enum format fmt,
			   const struct fieldset *fs,
			   void (*idle)(void *ctx), void *ctx);
/* 1 with a record, 0 at the end of all input (or on SIGINT/SIGTERM),
 * -1 when timeout_ms passed without input (see reader_set_timeout). */
int reader_next(struct reader *r, struct record *rec);
void reader_set_timeout(struct reader *r, int timeout_ms);
/* The fieldset grew (a reloaded expression names new fields): the next
 * records fill the new slots too. */
void reader_fields_changed(struct reader *r);
/* For programs that read several inputs at once: with a timeout of 0,
 * reader_next() returns -1 at once when it would have to wait; then poll()
 * the descriptor reader_fd() gives (-1: no input open yet, just call
 * reader_next() again). */
int reader_fd(const struct reader *r);
/* The format of the first input (known after the first reader_next). */
enum format reader_format(const struct reader *r);
void reader_close(struct reader *r);

/* Reports rec as bad input (dead_bad with its source, line and raw text). */
void record_bad(const struct record *rec, const char *msg);
/*
 * The event time of rec, read from sp (where its time field, named field
 * in messages, sits) in unit (TIME_AUTO: guessed from the first value and
 * kept). Returns 0 with *us set, noted for --stats-file, and the value as
 * written in *tv if tv is not NULL; or -1 after reporting rec as bad
 * ("... (--time-field FIELD)").
 */
/* A finite number from sp (field names it in messages): 0 with *x, or -1
 * after reporting rec as bad ("is a string, a number is needed", "is out
 * of range" for 1e999). */
int record_number(const struct record *rec, const struct span *sp,
		  const char *field, struct scratch *sc, double *x);
int record_time(const struct record *rec, const struct span *sp,
		const char *field, enum time_repr *unit, struct scratch *sc,
		int64_t *us, struct value *tv);

struct writer;
/* fmt FMT_AUTO: the format of the first record written. */
struct writer *writer_open(struct outbuf *o, enum format fmt);
/*
 * Writes rec: byte for byte when it is in the output format (and, for CSV,
 * under the header already written); converted otherwise. Returns 0, or -1
 * when it cannot be written in the output format (e.g. a field the CSV
 * header does not have), with a message in *err.
 */
int writer_put(struct writer *w, const struct record *rec, const char **err);

/* A field of a record a program builds (e.g. a window's result). */
struct ofield {
	const char *name;
	size_t namelen;
	struct value v;		/* V_STRING: text (escaped as needed);
				   V_INT/V_DOUBLE: s/n digits when set, else
				   formatted (shortest round trip); V_BOOL;
				   V_NULL/V_MISSING: null (CSV: empty);
				   V_RAW: JSON text, written as is (CSV: as text) */
};
/*
 * Writes a built record in the writer's format (which must be known: the
 * program sets it from -o or from the input's format). For CSV the first
 * record written gives the header. Returns 0, or -1 with *err as
 * writer_put.
 */
int writer_put_fields(struct writer *w, const struct ofield *f, size_t n,
		      const char **err);
/* Sets the output format if it is still FMT_AUTO. */
void writer_set_format(struct writer *w, enum format fmt);
void writer_close(struct writer *w);

#endif
