/* edit.h - changing a record's fields: set, remove, rename, keep
 *
 * A record being edited is a tree of its fields. Fields nobody touches stay
 * spans of the input text and are copied byte for byte on output; an NDJSON
 * object (the record itself or a nested one) that only gained fields is
 * written as its original text with the new members spliced in before its
 * closing brace. Everything lives in a scratch arena reset per record, so
 * editing allocates nothing once the arena has grown to fit.
 *
 * NDJSON paths name nested members (meta.unit); a CSV record is flat: a
 * path names the column called as the path is written (meta.unit), or the
 * key of a one-key path ("odd key" names the column odd key), as the reader
 * finds CSV columns. Paths given to set, remove, rename and keep have no
 * array index steps (the caller refuses them); edit_get takes any path.
 */
#ifndef ES_EDIT_H
#define ES_EDIT_H

#include <stdbool.h>
#include "out.h"
#include "path.h"
#include "record.h"
#include "value.h"

struct edit;
struct edit *edit_new(void);
void edit_free(struct edit *e);

/* Starts editing rec (its members are found again when its reader did
 * not collect them: see record_fields). Forgets the previous record. */
void edit_begin(struct edit *e, const struct record *rec);

/*
 * Sets the field at p to v, creating the objects on the way. v's bytes
 * must stay valid until the next edit_begin. Returns 0, or -1 when a field
 * on the way is not an object (*err: a message naming it).
 */
int edit_set(struct edit *e, const struct path *p, const struct value *v,
	     const char **err);
/* The current value at p as a span (computed values rendered as JSON text
 * in the edit's arena); SPAN_MISSING if there is none. */
void edit_get(struct edit *e, const struct path *p, struct span *out);
/* Removes the field at p; false if there was none. */
bool edit_remove(struct edit *e, const struct path *p);
/* Renames from to to: in place when both have the same parent object
 * (a field already called to is removed), else moved to the end of to's
 * parent. Returns -1 (with *err) as edit_set; 0 also when from is missing. */
int edit_rename(struct edit *e, const struct path *from, const struct path *to,
		const char **err);
/* Keeps only the fields at the n paths (and the objects leading to them),
 * in the record's order. */
void edit_keep(struct edit *e, const struct path *paths, int n);

/* Whether anything was changed since edit_begin. */
bool edit_changed(const struct edit *e);
/* Writes the edited record as one NDJSON line. Returns 0, or -1 (*err
 * set) when a CSV record holds bytes that are not UTF-8. */
int edit_write_ndjson(struct edit *e, struct outbuf *o, const char **err);
/* Writes it through w (CSV output: header from the first record written);
 * -1 with *err as writer_put_fields. */
int edit_write_fields(struct edit *e, struct writer *w, const char **err);

/*
 * The quick way for the commonest edit: an NDJSON record gains top-level
 * fields it does not have (es-map 'value_f = value * 9 / 5 + 32'), and
 * nothing else changes. edit_add_begin starts (and forgets the previous
 * record, as edit_begin does); edit_add adds name = v, in order, and sets
 * *text to v as JSON text (valid until the next begin) to read it back;
 * edit_add_write writes the record's text with the new members before its
 * closing '}' and a newline: the same bytes edit_write_ndjson writes for
 * these edits, without reading the record's members into a tree. The
 * caller makes sure the record has none of the names.
 */
void edit_add_begin(struct edit *e, const struct record *rec);
void edit_add(struct edit *e, const char *name, size_t namen,
	      const struct value *v, struct span *text);
void edit_add_write(struct edit *e, struct outbuf *o);

/* Appends v as JSON text to o (strings escaped, numbers with their own
 * digits when they have them, non-finite numbers as null). */
void edit_write_value(struct outbuf *o, const struct value *v);

#endif
