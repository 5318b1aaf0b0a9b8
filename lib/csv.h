/* csv.h - RFC 4180 CSV rows over libcsv, and quoting on output */
#ifndef ES_CSV_H
#define ES_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include "value.h"

struct outbuf;

enum csv_status { CSV_ROW, CSV_MORE, CSV_BAD };

struct csv_in;
struct csv_in *csv_in_new(void);
void csv_in_free(struct csv_in *c);

/*
 * Feeds one physical line, without its terminator (the caller strips "\n"
 * and a "\r" before it). Returns:
 *   CSV_ROW  a row is complete: csv_in_cells() and csv_in_raw() describe it
 *            until the next call;
 *   CSV_MORE a quoted field goes on past this line: feed the next one (the
 *            line break belongs to the field as "\n");
 *   CSV_BAD  the row is malformed (*err: a static message); the parser is
 *            reset, csv_in_raw() holds the raw text of the bad row.
 * Fields are not trimmed; "" inside quotes is one quote.
 */
enum csv_status csv_in_line(struct csv_in *c, const char *line, size_t n,
			    const char **err);
/* At end of input: CSV_BAD ("unterminated quoted field") if a row is still
 * open (raw text via csv_in_raw), else CSV_ROW with zero cells. */
enum csv_status csv_in_eof(struct csv_in *c, const char **err);
/* Where a row over 16 MiB goes, in pieces (last=true at its end), since it
 * is not held: csv_in_line then reports it as CSV_BAD with a NULL raw text. */
void csv_in_set_spill(struct csv_in *c,
		      void (*spill)(void *ctx, const char *p, size_t n, bool last),
		      void *ctx);
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
