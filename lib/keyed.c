/* keyed.c - per-key state of fixed size over a key table, with a cap */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "keyed.h"
#include "keys.h"
#include "loop.h"

struct link {
	int prev, next;		/* LRU list, most recent first; -1 ends */
};

struct keyed {
	struct keytab *t;
	size_t size;
	long max;
	void (*drop)(void *state, void *ctx);
	void *ctx;
	char *blocks;		/* size bytes per id */
	struct link *lru;
	int cap, head, tail, live, peak;
	unsigned long long evicted;
	bool warned;
	struct outbuf key;	/* the key being looked up */
};

struct keyed *keyed_new(size_t size, long max,
			void (*drop)(void *state, void *ctx), void *ctx)
{
	struct keyed *k = xmalloc(sizeof *k);
	memset(k, 0, sizeof *k);
	k->t = keytab_new();
	k->size = size ? size : 1;
	k->max = max;
	k->drop = drop;
	k->ctx = ctx;
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
	k->live--;
}

static void evict_oldest(struct keyed *k)
{
	if (!k->warned)
		diag_warn("--max-keys %ld reached: forgetting the least recently "
			  "seen key (counted as \"evicted\" in --stats)", k->max);
	k->warned = true;
	k->evicted++;
	forget(k, k->tail);
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
	k->cap = cap;
}

void *keyed_get(struct keyed *k, const struct span *slots, const int *kslot,
		int n, struct scratch *sc, bool *fresh)
{
	k->key.len = 0;
	for (int i = 0; i < n; i++) {
		struct value v;
		if (value_load(&slots[kslot[i]], &v, sc))
			v.t = V_NULL;
		key_append(&k->key, &v);
	}
	int id = keytab_find(k->t, k->key.buf ? k->key.buf : "", k->key.len);
	*fresh = id < 0;
	if (id >= 0) {
		if (k->head != id) {
			unlink_id(k, id);
			push_front(k, id);
		}
		return block(k, id);
	}
	if (k->live >= k->max)
		evict_oldest(k);
	id = keytab_add(k->t, k->key.buf ? k->key.buf : "", k->key.len);
	grow(k);
	memset(block(k, id), 0, k->size);
	push_front(k, id);
	if (++k->live > k->peak)
		k->peak = k->live;
	return block(k, id);
}

void keyed_each(struct keyed *k, void (*fn)(void *state, void *ctx), void *ctx)
{
	for (int id = k->head; id >= 0; id = k->lru[id].next)
		fn(block(k, id), ctx);
}

int keyed_peak(const struct keyed *k)
{
	return k->peak;
}

unsigned long long keyed_evicted(const struct keyed *k)
{
	return k->evicted;
}

int keyed_live(const struct keyed *k)
{
	return k->live;
}

void keyed_clear(struct keyed *k)
{
	while (k->head >= 0)
		forget(k, k->head);
}

void keyed_set_max(struct keyed *k, long max)
{
	if (max == k->max)
		return;
	k->max = max;
	k->warned = false;	/* the new limit is said when reached */
	while (k->live > k->max)
		evict_oldest(k);
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
	free(k);
}
