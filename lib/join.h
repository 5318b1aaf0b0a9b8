/* join.h - what es-join's two engines share: key pairs, keys, names
 *
 * The table enrichment (enrich.h) and the interval join of two streams
 * (ijoin.h) both match records by key fields named per side (--on
 * badge=id), build a record's key in the loose normal form (7, 7.0 and
 * "7" are one key: keys.h), and name fields by their decoded text.
 */
#ifndef ES_JOIN_H
#define ES_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "json.h"
#include "mem.h"
#include "out.h"
#include "path.h"
#include "record.h"
#include "swar.h"
#include "value.h"

/* Which records without a partner are written: none (inner), the left
 * side's (for a table: the input's), the right side's, or both (full). */
enum join_type { JOIN_INNER, JOIN_LEFT, JOIN_RIGHT, JOIN_FULL };

extern const char *const join_type_names[4];	/* "inner", ... */
/* A join type by its name into *t; -1 if text names none. */
int join_type_parse(const char *text, enum join_type *t);

/*
 * Field paths named in pairs, KEY or KEY=OTHER, comma-separated: p[0][i]
 * of the input (or left side), p[1][i] of the table (or right side),
 * the same path on both sides when no OTHER is given.
 */
struct join_pairs {
	struct path *p[2];
	int n;
};

/* Parses text into jp (opt names the option in messages). Returns 0, or
 * -1 with why in err (jp is then empty). */
int join_pairs_parse(struct join_pairs *jp, const char *opt, const char *text,
		     char *err, size_t errn);
void join_pairs_free(struct join_pairs *jp);
/* The same paths, as written, in the same order. */
bool join_pairs_same(const struct join_pairs *a, const struct join_pairs *b);
/* The slots in fs of side si's paths (added to fs), in a new array. */
int *join_pairs_slots(const struct join_pairs *jp, int si,
		      struct fieldset *fs);
/* The name of a path that is one top-level key, or NULL. */
const char *join_top_name(const struct path *p, size_t *n);

/* Appends v to the key k; false for null or missing (which match
 * nothing). */
bool join_key_add(struct outbuf *k, const struct value *v);
/* The key of the values at slots[kslot[0..n)], into k (emptied first);
 * false if one of them is null or missing. */
bool join_key(struct outbuf *k, const struct span *slots, const int *kslot,
	      int n, struct scratch *s);
/* A key of n values as text for messages: the values joined by commas,
 * cut with "..." to fit on bytes. */
void join_key_text(const char *k, int n, char *o, size_t on);

/* A field name as text: CSV names are plain, JSON keys may need decoding
 * (into s). */
void join_name(const struct span *k, struct scratch *s, const char **p,
	       size_t *n);
/* CSV cells become JSON strings: they must be UTF-8. NULL, or why (in
 * msg). */
const char *join_csv_utf8(const struct record *rec, char *msg, size_t n);

static inline bool join_same(const char *a, size_t an, const char *b,
			     size_t bn)
{
	return swar_equal(a, an, b, bn);
}

/* Grows a dynamic array by doubling when it is full. */
#define JOIN_GROW(arr, n, cap) \
	do { \
		if ((size_t)(n) >= (size_t)(cap)) { \
			(cap) = (cap) ? (cap) * 2 : 8; \
			(arr) = xrealloc((arr), (size_t)(cap) * sizeof *(arr)); \
		} \
	} while (0)

#endif
