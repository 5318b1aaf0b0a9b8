/* keyed.c - per-key state over a key table, with caps on keys and bytes */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "keyed.h"
#include "keys.h"
#include "mem.h"
#include "out.h"
#include "size.h"
#include "swar.h"

/*
 * A cache of recent keys by their raw bytes (each key field's span kind,
 * length and text, as the record has them), so that a record of a group
 * seen lately is found without typing its fields into the key's normal
 * form and probing the table (consecutive records of one group, or a few
 * hundred groups in turn, as a gateway's devices report). Set-associative:
 * a fixed RAW_SLOTS entries (72 kB), whatever the input. An entry names an
 * id and the generation the id had; forgetting a key bumps its
 * generation, so stale entries miss. Different raw keys of one key (1 and
 * 1.0) may name the same id; that is only a second entry.
 */
#define RAW_SLOTS 1024
#define RAW_WAYS 4		/* entries a key may take: its set */
#define RAW_WORDS 6
#define RAW_MAX (8 * RAW_WORDS)	/* raw keys longer are not cached */

/* A raw key is kept as words, zero past its length within its last, so
 * that it is hashed and compared a word at a time. */
union rawkey {
	uint64_t w[RAW_WORDS];
};

/* One cache line an entry (the table is line-aligned): a hit reads one.
 * No length is kept: a raw key says where each field ends, so one that
 * agrees with another over the other's whole length is that key. */
struct raw {
	uint64_t h;
	int id;
	unsigned gen;
	union rawkey key;
};
_Static_assert(sizeof(struct raw) == 64, "a raw-key entry is a cache line");

struct link {
	int prev, next;		/* LRU list, most recent first; -1 ends */
};

struct keyed {
	struct keytab *t;
	size_t size;
	long max;
	size_t max_bytes;
	void (*drop)(void *state, void *ctx);
	void (*evict)(void *state, void *ctx);	/* before drop, at a cap */
	const char *max_opt, *what;	/* how a cap is said */
	void *ctx;
	char *blocks;		/* size bytes per id */
	struct link *lru;
	size_t *held_by;	/* per id: what its block owns (keyed_held) */
	size_t held;		/* their sum */
	size_t peak_bytes;
	int cap, head, tail, live, peak;
	unsigned long long evicted;
	bool warned, warned_bytes;
	struct outbuf key;	/* the key being looked up */
	unsigned *gen;		/* per id: bumped when its key is forgotten */
	struct raw *raw;	/* RAW_SLOTS entries, allocated on first use */
	union rawkey rk;	/* the raw key being looked up */
	size_t rlen;		/* its length, 0 when too long to cache */
	uint64_t rh;		/* its hash */
};

struct keyed *keyed_new(size_t size, long max, size_t max_bytes,
			void (*drop)(void *state, void *ctx), void *ctx)
{
	struct keyed *k = xmalloc(sizeof *k);
	memset(k, 0, sizeof *k);
	k->t = keytab_new();
	k->size = size ? size : 1;
	k->max = max;
	k->max_bytes = max_bytes;
	k->drop = drop;
	k->ctx = ctx;
	k->max_opt = "--max-keys";
	k->what = "forgetting the least recently seen key";
	k->head = k->tail = -1;
	out_init(&k->key, -1, "key");
	return k;
}

static void *block(const struct keyed *k, int id)
{
	return k->blocks + (size_t)id * k->size;
}

static void unlink_id(struct keyed *k, int id)
{
	struct link *l = &k->lru[id];
	if (l->prev >= 0)
		k->lru[l->prev].next = l->next;
	else
		k->head = l->next;
	if (l->next >= 0)
		k->lru[l->next].prev = l->prev;
	else
		k->tail = l->prev;
	l->prev = l->next = -1;
}

static void push_front(struct keyed *k, int id)
{
	struct link *l = &k->lru[id];
	l->prev = -1;
	l->next = k->head;
	if (k->head >= 0)
		k->lru[k->head].prev = id;
	k->head = id;
	if (k->tail < 0)
		k->tail = id;
}

static void forget(struct keyed *k, int id)
{
	if (k->drop)
		k->drop(block(k, id), k->ctx);
	unlink_id(k, id);
	keytab_remove(k->t, id);
	k->gen[id]++;
	k->held -= k->held_by[id];
	k->held_by[id] = 0;
	k->live--;
}

/* The state that depends on the input: O(1), the table keeps its sum. */
static size_t state_bytes(const struct keyed *k)
{
	return keytab_bytes(k->t) + k->held;
}

static void note_peak(struct keyed *k)
{
	if (state_bytes(k) > k->peak_bytes)
		k->peak_bytes = state_bytes(k);
}

/* Forgets the least recently seen key, at the cap on keys or on bytes. */
static void evict_oldest(struct keyed *k, bool for_bytes)
{
	char size[32];
	if (!for_bytes && !k->warned)
		diag_warn("%s %ld reached: %s (counted as \"evicted\" in --stats)",
			  k->max_opt, k->max, k->what);
	else if (for_bytes && !k->warned_bytes)
		diag_warn("--max-state %s reached: %s (counted as \"evicted\" in "
			  "--stats)", size_text(k->max_bytes, size, sizeof size),
			  k->what);
	if (for_bytes)
		k->warned_bytes = true;
	else
		k->warned = true;
	k->evicted++;
	if (k->evict)
		k->evict(block(k, k->tail), k->ctx);
	forget(k, k->tail);
}

/* Forgets keys, least recently seen first and never keep, until the state
 * and need more bytes are within the cap (or keep is alone); returns how
 * many. */
static long fit_bytes(struct keyed *k, size_t need, int keep)
{
	long n = 0;
	for (; k->tail >= 0 && k->tail != keep &&
	       state_bytes(k) + need > k->max_bytes; n++)
		evict_oldest(k, true);
	return n;
}

static void grow(struct keyed *k)
{
	int need = keytab_span(k->t);
	if (need <= k->cap)
		return;
	int cap = k->cap ? k->cap : 64;
	while (cap < need)
		cap *= 2;
	k->blocks = xrealloc(k->blocks, (size_t)cap * k->size);
	k->lru = xrealloc(k->lru, (size_t)cap * sizeof *k->lru);
	k->held_by = xrealloc(k->held_by, (size_t)cap * sizeof *k->held_by);
	memset(k->held_by + k->cap, 0,
	       (size_t)(cap - k->cap) * sizeof *k->held_by);
	k->gen = xrealloc(k->gen, (size_t)cap * sizeof *k->gen);
	memset(k->gen + k->cap, 0, (size_t)(cap - k->cap) * sizeof *k->gen);
	k->cap = cap;
}

static int lookup(struct keyed *k, const struct span *slots, const int *kslot,
		  int n, struct scratch *sc);

/*
 * The raw key is built a word at a time in a register and stored whole:
 * the hash and the compare then read each word as it was stored. (Built
 * a byte and a memcpy at a time, each word read back waited for the
 * stores to retire: a fifth of keyed_find's time.) Words past the key's
 * last one are left as they were; nothing reads them as the key's.
 */
struct rawb {
	uint64_t acc;		/* the bytes of the word being filled */
	unsigned fill;		/* how many */
	size_t nw;		/* words stored */
	uint64_t h;
};

static inline void raw_word(struct keyed *k, struct rawb *r)
{
	k->rk.w[r->nw++] = r->acc;
	r->h = (r->h ^ r->acc) * 0x100000001b3ULL;
	r->h ^= r->h >> 29;
	r->acc = 0;
	r->fill = 0;
}

/* Appends the n (1 to 8) low bytes of w, the rest of w zero. A field's
 * bytes go in a word or two at a time: byte by byte, a short key took a
 * branch and a shift per byte. */
static inline void raw_put_bytes(struct keyed *k, struct rawb *r,
				 uint64_t w, unsigned n)
{
	unsigned fill = r->fill;
	r->acc |= w << (8 * fill);
	if (fill + n < 8) {
		r->fill = fill + n;
		return;
	}
	raw_word(k, r);
	r->acc = fill ? w >> (8 * (8 - fill)) : 0;
	r->fill = fill + n - 8;
}

/* The raw key of the record into k->rk (k->rlen 0 if it does not fit)
 * and its hash (FNV-style, a word a step, with a final mix). */
static void raw_key(struct keyed *k, const struct span *slots,
		    const int *kslot, int n)
{
	struct rawb r = { 0, 0, 0, 0xcbf29ce484222325ULL };
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		const struct span *sp = &slots[kslot[i]];
		/* a missing field's span has its kind set, nothing else (the
		 * readers leave p and n as they were): no bytes */
		size_t sn = sp->kind == SPAN_MISSING ? 0 : sp->n;
		if (sn > 255 || len + 2 + sn > RAW_MAX) {
			k->rlen = 0;
			return;
		}
		raw_put_bytes(k, &r, (unsigned char)sp->kind |
					     (uint64_t)(unsigned char)sn << 8, 2);
		const unsigned char *p = (const unsigned char *)sp->p;
		size_t left = sn;
		for (; left >= 8; left -= 8, p += 8)
			raw_put_bytes(k, &r, swar_load_le(p), 8);
		if (left)
			raw_put_bytes(k, &r, swar_load_tail(p, left),
				      (unsigned)left);
		len += 2 + sn;
	}
	if (r.fill)
		raw_word(k, &r);
	uint64_t h = (r.h ^ len) * 0x9e3779b97f4a7c15ULL;
	k->rh = h ^ (h >> 32);
	k->rlen = len;
}

/* The set of RAW_WAYS entries where the raw key k->rk may be. */
static struct raw *raw_set(const struct keyed *k)
{
	return &k->raw[(k->rh & (RAW_SLOTS / RAW_WAYS - 1)) * RAW_WAYS];
}

static bool raw_live(const struct keyed *k, const struct raw *e)
{
	return e->id >= 0 && k->gen[e->id] == e->gen;
}

static bool raw_same(const union rawkey *a, const union rawkey *b, size_t len)
{
	for (size_t i = 0; i < (len + 7) / 8; i++)
		if (a->w[i] != b->w[i])
			return false;
	return true;
}

/* The id the raw key k->rk had when last seen, if it is still live. */
static int raw_find(const struct keyed *k)
{
	if (!k->raw || !k->rlen)
		return -1;
	const struct raw *e = raw_set(k);
	for (int i = 0; i < RAW_WAYS; i++, e++)
		if (e->h == k->rh && raw_live(k, e) &&
		    raw_same(&e->key, &k->rk, k->rlen))
			return e->id;
	return -1;
}

/* Remembers id for the raw key k->rk: in a free or stale way of its set,
 * else in one picked by the hash. */
static void raw_put(struct keyed *k, int id)
{
	if (!k->rlen)
		return;
	if (!k->raw) {
		/* zeroed whole: a free entry's hash is read before its id */
		k->raw = xmalloc_aligned(64, RAW_SLOTS * sizeof *k->raw);
		memset(k->raw, 0, RAW_SLOTS * sizeof *k->raw);
		for (int i = 0; i < RAW_SLOTS; i++)
			k->raw[i].id = -1;
	}
	struct raw *set = raw_set(k), *e = &set[(k->rh >> 40) % RAW_WAYS];
	for (int i = 0; i < RAW_WAYS; i++)
		if (!raw_live(k, &set[i])) {
			e = &set[i];
			break;
		}
	e->h = k->rh;
	e->id = id;
	e->gen = k->gen[id];
	e->key = k->rk;
}

/* Builds the key in k->key (keyed_get_id adds it if new), unless the raw
 * key cache knows it. */
int keyed_find(struct keyed *k, const struct span *slots, const int *kslot,
	       int n, struct scratch *sc)
{
	raw_key(k, slots, kslot, n);
	int id = raw_find(k);
	if (id >= 0)
		return id;
	id = lookup(k, slots, kslot, n, sc);
	if (id >= 0)
		raw_put(k, id);
	return id;
}

/* The key in its normal form (k->key) looked up in the table. */
static int lookup(struct keyed *k, const struct span *slots, const int *kslot,
		  int n, struct scratch *sc)
{
	k->key.len = 0;
	for (int i = 0; i < n; i++) {
		struct value v;
		if (value_load(&slots[kslot[i]], &v, sc))
			v.t = V_NULL;
		key_append(&k->key, &v);
	}
	return keytab_find(k->t, k->key.buf ? k->key.buf : "", k->key.len);
}

void *keyed_get(struct keyed *k, const struct span *slots, const int *kslot,
		int n, struct scratch *sc, bool *fresh)
{
	return block(k, keyed_get_id(k, slots, kslot, n, sc, fresh));
}

int keyed_get_id(struct keyed *k, const struct span *slots, const int *kslot,
		 int n, struct scratch *sc, bool *fresh)
{
	int id = keyed_find(k, slots, kslot, n, sc);
	*fresh = id < 0;
	if (id >= 0) {
		if (k->head != id) {
			unlink_id(k, id);
			push_front(k, id);
		}
		return id;
	}
	if (k->live >= k->max)
		evict_oldest(k, false);
	fit_bytes(k, k->key.len, -1);
	id = keytab_add(k->t, k->key.buf ? k->key.buf : "", k->key.len);
	grow(k);
	raw_put(k, id);
	memset(block(k, id), 0, k->size);
	push_front(k, id);
	if (++k->live > k->peak)
		k->peak = k->live;
	note_peak(k);
	return id;
}

void keyed_held(struct keyed *k, const void *state, size_t bytes)
{
	int id = (int)(((const char *)state - k->blocks) / k->size);
	keyed_hold(k, id, bytes);
	fit_bytes(k, 0, id);
	note_peak(k);
}

/* ---- by id ---- */

void keyed_set_evict(struct keyed *k, const char *max_opt, const char *what,
		     void (*evict)(void *state, void *ctx))
{
	k->max_opt = max_opt;
	k->what = what;
	k->evict = evict;
}

void *keyed_block(const struct keyed *k, int id)
{
	return block(k, id);
}

const char *keyed_key(const struct keyed *k, int id, size_t *n)
{
	return keytab_key(k->t, id, n);
}

void keyed_remove(struct keyed *k, int id)
{
	forget(k, id);
}

size_t keyed_hold(struct keyed *k, int id, size_t bytes)
{
	k->held = k->held - k->held_by[id] + bytes;
	k->held_by[id] = bytes;
	return state_bytes(k);
}

long keyed_fit(struct keyed *k, int keep)
{
	return fit_bytes(k, 0, keep);
}

int keyed_live(const struct keyed *k)
{
	return k->live;
}

size_t keyed_bytes(const struct keyed *k)
{
	return state_bytes(k);
}

void keyed_each(struct keyed *k, void (*fn)(void *state, void *ctx), void *ctx)
{
	for (int id = k->head; id >= 0; id = k->lru[id].next)
		fn(block(k, id), ctx);
}

void keyed_clear(struct keyed *k)
{
	while (k->head >= 0)
		forget(k, k->head);
}

void keyed_resize(struct keyed *k, size_t size)
{
	if (k->live)
		abort();	/* a caller's bug: blocks in use would move */
	k->size = size ? size : 1;
	k->blocks = xrealloc(k->blocks, (size_t)(k->cap ? k->cap : 1) * k->size);
}

void keyed_set_max(struct keyed *k, long max, size_t max_bytes)
{
	/* a new limit is said when reached */
	if (max != k->max)
		k->warned = false;
	if (max_bytes != k->max_bytes)
		k->warned_bytes = false;
	keyed_refit(k, max, max_bytes, NULL, NULL);
}

void keyed_refit(struct keyed *k, long max, size_t max_bytes, long *by_keys,
		 long *by_bytes)
{
	long n = 0;
	k->max = max;
	k->max_bytes = max_bytes;
	for (; k->live > k->max; n++)
		evict_oldest(k, false);
	if (by_keys)
		*by_keys = n;
	n = fit_bytes(k, 0, -1);
	if (by_bytes)
		*by_bytes = n;
}

void keyed_free(struct keyed *k)
{
	if (!k)
		return;
	keyed_clear(k);
	keytab_free(k->t);
	out_free(&k->key);
	free(k->blocks);
	free(k->lru);
	free(k->held_by);
	free(k->gen);
	free(k->raw);
	free(k);
}

/* ---- the options every keyed program shares ---- */

void keyed_paths_free(struct path *kpaths, int n)
{
	for (int i = 0; i < n; i++)
		path_free(&kpaths[i]);
	free(kpaths);
}

bool keyed_same_keys(const struct path *a, int na, const struct path *b,
		     int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i].text, b[i].text))
			return false;
	return true;
}

int *keyed_slots(struct fieldset *fs, const struct path *kpaths, int n,
		 int *old)
{
	free(old);
	int *slot = xmalloc((size_t)(n ? n : 1) * sizeof *slot);
	for (int i = 0; i < n; i++)
		slot[i] = fieldset_add(fs, &kpaths[i]);
	return slot;
}

int keyed_reload(struct keyed *k, bool kept, char *buf, size_t n)
{
	int live = k->live;
	const char *s = live == 1 ? "" : "s";
	if (kept)
		return snprintf(buf, n, "the state of %d key%s kept", live, s);
	keyed_clear(k);
	return snprintf(buf, n, "the series changed: the state of %d key%s "
			"reset", live, s);
}

struct keyed_counts keyed_counts(const struct keyed *k,
				 const struct keyed_counts *last)
{
	if (!k)
		return *last;
	return (struct keyed_counts){ k->peak, k->evicted, k->peak_bytes };
}
