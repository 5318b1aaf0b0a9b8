/* enrich_table.h - the table of a table join: rows by key, loaded whole
 *
 * A table file (CSV or NDJSON, detected from its first non-blank byte) is
 * read into rows filed under their key (the table's side of --on); the
 * key fields themselves are not kept in the rows. Each row keeps its
 * fields typed (for built output) and as "name":value text (for NDJSON
 * splicing), under output names that carry the prefix (--table-prefix).
 * A load is all or nothing: a broken line fails it, with why.
 */
#ifndef ES_ENRICH_TABLE_H
#define ES_ENRICH_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "join.h"
#include "value.h"

struct enrich_field {
	int col;		/* its column (output name) in the table */
	struct value v;		/* typed; text owned by the row */
	uint32_t joff, jlen;	/* its "name":value piece, in the row's text */
};

struct enrich_row {
	uint64_t line;
	int nf;
	struct enrich_field *f;	/* the row's fields but its key columns */
	const char *text;
};

struct enrich_table;

/*
 * Loads the table at path, keyed by keys->p[1], its fields named prefix
 * + name (prefix NULL or ""). Returns 0 with the table in *res (and says
 * on stderr which keys were duplicate or missing: the last row of a key
 * wins), or -1 with why in err.
 */
int enrich_table_load(const char *path, const struct join_pairs *keys,
		      const char *prefix, struct enrich_table **res,
		      char *err, size_t errn);
void enrich_table_free(struct enrich_table *t);
/* The row of a key (join_key's bytes), or NULL. */
const struct enrich_row *enrich_table_get(const struct enrich_table *t,
					  const char *key, size_t n);
/* Columns: ids 0 .. ncols-1 in the order first seen. */
int enrich_table_ncols(const struct enrich_table *t);
const char *enrich_table_col(const struct enrich_table *t, int col,
			     size_t *n);
/* The column of an output name, or -1. */
int enrich_table_find_col(const struct enrich_table *t, const char *name,
			  size_t n);
size_t enrich_table_rows(const struct enrich_table *t);

#endif
