/* keys.c - group keys: values in a normal form, and a table of them */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "mem.h"
#include "number.h"
#include "swar.h"

void key_append(struct outbuf *k, const struct value *v)
{
	char buf[40];
	const char *p = "";
	size_t n = 0;
	char tag;
	switch (v->t) {
	case V_STRING: tag = 's'; p = v->s; n = v->n; break;
	case V_INT:
		tag = 'i';
		n = number_format_int(v->u.i, buf);
		p = buf;
		break;
	case V_DOUBLE:
		tag = 'd';
		if (isinf(v->u.d)) {
			/* Beyond double range (1e999): one key per sign, whose
			 * text still reads back as JSON (number_format gives
			 * null for both, which made 1e999 and -1e999 one key). */
			p = v->u.d > 0 ? "1e999" : "-1e999";
			n = strlen(p);
		} else {
			/* -0.0 == 0.0: by value they are one key */
			n = number_format(v->u.d == 0 ? 0.0 : v->u.d, buf);
			p = buf;
		}
		break;
	case V_BOOL: tag = v->u.b ? 't' : 'f'; break;
	case V_RAW: tag = 'r'; p = v->s; n = v->n; break;
	default: tag = 'n';	/* null and missing are one key */
	}
	uint32_t len = (uint32_t)n;
	if (k->cap - k->len < 1 + sizeof len + n) {
		out_putc(k, tag);
		out_put(k, &len, sizeof len);
		out_put(k, p, n);
		return;
	}
	/* The common case in place: one call a value, not three (a key is
	 * made per record; es-dedup spent 5% in out_put). */
	char *b = k->buf + k->len;
	b[0] = tag;
	memcpy(b + 1, &len, sizeof len);
	memcpy(b + 1 + sizeof len, p, n);
	k->len += 1 + sizeof len + n;
}

void key_append_loose(struct outbuf *k, const struct value *v)
{
	struct value num;
	if (v->t == V_STRING && number_parse(v->s, v->n, &num))
		v = &num;
	if (v->t == V_DOUBLE && v->u.d == floor(v->u.d) && fabs(v->u.d) < 9.2e18) {
		num.t = V_INT;
		num.u.i = (int64_t)v->u.d;
		v = &num;
	}
	key_append(k, v);
}

void key_decode(const char *key, int n, struct value *out)
{
	const char *p = key;
	for (int i = 0; i < n; i++) {
		char tag = *p++;
		uint32_t len;
		memcpy(&len, p, sizeof len);
		p += sizeof len;
		struct value *v = &out[i];
		memset(v, 0, sizeof *v);
		v->s = p;
		v->n = len;
		switch (tag) {
		case 's': v->t = V_STRING; break;
		case 'i': v->t = V_INT; break;	/* the writer uses the text */
		case 'd': v->t = V_DOUBLE; break;
		case 't': v->t = V_BOOL; v->u.b = true; break;
		case 'f': v->t = V_BOOL; v->u.b = false; break;
		case 'r': v->t = V_RAW; break;
		default: v->t = V_NULL;
		}
		p += len;
	}
}

/*
 * The table: open addressing over 4-byte slots, entries in chunks.
 *
 * A slot holds an id + 1 in its low idbits bits and, above them, the top
 * bits of the key's hash (a tag): a probe passes over another key's slot
 * without reading its entry unless the tags match (1 in 2^(32 - idbits)
 * for a tag of 12 bits at a million keys). The ids take more bits as
 * they grow, the tags fewer (retag); the slots stay 4 bytes.
 *
 * A key of up to KEY_INLINE bytes is kept in its entry (a group key of a
 * name and a number is 15 to 25 bytes): no allocation, and the compare
 * reads the line the hash was on. Entries come in chunks that never
 * move, so a key's bytes stay where they are while its id lives (callers
 * keep values that point into them: key_decode).
 */
#define KEY_INLINE 24
#define CHUNK_BITS 10
#define CHUNK (1 << CHUNK_BITS)

struct entry {
	uint64_t hash;
	uint32_t n;
	int next_free;		/* -2: in use */
	union {
		char *p;	/* n > KEY_INLINE */
		char in[KEY_INLINE];
	} key;
};

struct keytab {
	uint32_t *slots;	/* tag << idbits | (id + 1); 0 empty */
	size_t cap;
	unsigned idbits;
	uint32_t idmask;
	struct entry **chunks;	/* of CHUNK entries */
	int nchunks;
	int ne, nlive, free_head;
	size_t bytes;		/* of the live keys */
};

static inline uint64_t mix(uint64_t x)
{
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 31);
}

/* A word at a time (keys are mostly 10 to 30 bytes; FNV's multiply a byte
 * was a chain of their length). */
uint64_t keytab_hash(const char *key, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	for (; n >= 8; n -= 8, key += 8)
		h = mix(h ^ swar_load_le(key));
	if (n)
		h = mix(h ^ swar_load_tail(key, n));
	return h ^ (h >> 29);
}

static inline struct entry *entry(const struct keytab *t, int id)
{
	return &t->chunks[id >> CHUNK_BITS][id & (CHUNK - 1)];
}

static inline const char *entry_key(const struct entry *e)
{
	return e->n > KEY_INLINE ? e->key.p : e->key.in;
}

static inline uint32_t tag_of(const struct keytab *t, uint64_t h)
{
	return t->idbits < 32 ? (uint32_t)(h >> 32) & ~t->idmask : 0;
}

static inline int slot_id(const struct keytab *t, uint32_t s)
{
	return (int)(s & t->idmask) - 1;
}

static void set_idbits(struct keytab *t, unsigned bits)
{
	t->idbits = bits;
	t->idmask = bits < 32 ? (1u << bits) - 1 : ~0u;
}

struct keytab *keytab_new(void)
{
	struct keytab *t = xmalloc(sizeof *t);
	memset(t, 0, sizeof *t);
	t->free_head = -1;
	set_idbits(t, 16);
	t->cap = 64;
	t->slots = xmalloc(t->cap * sizeof *t->slots);
	memset(t->slots, 0, t->cap * sizeof *t->slots);
	return t;
}

static size_t probe(const struct keytab *t, uint64_t h, const char *key,
		    size_t n, bool *found)
{
	size_t mask = t->cap - 1, j = h & mask;
	uint32_t tag = tag_of(t, h), tagmask = ~t->idmask, s;
	for (; (s = t->slots[j]); j = (j + 1) & mask) {
		if ((s & tagmask) != tag)
			continue;
		const struct entry *e = entry(t, slot_id(t, s));
		if (e->hash == h && swar_equal(entry_key(e), e->n, key, n)) {
			*found = true;
			return j;
		}
	}
	*found = false;
	return j;
}

int keytab_find_hashed(const struct keytab *t, uint64_t h, const char *key,
		       size_t n)
{
	bool found;
	size_t j = probe(t, h, key, n, &found);
	return found ? slot_id(t, t->slots[j]) : -1;
}

int keytab_find(const struct keytab *t, const char *key, size_t n)
{
	return keytab_find_hashed(t, keytab_hash(key, n), key, n);
}

/* The slots anew at cap (each tagged for the table's idbits), filled from
 * the entries in id order: read from the old slots, each entry's hash was
 * a cache miss of its own (8% of es-dedup's time). */
static void rehash(struct keytab *t, size_t cap)
{
	uint32_t *s = xmalloc(cap * sizeof *s);
	memset(s, 0, cap * sizeof *s);
	for (int id = 0; id < t->ne; id++) {
		const struct entry *e = entry(t, id);
		if (e->next_free != -2)
			continue;
		size_t j = e->hash & (cap - 1);
		while (s[j])
			j = (j + 1) & (cap - 1);
		s[j] = tag_of(t, e->hash) | (uint32_t)(id + 1);
	}
	free(t->slots);
	t->slots = s;
	t->cap = cap;
}

/* A new id: a free one, else the next (a new chunk when it needs one;
 * more id bits, fewer tag bits, when it needs them). */
static int new_id(struct keytab *t)
{
	int id = t->free_head;
	if (id >= 0) {
		t->free_head = entry(t, id)->next_free;
		return id;
	}
	if (t->ne == INT_MAX - 1)
		mem_oom();	/* ids are ints: far past any memory here */
	if ((uint32_t)t->ne + 1 > t->idmask) {
		/* more bits for the ids, fewer for the tags: all tagged anew */
		set_idbits(t, t->idbits + 4 < 32 ? t->idbits + 4 : 32);
		rehash(t, t->cap);
	}
	id = t->ne++;
	if ((id & (CHUNK - 1)) == 0) {
		t->chunks = xrealloc(t->chunks, (size_t)(t->nchunks + 1) *
					       sizeof *t->chunks);
		t->chunks[t->nchunks++] = xmalloc(CHUNK * sizeof **t->chunks);
	}
	return id;
}

int keytab_add_hashed(struct keytab *t, uint64_t h, const char *key,
		      size_t n)
{
	if ((size_t)(t->nlive + 1) * 2 > t->cap)
		rehash(t, t->cap * 2);
	if (n > UINT32_MAX)
		mem_oom();	/* lines are far shorter (input.c) */
	int id = new_id(t);
	struct entry *e = entry(t, id);
	e->hash = h;
	e->n = (uint32_t)n;
	e->next_free = -2;
	if (n > KEY_INLINE) {
		e->key.p = xmalloc(n);
		memcpy(e->key.p, key, n);
	} else {
		memcpy(e->key.in, key, n);
	}
	t->bytes += n;
	bool found;
	size_t j = probe(t, h, key, n, &found);
	t->slots[j] = tag_of(t, h) | (uint32_t)(id + 1);
	t->nlive++;
	return id;
}

int keytab_add(struct keytab *t, const char *key, size_t n)
{
	return keytab_add_hashed(t, keytab_hash(key, n), key, n);
}

/* Linear probing deletion without tombstones: later entries shift back. */
void keytab_remove(struct keytab *t, int id)
{
	struct entry *e = entry(t, id);
	bool found;
	size_t mask = t->cap - 1;
	size_t i = probe(t, e->hash, entry_key(e), e->n, &found);
	t->slots[i] = 0;
	for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		size_t home = entry(t, slot_id(t, t->slots[j]))->hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			t->slots[j] = 0;
			i = j;
		}
	}
	if (e->n > KEY_INLINE)
		free(e->key.p);
	t->bytes -= e->n;
	e->n = 0;
	e->next_free = t->free_head;
	t->free_head = id;
	t->nlive--;
}

const char *keytab_key(const struct keytab *t, int id, size_t *n)
{
	const struct entry *e = entry(t, id);
	*n = e->n;
	return entry_key(e);
}

int keytab_count(const struct keytab *t)
{
	return t->nlive;
}

size_t keytab_bytes(const struct keytab *t)
{
	return t->bytes;
}

int keytab_span(const struct keytab *t)
{
	return t->ne;
}

void keytab_free(struct keytab *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->ne; i++) {
		struct entry *e = entry(t, i);
		if (e->next_free == -2 && e->n > KEY_INLINE)
			free(e->key.p);
	}
	for (int i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->slots);
	free(t);
}
