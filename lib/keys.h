/* keys.h - group keys: values in a normal form, and a table of them
 *
 * Every keyed program (es-window's groups, es-join's keys, per-key state of
 * the detectors) needs the same two things: turn a record's key fields into
 * bytes that are equal exactly when the values are (a string in NDJSON and
 * the same text in CSV; 1.50 and 1.5), and find the state of a key fast.
 */
#ifndef ES_KEYS_H
#define ES_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "out.h"
#include "value.h"

/* Appends v in normal form: a type tag, a length, the bytes (decoded
 * string, shortest number); null and missing are one key. */
void key_append(struct outbuf *k, const struct value *v);
/* The same for matching keys across formats (joins): a string that reads
 * as a JSON number is that number ("7" from NDJSON meets 7 from a CSV
 * cell), and an integral double is that integer (7.0 is 7). */
void key_append_loose(struct outbuf *k, const struct value *v);
/* Reads n values back from a key made by key_append; strings and number
 * texts point into key. */
void key_decode(const char *key, int n, struct value *out);

/*
 * A hash table from key bytes to small integer ids (0, 1, ...), reused after
 * removal, so that callers keep per-key state in plain arrays indexed by id.
 * Keys are copied, and a key's copy stays where it is while its id lives
 * (keytab_key's pointer may be kept: key_decode's values point into it).
 * Lookups allocate nothing.
 */
struct keytab;
struct keytab *keytab_new(void);
/* The id of key, or -1. */
int keytab_find(const struct keytab *t, const char *key, size_t n);
/* Adds a key that is not there; returns its id. */
int keytab_add(struct keytab *t, const char *key, size_t n);
/* The same with the key's hash (keytab_hash) given: a caller that looks a
 * key up, then adds it, hashes it once. */
uint64_t keytab_hash(const char *key, size_t n);
int keytab_find_hashed(const struct keytab *t, uint64_t h, const char *key,
		       size_t n);
int keytab_add_hashed(struct keytab *t, uint64_t h, const char *key,
		      size_t n);
void keytab_remove(struct keytab *t, int id);
const char *keytab_key(const struct keytab *t, int id, size_t *n);
int keytab_count(const struct keytab *t);
/* The bytes of the live keys (for byte limits on state). */
size_t keytab_bytes(const struct keytab *t);
/* One more than the largest id in use: the size arrays of state need. */
int keytab_span(const struct keytab *t);
void keytab_free(struct keytab *t);

#endif
