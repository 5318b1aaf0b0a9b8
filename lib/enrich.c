/* enrich.c - the table join: each record with the row of its key */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "enrich.h"
#include "enrich_table.h"
#include "loop.h"
#include "mem.h"
#include "stats.h"

struct enrich {
	struct enrich_conf c;	/* in force (a copy) */
	bool have;		/* a conf is in force */
	struct enrich_table *tab;
	struct writer *w;
	struct outbuf *out;
	enum format ofmt;	/* the output format, once known */
	struct fieldset *fs;	/* the input's fields (the program's) */
	int *kslot;		/* its key paths' slots */
	struct outbuf key;	/* the key of the record in hand */
	struct scratch sc;	/* per input record */
	struct ofield *of;	/* the output record being built */
	size_t ofcap;
	/* With CSV output the table's columns are fixed by the first record
	 * written (its header); a reloaded table maps onto them by name. */
	char **frozen;
	size_t *frozenlen;
	int nfrozen, *frozen_map;
	bool frozen_set;
	const struct enrich_field **dense;	/* per column: a row's field */
	/* watching the file */
	struct stat st;
	bool st_ok, waited;
	sig_atomic_t hups;	/* the SIGHUPs seen (the program's reader
				   consumes loop_hup, for dead letters) */
	int64_t last_check;
	unsigned since_check;
	struct enrich_counts n;
};

struct enrich *enrich_new(struct fieldset *fs)
{
	struct enrich *e = xmalloc(sizeof *e);
	memset(e, 0, sizeof *e);
	e->fs = fs;
	fieldset_want_members(e->fs, true);
	out_init(&e->key, -1, "key");
	return e;
}

void enrich_output(struct enrich *e, struct writer *w, struct outbuf *out,
		   enum format ofmt)
{
	e->w = w;
	e->out = out;
	e->ofmt = ofmt;
}

struct enrich_counts enrich_counts(const struct enrich *e)
{
	if (!e)
		return (struct enrich_counts){ 0 };
	return e->n;
}

/* The frozen columns' ids in the table in use. */
static void enrich_remap(struct enrich *e)
{
	int nc = enrich_table_ncols(e->tab);
	e->dense = xrealloc(e->dense, (size_t)(nc + 1) * sizeof *e->dense);
	for (int i = 0; i < nc; i++)
		e->dense[i] = NULL;
	for (int i = 0; i < e->nfrozen; i++)
		e->frozen_map[i] = enrich_table_find_col(e->tab, e->frozen[i],
							 e->frozenlen[i]);
}

/* A new table in use (a reload: counted). */
static void enrich_use(struct enrich *e, struct enrich_table *t)
{
	if (e->tab)
		e->n.reloads++;
	enrich_table_free(e->tab);
	e->tab = t;
	e->n.rows = enrich_table_rows(t);
	enrich_remap(e);
}

static bool enrich_str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int enrich_apply(struct enrich *e, const struct enrich_conf *c, bool *loaded,
		 char *err, size_t errn)
{
	*loaded = !e->have || strcmp(c->table, e->c.table) ||
		  !join_pairs_same(&c->keys, &e->c.keys) ||
		  !enrich_str_same(c->prefix, e->c.prefix);
	if (*loaded) {
		struct enrich_table *t;
		struct stat st;
		bool ok = stat(c->table, &st) == 0;
		if (enrich_table_load(c->table, &c->keys, c->prefix, &t, err,
				      errn))
			return -1;
		enrich_use(e, t);
		e->st = st;
		e->st_ok = ok;
		e->last_check = loop_now_ms();
		e->hups = loop_hups;	/* this SIGHUP's table reload */
	}
	e->c = *c;
	e->have = true;
	free(e->kslot);
	e->kslot = join_pairs_slots(&c->keys, 0, e->fs);
	return 0;
}

static void enrich_freeze(struct enrich *e)
{
	int n = enrich_table_ncols(e->tab);
	e->frozen_set = true;
	e->nfrozen = n;
	e->frozen = xmalloc((size_t)(n + 1) * sizeof *e->frozen);
	e->frozenlen = xmalloc((size_t)(n + 1) * sizeof *e->frozenlen);
	e->frozen_map = xmalloc((size_t)(n + 1) * sizeof *e->frozen_map);
	for (int i = 0; i < n; i++) {
		const char *name = enrich_table_col(e->tab, i, &e->frozenlen[i]);
		e->frozen[i] = xmalloc(e->frozenlen[i] + 1);
		memcpy(e->frozen[i], name, e->frozenlen[i]);
		e->frozen_map[i] = i;
	}
}

/* Has the input record a top-level field of this name? */
static bool enrich_member(struct enrich *e, const struct record *rec,
			  const char *p, size_t n)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct span *k = &rec->fields[i].key;
		if (k->kind == SPAN_CSV || k->escaped) {
			const char *kp;
			size_t kn;
			join_name(k, &e->sc, &kp, &kn);
			if (join_same(kp, kn, p, n))
				return true;
		} else if (join_same(k->p + 1, k->n - 2, p, n)) {
			return true;
		}
	}
	return false;
}

static bool enrich_of_named(const struct enrich *e, size_t nof,
			    const char *p, size_t n)
{
	for (size_t i = 0; i < nof; i++)
		if (join_same(e->of[i].name, e->of[i].namelen, p, n))
			return true;
	return false;
}

/* NDJSON in and out: the record's own bytes, its closing brace replaced
 * by the row's fields. */
static void enrich_splice(struct enrich *e, const struct record *rec,
			  const struct enrich_row *row)
{
	size_t end = rec->rawlen;
	while (end && rec->raw[end - 1] != '}')
		end--;
	out_put(e->out, rec->raw, end ? end - 1 : 0);
	bool first = rec->nfields == 0;
	for (int i = 0; i < row->nf; i++) {
		const struct enrich_field *f = &row->f[i];
		size_t cn;
		const char *cname = enrich_table_col(e->tab, f->col, &cn);
		if (enrich_member(e, rec, cname, cn))
			continue;	/* the input's field wins */
		if (!first)
			out_putc(e->out, ',');
		first = false;
		out_put(e->out, row->text + f->joff, f->jlen);
	}
	out_put(e->out, "}\n", 2);
	stats.out++;
}

/* CSV output: every frozen column after the record's own, null where the
 * row has none. Returns the fields in of. */
static size_t enrich_columns(struct enrich *e, const struct enrich_row *row,
			     size_t nin)
{
	size_t n = nin;
	for (int i = 0; row && i < row->nf; i++)
		e->dense[row->f[i].col] = &row->f[i];
	for (int j = 0; j < e->nfrozen; j++) {
		if (enrich_of_named(e, nin, e->frozen[j], e->frozenlen[j]))
			continue;
		int c = e->frozen_map[j];
		const struct enrich_field *f = c >= 0 ? e->dense[c] : NULL;
		e->of[n].name = e->frozen[j];
		e->of[n].namelen = e->frozenlen[j];
		if (f) {
			e->of[n].v = f->v;
		} else {
			memset(&e->of[n].v, 0, sizeof e->of[n].v);
			e->of[n].v.t = V_NULL;
		}
		n++;
	}
	for (int i = 0; row && i < row->nf; i++)
		e->dense[row->f[i].col] = NULL;
	return n;
}

/* Other output: the row's fields after the record's, but for the names
 * the record has. Returns the fields in of. */
static size_t enrich_row_fields(struct enrich *e, const struct enrich_row *row,
				size_t nin)
{
	size_t n = nin;
	for (int i = 0; i < row->nf; i++) {
		size_t cn;
		const char *cname = enrich_table_col(e->tab, row->f[i].col, &cn);
		if (enrich_of_named(e, nin, cname, cn))
			continue;
		e->of[n].name = cname;
		e->of[n].namelen = cn;
		e->of[n].v = row->f[i].v;
		n++;
	}
	return n;
}

/* Any other formats: the record's fields, then the row's (all columns,
 * null where the row has none, for CSV output). */
static void enrich_built(struct enrich *e, const struct record *rec,
			 const struct enrich_row *row)
{
	const char *err;
	char msg[160];
	if (rec->fmt == FMT_CSV && e->ofmt == FMT_NDJSON &&
	    (err = join_csv_utf8(rec, msg, sizeof msg))) {
		record_bad(rec, err);
		return;
	}
	if (e->ofmt == FMT_CSV && !e->frozen_set)
		enrich_freeze(e);
	size_t need = rec->nfields + (size_t)(row ? row->nf : 0) +
		      (size_t)e->nfrozen + 1;
	if (need > e->ofcap) {
		e->ofcap = need * 2;
		e->of = xrealloc(e->of, e->ofcap * sizeof *e->of);
	}
	size_t n = 0;
	for (size_t i = 0; i < rec->nfields; i++, n++) {
		join_name(&rec->fields[i].key, &e->sc, &e->of[n].name,
			  &e->of[n].namelen);
		if (value_load(&rec->fields[i].val, &e->of[n].v, &e->sc))
			e->of[n].v.t = V_NULL;
	}
	if (e->ofmt == FMT_CSV)
		n = enrich_columns(e, row, n);
	else
		n = enrich_row_fields(e, row, n);
	if (writer_put_fields(e->w, e->of, n, &err) < 0)
		record_bad(rec, err);
}

void enrich_record(struct enrich *e, const struct record *rec)
{
	const struct enrich_row *row = NULL;
	const char *err;
	if (e->ofmt == FMT_AUTO) {
		e->ofmt = rec->fmt;
		writer_set_format(e->w, e->ofmt);
	}
	scratch_reset(&e->sc);
	if (join_key(&e->key, rec->slots, e->kslot, e->c.keys.n, &e->sc))
		row = enrich_table_get(e->tab, e->key.buf, e->key.len);
	if (row) {
		e->n.matched++;
	} else {
		e->n.unmatched++;
		if (e->c.type == JOIN_INNER) {
			e->n.filtered++;	/* what an inner join means */
			return;
		}
		if (e->ofmt == FMT_NDJSON) {
			/* unchanged: byte for byte (or converted from CSV) */
			if (writer_put(e->w, rec, &err) < 0)
				record_bad(rec, err);
			return;
		}
	}
	if (e->ofmt == FMT_NDJSON && rec->fmt == FMT_NDJSON)
		enrich_splice(e, rec, row);
	else
		enrich_built(e, rec, row);
}

/* ---- watching the table's file ---- */

static bool enrich_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void enrich_keeping(const struct enrich *e, const char *why)
{
	diag_warn("cannot reload table: %s; keeping the previous table (%zu "
		  "row%s)", why, e->n.rows, e->n.rows == 1 ? "" : "s");
}

/* Loads the table again: on SIGHUP (forced), or if the file changed. */
static void enrich_reload(struct enrich *e, bool forced)
{
	struct stat st;
	char err[512];
	struct enrich_table *t;
	bool ok = stat(e->c.table, &st) == 0;
	if (!forced) {
		if (!ok) {
			if (e->st_ok) {	/* say it once, not every second */
				snprintf(err, sizeof err, "%s: %s", e->c.table,
					 strerror(errno));
				enrich_keeping(e, err);
			}
			e->st_ok = false;
			return;
		}
		if (e->st_ok && enrich_stat_same(&st, &e->st))
			return;
	}
	/* This version is seen, loaded or not: a bad one is not retried
	 * until it changes again. */
	e->st = st;
	e->st_ok = ok;
	if (enrich_table_load(e->c.table, &e->c.keys, e->c.prefix, &t, err,
			      sizeof err)) {
		enrich_keeping(e, err);
		return;
	}
	enrich_use(e, t);
}

void enrich_waited(struct enrich *e)
{
	e->waited = true;
}

void enrich_watch(struct enrich *e, bool timed_out)
{
	bool hup = loop_hups != e->hups;
	e->hups = loop_hups;
	if (!timed_out && !hup && !e->waited && ++e->since_check < 1024)
		return;
	e->since_check = 0;
	e->waited = false;
	int64_t now = loop_now_ms();
	if (hup) {
		e->last_check = now;
		enrich_reload(e, true);
		return;
	}
	if (!timed_out && now - e->last_check < ENRICH_CHECK_MS)
		return;
	e->last_check = now;
	enrich_reload(e, false);
}

void enrich_free(struct enrich *e)
{
	if (!e)
		return;
	enrich_table_free(e->tab);
	free(e->kslot);
	out_free(&e->key);
	scratch_free(&e->sc);
	free(e->of);
	for (int i = 0; i < e->nfrozen; i++)
		free(e->frozen[i]);
	free(e->frozen);
	free(e->frozenlen);
	free(e->frozen_map);
	free(e->dense);
	free(e);
}
