/* ijoin_buf.c - the buffered events of the interval join: per side by key
 * (the events a new one of the other side may match) and on a heap by
 * time (the next to expire or to be evicted), with the bytes they hold */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "ijoin_impl.h"
#include "mem.h"

bool ijoin_buf_less(const struct ijoin_ev *a, const struct ijoin_ev *b)
{
	if (a->v.t != b->v.t)
		return a->v.t < b->v.t;
	return a->seq < b->seq;
}

static void ijoin_buf_push(struct ijoin_side *s, struct ijoin_ev *e)
{
	JOIN_GROW(s->heap, s->nheap, s->capheap);
	size_t i = s->nheap++;
	while (i > 0 && ijoin_buf_less(e, s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

struct ijoin_ev *ijoin_buf_pop(struct ijoin_side *s)
{
	struct ijoin_ev *top = s->heap[0], *last = s->heap[--s->nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && ijoin_buf_less(s->heap[c + 1], s->heap[c]))
			c++;
		if (!ijoin_buf_less(s->heap[c], last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

int ijoin_buf_oldest(const struct ijoin *j)
{
	if (!j->S[0].nheap)
		return j->S[1].nheap ? 1 : -1;
	if (!j->S[1].nheap)
		return 0;
	return ijoin_buf_less(j->S[1].heap[0], j->S[0].heap[0]) ? 1 : 0;
}

size_t ijoin_buf_state(const struct ijoin *j)
{
	return j->ev_bytes + keytab_bytes(j->S[0].keys) +
	       keytab_bytes(j->S[1].keys);
}

/* What a buffered event's field counts in state_bytes: its slot on a
 * 64-bit machine (es-join(1) says 48 bytes), counted so on 32-bit ones
 * too, so that one --max-state keeps the same events on every gateway
 * and the counters agree across a fleet. */
#define IJOIN_FIELD_BYTES 48
_Static_assert(sizeof(void *) != 8 || sizeof(struct ofield) == IJOIN_FIELD_BYTES,
	       "a field's slot is what es-join(1) says");

/* The text an event holds: its fields' names and values, its time. */
static size_t ijoin_buf_text(const struct ijoin_view *v)
{
	size_t text = v->tv.s ? v->tv.n : 0;
	for (int i = 0; i < v->nf; i++)
		text += v->f[i].namelen + (v->f[i].v.s ? v->f[i].v.n : 0);
	return text;
}

size_t ijoin_buf_bytes(const struct ijoin_view *v)
{
	return (size_t)v->nf * IJOIN_FIELD_BYTES + ijoin_buf_text(v);
}

/* A copy of v (its fields, then their text) past the header; bytes is
 * what it counts. */
static struct ijoin_ev *ijoin_buf_copy(const struct ijoin_view *v,
				       size_t bytes)
{
	struct ijoin_ev *e = xmalloc(sizeof *e + (size_t)v->nf *
				     sizeof(struct ofield) + ijoin_buf_text(v));
	e->bytes = bytes;
	struct ofield *f = (struct ofield *)(e + 1);
	char *p = (char *)(f + v->nf);
	for (int i = 0; i < v->nf; i++) {
		f[i] = v->f[i];
		memcpy(p, v->f[i].name, v->f[i].namelen);
		f[i].name = p;
		p += v->f[i].namelen;
		if (f[i].v.s) {
			memcpy(p, v->f[i].v.s, v->f[i].v.n);
			f[i].v.s = p;
			p += v->f[i].v.n;
		}
	}
	e->v = *v;
	e->v.f = f;
	if (v->tv.s) {
		memcpy(p, v->tv.s, v->tv.n);
		e->v.tv.s = p;
	}
	return e;
}

void ijoin_buf_add(struct ijoin *j, int si, const struct ijoin_view *v,
		   size_t bytes, int bid, bool matched)
{
	struct ijoin_side *s = &j->S[si];
	if (bid < 0) {
		bid = keytab_add(s->keys, j->key.buf, j->key.len);
		JOIN_GROW(s->bk, bid, s->capbk);
		s->bk[bid].head = s->bk[bid].tail = NULL;
	}
	struct ijoin_bucket *b = &s->bk[bid];
	struct ijoin_ev *e = ijoin_buf_copy(v, bytes);
	j->ev_bytes += bytes;
	e->bid = bid;
	e->prev = b->tail;
	e->next = NULL;
	if (b->tail)
		b->tail->next = e;
	else
		b->head = e;
	b->tail = e;
	e->seq = j->ev_seq++;
	e->matched = matched;
	ijoin_buf_push(s, e);
	j->nbuffered++;
}

void ijoin_buf_unlink(struct ijoin *j, int si, struct ijoin_ev *e)
{
	struct ijoin_side *s = &j->S[si];
	struct ijoin_bucket *b = &s->bk[e->bid];
	if (e->prev)
		e->prev->next = e->next;
	else
		b->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		b->tail = e->prev;
	if (!b->head)
		keytab_remove(s->keys, e->bid);
	j->ev_bytes -= e->bytes;
	j->nbuffered--;
}
