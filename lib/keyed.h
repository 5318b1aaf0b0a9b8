/* keyed.h - per-key state over a key table, with caps on keys and bytes
 *
 * The detectors (es-deadband, es-detect) keep a small block of state per
 * key (device, sensor...). This holds those blocks in one array indexed by
 * the key table's ids, finds a record's block from its key fields, and
 * bounds the state two ways: the number of keys, and the bytes that depend
 * on the input (the keys' bytes, and what a block owns of variable size,
 * which the program tells with keyed_held). At either cap the least
 * recently seen key is forgotten (after a callback that may emit what it
 * holds), said once on stderr and counted.
 */
#ifndef ES_KEYED_H
#define ES_KEYED_H

#include <stdbool.h>
#include <stddef.h>
#include "json.h"
#include "path.h"
#include "value.h"

#define KEYED_DEFAULT_MAX 100000
#define KEYED_MAX_KEYS 100000000	/* the most --max-keys accepts */

struct keyed;
/*
 * Blocks of size bytes; at most max keys and max_bytes of state. drop(state,
 * ctx) is called for a key that is forgotten (eviction at a cap, and
 * keyed_free), so that it can emit or free what the block owns.
 */
struct keyed *keyed_new(size_t size, long max, size_t max_bytes,
			void (*drop)(void *state, void *ctx), void *ctx);
/*
 * The block of the key made of the values of slots[kslot[0..n)] (n = 0:
 * one key for everything), added zeroed (*fresh = true) if new. A new key
 * is kept even if it alone is over max_bytes (the others are forgotten
 * then), so the state is at most max_bytes plus one key. The pointer is
 * valid until the next keyed_get (the array may move).
 */
void *keyed_get(struct keyed *k, const struct span *slots, const int *kslot,
		int n, struct scratch *sc, bool *fresh);
/*
 * The block state now owns bytes of memory besides itself (a copy of a
 * record, a window of points; 0 after a fresh keyed_get), counted against
 * max_bytes until its key is forgotten. If that is over, the least recently
 * seen keys are forgotten, never state's own.
 */
void keyed_held(struct keyed *k, const void *state, size_t bytes);
/* Calls fn on every live block (order: most recently seen first). */
void keyed_each(struct keyed *k, void (*fn)(void *state, void *ctx), void *ctx);
/* Forgets every key (drop is called on each, most recently seen first);
 * the counters (peaks, evicted) stay. For a reload that changes what a
 * key's state means. */
void keyed_clear(struct keyed *k);
/* New caps (a reload): keys beyond them are forgotten at once, least
 * recently seen first, as evictions (a changed cap is said once more). */
void keyed_set_max(struct keyed *k, long max, size_t max_bytes);
/* Calls drop on every live block, then frees everything. */
void keyed_free(struct keyed *k);

/* ---- the options every keyed program shares ---- */

/*
 * --key F1,F2: appends each field's path to *kpaths (*n of them). A bad
 * list is a usage error (exit 2), said with the column where it is.
 */
void keyed_parse_keys(struct path **kpaths, int *n, const char *text);
/* --max-keys N: a count from 1 to KEYED_MAX_KEYS, else a usage error. */
long keyed_max_keys(const char *arg);
/* Frees the paths of keyed_parse_keys. */
void keyed_paths_free(struct path *kpaths, int n);
/* True if two --key lists name the same fields in the same order: then a
 * key's state still means the same after a reload. */
bool keyed_same_keys(const struct path *a, int na, const struct path *b,
		     int nb);
/*
 * The slots in fs of the n key fields, in a new array for keyed_get (old,
 * the previous one, is freed: the fields are set up again on a reload).
 */
int *keyed_slots(struct fieldset *fs, const struct path *kpaths, int n,
		 int *old);
/*
 * A reload: the keys keep their state when it means the same under the
 * new options (kept), else they are all forgotten (keyed_clear), since a
 * state built for other series would judge the next records wrongly.
 * Writes what was done to buf, for reload_said(); returns its length (as
 * snprintf does), so that a program can add to it.
 */
int keyed_reload(struct keyed *k, bool kept, char *buf, size_t n);

/* The counters --stats reports; kept when the table is freed at exit,
 * since the stats are written after it. */
struct keyed_counts {
	int peak;			/* most keys at once */
	unsigned long long evicted;	/* keys forgotten at a cap */
	size_t peak_bytes;		/* most bytes at once */
};
/* k's counters, or *last if k is NULL (freed already). */
struct keyed_counts keyed_counts(const struct keyed *k,
				 const struct keyed_counts *last);

#endif
