/* enrich_table.c - the table of a table join: rows by key, loaded whole */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "diag.h"
#include "enrich_table.h"
#include "input.h"
#include "keys.h"
#include "mem.h"

#define MAX_NOTES 5		/* duplicate-key lines per table load */
#define NO_TEXT ((size_t)-1)

/* Rows by key id; columns (output names, with the prefix) by id in the
 * order first seen: ids of a key table without removals are 0, 1, ... */
struct enrich_table {
	struct keytab *keys, *cols;
	struct enrich_row **row;
	int caprow, ncols;
	size_t nrows;
};

struct enrich_lfield {
	struct enrich_field f;
	size_t voff;		/* its value's text in the row text, or NO_TEXT */
};

/* Loading one table file. */
struct enrich_loader {
	const char *path;
	const struct join_pairs *keys;
	const char *prefix;
	struct enrich_table *t;
	struct fieldset *fs;	/* NDJSON rows: the key paths */
	int *kslot;
	struct outbuf key;	/* the key of the row being built */
	struct json_scan js;
	struct csv_in *csv;
	size_t nh;		/* CSV: header cells */
	int *hcol;		/* CSV: per cell its column, -1 for a key */
	int *kcol;		/* CSV: per key path its cell */
	struct scratch sc;
	struct outbuf text;	/* the row being built */
	struct enrich_lfield *lf;
	int nlf, caplf;
	char *err;
	size_t errn;
	char notes[MAX_NOTES][256];
	int nnotes;
	unsigned long more;
};

static struct enrich_table *enrich_table_new(void)
{
	struct enrich_table *t = xmalloc(sizeof *t);
	memset(t, 0, sizeof *t);
	t->keys = keytab_new();
	t->cols = keytab_new();
	return t;
}

void enrich_table_free(struct enrich_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < keytab_span(t->keys); i++)
		free(t->row[i]);
	free(t->row);
	keytab_free(t->keys);
	keytab_free(t->cols);
	free(t);
}

const struct enrich_row *enrich_table_get(const struct enrich_table *t,
					  const char *key, size_t n)
{
	int id = keytab_find(t->keys, key, n);
	return id < 0 ? NULL : t->row[id];
}

int enrich_table_ncols(const struct enrich_table *t)
{
	return t->ncols;
}

const char *enrich_table_col(const struct enrich_table *t, int col,
			     size_t *n)
{
	return keytab_key(t->cols, col, n);
}

int enrich_table_find_col(const struct enrich_table *t, const char *name,
			  size_t n)
{
	return keytab_find(t->cols, name, n);
}

size_t enrich_table_rows(const struct enrich_table *t)
{
	return t->nrows;
}

/* The column of an output name, added if new. */
static int enrich_table_add_col(struct enrich_table *t, const char *name,
				size_t n)
{
	int id = keytab_find(t->cols, name, n);
	if (id < 0) {
		id = keytab_add(t->cols, name, n);
		t->ncols++;
	}
	return id;
}

static bool enrich_table_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

__attribute__((format(printf, 3, 4)))
static int enrich_table_fail(struct enrich_loader *L, uint64_t line,
			     const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(L->err, L->errn, "%s:%llu: ", L->path,
			 (unsigned long long)line);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < L->errn)
		vsnprintf(L->err + n, L->errn - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A note said once the table loaded (none if it fails): the first few. */
__attribute__((format(printf, 2, 3)))
static void enrich_table_note(struct enrich_loader *L, const char *fmt, ...)
{
	va_list ap;
	if (L->nnotes == MAX_NOTES) {
		L->more++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(L->notes[L->nnotes++], sizeof L->notes[0], fmt, ap);
	va_end(ap);
}

/* Adds a field of column col with value span vs to the row being built. */
static void enrich_table_field(struct enrich_loader *L, int col,
			       const struct span *vs)
{
	size_t cn;
	const char *cname = enrich_table_col(L->t, col, &cn);
	struct enrich_lfield *f;
	JOIN_GROW(L->lf, L->nlf, L->caplf);
	f = &L->lf[L->nlf++];
	if (value_load(vs, &f->f.v, &L->sc))
		f->f.v.t = V_NULL;
	f->f.col = col;
	size_t joff = L->text.len;
	json_write_string(&L->text, cname, cn);
	out_putc(&L->text, ':');
	if (vs->kind != SPAN_CSV)
		out_put(&L->text, vs->p, vs->n);	/* JSON as written */
	else if (f->f.v.t == V_NULL)
		out_put(&L->text, "null", 4);
	else if (f->f.v.t == V_STRING)
		json_write_string(&L->text, vs->p, vs->n);
	else
		out_put(&L->text, vs->p, vs->n);	/* the same digits */
	f->f.joff = (uint32_t)joff;
	f->f.jlen = (uint32_t)(L->text.len - joff);
	f->voff = NO_TEXT;
	if (f->f.v.s) {
		f->voff = L->text.len;
		out_put(&L->text, f->f.v.s, f->f.v.n);
	}
}

/* Files the row built from the fields gathered, under the key in L->key. */
static void enrich_table_insert(struct enrich_loader *L, uint64_t line)
{
	size_t nf = (size_t)L->nlf;
	struct enrich_table *t = L->t;
	struct enrich_row *r = xmalloc(sizeof *r + nf * sizeof *r->f +
				       L->text.len);
	r->f = (struct enrich_field *)(r + 1);
	char *txt = (char *)(r->f + nf);
	memcpy(txt, L->text.buf, L->text.len);
	r->line = line;
	r->nf = (int)nf;
	r->text = txt;
	for (size_t i = 0; i < nf; i++) {
		r->f[i] = L->lf[i].f;
		if (L->lf[i].voff != NO_TEXT)
			r->f[i].v.s = txt + L->lf[i].voff;
	}
	int id = keytab_find(t->keys, L->key.buf, L->key.len);
	if (id < 0) {
		id = keytab_add(t->keys, L->key.buf, L->key.len);
		JOIN_GROW(t->row, id, t->caprow);
		t->row[id] = NULL;
	}
	struct enrich_row *old = t->row[id];
	t->row[id] = r;
	if (old) {
		char kt[80];
		join_key_text(L->key.buf, L->keys->n, kt, sizeof kt);
		enrich_table_note(L, "table %s:%llu: duplicate key '%s' (also at "
				  "line %llu): the last row wins", L->path,
				  (unsigned long long)line, kt,
				  (unsigned long long)old->line);
		free(old);
	} else {
		t->nrows++;
	}
}

static void enrich_table_keyless(struct enrich_loader *L, uint64_t line)
{
	enrich_table_note(L, "table %s:%llu: no value for the key (--on): row "
			  "skipped", L->path, (unsigned long long)line);
}

/* Is name one of the table's top-level key fields (not copied to rows)? */
static bool enrich_table_key_name(const struct enrich_loader *L,
				  const char *p, size_t n)
{
	for (int i = 0; i < L->keys->n; i++) {
		size_t kn;
		const char *k = join_top_name(&L->keys->p[1][i], &kn);
		if (k && join_same(k, kn, p, n))
			return true;
	}
	return false;
}

/* The column of a table field: its output name is the prefix and the
 * name. */
static int enrich_table_named(struct enrich_loader *L, const char *p,
			      size_t n)
{
	if (!L->prefix || !*L->prefix)
		return enrich_table_add_col(L->t, p, n);
	size_t pl = strlen(L->prefix);
	char *b = scratch_alloc(&L->sc, pl + n);
	memcpy(b, L->prefix, pl);
	memcpy(b + pl, p, n);
	return enrich_table_add_col(L->t, b, pl + n);
}

static int enrich_table_ndjson(struct enrich_loader *L, const char *p,
			       size_t n, uint64_t line)
{
	const char *err;
	size_t col;
	if (enrich_table_blank(p, n))
		return 0;
	int st = json_scan_line(p, n, L->fs, &L->js, &err, &col);
	if (st == -2)
		return enrich_table_fail(L, line, "not a JSON object");
	if (st < 0)
		return enrich_table_fail(L, line, "invalid JSON at column %zu: %s",
					 col + 1, err);
	scratch_reset(&L->sc);
	if (!join_key(&L->key, L->js.slots, L->kslot, L->keys->n, &L->sc)) {
		enrich_table_keyless(L, line);
		return 0;
	}
	L->nlf = 0;
	L->text.len = 0;
	for (size_t i = 0; i < L->js.nmembers; i++) {
		const char *np;
		size_t nn;
		join_name(&L->js.members[i].key, &L->sc, &np, &nn);
		if (enrich_table_key_name(L, np, nn))
			continue;
		enrich_table_field(L, enrich_table_named(L, np, nn),
				   &L->js.members[i].val);
	}
	enrich_table_insert(L, line);
	return 0;
}

static int enrich_table_header(struct enrich_loader *L,
			       const struct span *cells, size_t nc,
			       uint64_t line)
{
	L->nh = nc;
	L->hcol = xmalloc(nc * sizeof *L->hcol);
	L->kcol = xmalloc((size_t)L->keys->n * sizeof *L->kcol);
	for (size_t c = 0; c < nc; c++) {
		if (!utf8_valid(cells[c].p, cells[c].n))
			return enrich_table_fail(L, line, "invalid UTF-8 in the "
						 "CSV header");
		L->hcol[c] = 0;
	}
	/* A key path finds the column named by the whole path as written
	 * ("a.b"), else by its single key (as the reader maps columns). */
	for (int i = 0; i < L->keys->n; i++) {
		const struct path *k = &L->keys->p[1][i];
		size_t kn;
		const char *kname = join_top_name(k, &kn);
		L->kcol[i] = -1;
		for (size_t c = 0; c < nc && L->kcol[i] < 0; c++) {
			const struct span *h = &cells[c];
			if (join_same(h->p, h->n, k->text, strlen(k->text)) ||
			    (kname && join_same(h->p, h->n, kname, kn)))
				L->kcol[i] = (int)c;
		}
		if (L->kcol[i] < 0)
			return enrich_table_fail(L, line, "no column '%s' (--on) "
						 "in the CSV header", k->text);
		L->hcol[L->kcol[i]] = -1;
	}
	scratch_reset(&L->sc);
	for (size_t c = 0; c < nc; c++)
		if (L->hcol[c] == 0)
			L->hcol[c] = enrich_table_named(L, cells[c].p, cells[c].n);
	return 0;
}

static int enrich_table_csv(struct enrich_loader *L, uint64_t line)
{
	size_t nc = csv_in_ncells(L->csv);
	const struct span *cells = csv_in_cells(L->csv);
	const char *raw;
	size_t rawlen;
	csv_in_raw(L->csv, &raw, &rawlen);
	if (nc == 0 || (nc == 1 && cells[0].n == 0 && rawlen == 0))
		return 0;	/* an empty line */
	if (!L->hcol)
		return enrich_table_header(L, cells, nc, line);
	if (nc != L->nh)
		return enrich_table_fail(L, line, "CSV row has %zu field%s, header "
					 "has %zu", nc, nc == 1 ? "" : "s", L->nh);
	scratch_reset(&L->sc);
	L->key.len = 0;
	for (int i = 0; i < L->keys->n; i++) {
		struct value v;
		if (value_load(&cells[L->kcol[i]], &v, &L->sc) ||
		    !join_key_add(&L->key, &v)) {
			enrich_table_keyless(L, line);
			return 0;
		}
	}
	L->nlf = 0;
	L->text.len = 0;
	for (size_t c = 0; c < nc; c++) {
		if (L->hcol[c] < 0)
			continue;
		if (!utf8_valid(cells[c].p, cells[c].n)) {
			size_t cn;
			const char *cname = enrich_table_col(L->t, L->hcol[c], &cn);
			return enrich_table_fail(L, line, "invalid UTF-8 in CSV "
						 "field '%.*s'", (int)cn, cname);
		}
		enrich_table_field(L, L->hcol[c], &cells[c]);
	}
	enrich_table_insert(L, line);
	return 0;
}

/* The lines of the file, each to its format's row reader; returns 0 or
 * -1 (why in L->err). */
static int enrich_table_read(struct enrich_loader *L, struct input *in)
{
	enum format fmt = FMT_AUTO;
	uint64_t row_line = 0;
	bool in_row = false;
	int rc = 0;
	const char *e;
	while (!rc) {
		const char *p;
		size_t n;
		enum line_status st = input_line(in, &p, &n);
		if (st == LINE_EOF)
			break;
		if (st == LINE_TOOLONG)
			return enrich_table_fail(L, in->lineno, "line longer "
						 "than 16 MiB");
		if (st == LINE_ERROR)
			return enrich_table_fail(L, in->lineno + 1, "read error: %s",
						 strerror(in->err));
		if (st != LINE_OK)
			return enrich_table_fail(L, in->lineno, "read "
						 "interrupted");
		if (fmt == FMT_AUTO) {
			if (enrich_table_blank(p, n))
				continue;
			size_t i = 0;
			while (i < n && (p[i] == ' ' || p[i] == '\t'))
				i++;
			fmt = p[i] == '{' ? FMT_NDJSON : FMT_CSV;
		}
		if (fmt == FMT_NDJSON) {
			rc = enrich_table_ndjson(L, p, n, in->lineno);
			continue;
		}
		if (!in_row) {
			row_line = in->lineno;
			in_row = true;
		}
		enum csv_status cs = csv_in_line(L->csv, p, n, &e);
		if (cs == CSV_MORE)
			continue;
		in_row = false;
		/* a table loads whole or not at all: a quote left open
		 * (CSV_CUT) fails it as a broken row does */
		rc = cs == CSV_BAD || cs == CSV_CUT
			? enrich_table_fail(L, row_line, "invalid CSV: %s", e)
			: enrich_table_csv(L, row_line);
	}
	if (!rc && in_row) {
		enum csv_status cs = csv_in_eof(L->csv, &e);
		if (cs == CSV_BAD || cs == CSV_CUT)
			rc = enrich_table_fail(L, row_line, "invalid CSV: %s", e);
	}
	return rc;
}

static void enrich_table_loader_free(struct enrich_loader *L)
{
	csv_in_free(L->csv);
	fieldset_free(L->fs);
	free(L->kslot);
	out_free(&L->key);
	free(L->js.slots);
	free(L->js.members);
	free(L->hcol);
	free(L->kcol);
	free(L->lf);
	scratch_free(&L->sc);
	out_free(&L->text);
}

int enrich_table_load(const char *path, const struct join_pairs *keys,
		      const char *prefix, struct enrich_table **res,
		      char *err, size_t errn)
{
	struct enrich_loader L;
	struct input in;
	memset(&L, 0, sizeof L);
	if (input_open(&in, path) < 0) {
		snprintf(err, errn, "%s: %s", path, strerror(errno));
		return -1;
	}
	L.path = path;
	L.keys = keys;
	L.prefix = prefix;
	L.err = err;
	L.errn = errn;
	L.t = enrich_table_new();
	L.csv = csv_in_new();
	L.fs = fieldset_new();
	fieldset_want_members(L.fs, true);
	L.kslot = join_pairs_slots(keys, 1, L.fs);
	L.js.slots = xmalloc((size_t)fieldset_count(L.fs) * sizeof *L.js.slots);
	out_init(&L.key, -1, "key");
	out_init(&L.text, -1, "row");
	int rc = enrich_table_read(&L, &in);
	input_close(&in);
	enrich_table_loader_free(&L);
	if (rc) {
		enrich_table_free(L.t);
		return -1;
	}
	for (int i = 0; i < L.nnotes; i++)
		diag_warn("%s", L.notes[i]);
	if (L.more)
		diag_warn("table %s: %lu more rows with a duplicate key or none",
			  path, L.more);
	*res = L.t;
	return 0;
}
