/* keys.c - group keys: values in a normal form, and a table of them */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
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
	out_putc(k, tag);
	out_put(k, &len, sizeof len);
	out_put(k, p, n);
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

struct entry {
	uint64_t hash;
	char *key;		/* NULL: the id is free */
	size_t n;
	int next_free;
};

struct keytab {
	int *slots;		/* open addressing: id + 1, 0 empty */
	size_t cap;
	struct entry *e;
	int ne, cape, nlive, free_head;
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

struct keytab *keytab_new(void)
{
	struct keytab *t = xmalloc(sizeof *t);
	memset(t, 0, sizeof *t);
	t->free_head = -1;
	t->cap = 64;
	t->slots = xmalloc(t->cap * sizeof *t->slots);
	memset(t->slots, 0, t->cap * sizeof *t->slots);
	return t;
}

static size_t probe(const struct keytab *t, uint64_t h, const char *key,
		    size_t n, bool *found)
{
	size_t mask = t->cap - 1, j = h & mask;
	for (; t->slots[j]; j = (j + 1) & mask) {
		const struct entry *e = &t->e[t->slots[j] - 1];
		if (e->hash == h && e->n == n && !memcmp(e->key, key, n)) {
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
	return found ? t->slots[j] - 1 : -1;
}

int keytab_find(const struct keytab *t, const char *key, size_t n)
{
	return keytab_find_hashed(t, keytab_hash(key, n), key, n);
}

static void grow(struct keytab *t)
{
	size_t cap = t->cap * 2;
	int *s = xmalloc(cap * sizeof *s);
	memset(s, 0, cap * sizeof *s);
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i])
			continue;
		size_t j = t->e[t->slots[i] - 1].hash & (cap - 1);
		while (s[j])
			j = (j + 1) & (cap - 1);
		s[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = s;
	t->cap = cap;
}

int keytab_add_hashed(struct keytab *t, uint64_t h, const char *key,
		      size_t n)
{
	if ((size_t)(t->nlive + 1) * 2 > t->cap)
		grow(t);
	int id;
	if (t->free_head >= 0) {
		id = t->free_head;
		t->free_head = t->e[id].next_free;
	} else {
		if (t->ne == t->cape) {
			t->cape = t->cape ? t->cape * 2 : 64;
			t->e = xrealloc(t->e, (size_t)t->cape * sizeof *t->e);
		}
		id = t->ne++;
	}
	struct entry *e = &t->e[id];
	e->hash = h;
	e->key = xmalloc(n);
	memcpy(e->key, key, n);
	e->n = n;
	t->bytes += n;
	bool found;
	size_t j = probe(t, h, key, n, &found);
	t->slots[j] = id + 1;
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
	struct entry *e = &t->e[id];
	bool found;
	size_t mask = t->cap - 1, i = probe(t, e->hash, e->key, e->n, &found);
	t->slots[i] = 0;
	for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		size_t home = t->e[t->slots[j] - 1].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			t->slots[j] = 0;
			i = j;
		}
	}
	free(e->key);
	e->key = NULL;
	t->bytes -= e->n;
	e->next_free = t->free_head;
	t->free_head = id;
	t->nlive--;
}

const char *keytab_key(const struct keytab *t, int id, size_t *n)
{
	*n = t->e[id].n;
	return t->e[id].key;
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
	for (int i = 0; i < t->ne; i++)
		free(t->e[i].key);
	free(t->e);
	free(t->slots);
	free(t);
}
