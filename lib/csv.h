/* csv.h - RFC 4180 CSV rows over libcsv, and quoting on output */
#ifndef ES_CSV_H
#define ES_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include "value.h"

struct outbuf;

enum csv_status { CSV_ROW, CSV_MORE, CSV_BAD, CSV_CUT };

/* A row whose quoted field is still open after this many lines, or with
 * more text than this, is cut off (CSV_CUT): real multi-line cells are
 * short, a stray quote must not swallow the rest of the stream. */
#define CSV_ROW_MAX_LINES 100
#define CSV_ROW_MAX_BYTES (1u << 20)

struct csv_in;
struct csv_in *csv_in_new(void);
/* The field delimiter (default ','): input only, output is RFC 4180. */
void csv_in_set_delim(struct csv_in *c, char delim);
/* Rows without quotes split 16 bytes at a time (on by default where the
 * CPU can, see simd16.h) or 8: the fuzz target compares the two. */
void csv_in_set_vectors(struct csv_in *c, bool on);
void csv_in_free(struct csv_in *c);

/*
 * Feeds one physical line, without its terminator (the caller strips "\n"
 * and a "\r" before it). Returns:
 *   CSV_ROW  a row is complete: csv_in_cells() and csv_in_raw() describe it
 *            until the next call;
 *   CSV_MORE a quoted field goes on past this line: feed the next one (the
 *            line break belongs to the field as "\n");
 *   CSV_BAD  the row is malformed (*err: a static message); the parser is
 *            reset, csv_in_raw() holds the raw text of the bad row;
 *   CSV_CUT  a quoted field is still open at the end of the row's
 *            CSV_ROW_MAX_LINES-th line or past CSV_ROW_MAX_BYTES (*err:
 *            "unterminated quote"); the parser is reset, csv_in_raw()
 *            holds the row's lines joined with "\n": the first is bad, the
 *            others are to be read again.
 * Fields are not trimmed; "" inside quotes is one quote.
 */
enum csv_status csv_in_line(struct csv_in *c, const char *line, size_t n,
			    const char **err);
/* At end of input: CSV_CUT if a row is still open, else CSV_ROW with zero
 * cells. */
enum csv_status csv_in_eof(struct csv_in *c, const char **err);
/* Forget any partial row (e.g. before the next file). */
void csv_in_reset(struct csv_in *c);

/* The cells of the last complete row: SPAN_CSV spans over decoded bytes
 * owned by c. */
size_t csv_in_ncells(const struct csv_in *c);
const struct span *csv_in_cells(const struct csv_in *c);
/* The raw text of the last row (physical lines joined with "\n", no final
 * terminator), owned by c or pointing at the line given. */
void csv_in_raw(const struct csv_in *c, const char **p, size_t *n);

/* Writes one cell, quoted only when RFC 4180 needs it (a comma, quote,
 * CR or LF inside, or leading/trailing space), quotes doubled. */
void csv_write_cell(struct outbuf *o, const char *s, size_t n);

#endif
