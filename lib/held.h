/* held.h - a record copied so that it can be written later
 *
 * A program that holds a record back (es-deadband's held point) keeps a
 * copy: its raw text and, for CSV, its cells with copies of the header's
 * names, since a held row may outlive its input. The headers copied are
 * kept in a held_headers, one per input seen, shared by all copies.
 */
#ifndef ES_HELD_H
#define ES_HELD_H

#include <stddef.h>
#include "record.h"

/* The CSV headers of the inputs read so far, copied. */
struct held_headers {
	struct csv_header **h;
	int n;
};

struct held {
	char *buf;		/* raw text, then (CSV) the cells' bytes */
	size_t cap;
	struct member *cells;	/* CSV: header names with cell values */
	size_t capcells;
	struct record rec;	/* points into the above */
};

/* A new empty copy (nothing held yet). */
struct held *held_new(void);
/* Copies rec into s (reusing its buffers); a CSV header is copied once
 * into hh. s->rec is then the record to write. */
void held_save(struct held *s, struct held_headers *hh,
	       const struct record *rec);
/* What the copy takes (it is as big as the record). */
size_t held_bytes(const struct held *s);
/* Frees s (NULL: nothing). */
void held_free(struct held *s);
void held_headers_free(struct held_headers *hh);

#endif
