/* es-join - enrich records from a table; join two streams within an interval
 *
 * Stream-table (enrichment): the table (CSV or NDJSON) is loaded into a hash
 * table by its key; each input record is merged with the row of its key.
 * The table is reloaded on SIGHUP and when the file changes (checked at most
 * once a second, also while the input is quiet); a reload that fails keeps
 * the old table and says why.
 *
 * Stream-stream (Flink's interval join): a left event L and a right event R
 * join when their keys are equal and LOW <= R.t - L.t <= HIGH. Both inputs
 * are read as data arrives (poll); every pair is written once, when its
 * second half arrives. Each side has a watermark (its largest event time
 * minus the lateness): an event behind its own side's watermark is late, and
 * a buffered event goes once no future event of the other side can reach
 * it, so the state is bounded by the interval, not by the stream; and by
 * --max-buffered (events) and --max-state (their bytes and their keys'),
 * at which the oldest buffered events are evicted.
 *
 * --config FILE is reloaded on SIGHUP (and with --watch-config when it
 * changes) between two records: a new table, key or prefix loads the
 * table again (all or nothing); a new join definition first lets the
 * buffered events go as at the end of input.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "diag.h"
#include "json.h"
#include "keys.h"
#include "opts.h"
#include "path.h"
#include "record.h"
#include "reload.h"
#include "time.h"
#include "watermark.h"

enum jtype { J_INNER, J_LEFT, J_RIGHT, J_FULL };

enum {
	OPT_TYPE = OPT_PROGRAM, OPT_TABLE_PREFIX, OPT_LEFT, OPT_RIGHT,
	OPT_WITHIN, OPT_LATENESS, OPT_LATE, OPT_IDLE, OPT_MAX_BUFFERED,
	OPT_MAX_STATE, OPT_LEFT_PREFIX, OPT_RIGHT_PREFIX, OPT_TIME_FIELD,
	OPT_TIME_UNIT, OPT_MAX_AHEAD,
};

#define DEFAULT_MAX_BUFFERED 100000
#define CHECK_MS 1000		/* the table's file is looked at this often */
#define MAX_NOTES 5		/* duplicate-key lines per table load */

/* What the options say: parsed at start and again on a reload. */
struct conf {
	const char *table, *left, *right, *on, *within, *time_field;
	const char *table_prefix, *left_prefix, *right_prefix, *late;
	enum jtype type;
	int64_t low, high, lateness, idle;
	int64_t max_ahead;	/* --max-ahead (lib/watermark.h) */
	long max_buffered;
	uint64_t max_state;		/* --max-state, bytes */
	enum time_repr unit;
	/* options given, to tell the two modes apart */
	const char *stream_opt;
	/* compiled by check_args: the key paths, [0] of the input (or left
	 * side), [1] of the table (or right side); the time field's */
	struct path *kpath[2], *tpath[2];
	int nkeys;
};

static const struct conf conf_defaults = {
	.time_field = "ts", .left_prefix = "left_", .right_prefix = "right_",
	.max_buffered = DEFAULT_MAX_BUFFERED,
	.max_state = OPTS_DEFAULT_MAX_STATE, .max_ahead = WM_DEFAULT_AHEAD,
};

static struct conf cfg;		/* the one in use */

/* Grows a dynamic array by doubling when it is full. */
#define GROW(arr, n, cap) \
	do { \
		if ((size_t)(n) >= (size_t)(cap)) { \
			(cap) = (cap) ? (cap) * 2 : 8; \
			(arr) = xrealloc((arr), (size_t)(cap) * sizeof *(arr)); \
		} \
	} while (0)

static struct outbuf out;
static struct writer *wr;
static enum format ofmt;	/* the output format, once known */
static struct scratch sc;	/* per input record */
static struct scratch osc;	/* per output record */
static struct ofield *of;	/* the output record being built */
static size_t ofcap;

/* ---- small helpers ---- */

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static bool same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && !memcmp(a, b, an);
}

/* A field name as text: CSV names are plain, JSON keys may need decoding. */
static void name_of(const struct span *k, struct scratch *s, const char **p,
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

static void of_room(size_t n)
{
	if (n > ofcap) {
		ofcap = n * 2;
		of = xrealloc(of, ofcap * sizeof *of);
	}
}

/* CSV cells become JSON strings: they must be UTF-8. */
static const char *csv_utf8_check(const struct record *rec)
{
	static char msg[160];
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct span *k = &rec->fields[i].key, *v = &rec->fields[i].val;
		if (!utf8_valid(k->p, k->n) || !utf8_valid(v->p, v->n)) {
			snprintf(msg, sizeof msg, "invalid UTF-8 in CSV field '%.*s'",
				 (int)(k->n > 64 ? 64 : k->n), k->p);
			return msg;
		}
	}
	return NULL;
}

/* ---- keys ---- */

/*
 * Key paths: cfg.kpath[0] for the input (or left side), cfg.kpath[1] for
 * the table (or right side). A key is serialized in a normal form, per
 * path a tag, a length and bytes: strings decoded, numbers in their
 * shortest form (1.50 is 1.5; 7.0 is 7), and a string that reads as a
 * JSON number counts as that number, so that the cell 7 of a CSV file, 7
 * and "7" in NDJSON are one key.
 */
static struct outbuf keybuf;

/* Adds v to the key; false for null or missing (which match nothing). */
static bool key_add(struct outbuf *k, const struct value *v)
{
	if (v->t == V_MISSING || v->t == V_NULL)
		return false;
	key_append_loose(k, v);
	return true;
}

/* The key of a record into keybuf; false if a part is null or missing. */
static bool key_build(const struct span *slots, const int *kslot,
		      struct scratch *s)
{
	keybuf.len = 0;
	for (int i = 0; i < cfg.nkeys; i++) {
		struct value v;
		if (value_load(&slots[kslot[i]], &v, s))
			v.t = V_NULL;
		if (!key_add(&keybuf, &v))
			return false;
	}
	return true;
}

/* A key as text for messages: its values joined by commas. */
static void key_text(const char *k, char *o, size_t on)
{
	struct value v[cfg.nkeys];
	size_t w = 0;
	key_decode(k, cfg.nkeys, v);
	for (int i = 0; i < cfg.nkeys; i++) {
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

/* The slots of the key paths p in fs. */
static int *add_slots(struct fieldset *fs, const struct path *p)
{
	int *k = xmalloc((size_t)cfg.nkeys * sizeof *k);
	for (int i = 0; i < cfg.nkeys; i++)
		k[i] = fieldset_add(fs, &p[i]);
	return k;
}

/* ---- the table ---- */

struct tfield {
	int col;		/* its column in the table */
	struct value v;		/* typed; text owned by the row */
	uint32_t joff, jlen;	/* its "name":value piece, in the row's text */
};

struct trow {
	uint64_t line;
	int nf;
	struct tfield *f;	/* the row's fields but its key columns */
	const char *text;
};

/* Rows by key id; columns (output names, with --table-prefix) by id in
 * the order first seen: ids of a key table without removals are 0, 1, ... */
struct table {
	struct keytab *keys, *cols;
	struct trow **row;
	int caprow, ncols;
	size_t nrows;
};

static struct table *tab;
static struct fieldset *tfs;	/* NDJSON rows: the table key paths */
static int *tkslot;
static unsigned long long t_matched, t_unmatched, reloads;
static size_t table_rows;	/* of the table in use, for --stats */

static struct table *table_new(void)
{
	struct table *t = xmalloc(sizeof *t);
	memset(t, 0, sizeof *t);
	t->keys = keytab_new();
	t->cols = keytab_new();
	return t;
}

static void table_free(struct table *t)
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

/* The row of the key in keybuf, or NULL. */
static const struct trow *table_get(const struct table *t)
{
	int id = keytab_find(t->keys, keybuf.buf, keybuf.len);
	return id < 0 ? NULL : t->row[id];
}

/* The column of an output name, added if new. */
static int table_col(struct table *t, const char *name, size_t n)
{
	int id = keytab_find(t->cols, name, n);
	if (id < 0) {
		id = keytab_add(t->cols, name, n);
		t->ncols++;
	}
	return id;
}

static const char *col_name(const struct table *t, int col, size_t *n)
{
	return keytab_key(t->cols, col, n);
}

#define NO_TEXT ((size_t)-1)

struct lfield {
	struct tfield f;
	size_t voff;		/* its value's text in the row text, or NO_TEXT */
};

/* Loading one table file. */
struct loader {
	const char *path;
	struct table *t;
	struct json_scan js;
	struct csv_in *csv;
	size_t nh;		/* CSV: header cells */
	int *hcol;		/* CSV: per cell its column, -1 for a key */
	int *kcol;		/* CSV: per key path its cell */
	struct scratch sc;
	struct outbuf text;	/* the row being built */
	struct lfield *lf;
	int nlf, caplf;
	char *err;
	size_t errn;
	char notes[MAX_NOTES][256];
	int nnotes;
	unsigned long more;
};

__attribute__((format(printf, 3, 4)))
static int load_fail(struct loader *L, uint64_t line, const char *fmt, ...)
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

__attribute__((format(printf, 2, 3)))
static void load_note(struct loader *L, const char *fmt, ...)
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
static void row_field(struct loader *L, int col, const struct span *vs)
{
	size_t cn;
	const char *cname = col_name(L->t, col, &cn);
	struct lfield *f;
	GROW(L->lf, L->nlf, L->caplf);
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

/* Files the row built from the fields gathered, under the key in keybuf. */
static void row_insert(struct loader *L, uint64_t line)
{
	size_t nf = (size_t)L->nlf;
	struct table *t = L->t;
	struct trow *r = xmalloc(sizeof *r + nf * sizeof(struct tfield) +
				 L->text.len);
	r->f = (struct tfield *)(r + 1);
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
	int id = keytab_find(t->keys, keybuf.buf, keybuf.len);
	if (id < 0) {
		id = keytab_add(t->keys, keybuf.buf, keybuf.len);
		GROW(t->row, id, t->caprow);
		t->row[id] = NULL;
	}
	struct trow *old = t->row[id];
	t->row[id] = r;
	if (old) {
		char kt[80];
		key_text(keybuf.buf, kt, sizeof kt);
		load_note(L, "table %s:%llu: duplicate key '%s' (also at line %llu): "
			  "the last row wins", L->path, (unsigned long long)line,
			  kt, (unsigned long long)old->line);
		free(old);
	} else {
		L->t->nrows++;
	}
}

static void keyless(struct loader *L, uint64_t line)
{
	load_note(L, "table %s:%llu: no value for the key (--on): row skipped",
		  L->path, (unsigned long long)line);
}

/* Is name one of the table's top-level key fields (not copied to rows)? */
static bool table_key_name(const char *p, size_t n)
{
	for (int i = 0; i < cfg.nkeys; i++) {
		const struct path *k = &cfg.kpath[1][i];
		if (k->n == 1 && k->step[0].key && same(k->step[0].key,
							k->step[0].keylen, p, n))
			return true;
	}
	return false;
}

/* The output name of a table field: --table-prefix and the name. */
static int table_col_named(struct loader *L, const char *p, size_t n)
{
	if (!cfg.table_prefix || !*cfg.table_prefix)
		return table_col(L->t, p, n);
	size_t pl = strlen(cfg.table_prefix);
	char *b = scratch_alloc(&L->sc, pl + n);
	memcpy(b, cfg.table_prefix, pl);
	memcpy(b + pl, p, n);
	return table_col(L->t, b, pl + n);
}

static int ndjson_row(struct loader *L, const char *p, size_t n, uint64_t line)
{
	const char *err;
	size_t col;
	if (blank(p, n))
		return 0;
	int st = json_scan_line(p, n, tfs, &L->js, &err, &col);
	if (st == -2)
		return load_fail(L, line, "not a JSON object");
	if (st < 0)
		return load_fail(L, line, "invalid JSON at column %zu: %s",
				 col + 1, err);
	scratch_reset(&L->sc);
	if (!key_build(L->js.slots, tkslot, &L->sc)) {
		keyless(L, line);
		return 0;
	}
	L->nlf = 0;
	L->text.len = 0;
	for (size_t i = 0; i < L->js.nmembers; i++) {
		const char *np;
		size_t nn;
		name_of(&L->js.members[i].key, &L->sc, &np, &nn);
		if (table_key_name(np, nn))
			continue;
		row_field(L, table_col_named(L, np, nn), &L->js.members[i].val);
	}
	row_insert(L, line);
	return 0;
}

static int csv_header(struct loader *L, const struct span *cells, size_t nc,
		      uint64_t line)
{
	L->nh = nc;
	L->hcol = xmalloc(nc * sizeof *L->hcol);
	L->kcol = xmalloc((size_t)cfg.nkeys * sizeof *L->kcol);
	for (size_t c = 0; c < nc; c++) {
		if (!utf8_valid(cells[c].p, cells[c].n))
			return load_fail(L, line, "invalid UTF-8 in the CSV header");
		L->hcol[c] = 0;
	}
	/* A key path finds the column named by the whole path as written
	 * ("a.b"), else by its single key (as the reader maps columns). */
	for (int i = 0; i < cfg.nkeys; i++) {
		const struct path *k = &cfg.kpath[1][i];
		L->kcol[i] = -1;
		for (size_t c = 0; c < nc && L->kcol[i] < 0; c++) {
			const struct span *h = &cells[c];
			if (same(h->p, h->n, k->text, strlen(k->text)) ||
			    (k->n == 1 && k->step[0].key &&
			     same(h->p, h->n, k->step[0].key, k->step[0].keylen)))
				L->kcol[i] = (int)c;
		}
		if (L->kcol[i] < 0)
			return load_fail(L, line, "no column '%s' (--on) in the "
					 "CSV header", k->text);
		L->hcol[L->kcol[i]] = -1;
	}
	scratch_reset(&L->sc);
	for (size_t c = 0; c < nc; c++)
		if (L->hcol[c] == 0)
			L->hcol[c] = table_col_named(L, cells[c].p, cells[c].n);
	return 0;
}

static int csv_row(struct loader *L, uint64_t line)
{
	size_t nc = csv_in_ncells(L->csv);
	const struct span *cells = csv_in_cells(L->csv);
	const char *raw;
	size_t rawlen;
	csv_in_raw(L->csv, &raw, &rawlen);
	if (nc == 0 || (nc == 1 && cells[0].n == 0 && rawlen == 0))
		return 0;	/* an empty line */
	if (!L->hcol)
		return csv_header(L, cells, nc, line);
	if (nc != L->nh)
		return load_fail(L, line, "CSV row has %zu field%s, header has %zu",
				 nc, nc == 1 ? "" : "s", L->nh);
	scratch_reset(&L->sc);
	keybuf.len = 0;
	for (int i = 0; i < cfg.nkeys; i++) {
		struct value v;
		if (value_load(&cells[L->kcol[i]], &v, &L->sc) ||
		    !key_add(&keybuf, &v)) {
			keyless(L, line);
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
			const char *cname = col_name(L->t, L->hcol[c], &cn);
			return load_fail(L, line, "invalid UTF-8 in CSV field '%.*s'",
					 (int)cn, cname);
		}
		row_field(L, L->hcol[c], &cells[c]);
	}
	row_insert(L, line);
	return 0;
}

/*
 * Loads the table file at path. Returns 0 with the table in *out (and says
 * on stderr which keys were duplicate), or -1 with why in err.
 */
static int table_load(const char *path, struct table **res, char *err,
		      size_t errn)
{
	struct loader L;
	struct input in;
	memset(&L, 0, sizeof L);
	if (input_open(&in, path) < 0) {
		snprintf(err, errn, "%s: %s", path, strerror(errno));
		return -1;
	}
	L.path = path;
	L.err = err;
	L.errn = errn;
	L.t = table_new();
	L.csv = csv_in_new();
	L.js.slots = xmalloc((size_t)fieldset_count(tfs) * sizeof *L.js.slots);
	out_init(&L.text, -1, "row");
	enum format fmt = FMT_AUTO;
	uint64_t row_line = 0;
	bool in_row = false;
	int rc = 0;
	for (;;) {
		const char *p, *e;
		size_t n;
		enum line_status st = input_line(&in, &p, &n);
		if (st == LINE_EOF)
			break;
		if (st == LINE_TOOLONG) {
			rc = load_fail(&L, in.lineno, "line longer than 16 MiB");
			break;
		}
		if (st != LINE_OK) {
			rc = load_fail(&L, in.lineno, "read interrupted");
			break;
		}
		if (fmt == FMT_AUTO) {
			if (blank(p, n))
				continue;
			size_t i = 0;
			while (i < n && (p[i] == ' ' || p[i] == '\t'))
				i++;
			fmt = p[i] == '{' ? FMT_NDJSON : FMT_CSV;
		}
		if (fmt == FMT_NDJSON) {
			rc = ndjson_row(&L, p, n, in.lineno);
		} else {
			if (!in_row) {
				row_line = in.lineno;
				in_row = true;
			}
			enum csv_status cs = csv_in_line(L.csv, p, n, &e);
			if (cs == CSV_MORE)
				continue;
			in_row = false;
			/* a table loads whole or not at all: a quote left
			 * open (CSV_CUT) fails it as a broken row does */
			rc = cs == CSV_BAD || cs == CSV_CUT
				? load_fail(&L, row_line, "invalid CSV: %s", e)
				: csv_row(&L, row_line);
		}
		if (rc)
			break;
	}
	if (!rc && in_row) {
		const char *e;
		enum csv_status cs = csv_in_eof(L.csv, &e);
		if (cs == CSV_BAD || cs == CSV_CUT)
			rc = load_fail(&L, row_line, "invalid CSV: %s", e);
	}
	input_close(&in);
	csv_in_free(L.csv);
	free(L.js.slots);
	free(L.js.members);
	free(L.hcol);
	free(L.kcol);
	free(L.lf);
	scratch_free(&L.sc);
	out_free(&L.text);
	if (rc) {
		table_free(L.t);
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

/* ---- enrichment output ---- */

/* With CSV output the table's columns are fixed by the first record
 * written (its header); a reloaded table maps onto them by name. */
static char **frozen;
static size_t *frozenlen;
static int nfrozen, *frozen_map;
static bool frozen_set;
static const struct tfield **dense;	/* per column of tab: a row's field */

static void table_remap(void)
{
	dense = xrealloc(dense, (size_t)(tab->ncols + 1) * sizeof *dense);
	for (int i = 0; i < tab->ncols; i++)
		dense[i] = NULL;
	for (int i = 0; i < nfrozen; i++) {
		frozen_map[i] = keytab_find(tab->cols, frozen[i], frozenlen[i]);
	}
}

static void freeze(void)
{
	frozen_set = true;
	nfrozen = tab->ncols;
	frozen = xmalloc((size_t)(nfrozen + 1) * sizeof *frozen);
	frozenlen = xmalloc((size_t)(nfrozen + 1) * sizeof *frozenlen);
	frozen_map = xmalloc((size_t)(nfrozen + 1) * sizeof *frozen_map);
	for (int i = 0; i < nfrozen; i++) {
		const char *name = col_name(tab, i, &frozenlen[i]);
		frozen[i] = xmalloc(frozenlen[i] + 1);
		memcpy(frozen[i], name, frozenlen[i]);
		frozen_map[i] = i;
	}
}

/* Has the input record a top-level field of this name? */
static bool member_named(const struct record *rec, const char *p, size_t n)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct span *k = &rec->fields[i].key;
		if (k->kind == SPAN_CSV || k->escaped) {
			const char *kp;
			size_t kn;
			name_of(k, &sc, &kp, &kn);
			if (same(kp, kn, p, n))
				return true;
		} else if (k->n - 2 == n && !memcmp(k->p + 1, p, n)) {
			return true;
		}
	}
	return false;
}

static bool of_named(size_t nof, const char *p, size_t n)
{
	for (size_t i = 0; i < nof; i++)
		if (same(of[i].name, of[i].namelen, p, n))
			return true;
	return false;
}

/* NDJSON in and out: the record's own bytes, its closing brace replaced
 * by the row's fields. */
static void splice(const struct record *rec, const struct trow *row)
{
	size_t end = rec->rawlen;
	while (end && rec->raw[end - 1] != '}')
		end--;
	out_put(&out, rec->raw, end ? end - 1 : 0);
	bool first = rec->nfields == 0;
	for (int i = 0; i < row->nf; i++) {
		const struct tfield *f = &row->f[i];
		size_t cn;
		const char *cname = col_name(tab, f->col, &cn);
		if (member_named(rec, cname, cn))
			continue;	/* the input's field wins */
		if (!first)
			out_putc(&out, ',');
		first = false;
		out_put(&out, row->text + f->joff, f->jlen);
	}
	out_put(&out, "}\n", 2);
	stats.out++;
}

/* Any other formats: the record's fields, then the row's (all columns,
 * null where the row has none, for CSV output). */
static void put_built(const struct record *rec, const struct trow *row)
{
	const char *err;
	if (rec->fmt == FMT_CSV && ofmt == FMT_NDJSON &&
	    (err = csv_utf8_check(rec))) {
		record_bad(rec, err);
		return;
	}
	if (ofmt == FMT_CSV && !frozen_set)
		freeze();
	of_room(rec->nfields + (size_t)(row ? row->nf : 0) + (size_t)nfrozen + 1);
	size_t n = 0;
	for (size_t i = 0; i < rec->nfields; i++, n++) {
		name_of(&rec->fields[i].key, &sc, &of[n].name, &of[n].namelen);
		if (value_load(&rec->fields[i].val, &of[n].v, &sc))
			of[n].v.t = V_NULL;
	}
	size_t nin = n;
	if (ofmt == FMT_CSV) {
		for (int i = 0; row && i < row->nf; i++)
			dense[row->f[i].col] = &row->f[i];
		for (int j = 0; j < nfrozen; j++) {
			if (of_named(nin, frozen[j], frozenlen[j]))
				continue;
			int c = frozen_map[j];
			const struct tfield *f = c >= 0 ? dense[c] : NULL;
			of[n].name = frozen[j];
			of[n].namelen = frozenlen[j];
			if (f) {
				of[n].v = f->v;
			} else {
				memset(&of[n].v, 0, sizeof of[n].v);
				of[n].v.t = V_NULL;
			}
			n++;
		}
		for (int i = 0; row && i < row->nf; i++)
			dense[row->f[i].col] = NULL;
	} else {
		for (int i = 0; i < row->nf; i++) {
			size_t cn;
			const char *cname = col_name(tab, row->f[i].col, &cn);
			if (of_named(nin, cname, cn))
				continue;
			of[n].name = cname;
			of[n].namelen = cn;
			of[n].v = row->f[i].v;
			n++;
		}
	}
	if (writer_put_fields(wr, of, n, &err) < 0)
		record_bad(rec, err);
}

static void enrich(const struct record *rec, const int *kslot)
{
	const struct trow *row = NULL;
	const char *err;
	scratch_reset(&sc);
	if (key_build(rec->slots, kslot, &sc))
		row = table_get(tab);
	if (row) {
		t_matched++;
	} else {
		t_unmatched++;
		if (cfg.type == J_INNER) {
			stats.dropped++;
			return;
		}
		if (ofmt == FMT_NDJSON) {
			/* unchanged: byte for byte (or converted from CSV) */
			if (writer_put(wr, rec, &err) < 0)
				record_bad(rec, err);
			return;
		}
	}
	if (ofmt == FMT_NDJSON && rec->fmt == FMT_NDJSON)
		splice(rec, row);
	else
		put_built(rec, row);
}

/* ---- watching the table's file ---- */

static struct stat tab_st;
static bool tab_st_ok, waited;
static int64_t last_check;
static unsigned since_check;
/* The SIGHUPs seen by the table's watcher (lib's reader consumes
 * loop_hup, to reopen the dead-letter file, so it counts loop_hups). */
static sig_atomic_t tab_hups;

static bool stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Loads the table again: on SIGHUP (forced), or if the file changed. */
static void table_reload(bool forced)
{
	struct stat st;
	char err[512];
	struct table *nt;
	bool ok = stat(cfg.table, &st) == 0;
	if (!forced) {
		if (!ok) {
			if (tab_st_ok)	/* say it once, not every second */
				diag_warn("cannot reload table: %s: %s; keeping the "
					  "previous table (%zu row%s)", cfg.table,
					  strerror(errno), tab->nrows,
					  tab->nrows == 1 ? "" : "s");
			tab_st_ok = false;
			return;
		}
		if (tab_st_ok && stat_same(&st, &tab_st))
			return;
	}
	/* This version is seen, loaded or not: a bad one is not retried
	 * until it changes again. */
	tab_st = st;
	tab_st_ok = ok;
	if (table_load(cfg.table, &nt, err, sizeof err)) {
		diag_warn("cannot reload table: %s; keeping the previous table "
			  "(%zu row%s)", err, tab->nrows, tab->nrows == 1 ? "" : "s");
		return;
	}
	table_free(tab);
	tab = nt;
	table_rows = tab->nrows;
	reloads++;
	table_remap();
}

/* Called between records and on quiet input: SIGHUP, or once a second a
 * look at the file's identity, size and modification time. */
static void table_watch(bool timed_out)
{
	bool hup = loop_hups != tab_hups;
	if (!timed_out && !hup && !waited && ++since_check < 1024)
		return;
	since_check = 0;
	waited = false;
	int64_t now = loop_now_ms();
	if (hup) {
		tab_hups = loop_hups;
		last_check = now;
		table_reload(true);
		return;
	}
	if (!timed_out && now - last_check < CHECK_MS)
		return;
	last_check = now;
	table_reload(false);
}

/* ---- stream-stream: buffered events ---- */

/* The fields of an event: an input record's (valid until the next record)
 * or a buffered copy's. */
struct evview {
	struct ofield *f;
	int nf;
	int time_idx;		/* its top-level time field among f, or -1 */
	struct value tv;	/* its time as written */
	int64_t t;
};

struct bev;
struct bucket {			/* a side's buffered events of one key */
	struct bev *head, *tail;	/* by arrival */
};

struct bev {
	int bid;		/* its bucket: the key's id */
	struct bev *prev, *next;
	uint64_t seq;		/* arrival order: ties in time */
	bool matched;
	size_t bytes;		/* its fields and text, counted in ev_bytes */
	struct evview v;	/* fields and text follow the struct */
};

/* A side: its input (which a reload that swaps the sides moves to the
 * other side), what cfg says of it, and its state. */
struct side {
	/* The input's name (a copy), in a cell of its own that moves with
	 * the reader: the reader keeps the address it was given and opens the
	 * file at its first read, which may come after a reload swapped the
	 * sides (the side's own field would then name the other input). */
	char **file;
	struct reader *r;
	struct fieldset *fs;
	bool eof, blocked;
	int64_t last_ms;	/* wall clock of its last record (--idle) */
	/* from cfg (side_define) */
	const char *prefix;
	size_t prefixlen;
	int *kslot, time_slot;
	const struct path *tpath;	/* cfg's */
	const char *tname;	/* the time field when it is top-level */
	size_t tnamelen;
	enum time_repr unit;
	bool outer;
	/* state (side_clear) */
	struct wmark wmk;	/* far-ahead events wait here */
	int64_t max_t, wm;
	bool seen;
	struct keytab *keys;	/* the keys of its buffered events */
	struct bucket *bk;	/* by key id */
	int capbk;
	struct bev **heap;	/* buffered events by time: the next to go */
	size_t nheap, capheap;
	struct evview known;	/* the names of its first record */
	bool known_set;
};

static struct side S[2];
static size_t nbuffered, peak_buffered;
/* What --max-state counts, kept up to date as events come and go: the
 * buffered events' fields and text (their fixed header is bounded by
 * --max-buffered) and the bytes of the sides' keys. */
static size_t ev_bytes, peak_state;
static uint64_t ev_seq;
static unsigned long long pairs, s_unmatched, evicted, unwritten;
static const char *out_time;	/* the output's time field */
static size_t out_timelen;
static struct ofield *rf;	/* the fields of the record being read */
static size_t rfcap;

static bool bev_less(const struct bev *a, const struct bev *b)
{
	if (a->v.t != b->v.t)
		return a->v.t < b->v.t;
	return a->seq < b->seq;
}

static void heap_push(struct side *s, struct bev *e)
{
	GROW(s->heap, s->nheap, s->capheap);
	size_t i = s->nheap++;
	while (i > 0 && bev_less(e, s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

static struct bev *heap_pop(struct side *s)
{
	struct bev *top = s->heap[0], *last = s->heap[--s->nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && bev_less(s->heap[c + 1], s->heap[c]))
			c++;
		if (!bev_less(s->heap[c], last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

/* Could a future event of the other side still match an event of side si
 * at time t? Future left events are at or after the left watermark, and L
 * matches R when R.t - HIGH <= L.t <= R.t - LOW; the other way round for
 * future right events. */
static bool can_expire(int si, int64_t t)
{
	const struct side *o = &S[!si];
	if (o->eof)
		return true;
	int64_t reach = si == 0 ? sat_add(t, cfg.high) : sat_add(t, -cfg.low);
	return reach < o->wm;
}

/* ---- stream-stream: output ---- */

/*
 * Whether view v has a field named p. The names of a view wider than
 * WIDE_VIEW fields are put in a hash table (names_index) while the other
 * side's fields are named against it, instead of being scanned once per
 * field of the other side: joining two events of 40,000 fields each took
 * 10 s that way, and the 16 MiB line limit allows 1.8 million fields.
 */
#define WIDE_VIEW 64
static struct keytab *nix;		/* the names of nix_view */
static const struct evview *nix_view;

static void names_unindex(void)
{
	if (nix)
		keytab_free(nix);
	nix = NULL;
	nix_view = NULL;
}

static void names_index(const struct evview *v)
{
	names_unindex();
	if (v->nf <= WIDE_VIEW)
		return;
	nix = keytab_new();
	for (int i = 0; i < v->nf; i++)
		if (keytab_find(nix, v->f[i].name, v->f[i].namelen) < 0)
			keytab_add(nix, v->f[i].name, v->f[i].namelen);
	nix_view = v;
}

static bool view_has(const struct evview *v, const char *p, size_t n)
{
	if (v == nix_view)
		return keytab_find(nix, p, n) >= 0;
	for (int i = 0; i < v->nf; i++)
		if (same(v->f[i].name, v->f[i].namelen, p, n))
			return true;
	return false;
}

/* Key fields of the same top-level name on both sides: written once. */
static bool shared_key(const char *p, size_t n)
{
	for (int i = 0; i < cfg.nkeys; i++) {
		const struct path *a = &cfg.kpath[0][i], *b = &cfg.kpath[1][i];
		if (a->n == 1 && b->n == 1 && a->step[0].key && b->step[0].key &&
		    same(a->step[0].key, a->step[0].keylen, b->step[0].key,
			 b->step[0].keylen) &&
		    same(a->step[0].key, a->step[0].keylen, p, n))
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
static void out_name(int si, const struct evview *v, int i,
		     const struct evview *other, const char **p, size_t *n)
{
	const struct ofield *f = &v->f[i];
	bool ren = i == v->time_idx;
	if (!ren && !shared_key(f->name, f->namelen))
		ren = view_has(other, f->name, f->namelen) ||
		      same(f->name, f->namelen, out_time, out_timelen);
	if (!ren) {
		*p = f->name;
		*n = f->namelen;
		return;
	}
	size_t pl = S[si].prefixlen;
	char *b = scratch_alloc(&osc, pl + f->namelen);
	memcpy(b, S[si].prefix, pl);
	memcpy(b + pl, f->name, f->namelen);
	*p = b;
	*n = pl + f->namelen;
}

static void put_out(size_t n)
{
	static bool warned;
	const char *err;
	if (writer_put_fields(wr, of, n, &err) == 0)
		return;
	unwritten++;
	stats.dropped++;
	if (!warned)
		diag_warn("cannot write a joined record: %s (this and any "
			  "further ones are counted as dropped)", err);
	warned = true;
}

static void emit_pair(const struct evview *l, const struct evview *r)
{
	scratch_reset(&osc);
	of_room((size_t)(1 + l->nf + r->nf));
	size_t n = 0;
	const struct evview *later = r->t > l->t ? r : l;
	of[n].name = out_time;
	of[n].namelen = out_timelen;
	of[n++].v = later->tv;
	names_index(r);
	for (int i = 0; i < l->nf; i++, n++) {
		out_name(0, l, i, r, &of[n].name, &of[n].namelen);
		of[n].v = l->f[i].v;
	}
	names_index(l);
	for (int i = 0; i < r->nf; i++) {
		if (i != r->time_idx && shared_key(r->f[i].name, r->f[i].namelen))
			continue;
		out_name(1, r, i, l, &of[n].name, &of[n].namelen);
		of[n++].v = r->f[i].v;
	}
	names_unindex();
	pairs++;
	put_out(n);
}

/* An event that matched nothing, of an outer side: alone. For CSV the
 * other side's columns (from its first record) are there, empty. */
static void emit_alone(int si, const struct evview *v)
{
	const struct evview *k = &S[!si].known;
	scratch_reset(&osc);
	of_room((size_t)(1 + v->nf + k->nf));
	size_t n = 0;
	of[n].name = out_time;
	of[n].namelen = out_timelen;
	of[n++].v = v->tv;
	names_index(k);
	for (int i = 0; i < v->nf; i++, n++) {
		out_name(si, v, i, k, &of[n].name, &of[n].namelen);
		of[n].v = v->f[i].v;
	}
	names_index(v);
	if (ofmt == FMT_CSV) {
		for (int i = 0; i < k->nf; i++) {
			if (i != k->time_idx &&
			    shared_key(k->f[i].name, k->f[i].namelen))
				continue;
			out_name(!si, k, i, v, &of[n].name, &of[n].namelen);
			memset(&of[n].v, 0, sizeof of[n].v);
			of[n++].v.t = V_NULL;
		}
	}
	names_unindex();
	put_out(n);
}

/* An event leaves the state without a partner. */
static void settle_unmatched(int si, const struct evview *v)
{
	s_unmatched++;
	if (S[si].outer)
		emit_alone(si, v);
	else
		stats.dropped++;
}

static size_t state_bytes(void)
{
	return ev_bytes + keytab_bytes(S[0].keys) + keytab_bytes(S[1].keys);
}

/* The bytes a buffered copy of v holds past its header: fields, text. */
static size_t view_bytes(const struct evview *v)
{
	size_t text = v->tv.s ? v->tv.n : 0;
	for (int i = 0; i < v->nf; i++)
		text += v->f[i].namelen + (v->f[i].v.s ? v->f[i].v.n : 0);
	return (size_t)v->nf * sizeof(struct ofield) + text;
}

/* A copy of v, of view_bytes(v) bytes past the header. */
static struct bev *bev_new(const struct evview *v, size_t bytes)
{
	struct bev *e = xmalloc(sizeof *e + bytes);
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

/* Buffers the event v (of view_bytes bytes) of side si under the key in
 * keybuf, whose id is bid (-1: not there yet). */
static void buffer(int si, const struct evview *v, size_t bytes, int bid,
		   bool matched)
{
	struct side *s = &S[si];
	if (bid < 0) {
		bid = keytab_add(s->keys, keybuf.buf, keybuf.len);
		GROW(s->bk, bid, s->capbk);
		s->bk[bid].head = s->bk[bid].tail = NULL;
	}
	struct bucket *b = &s->bk[bid];
	struct bev *e = bev_new(v, bytes);
	ev_bytes += bytes;
	e->bid = bid;
	e->prev = b->tail;
	e->next = NULL;
	if (b->tail)
		b->tail->next = e;
	else
		b->head = e;
	b->tail = e;
	e->seq = ev_seq++;
	e->matched = matched;
	heap_push(s, e);
	nbuffered++;
}

/* Takes e (already off the heap) out of its bucket; emits it alone if it
 * never matched and its side is outer (unless quiet); frees it. */
static void release(int si, struct bev *e, bool quiet)
{
	struct bucket *b = &S[si].bk[e->bid];
	if (e->prev)
		e->prev->next = e->next;
	else
		b->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		b->tail = e->prev;
	if (!b->head)
		keytab_remove(S[si].keys, e->bid);
	if (!e->matched && !quiet)
		settle_unmatched(si, &e->v);
	ev_bytes -= e->bytes;
	free(e);
	nbuffered--;
}

/* Lets go of side si's events that no future event can match. */
static void expire(int si)
{
	struct side *s = &S[si];
	while (s->nheap && can_expire(si, s->heap[0]->v.t))
		release(si, heap_pop(s), false);
}

enum limit { BY_COUNT, BY_STATE };

/* At --max-buffered or --max-state: the oldest event (by time, of either
 * side) goes. Each limit says so once. */
static void evict_oldest(enum limit why)
{
	static bool warned[2];
	char size[32];
	int si;
	if (!S[0].nheap)
		si = 1;
	else if (!S[1].nheap)
		si = 0;
	else
		si = bev_less(S[1].heap[0], S[0].heap[0]) ? 1 : 0;
	if (!warned[why] && why == BY_COUNT)
		diag_warn("--max-buffered %ld reached: evicting the oldest buffered "
			  "events (counted as \"evicted\" in --stats)",
			  cfg.max_buffered);
	else if (!warned[why])
		diag_warn("--max-state %s reached: evicting the oldest buffered "
			  "events (counted as \"evicted\" in --stats)",
			  opts_size_text(cfg.max_state, size, sizeof size));
	warned[why] = true;
	evicted++;
	release(si, heap_pop(&S[si]), false);
}

/* Before the event in hand is buffered (bytes of its own, its key in
 * keybuf): the oldest go until it fits within --max-state, or nothing else
 * is left (the event in hand is never evicted: the bound is SIZE plus one
 * event). Returns its key's id, which an eviction may have removed. */
static int make_room(int si, size_t bytes, int bid)
{
	for (;;) {
		size_t need = bytes + (bid < 0 ? keybuf.len : 0);
		if (!nbuffered || state_bytes() + need <= cfg.max_state)
			return bid;
		evict_oldest(BY_STATE);
		bid = keytab_find(S[si].keys, keybuf.buf, keybuf.len);
	}
}

/* ---- stream-stream: events ---- */

/* The fields of rec as a view (names decoded, values typed, in sc). */
static void rec_view(int si, const struct record *rec, struct evview *v)
{
	const struct side *s = &S[si];
	if (rec->nfields > rfcap) {
		rfcap = rec->nfields * 2;
		rf = xrealloc(rf, rfcap * sizeof *rf);
	}
	v->f = rf;
	v->nf = (int)rec->nfields;
	v->time_idx = -1;
	for (size_t i = 0; i < rec->nfields; i++) {
		name_of(&rec->fields[i].key, &sc, &rf[i].name, &rf[i].namelen);
		if (value_load(&rec->fields[i].val, &rf[i].v, &sc))
			rf[i].v.t = V_NULL;
		if (v->time_idx < 0 && s->tname &&
		    same(rf[i].name, rf[i].namelen, s->tname, s->tnamelen))
			v->time_idx = (int)i;
	}
}

/* The field names of a side's first record, kept for its columns in the
 * other side's lone events (CSV) and for their names. */
static void remember_names(struct side *s, const struct evview *v)
{
	size_t text = 0;
	for (int i = 0; i < v->nf; i++)
		text += v->f[i].namelen;
	struct ofield *f = xmalloc((size_t)v->nf * sizeof *f + text + 1);
	char *p = (char *)(f + v->nf);
	for (int i = 0; i < v->nf; i++) {
		memset(&f[i], 0, sizeof f[i]);
		memcpy(p, v->f[i].name, v->f[i].namelen);
		f[i].name = p;
		f[i].namelen = v->f[i].namelen;
		f[i].v.t = V_NULL;
		p += v->f[i].namelen;
	}
	s->known.f = f;
	s->known.nf = v->nf;
	s->known.time_idx = v->time_idx;
	s->known_set = true;
}

static void on_silence(int64_t now);

static void timed_event(const struct record *rec, int64_t t, void *ctx);
/* The record on_event has in hand, and its time as written. */
static const struct record *in_hand;
static struct value in_tv;

static void on_event(int si, const struct record *rec)
{
	struct side *s = &S[si];
	int64_t t;
	const char *err;

	scratch_reset(&sc);
	if (record_time(rec, &rec->slots[s->time_slot], s->tpath->text, &s->unit,
			&sc, &t, &in_tv))
		return;
	if (rec->fmt == FMT_CSV && ofmt == FMT_NDJSON &&
	    (err = csv_utf8_check(rec))) {
		record_bad(rec, err);
		return;
	}
	in_hand = rec;
	wm_event(&s->wmk, rec, t, timed_event, s);
	in_hand = NULL;
}

/* An event whose time its side's watermark rule accepted (ctx: the side);
 * a held one comes back later, its time as written to be read again. */
static void timed_event(const struct record *rec, int64_t t, void *ctx)
{
	struct side *s = ctx;
	int si = (int)(s - S);
	struct side *o = &S[!si];
	struct evview v;
	struct value tv = in_tv;
	if (rec != in_hand) {
		scratch_reset(&sc);
		if (value_load(&rec->slots[s->time_slot], &tv, &sc))
			tv.t = V_MISSING;
	}
	if (t < s->wm) {
		wm_late(rec, t, s->wm);
		return;
	}
	if (!s->seen || t > s->max_t)
		s->max_t = t;
	s->seen = true;
	int64_t w = sat_add(s->max_t, -cfg.lateness);
	if (w > s->wm)
		s->wm = w;
	int64_t now = 0;
	if (cfg.idle) {
		now = loop_now_ms();
		s->last_ms = now;
	}
	rec_view(si, rec, &v);
	v.t = t;
	v.tv = tv;
	if (!s->known_set)
		remember_names(s, &v);

	bool matched = false, keyed = key_build(rec->slots, s->kslot, &sc);
	if (keyed) {
		int oid = keytab_find(o->keys, keybuf.buf, keybuf.len);
		for (struct bev *e = oid < 0 ? NULL : o->bk[oid].head; e;
		     e = e->next) {
			int64_t d = si == 0 ? e->v.t - t : t - e->v.t;
			if (d < cfg.low || d > cfg.high)
				continue;
			if (si == 0)
				emit_pair(&v, &e->v);
			else
				emit_pair(&e->v, &v);
			e->matched = matched = true;
		}
	}
	/* This side's watermark moved: the other side's events it passed
	 * can match nothing more (they go before this event needs room). */
	if (keyed && !can_expire(si, t)) {
		expire(!si);
		size_t bytes = view_bytes(&v);
		int bid = keytab_find(s->keys, keybuf.buf, keybuf.len);
		if (state_bytes() + bytes + (bid < 0 ? keybuf.len : 0) >
		    cfg.max_state)
			bid = make_room(si, bytes, bid);
		buffer(si, &v, bytes, bid, matched);
		size_t st = state_bytes();
		if (st > peak_state)
			peak_state = st;
	} else {
		if (!matched)
			settle_unmatched(si, &v);
		expire(!si);
	}
	if (cfg.idle)
		on_silence(now);
	while (nbuffered > (size_t)cfg.max_buffered)
		evict_oldest(BY_COUNT);
	if (nbuffered > peak_buffered)
		peak_buffered = nbuffered;
}

static void side_eof(int si)
{
	wm_end(&S[si].wmk, timed_event, &S[si]);
	S[si].eof = true;
	expire(!si);
	expire(si);
}

/* --idle: the watermark side si would have after its silence, or
 * INT64_MIN. A side that never had an event follows the other's clock. */
static int64_t idle_wm(int si, int64_t now)
{
	const struct side *s = &S[si], *o = &S[!si];
	int64_t sil = now - s->last_ms;
	if (sil * 1000 < cfg.idle)
		return INT64_MIN;
	if (s->seen)
		return sat_add(sat_add(s->max_t, sil * 1000), -cfg.lateness);
	if (o->seen)
		return sat_add(sat_add(o->max_t, (now - o->last_ms) * 1000),
			       -cfg.lateness);
	return INT64_MIN;
}

static void on_silence(int64_t now)
{
	for (int si = 0; si < 2; si++) {
		if (S[si].eof)
			continue;
		int64_t w = idle_wm(si, now);
		if (w > S[si].wm) {
			S[si].wm = w;
			expire(!si);
		}
	}
}

/* --idle: milliseconds until a silent side's watermark lets the oldest
 * buffered event of the other side go; -1 for none. */
static int idle_timeout(int64_t now)
{
	int64_t best = INT64_MAX;
	if (!cfg.idle)
		return -1;
	for (int si = 0; si < 2; si++) {
		const struct side *s = &S[si], *o = &S[!si];
		if (s->eof || !o->nheap)
			continue;
		int64_t t = o->heap[0]->v.t;
		int64_t need = si == 1 ? sat_add(t, cfg.high) : sat_add(t, -cfg.low);
		int64_t base, sil;
		if (s->seen) {
			base = s->max_t;
			sil = now - s->last_ms;
		} else {
			base = o->max_t;
			sil = now - o->last_ms;
		}
		int64_t lin = sat_add(sat_add(base, sil * 1000), -cfg.lateness);
		int64_t d_us = need >= lin ? need - lin + 1 : 0;
		int64_t d_ms = (d_us + 999) / 1000;
		int64_t quiet = (cfg.idle + 999) / 1000 - (now - s->last_ms);
		if (quiet > d_ms)
			d_ms = quiet;
		if (d_ms < best)
			best = d_ms;
	}
	if (best == INT64_MAX)
		return -1;
	if (best < 1)
		best = 1;
	return best > INT_MAX ? INT_MAX : (int)best;
}

/* Polls the blocked sides (timeout ms); those with input are unblocked.
 * Returns poll's result. */
static int poll_blocked(int timeout)
{
	struct pollfd p[2];
	int idx[2], np = 0;
	for (int si = 0; si < 2; si++) {
		if (S[si].eof || !S[si].blocked)
			continue;
		int fd = reader_fd(S[si].r);
		if (fd < 0) {
			S[si].blocked = false;
			return 1;
		}
		p[np] = (struct pollfd){ fd, POLLIN, 0 };
		idx[np++] = si;
	}
	if (!np)
		return 1;
	int rc = poll(p, (nfds_t)np, timeout);
	for (int i = 0; rc > 0 && i < np; i++)
		if (p[i].revents)
			S[idx[i]].blocked = false;
	return rc;
}

/* The side to read first: the one behind in event time (so that two files
 * are read side by side in time and the state stays small; ties in
 * turn). */
static int last_read = 1;

static int pick_side(void)
{
	if (S[0].eof || S[1].eof)
		return S[0].eof ? 1 : 0;
	if (!S[0].seen || !S[1].seen)
		return S[0].seen ? 1 : 0;
	if (S[0].max_t == S[1].max_t)
		return !last_read;	/* a tie: in turn */
	return S[1].max_t < S[0].max_t ? 1 : 0;
}

static void set_format(const struct record *rec)
{
	if (ofmt == FMT_AUTO) {
		ofmt = rec->fmt;
		writer_set_format(wr, ofmt);
	}
}

static void conf_reload(void);
static void stream_stopped(void);

static void stream_run(void)
{
	struct record rec;
	unsigned n = 0;
	int64_t start = loop_now_ms();
	S[0].last_ms = S[1].last_ms = start;
	for (int si = 0; si < 2; si++)
		reader_set_timeout(S[si].r, 0);
	while (!loop_stop && !(S[0].eof && S[1].eof)) {
		if (reload_due())
			conf_reload();
		if (loop_hup) {
			loop_hup = 0;
			diag_reopen();
		}
		int first = pick_side();
		bool progressed = false;
		for (int k = 0; k < 2 && !progressed; k++) {
			int si = k ? !first : first;
			if (S[si].eof || S[si].blocked)
				continue;
			int got = reader_next(S[si].r, &rec);
			if (got > 0) {
				set_format(&rec);
				last_read = si;
				on_event(si, &rec);
				progressed = true;
			} else if (got == 0) {
				if (loop_stop) {
					progressed = true;
					break;
				}
				side_eof(si);
				progressed = true;
			} else {
				S[si].blocked = true;
			}
		}
		if (progressed) {
			/* now and then, see whether a quiet side woke up */
			if ((++n & 15) == 0 && (S[0].blocked || S[1].blocked))
				poll_blocked(0);
			continue;
		}
		/* Every open side is waiting for input. */
		out_flush(&out);
		diag_flush();
		int held = wm_timeout(wm_idle(&S[0].wmk, timed_event, &S[0]),
				      wm_idle(&S[1].wmk, timed_event, &S[1]));
		int rc = poll_blocked(reload_timeout(loop_timeout(wm_timeout(
				idle_timeout(loop_now_ms()), held))));
		if (rc == 0 && cfg.idle) {
			on_silence(loop_now_ms());
			out_flush(&out);
		}
	}
	if (loop_stop)
		stream_stopped();
}

/* After a signal: the buffered events are dropped, not written; say how
 * many, and how many of them an outer side would have written alone
 * (those count as "dropped"). Events held for confirmation are bad. */
static void stream_stopped(void)
{
	size_t n = 0, alone = 0;
	for (int si = 0; si < 2; si++) {
		wm_end(&S[si].wmk, timed_event, &S[si]);
		for (size_t i = 0; i < S[si].nheap; i++) {
			n++;
			alone += S[si].outer && !S[si].heap[i]->matched;
		}
	}
	if (!n)
		return;
	stats.dropped += alone;
	diag_warn("stopped by a signal: %zu buffered event%s dropped (%zu of an "
		  "outer side never matched, not written alone)", n,
		  n == 1 ? "" : "s", alone);
}

/* Frees what is still buffered (after a signal, nothing is written). */
static void stream_free(void)
{
	for (int si = 0; si < 2; si++) {
		struct side *s = &S[si];
		wm_free(&s->wmk);
		while (s->nheap)
			release(si, heap_pop(s), true);
		free(s->heap);
		keytab_free(s->keys);
		free(s->bk);
		free(s->known.f);
		free(s->kslot);
		fieldset_free(s->fs);
		reader_close(s->r);
		if (s->file)
			free(*s->file);
		free(s->file);
	}
	free(rf);
	/* As at start: the fuzz target runs the join again and again. */
	memset(S, 0, sizeof S);
	rf = NULL;
	rfcap = 0;
	nbuffered = 0;
	ev_bytes = 0;
	ev_seq = 0;
	last_read = 1;
}

/* What cfg says of side si: its prefix, outer or not, its key and time
 * fields (added to its fieldset, which only grows; the reader then reads
 * the new ones too). */
static void side_define(int si)
{
	struct side *s = &S[si];
	const struct path *tp = &cfg.tpath[si][0];
	s->prefix = si ? cfg.right_prefix : cfg.left_prefix;
	s->prefixlen = strlen(s->prefix);
	s->outer = si ? cfg.type == J_RIGHT || cfg.type == J_FULL
		      : cfg.type == J_LEFT || cfg.type == J_FULL;
	s->tpath = tp;
	s->tname = NULL;
	s->tnamelen = 0;
	if (tp->n == 1 && tp->step[0].key) {
		s->tname = tp->step[0].key;
		s->tnamelen = tp->step[0].keylen;
	}
	int before = fieldset_count(s->fs);
	free(s->kslot);
	s->kslot = add_slots(s->fs, cfg.kpath[si]);
	s->time_slot = fieldset_add(s->fs, tp);
	if (s->r && fieldset_count(s->fs) != before)
		reader_fields_changed(s->r);
	wm_set(&s->wmk, cfg.max_ahead, fieldset_count(s->fs));
	if (si == 0) {
		out_time = s->tname ? s->tname : tp->text;
		out_timelen = s->tname ? s->tnamelen : strlen(out_time);
	}
}

/* A side as at the start: no watermark, no names known, its time unit
 * to be guessed again (unless given). Nothing may be buffered. */
static void side_clear(int si)
{
	struct side *s = &S[si];
	s->unit = cfg.unit;
	s->wm = INT64_MIN;
	s->max_t = INT64_MIN;
	s->seen = false;
	wm_reset(&s->wmk);
	free(s->known.f);
	memset(&s->known, 0, sizeof s->known);
	s->known_set = false;
}

/*
 * A reload that changes the join definition: every buffered event goes
 * as at the end of the input (an outer side's events that never matched
 * are written alone), oldest first by event time. Returns how many went;
 * *alone: how many of them were written alone.
 */
static size_t flush_state(size_t *alone)
{
	size_t n = 0;
	*alone = 0;
	while (S[0].nheap || S[1].nheap) {
		int si = !S[0].nheap ? 1 : !S[1].nheap ? 0 :
			 bev_less(S[1].heap[0], S[0].heap[0]) ? 1 : 0;
		struct bev *e = heap_pop(&S[si]);
		if (!e->matched && S[si].outer)
			(*alone)++;
		release(si, e, false);
		n++;
	}
	return n;
}

/* ---- options ---- */

static void usage(void)
{
	char size[32];
	printf("Usage: es-join --table FILE --on KEYS [OPTION]... [FILE]...\n"
	       "  or:  es-join --left A --right B --on KEYS --within D [OPTION]...\n"
	       "Enrich each record of FILEs (or standard input) with the row of a\n"
	       "table that has its key; or join two streams: a left event L and a\n"
	       "right event R whose keys match and with LOW <= R.t - L.t <= HIGH\n"
	       "make one output record (an interval join; every pair, once).\n"
	       "\n"
	       "  -k, --on KEYS            key field paths, comma-separated; KEY=OTHER\n"
	       "                           when the table (or right side) names it\n"
	       "                           otherwise: --on badge=id, --on site,gate\n"
	       "      --type T             inner (default): only records that match;\n"
	       "                           left: unmatched left records too; with\n"
	       "                           --left/--right also right, and full (both)\n"
	       "\n"
	       "Stream-table (enrichment):\n"
	       "  -t, --table FILE         the table, CSV or NDJSON (detected); reloaded\n"
	       "                           on SIGHUP and when the file changes (checked\n"
	       "                           once a second); duplicate keys: the last row\n"
	       "                           wins\n"
	       "      --table-prefix P     table fields come as P+name (default: as they\n"
	       "                           are, and left out where the record has a\n"
	       "                           field of that name: input fields win)\n"
	       "\n"
	       "Stream-stream (interval join):\n"
	       "      --left A             the left input: a file or named pipe (- stdin)\n"
	       "      --right B            the right input, read at the same time\n"
	       "      --within D           -D <= R.t - L.t <= D; or LOW,HIGH: -2s,5s\n"
	       "      --time-field F       event time field (default: ts); F=RF when the\n"
	       "                           right side names it otherwise\n"
	       "      --time-unit U        s, ms, us, ns or auto (default auto: guessed\n"
	       "                           from the first value: below 1e11 s, 1e14 ms,\n"
	       "                           1e17 us, else ns); strings are RFC 3339\n"
	       "      --lateness D         allowed lateness per side (default 0)\n"
	       WM_OPTION_HELP
	       "      --late FILE          write late events to FILE\n"
	       "      --idle D             after D of silence on a side, advance its\n"
	       "                           watermark with the wall clock\n"
	       "      --max-buffered N     at most N buffered events (default %d); at\n"
	       "                           the limit the oldest are evicted\n"
	       "      --max-state SIZE     at most SIZE bytes (512k, 64M, 2G; default %s)\n"
	       "                           of buffered events and their keys; at the\n"
	       "                           limit the oldest are evicted\n"
	       "      --left-prefix P      for the left side's time field and fields\n"
	       "                           both sides have (default: left_)\n"
	       "      --right-prefix P     the same for the right side (default: right_)\n"
	       "\n"
	       "A pair is written as: the time field (the later of the two times),\n"
	       "the left fields, then the right fields but the shared keys.\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) applies from the next\n"
	       "record; a new table, keys or prefix loads the table (all or nothing);\n"
	       "a new join definition first ends the buffered events as at the end\n"
	       "of input. --check loads the table too.\n"
	       "\n", DEFAULT_MAX_BUFFERED,
	       opts_size_text(OPTS_DEFAULT_MAX_STATE, size, sizeof size));
	opts_common_help(stdout);
	printf("\nDurations: 250ms, 10s, 5m, 1h, 1h30m, 2d.\n"
	       "\nExamples:\n"
	       "  es-join --table visitors.csv --on badge --type left readings.ndjson\n"
	       "  es-join --left thermal.fifo --right badges.fifo --on door --within 2s\n");
	exit(EXIT_OK);
}

static void parse_within(struct conf *c, const char *arg)
{
	const char *comma = strchr(arg, ','), *err;
	if (!comma) {
		int64_t d = opts_duration("--within", arg, true);
		c->low = -d;
		c->high = d;
		return;
	}
	char low[64];
	size_t n = (size_t)(comma - arg);
	if (n >= sizeof low)
		n = sizeof low - 1;
	memcpy(low, arg, n);
	low[n] = 0;
	if (duration_parse(low, true, &c->low, &err))
		diag_usage("invalid duration '%s' for --within: %s", low, err);
	if (duration_parse(comma + 1, true, &c->high, &err))
		diag_usage("invalid duration '%s' for --within: %s", comma + 1, err);
	if (c->low > c->high)
		diag_usage("invalid --within '%s': LOW must not exceed HIGH", arg);
}

/* KEY[=OTHER] pairs, comma-separated, into a[] and b[]. */
static int parse_pairs(const char *opt, const char *text, struct path **a,
		       struct path **b)
{
	const char *s = text, *err;
	int n = 0;
	*a = *b = NULL;
	while (*s) {
		*a = xrealloc(*a, (size_t)(n + 1) * sizeof **a);
		*b = xrealloc(*b, (size_t)(n + 1) * sizeof **b);
		const char *start = s;
		if (path_parse(&s, &(*a)[n], &err))
			diag_usage("invalid %s '%s' at column %d: %s", opt, text,
				   (int)(s - text) + 1, err);
		if (*s == '=') {
			s++;
			if (path_parse(&s, &(*b)[n], &err)) {
				path_free(&(*a)[n]);
				diag_usage("invalid %s '%s' at column %d: %s", opt,
					   text, (int)(s - text) + 1, err);
			}
		} else {
			path_parse(&start, &(*b)[n], &err);	/* the same path */
		}
		n++;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			diag_usage("invalid %s '%s' at column %d: expected ',' or '='",
				   opt, text, (int)(s - text) + 1);
	}
	if (!n)
		diag_usage("%s needs at least one field", opt);
	return n;
}

/* Parses argv into c (from the defaults); optind is left at the first
 * FILE. */
static void parse_args(int argc, char **argv, struct es_opts *o,
		       struct conf *c)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"table", required_argument, 0, 't'},
		{"on", required_argument, 0, 'k'},
		{"type", required_argument, 0, OPT_TYPE},
		{"table-prefix", required_argument, 0, OPT_TABLE_PREFIX},
		{"left", required_argument, 0, OPT_LEFT},
		{"right", required_argument, 0, OPT_RIGHT},
		{"within", required_argument, 0, OPT_WITHIN},
		{"time-field", required_argument, 0, OPT_TIME_FIELD},
		{"time-unit", required_argument, 0, OPT_TIME_UNIT},
		{"lateness", required_argument, 0, OPT_LATENESS},
		{"max-ahead", required_argument, 0, OPT_MAX_AHEAD},
		{"late", required_argument, 0, OPT_LATE},
		{"idle", required_argument, 0, OPT_IDLE},
		{"max-buffered", required_argument, 0, OPT_MAX_BUFFERED},
		{"max-state", required_argument, 0, OPT_MAX_STATE},
		{"left-prefix", required_argument, 0, OPT_LEFT_PREFIX},
		{"right-prefix", required_argument, 0, OPT_RIGHT_PREFIX},
		{0, 0, 0, 0}
	};
	static const char *const types[] = { "inner", "left", "right", "full" };
	bool type_ok = false;
	int ch, idx;
	*c = conf_defaults;
	optind = 0;	/* a reload parses again from the start */
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT "t:k:", longopts,
				 &idx)) != -1) {
		if (opts_common(o, ch, optarg))
			continue;
		if (ch >= OPT_LEFT && ch <= OPT_MAX_AHEAD && !c->stream_opt)
			c->stream_opt = longopts[idx].name;
		switch (ch) {
		case 't': c->table = optarg; break;
		case 'k': c->on = optarg; break;
		case OPT_TYPE:
			type_ok = false;
			for (int i = 0; i < 4; i++)
				if (!strcmp(optarg, types[i])) {
					c->type = (enum jtype)i;
					type_ok = true;
				}
			if (!type_ok)
				diag_usage("invalid argument '%s' for --type: expected "
					   "inner, left, right or full", optarg);
			break;
		case OPT_TABLE_PREFIX: c->table_prefix = optarg; break;
		case OPT_LEFT: c->left = optarg; break;
		case OPT_RIGHT: c->right = optarg; break;
		case OPT_WITHIN: c->within = optarg; break;
		case OPT_TIME_FIELD: c->time_field = optarg; break;
		case OPT_TIME_UNIT:
			time_unit_opt(optarg, &c->unit);
			break;
		case OPT_LATENESS:
			c->lateness = opts_duration("--lateness", optarg, true);
			break;
		case OPT_LATE: c->late = optarg; break;
		case OPT_IDLE: c->idle = opts_duration("--idle", optarg, false); break;
		case OPT_MAX_BUFFERED:
			c->max_buffered = opts_count("--max-buffered", optarg);
			break;
		case OPT_MAX_STATE:
			c->max_state = opts_size("--max-state", optarg);
			break;
		case OPT_LEFT_PREFIX: c->left_prefix = optarg; break;
		case OPT_RIGHT_PREFIX: c->right_prefix = optarg; break;
		case OPT_MAX_AHEAD:
			c->max_ahead = opts_duration("--max-ahead", optarg, true);
			break;
		default: opts_bad_option();
		}
	}
}

/* Checks c (a usage error says why) and compiles its paths. */
static void check_args(struct conf *c, int nfiles)
{
	bool stream = c->left || c->right;
	if (c->table && stream)
		diag_usage("--table and --left/--right do not go together");
	if (!c->table && !stream)
		diag_usage("either --table, or --left and --right, is needed");
	if (!c->on)
		diag_usage("--on is needed: the key field(s) to join on");
	if (c->table) {
		if (c->stream_opt)
			diag_usage("--%s goes with --left and --right", c->stream_opt);
		if (c->type == J_RIGHT || c->type == J_FULL)
			diag_usage("--type %s goes with --left and --right",
				   c->type == J_RIGHT ? "right" : "full");
		if (!strcmp(c->table, "-"))
			diag_usage("--table must name a file, not standard input");
		c->nkeys = parse_pairs("--on", c->on, &c->kpath[0], &c->kpath[1]);
		return;
	}
	if (c->table_prefix)
		diag_usage("--table-prefix goes with --table");
	if (!c->left || !c->right)
		diag_usage("%s is needed too", c->left ? "--right" : "--left");
	if (nfiles)
		diag_usage("with --left and --right, no FILE arguments");
	if (!strcmp(c->left, "-") && !strcmp(c->right, "-"))
		diag_usage("--left and --right cannot both be standard input");
	if (!c->within)
		diag_usage("--within is needed with --left and --right");
	parse_within(c, c->within);
	if (!*c->left_prefix || !*c->right_prefix)
		diag_usage("--left-prefix and --right-prefix must not be empty");
	if (!strcmp(c->left_prefix, c->right_prefix))
		diag_usage("--left-prefix and --right-prefix must differ");
	c->nkeys = parse_pairs("--on", c->on, &c->kpath[0], &c->kpath[1]);
	if (parse_pairs("--time-field", c->time_field, &c->tpath[0],
			&c->tpath[1]) != 1)
		diag_usage("invalid --time-field '%s': one field, or F=RF",
			   c->time_field);
}

static void paths_free(struct path *p, int n)
{
	for (int i = 0; p && i < n; i++)
		path_free(&p[i]);
	free(p);
}

static void conf_free(struct conf *c)
{
	for (int si = 0; si < 2; si++) {
		paths_free(c->kpath[si], c->nkeys);
		paths_free(c->tpath[si], 1);
	}
}


static void stats_table(char *buf, size_t n)
{
	snprintf(buf, n, ",\"matched\":%llu,\"unmatched\":%llu,\"table_rows\":%zu,"
		 "\"reloads\":%llu", t_matched, t_unmatched, table_rows, reloads);
}

static void stats_stream(char *buf, size_t n)
{
	snprintf(buf, n, ",\"matched\":%llu,\"unmatched\":%llu,\"evicted\":%llu,"
		 "\"buffered\":%zu,\"state_bytes\":%zu", pairs, s_unmatched,
		 evicted, peak_buffered, peak_state);
}

static void flush_out(void *ctx)
{
	out_flush(ctx);
	waited = true;
}

/* ---- the table mode's run ---- */

static struct fieldset *in_fs;	/* the input's fields */
static int *in_kslot;		/* its key paths' slots */
static struct reader *in_r;

/* The fields a table row is read for: cfg's table key paths. */
static void table_fields(void)
{
	fieldset_free(tfs);
	free(tkslot);
	tfs = fieldset_new();
	fieldset_want_members(tfs, true);
	tkslot = add_slots(tfs, cfg.kpath[1]);
}

/* The first load, at start-up and under --check (where a table that does
 * not load is a bad configuration: es-ctl must not apply it). */
static void table_first(const struct es_opts *o)
{
	char err[512];
	table_fields();
	tab_st_ok = stat(cfg.table, &tab_st) == 0;
	if (table_load(cfg.table, &tab, err, sizeof err))
		diag_fatal(o->check ? EXIT_USAGE : EXIT_RUNTIME,
			   "cannot load table: %s", err);
	table_rows = tab->nrows;
	last_check = loop_now_ms();
}

static void table_main(char **files, int nfiles, const struct es_opts *o)
{
	table_remap();
	in_fs = fieldset_new();
	fieldset_want_members(in_fs, true);
	in_kslot = add_slots(in_fs, cfg.kpath[0]);
	in_r = reader_open(files, nfiles, o->in_fmt, in_fs, flush_out, &out);
	reader_set_timeout(in_r, reload_timeout(CHECK_MS));
	struct record rec;
	for (;;) {
		/* --config only with no record in hand (its reload moves the
		 * slots a record points into), and before the table: a SIGHUP
		 * that loads a new table from it is that table's reload too. */
		if (reload_due())
			conf_reload();
		int got = reader_next(in_r, &rec);
		if (got == 0)
			break;
		if (got < 0 && reload_due())
			conf_reload();
		table_watch(got < 0);	/* the table applies to this record */
		if (got < 0)
			continue;
		set_format(&rec);
		enrich(&rec, in_kslot);
	}
	writer_close(wr);
	wr = NULL;
	reader_close(in_r);
	fieldset_free(in_fs);
	free(in_kslot);
	fieldset_free(tfs);
	free(tkslot);
	table_free(tab);
	tab = NULL;
	for (int i = 0; i < nfrozen; i++)
		free(frozen[i]);
	free(frozen);
	free(frozenlen);
	free(frozen_map);
	free(dense);
}

/* ---- the stream mode's run ---- */

static void side_setup(int si, const char *path, const struct es_opts *o)
{
	struct side *s = &S[si];
	s->file = xmalloc(sizeof *s->file);
	*s->file = xstrdup(path);
	s->keys = keytab_new();
	s->fs = fieldset_new();
	fieldset_want_members(s->fs, true);
	side_define(si);
	side_clear(si);
	s->r = reader_open(s->file, 1, o->in_fmt, s->fs, flush_out, &out);
}

static void stream_main(const struct es_opts *o)
{
	side_setup(0, cfg.left, o);
	side_setup(1, cfg.right, o);
	stream_run();
	writer_close(wr);
	wr = NULL;
	stream_free();
}

/* ---- reloading --config ---- */

static char **conf_words;	/* the reloaded command line cfg points into */

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool paths_same(const struct path *a, const struct path *b, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(a[i].text, b[i].text))
			return false;
	return true;
}

static bool keys_same(const struct conf *a, const struct conf *b)
{
	return a->nkeys == b->nkeys &&
	       paths_same(a->kpath[0], b->kpath[0], a->nkeys) &&
	       paths_same(a->kpath[1], b->kpath[1], a->nkeys);
}

/* What buffered events mean: if any of it changes, they go. */
static bool stream_def_same(const struct conf *a, const struct conf *b)
{
	return keys_same(a, b) && !strcmp(a->left, b->left) &&
	       !strcmp(a->right, b->right) &&
	       paths_same(a->tpath[0], b->tpath[0], 1) &&
	       paths_same(a->tpath[1], b->tpath[1], 1) &&
	       a->unit == b->unit && a->low == b->low && a->high == b->high &&
	       a->type == b->type;
}

/* The inputs are the process's: a reload may swap the two sides, but
 * neither change them nor change between the two modes. */
static const char *inputs_changed(const struct conf *nc)
{
	if (!cfg.table != !nc->table)
		return "a reload cannot change between --table and --left/--right";
	if (cfg.table)
		return NULL;
	if ((!strcmp(nc->left, cfg.left) && !strcmp(nc->right, cfg.right)) ||
	    (!strcmp(nc->left, cfg.right) && !strcmp(nc->right, cfg.left)))
		return NULL;
	return "a reload cannot change the inputs --left and --right "
	       "(it may swap them)";
}

static const char *const type_name[] = { "inner", "left", "right", "full" };

/* Table mode: a new table file, keys or prefix load the table anew (all
 * or nothing); the rest applies from the next record. */
static bool table_apply(struct conf *nc, char *said, size_t n)
{
	bool load = strcmp(nc->table, cfg.table) || !keys_same(nc, &cfg) ||
		    !str_same(nc->table_prefix, cfg.table_prefix);
	if (load) {
		/* the loader reads cfg: try with the new one, undo if bad */
		struct conf old = cfg;
		struct fieldset *ofs = tfs;
		int *oks = tkslot;
		struct table *nt;
		struct stat st;
		char err[512], why[600];
		bool st_ok = stat(nc->table, &st) == 0;
		cfg = *nc;
		tfs = NULL;
		tkslot = NULL;
		table_fields();
		if (table_load(cfg.table, &nt, err, sizeof err)) {
			fieldset_free(tfs);
			free(tkslot);
			tfs = ofs;
			tkslot = oks;
			cfg = old;
			snprintf(why, sizeof why, "cannot load table: %s", err);
			reload_refuse(why);
			return false;
		}
		fieldset_free(ofs);
		free(oks);
		cfg = old;
		table_free(tab);
		tab = nt;
		table_rows = tab->nrows;
		reloads++;
		tab_st = st;
		tab_st_ok = st_ok;
		tab_hups = loop_hups;	/* this SIGHUP's table reload */
		last_check = loop_now_ms();
	}
	conf_free(&cfg);
	cfg = *nc;
	if (load)
		table_remap();
	free(in_kslot);
	in_kslot = add_slots(in_fs, cfg.kpath[0]);
	reader_fields_changed(in_r);
	snprintf(said, n, "--table %s (%s %zu row%s) --on %s --type %s%s%s",
		 cfg.table, load ? "loaded," : "unchanged,", tab->nrows,
		 tab->nrows == 1 ? "" : "s", cfg.on, type_name[cfg.type],
		 cfg.table_prefix ? " --table-prefix " : "",
		 cfg.table_prefix ? cfg.table_prefix : "");
	return true;
}

/* Stream mode: the same join definition keeps the buffered events (a
 * new lateness, --idle, --max-buffered or prefix applies from the next
 * event); another one ends them as at the end of input, then starts from
 * nothing. */
static void stream_apply(struct conf *nc, char *said, size_t n)
{
	char size[32];
	bool same = stream_def_same(nc, &cfg);
	size_t went = 0, alone = 0;
	/* Events held for confirmation were read under the old fields. */
	for (int si = 0; si < 2; si++)
		wm_end(&S[si].wmk, timed_event, &S[si]);
	if (!same)
		went = flush_state(&alone);
	bool swap = strcmp(nc->left, cfg.left) != 0;
	if (nc->idle && !cfg.idle)	/* silence counts from now */
		S[0].last_ms = S[1].last_ms = loop_now_ms();
	conf_free(&cfg);
	cfg = *nc;
	if (swap) {
		struct side t = S[0];
		S[0].file = S[1].file;
		S[0].r = S[1].r;
		S[0].fs = S[1].fs;
		S[0].eof = S[1].eof;
		S[0].blocked = S[1].blocked;
		S[0].last_ms = S[1].last_ms;
		S[1].file = t.file;
		S[1].r = t.r;
		S[1].fs = t.fs;
		S[1].eof = t.eof;
		S[1].blocked = t.blocked;
		S[1].last_ms = t.last_ms;
		/* the slots were of the other fieldset */
		free(S[0].kslot);
		free(S[1].kslot);
		S[0].kslot = S[1].kslot = NULL;
	}
	for (int si = 0; si < 2; si++) {
		side_define(si);
		if (!same)
			side_clear(si);
	}
	size_t kept = nbuffered, over = 0;
	while (nbuffered > (size_t)cfg.max_buffered)
		evict_oldest(BY_COUNT);
	while (nbuffered && state_bytes() > cfg.max_state) {
		evict_oldest(BY_STATE);
		over++;
	}
	int len = 0;
	if (same)
		len = snprintf(said, n, "the join definition is unchanged: %zu "
			       "buffered event%s kept", kept, kept == 1 ? "" : "s");
	else
		len = snprintf(said, n, "a new join definition: %zu buffered "
			       "event%s ended as at the end of input (%zu "
			       "written alone)", went, went == 1 ? "" : "s",
			       alone);
	if (over && len >= 0 && (size_t)len < n)
		snprintf(said + len, n - (size_t)len, "; --max-state %s: the "
			 "%zu oldest evicted",
			 opts_size_text(cfg.max_state, size, sizeof size), over);
}

/*
 * On SIGHUP, or with --watch-config when the file changed. The file was
 * checked by reload_argv() (with --check, which also loads a table);
 * the common options and --late keep their start-up values.
 */
static void conf_reload(void)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return;
	struct es_opts no;
	struct conf nc;
	char said[1024];
	opts_init(&no);
	parse_args(ac, av, &no, &nc);
	check_args(&nc, ac - optind);
	const char *why = inputs_changed(&nc);
	bool ok = !why;
	if (why)
		reload_refuse(why);
	else if (cfg.table)
		ok = table_apply(&nc, said, sizeof said);
	else
		stream_apply(&nc, said, sizeof said);
	if (!ok) {
		conf_free(&nc);
		reload_free(av);
		return;
	}
	reload_said(said);
	reload_free(conf_words);
	conf_words = av;
}

/* What either mode leaves at the end (but the output), freed and set as
 * at start, so that a run can follow (the fuzz target's); after --stats,
 * whose counters it resets. */
static void join_free(void)
{
	pairs = s_unmatched = evicted = unwritten = 0;
	peak_buffered = peak_state = 0;
	t_matched = t_unmatched = reloads = 0;
	table_rows = 0;
	conf_free(&cfg);
	memset(&cfg, 0, sizeof cfg);
	reload_free(conf_words);
	conf_words = NULL;
	free(of);
	of = NULL;
	ofcap = 0;
	scratch_free(&sc);
	scratch_free(&osc);
	out_free(&keybuf);
	ofmt = FMT_AUTO;
}

int main(int argc, char **argv)
{
	struct es_opts o;

	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o, &cfg);
	if (o.help)
		usage();
	opts_apply(&o);
	check_args(&cfg, argc - optind);
	diag_set_stats_extra(cfg.table ? stats_table : stats_stream);
	loop_signals();
	out_init(&keybuf, -1, "key");
	if (cfg.table)
		table_first(&o);	/* --check loads the table too */
	opts_check_done(&o);
	reload_init(&o);
	if (cfg.late)
		diag_set_late(cfg.late);

	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	wr = writer_open(&out, o.out_fmt);
	ofmt = o.out_fmt;
	if (cfg.table)
		table_main(argv + optind, argc - optind, &o);
	else
		stream_main(&o);
	diag_finish();
	join_free();
	out_free(&out);
	return diag_status;
}
