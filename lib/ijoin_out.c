/* ijoin_out.c - the output records of the interval join: a pair, or an
 * outer side's event alone, and the names of their fields */
#include <string.h>

#include "diag.h"
#include "ijoin_impl.h"
#include "mem.h"

/*
 * Whether view v has a field named p. The names of a view wider than
 * WIDE_VIEW fields are put in a hash table (ijoin_out_index) while the
 * other side's fields are named against it, instead of being scanned once
 * per field of the other side: joining two events of 40,000 fields each
 * took 10 s that way, and the 16 MiB line limit allows 1.8 million fields.
 */
#define WIDE_VIEW 64

static void ijoin_out_unindex(struct ijoin *j)
{
	if (j->nix)
		keytab_free(j->nix);
	j->nix = NULL;
	j->nix_view = NULL;
}

static void ijoin_out_index(struct ijoin *j, const struct ijoin_view *v)
{
	ijoin_out_unindex(j);
	if (v->nf <= WIDE_VIEW)
		return;
	j->nix = keytab_new();
	for (int i = 0; i < v->nf; i++)
		if (keytab_find(j->nix, v->f[i].name, v->f[i].namelen) < 0)
			keytab_add(j->nix, v->f[i].name, v->f[i].namelen);
	j->nix_view = v;
}

static bool ijoin_out_has(const struct ijoin *j, const struct ijoin_view *v,
			  const char *p, size_t n)
{
	if (v == j->nix_view)
		return keytab_find(j->nix, p, n) >= 0;
	for (int i = 0; i < v->nf; i++)
		if (join_same(v->f[i].name, v->f[i].namelen, p, n))
			return true;
	return false;
}

/* Key fields of the same top-level name on both sides: written once. */
static bool ijoin_out_shared_key(const struct ijoin *j, const char *p,
				 size_t n)
{
	const struct join_pairs *k = &j->c.keys;
	for (int i = 0; i < k->n; i++) {
		size_t an, bn;
		const char *a = join_top_name(&k->p[0][i], &an);
		const char *b = join_top_name(&k->p[1][i], &bn);
		if (a && b && join_same(a, an, b, bn) && join_same(a, an, p, n))
			return true;
	}
	return false;
}

/*
 * The output name of field i of side si's event v, next to the other
 * side's fields: its time field always takes the side's prefix, and so does
 * a field whose name the other side has too (or the output time field's),
 * except the keys both sides share.
 */
static void ijoin_out_name(struct ijoin *j, int si, const struct ijoin_view *v,
			   int i, const struct ijoin_view *other,
			   struct ofield *o)
{
	const struct ofield *f = &v->f[i];
	bool ren = i == v->time_idx;
	if (!ren && !ijoin_out_shared_key(j, f->name, f->namelen))
		ren = ijoin_out_has(j, other, f->name, f->namelen) ||
		      join_same(f->name, f->namelen, j->out_time,
				j->out_timelen);
	if (!ren) {
		o->name = f->name;
		o->namelen = f->namelen;
		return;
	}
	const struct ijoin_side *s = &j->S[si];
	char *b = scratch_alloc(&j->osc, s->prefixlen + f->namelen);
	memcpy(b, s->prefix, s->prefixlen);
	memcpy(b + s->prefixlen, f->name, f->namelen);
	o->name = b;
	o->namelen = s->prefixlen + f->namelen;
}

/* Room for n output fields, the first of them the output time field at
 * time tv. */
static void ijoin_out_start(struct ijoin *j, size_t n, const struct value *tv)
{
	scratch_reset(&j->osc);
	if (n > j->ofcap) {
		j->ofcap = n * 2;
		j->of = xrealloc(j->of, j->ofcap * sizeof *j->of);
	}
	j->of[0].name = j->out_time;
	j->of[0].namelen = j->out_timelen;
	j->of[0].v = *tv;
}

/* Side si's fields of v from of[n], named against other's; the shared
 * keys left out when skip_keys. Returns the new count. */
static size_t ijoin_out_side(struct ijoin *j, size_t n, int si,
			     const struct ijoin_view *v,
			     const struct ijoin_view *other, bool skip_keys)
{
	ijoin_out_index(j, other);
	for (int i = 0; i < v->nf; i++) {
		if (skip_keys && i != v->time_idx &&
		    ijoin_out_shared_key(j, v->f[i].name, v->f[i].namelen))
			continue;
		ijoin_out_name(j, si, v, i, other, &j->of[n]);
		j->of[n++].v = v->f[i].v;
	}
	return n;
}

void ijoin_out_pair(struct ijoin *j, const struct ijoin_view *l,
		    const struct ijoin_view *r)
{
	const struct ijoin_view *later = r->t > l->t ? r : l;
	ijoin_out_start(j, (size_t)(1 + l->nf + r->nf), &later->tv);
	size_t n = ijoin_out_side(j, 1, 0, l, r, false);
	n = ijoin_out_side(j, n, 1, r, l, true);
	ijoin_out_unindex(j);
	j->pairs++;
	j->h.emit(j->ctx, j->of, n);
}

/* An event that matched nothing, of an outer side: alone. For CSV the
 * other side's columns (from its first record: their values are null)
 * are there, empty. */
void ijoin_out_alone(struct ijoin *j, int si, const struct ijoin_view *v)
{
	const struct ijoin_view *k = &j->S[!si].known;
	ijoin_out_start(j, (size_t)(1 + v->nf + k->nf), &v->tv);
	size_t n = ijoin_out_side(j, 1, si, v, k, false);
	if (j->ofmt == FMT_CSV)
		n = ijoin_out_side(j, n, !si, k, v, true);	/* nulls */
	ijoin_out_unindex(j);
	j->h.emit(j->ctx, j->of, n);
}
