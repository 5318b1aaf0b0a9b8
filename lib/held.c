/* held.c - a record copied so that it can be written later */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "held.h"
#include "mem.h"

static const struct csv_header *held_header(struct held_headers *hh,
					    const struct csv_header *h)
{
	for (int i = hh->n - 1; i >= 0; i--)
		if (hh->h[i]->gen == h->gen)
			return hh->h[i];
	struct csv_header *c = xmalloc(sizeof *c);
	size_t bytes = 0;
	for (size_t i = 0; i < h->n; i++)
		bytes += h->names[i].n;
	*c = *h;
	c->raw = xmalloc(h->rawlen + 1 + bytes);
	memcpy(c->raw, h->raw, h->rawlen + 1);
	c->names = xmalloc((h->n ? h->n : 1) * sizeof *c->names);
	char *o = c->raw + h->rawlen + 1;
	for (size_t i = 0; i < h->n; i++) {
		memcpy(o, h->names[i].p, h->names[i].n);
		c->names[i] = (struct span){ o, h->names[i].n, SPAN_CSV, false };
		o += h->names[i].n;
	}
	hh->h = xrealloc(hh->h, (size_t)(hh->n + 1) * sizeof *hh->h);
	hh->h[hh->n++] = c;
	return c;
}

struct held *held_new(void)
{
	struct held *s = xmalloc(sizeof *s);
	memset(s, 0, sizeof *s);
	return s;
}

void held_save(struct held *s, struct held_headers *hh,
	       const struct record *rec)
{
	size_t need = rec->rawlen, nc = rec->fmt == FMT_CSV ? rec->nfields : 0;
	for (size_t i = 0; i < nc; i++)
		need += rec->fields[i].val.n;
	if (need > s->cap || !s->buf) {
		s->cap = need > 2 * s->cap ? need : 2 * s->cap;
		s->buf = xrealloc(s->buf, s->cap ? s->cap : 1);
	}
	if (nc > s->capcells) {
		s->capcells = nc;
		s->cells = xrealloc(s->cells, nc * sizeof *s->cells);
	}
	memcpy(s->buf, rec->raw, rec->rawlen);
	s->rec = *rec;
	s->rec.raw = s->buf;
	s->rec.slots = NULL;
	if (rec->fmt != FMT_CSV) {
		s->rec.fields = NULL;	/* the writer scans the copy if needed */
		s->rec.nfields = 0;
		return;
	}
	const struct csv_header *h = held_header(hh, rec->header);
	char *o = s->buf + rec->rawlen;
	for (size_t i = 0; i < nc; i++) {
		const struct span *v = &rec->fields[i].val;
		memcpy(o, v->p, v->n);
		s->cells[i].key = h->names[i];
		s->cells[i].val = (struct span){ o, v->n, v->kind, v->escaped };
		o += v->n;
	}
	s->rec.fields = s->cells;
	s->rec.header = h;
}

/* What a copy counts toward --max-state: its text and these figures for
 * the copy and each CSV cell, their sizes on 64-bit machines, counted on
 * 32-bit ones too (where they are smaller), so that one configuration
 * keeps the same records on every gateway of a fleet (as es-join and
 * es-window count theirs). */
#define HELD_BYTES 104
#define HELD_CELL_BYTES 48
_Static_assert(sizeof(void *) != 8 || sizeof(struct held) == HELD_BYTES,
	       "HELD_BYTES is struct held on 64-bit");
_Static_assert(sizeof(void *) != 8 || sizeof(struct member) == HELD_CELL_BYTES,
	       "HELD_CELL_BYTES is struct member on 64-bit");

size_t held_bytes(const struct held *s)
{
	return HELD_BYTES + s->cap + s->capcells * HELD_CELL_BYTES;
}

void held_free(struct held *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s->cells);
	free(s);
}

void held_headers_free(struct held_headers *hh)
{
	for (int i = 0; i < hh->n; i++) {
		free(hh->h[i]->raw);
		free(hh->h[i]->names);
		free(hh->h[i]);
	}
	free(hh->h);
	hh->h = NULL;
	hh->n = 0;
}
