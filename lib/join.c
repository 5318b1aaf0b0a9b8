/* join.c - what es-join's two engines share: key pairs, keys, names */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "join.h"
#include "keys.h"
#include "mem.h"

const char *const join_type_names[4] = { "inner", "left", "right", "full" };

int join_type_parse(const char *text, enum join_type *t)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(text, join_type_names[i])) {
			*t = (enum join_type)i;
			return 0;
		}
	return -1;
}

void join_pairs_free(struct join_pairs *jp)
{
	for (int si = 0; si < 2; si++) {
		for (int i = 0; jp->p[si] && i < jp->n; i++)
			path_free(&jp->p[si][i]);
		free(jp->p[si]);
		jp->p[si] = NULL;
	}
	jp->n = 0;
}

/* Says what is wrong at s (a column of text) and frees what was parsed. */
static int join_pairs_fail(struct join_pairs *jp, const char *opt,
			   const char *text, const char *s, const char *why,
			   char *err, size_t errn)
{
	snprintf(err, errn, "invalid %s '%s' at column %d: %s", opt, text,
		 (int)(s - text) + 1, why);
	join_pairs_free(jp);
	return -1;
}

int join_pairs_parse(struct join_pairs *jp, const char *opt, const char *text,
		     char *err, size_t errn)
{
	const char *s = text, *why;
	memset(jp, 0, sizeof *jp);
	while (*s) {
		int n = jp->n;
		for (int si = 0; si < 2; si++)
			jp->p[si] = xrealloc(jp->p[si],
					     (size_t)(n + 1) * sizeof *jp->p[si]);
		const char *start = s;
		if (path_parse(&s, &jp->p[0][n], &why))
			return join_pairs_fail(jp, opt, text, s, why, err, errn);
		if (*s == '=') {
			s++;
			if (path_parse(&s, &jp->p[1][n], &why)) {
				path_free(&jp->p[0][n]);
				return join_pairs_fail(jp, opt, text, s, why, err,
						       errn);
			}
		} else {
			path_parse(&start, &jp->p[1][n], &why);	/* the same */
		}
		jp->n++;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return join_pairs_fail(jp, opt, text, s,
					       "expected ',' or '='", err, errn);
	}
	if (!jp->n) {
		snprintf(err, errn, "%s needs at least one field", opt);
		join_pairs_free(jp);
		return -1;
	}
	return 0;
}

bool join_pairs_same(const struct join_pairs *a, const struct join_pairs *b)
{
	if (a->n != b->n)
		return false;
	for (int si = 0; si < 2; si++)
		for (int i = 0; i < a->n; i++)
			if (strcmp(a->p[si][i].text, b->p[si][i].text))
				return false;
	return true;
}

int *join_pairs_slots(const struct join_pairs *jp, int si,
		      struct fieldset *fs)
{
	int *k = xmalloc((size_t)jp->n * sizeof *k);
	for (int i = 0; i < jp->n; i++)
		k[i] = fieldset_add(fs, &jp->p[si][i]);
	return k;
}

const char *join_top_name(const struct path *p, size_t *n)
{
	if (p->n != 1 || !p->step[0].key)
		return NULL;
	*n = p->step[0].keylen;
	return p->step[0].key;
}

bool join_key_add(struct outbuf *k, const struct value *v)
{
	if (v->t == V_MISSING || v->t == V_NULL)
		return false;
	key_append_loose(k, v);
	return true;
}

bool join_key(struct outbuf *k, const struct span *slots, const int *kslot,
	      int n, struct scratch *s)
{
	k->len = 0;
	for (int i = 0; i < n; i++) {
		struct value v;
		if (value_load(&slots[kslot[i]], &v, s))
			v.t = V_NULL;
		if (!join_key_add(k, &v))
			return false;
	}
	return true;
}

void join_key_text(const char *k, int n, char *o, size_t on)
{
	struct value v[n];
	size_t w = 0;
	key_decode(k, n, v);
	for (int i = 0; i < n; i++) {
		const char *t = v[i].s;
		size_t tl = v[i].n;
		if (v[i].t == V_BOOL) {
			t = v[i].u.b ? "true" : "false";
			tl = strlen(t);
		}
		if (i && w + 1 < on)
			o[w++] = ',';
		for (size_t j = 0; j < tl && w + 1 < on; j++)
			o[w++] = t[j];
	}
	if (w + 1 >= on && on > 4)
		memcpy(o + on - 4, "...", 3), w = on - 1;
	o[w] = 0;
}

void join_name(const struct span *k, struct scratch *s, const char **p,
	       size_t *n)
{
	if (k->kind == SPAN_CSV) {
		*p = k->p;
		*n = k->n;
	} else if (!k->escaped) {
		*p = k->p + 1;
		*n = k->n - 2;
	} else {
		char *b = scratch_alloc(s, k->n);
		*n = json_unescape(k, b);
		*p = b;
	}
}

const char *join_csv_utf8(const struct record *rec, char *msg, size_t n)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct span *k = &rec->fields[i].key;
		const struct span *v = &rec->fields[i].val;
		if (!utf8_valid(k->p, k->n) || !utf8_valid(v->p, v->n)) {
			snprintf(msg, n, "invalid UTF-8 in CSV field '%.*s'",
				 (int)(k->n > 64 ? 64 : k->n), k->p);
			return msg;
		}
	}
	return NULL;
}
