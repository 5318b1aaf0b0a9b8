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
 *
 * es-window's groups live here too: it refers to them by id (its panes and
 * session heap), emits a group's windows when the group is evicted
 * (keyed_set_evict), and finishes an event before any group goes
 * (keyed_hold, then keyed_fit).
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
/* The blocks' size from now on; no key may be held (keyed_clear first). */
void keyed_resize(struct keyed *k, size_t size);
/* New caps (a reload): keys beyond them are forgotten at once, least
 * recently seen first, as evictions (a changed cap is said once more). */
void keyed_set_max(struct keyed *k, long max, size_t max_bytes);
/* The same, each cap said only the first time it is reached by k whatever
 * its value; how many keys went for each cap in *by_keys and *by_bytes
 * (either may be NULL). */
void keyed_refit(struct keyed *k, long max, size_t max_bytes, long *by_keys,
		 long *by_bytes);
/* Calls drop on every live block, then frees everything. */
void keyed_free(struct keyed *k);

/* ---- by id: for a program that refers to keys outside their blocks ---- */

/*
 * How a key forgotten at a cap is said and what is done first: the cap on
 * keys is named max_opt (default "--max-keys"), what is done is said by
 * what (default "forgetting the least recently seen key"), and evict, if
 * not NULL, is called (before drop) on a key forgotten at a cap, not on
 * one removed or cleared. The strings must outlive k.
 */
void keyed_set_evict(struct keyed *k, const char *max_opt, const char *what,
		     void (*evict)(void *state, void *ctx));
/* The id of the key made of slots[kslot[0..n)], or -1 if it has no block;
 * the order of recent use stays as it is. */
int keyed_find(struct keyed *k, const struct span *slots, const int *kslot,
	       int n, struct scratch *sc);
/* keyed_get, giving the key's id (ids are small and reused after a key is
 * forgotten). */
int keyed_get_id(struct keyed *k, const struct span *slots, const int *kslot,
		 int n, struct scratch *sc, bool *fresh);
/* The block of id (live or forgotten: a forgotten key's block is left as
 * drop left it), valid until the next keyed_get. */
void *keyed_block(const struct keyed *k, int id);
/* The key bytes of a live id (key_decode reads them), stable while it
 * lives. */
const char *keyed_key(const struct keyed *k, int id, size_t *n);
/* Forgets a live key that holds nothing any more (drop is called): not an
 * eviction. */
void keyed_remove(struct keyed *k, int id);
/* As keyed_held, but no key is forgotten now (keyed_fit does that once the
 * program is done with the record in hand). Returns the state's bytes. */
size_t keyed_hold(struct keyed *k, int id, size_t bytes);
/* Forgets least recently seen keys, never keep (an id, or -1), until the
 * state is within max_bytes; returns how many. */
long keyed_fit(struct keyed *k, int keep);
/* Live keys, and the bytes of state (keys and what blocks hold). */
int keyed_live(const struct keyed *k);
size_t keyed_bytes(const struct keyed *k);

/* ---- the options every keyed program shares (lib/optgroup.h) ---- */

/* Frees the paths of --key (path_parse_list). */
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
