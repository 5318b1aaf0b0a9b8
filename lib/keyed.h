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
#include "value.h"

#define KEYED_DEFAULT_MAX 100000

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
int keyed_peak(const struct keyed *k);		/* most keys at once */
size_t keyed_peak_bytes(const struct keyed *k);	/* most bytes at once */
int keyed_live(const struct keyed *k);		/* keys now */
/* Forgets every key (drop is called on each, most recently seen first);
 * the counters (peaks, evicted) stay. For a reload that changes what a
 * key's state means. */
void keyed_clear(struct keyed *k);
/* New caps (a reload): keys beyond them are forgotten at once, least
 * recently seen first, as evictions (a changed cap is said once more). */
void keyed_set_max(struct keyed *k, long max, size_t max_bytes);
unsigned long long keyed_evicted(const struct keyed *k);
/* Calls drop on every live block, then frees everything. */
void keyed_free(struct keyed *k);

#endif
