/* record.c - the record a program sees: reading and writing records
 *
 * The reader turns lines into records (NDJSON: one line; CSV: one row under
 * its input's header) and reports what it cannot read. The writer passes a
 * record through byte for byte when it is already in the output format, and
 * converts it otherwise.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "diag.h"
#include "keys.h"
#include "record.h"



/* ---- reading ---- */

/* -d and --null-values: the same for every reader of the program. */
static char csv_delim = ',';
static const char *null_values;

void reader_set_delimiter(char delim)
{
	csv_delim = delim;
}

void reader_set_null_values(const char *list)
{
	null_values = list;
}

struct reader {
	char **files;
	int nfiles, next;
	enum format want, first, fmt;
	const struct fieldset *fs;
	struct input in;
	bool open;
	void (*idle)(void *ctx);
	void *ctx;
	int timeout_ms;

	struct json_scan js;
	struct span *slots;	/* CSV slots, mapped from cells */

	struct csv_in *csv;
	struct csv_header *hdr;	/* header of the current CSV input */
	int *slot_col;		/* per slot: its column, or -1 */
	uint64_t row_line;	/* first line of the CSV row being read */
	bool in_row, spilling;
	struct member *cfields;	/* CSV: header names with cells */
};

static unsigned long header_gen;

/* An over-long line goes to the dead letter in pieces as it is read; for
 * CSV under its input's header, like any other bad row. */
static void spill(void *ctx, const char *p, size_t n, bool last)
{
	struct reader *r = ctx;
	if (!r->spilling && r->fmt == FMT_CSV && r->hdr)
		diag_dead_header(r->hdr->raw, r->hdr->rawlen);
	r->spilling = !last;
	diag_dead_piece(p, n, last);
}

struct reader *reader_open(char **files, int nfiles, enum format fmt,
			   const struct fieldset *fs,
			   void (*idle)(void *ctx), void *ctx)
{
	static char *dash[] = { "-" };
	struct reader *r = xmalloc(sizeof *r);
	memset(r, 0, sizeof *r);
	r->files = nfiles > 0 ? files : dash;
	r->nfiles = nfiles > 0 ? nfiles : 1;
	r->want = fmt == FMT_JSON ? FMT_NDJSON : fmt;	/* FMT_JSON: to come */
	r->fs = fs;
	r->idle = idle;
	r->ctx = ctx;
	r->timeout_ms = -1;
	int ns = fieldset_count(fs);
	r->js.slots = xmalloc((size_t)ns * sizeof *r->js.slots);
	r->slots = xmalloc((size_t)ns * sizeof *r->slots);
	r->slot_col = xmalloc((size_t)ns * sizeof *r->slot_col);
	r->csv = csv_in_new();
	csv_in_set_spill(r->csv, spill, r);
	return r;
}

static void header_map(struct reader *r);

void reader_fields_changed(struct reader *r)
{
	size_t ns = (size_t)fieldset_count(r->fs);
	r->js.slots = xrealloc(r->js.slots, (ns + 1) * sizeof *r->js.slots);
	r->slots = xrealloc(r->slots, (ns + 1) * sizeof *r->slots);
	r->slot_col = xrealloc(r->slot_col, (ns + 1) * sizeof *r->slot_col);
	if (r->hdr)
		header_map(r);	/* the current CSV header's columns for them */
}

void reader_set_timeout(struct reader *r, int timeout_ms)
{
	r->timeout_ms = timeout_ms;
	if (r->open)
		r->in.timeout_ms = timeout_ms;
}

int reader_fd(const struct reader *r)
{
	return r->open ? r->in.fd : -1;
}

enum format reader_format(const struct reader *r)
{
	return r->first;
}

static void header_free(struct csv_header *h)
{
	if (!h)
		return;
	free(h->raw);
	free(h->names);
	free(h);
}

/* Input ran dry for now: whatever waits in a buffer goes out. */
static void reader_idle(void *ctx)
{
	struct reader *r = ctx;
	if (r->idle)
		r->idle(r->ctx);
	diag_flush();
}

/* Opens the next input; false when there is none. */
static bool open_next(struct reader *r)
{
	while (r->next < r->nfiles) {
		const char *path = r->files[r->next++];
		if (input_open(&r->in, path) < 0) {
			/* As with cat: say so, go on with the others, and
			 * end with status 1. */
			diag_warn("cannot open %s: %s", path, strerror(errno));
			diag_status = EXIT_RUNTIME;
			continue;
		}
		r->in.idle = reader_idle;
		r->in.ctx = r;
		r->in.spill = spill;
		r->in.spill_ctx = r;
		r->in.timeout_ms = r->timeout_ms;
		r->open = true;
		r->fmt = r->want;
		header_free(r->hdr);
		r->hdr = NULL;
		csv_in_reset(r->csv);
		r->in_row = false;
		return true;
	}
	return false;
}

static void close_input(struct reader *r)
{
	input_close(&r->in);
	r->open = false;
}

static void bad(struct reader *r, uint64_t line, const char *msg,
		const char *raw, size_t n)
{
	const char *h = NULL;
	size_t hn = 0;
	if (r->fmt == FMT_CSV && r->hdr) {
		h = r->hdr->raw;
		hn = r->hdr->rawlen;
	}
	diag_bad(r->in.name, line, msg, raw, n, h, hn);
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static int next_ndjson(struct reader *r, const char *p, size_t n,
		       struct record *rec)
{
	const char *err;
	size_t col;
	if (blank(p, n))
		return 0;
	int st = json_scan_line(p, n, r->fs, &r->js, &err, &col);
	if (st < 0) {
		char msg[128];
		if (st == -2)
			snprintf(msg, sizeof msg, "not a JSON object");
		else
			snprintf(msg, sizeof msg, "invalid JSON at column %zu: %s",
				 col + 1, err);
		bad(r, r->in.lineno, msg, p, n);
		return 0;
	}
	rec->raw = p;
	rec->rawlen = n;
	rec->fmt = FMT_NDJSON;
	rec->src = r->in.name;
	rec->line = r->in.lineno;
	rec->slots = r->js.slots;
	rec->fields = r->js.members;
	rec->nfields = r->js.nmembers;
	rec->header = NULL;
	return 1;
}

/* Maps each wanted path to a column: a header name equal to the whole path
 * as written (so "a.b" finds a flattened column), else to its single key. */
static void header_map(struct reader *r)
{
	int ns = fieldset_count(r->fs);
	for (int s = 0; s < ns; s++) {
		const struct path *p = fieldset_path(r->fs, s);
		r->slot_col[s] = -1;
		for (size_t c = 0; c < r->hdr->n; c++) {
			const struct span *h = &r->hdr->names[c];
			size_t tl = strlen(p->text);
			bool whole = h->n == tl && !memcmp(h->p, p->text, tl);
			bool key = p->n == 1 && p->step[0].key &&
				   h->n == p->step[0].keylen &&
				   !memcmp(h->p, p->step[0].key, h->n);
			if (whole || key) {
				r->slot_col[s] = (int)c;
				break;
			}
		}
	}
}

static void header_set(struct reader *r, const struct span *cells, size_t nc,
		       const char *raw, size_t rawlen)
{
	struct csv_header *h = xmalloc(sizeof *h);
	size_t bytes = 0;
	for (size_t i = 0; i < nc; i++)
		bytes += cells[i].n;
	h->gen = ++header_gen;
	h->raw = xmalloc(rawlen + 1 + bytes);
	memcpy(h->raw, raw, rawlen);
	h->raw[rawlen] = 0;
	h->rawlen = rawlen;
	h->n = nc;
	h->names = xmalloc(nc * sizeof *h->names);
	char *o = h->raw + rawlen + 1;
	for (size_t i = 0; i < nc; i++) {
		memcpy(o, cells[i].p, cells[i].n);
		h->names[i] = (struct span){ o, cells[i].n, SPAN_CSV, false };
		o += cells[i].n;
	}
	r->hdr = h;
	r->cfields = xrealloc(r->cfields, nc * sizeof *r->cfields);
	for (size_t i = 0; i < nc; i++)
		r->cfields[i].key = h->names[i];
	header_map(r);
}

static int csv_row(struct reader *r, uint64_t line, struct record *rec)
{
	size_t nc = csv_in_ncells(r->csv);
	const struct span *cells = csv_in_cells(r->csv);
	const char *raw;
	size_t rawlen;
	csv_in_raw(r->csv, &raw, &rawlen);
	if (nc == 0 || (nc == 1 && cells[0].n == 0 && rawlen == 0))
		return 0;	/* empty line */
	if (!r->hdr) {
		header_set(r, cells, nc, raw, rawlen);
		return 0;
	}
	if (nc != r->hdr->n) {
		char msg[128];
		snprintf(msg, sizeof msg, "CSV row has %zu field%s, header has %zu",
			 nc, nc == 1 ? "" : "s", r->hdr->n);
		bad(r, line, msg, raw, rawlen);
		return 0;
	}
	int ns = fieldset_count(r->fs);
	for (int s = 0; s < ns; s++) {
		int c = r->slot_col[s];
		if (c < 0)
			r->slots[s].kind = SPAN_MISSING;
		else
			r->slots[s] = cells[c];
	}
	for (size_t i = 0; i < nc; i++)
		r->cfields[i].val = cells[i];
	rec->raw = raw;
	rec->rawlen = rawlen;
	rec->fmt = FMT_CSV;
	rec->src = r->in.name;
	rec->line = line;
	rec->slots = r->slots;
	rec->fields = r->cfields;
	rec->nfields = nc;
	rec->header = r->hdr;
	return 1;
}

static int next_csv(struct reader *r, const char *p, size_t n,
		    struct record *rec)
{
	const char *err;
	if (!r->in_row) {
		r->row_line = r->in.lineno;
		r->in_row = true;
	}
	enum csv_status st = csv_in_line(r->csv, p, n, &err);
	if (st == CSV_MORE)
		return 0;
	r->in_row = false;
	if (st == CSV_BAD) {
		const char *raw;
		size_t rawlen;
		csv_in_raw(r->csv, &raw, &rawlen);
		char msg[128];
		snprintf(msg, sizeof msg, "invalid CSV: %s", err);
		bad(r, r->row_line, msg, raw, rawlen);
		return 0;
	}
	return csv_row(r, r->row_line, rec);
}

/* At the end of a CSV input: a quoted field left open is bad input. */
static void csv_end(struct reader *r)
{
	const char *err;
	if (r->fmt != FMT_CSV || !r->in_row)
		return;
	if (csv_in_eof(r->csv, &err) == CSV_BAD) {
		const char *raw;
		size_t rawlen;
		csv_in_raw(r->csv, &raw, &rawlen);
		char msg[128];
		snprintf(msg, sizeof msg, "invalid CSV: %s", err);
		bad(r, r->row_line, msg, raw, rawlen);
	}
	r->in_row = false;
}

static void detect(struct reader *r, const char *p, size_t n)
{
	if (r->fmt == FMT_AUTO) {
		size_t i = 0;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		r->fmt = i < n && p[i] == '{' ? FMT_NDJSON : FMT_CSV;
	}
	if (r->first == FMT_AUTO)
		r->first = r->fmt;
}

int reader_next(struct reader *r, struct record *rec)
{
	for (;;) {
		if (!r->open && !open_next(r))
			return 0;
		const char *p;
		size_t n;
		if (loop_stop)
			return 0;	/* SIGINT/SIGTERM: stop reading */
		enum line_status st = input_line(&r->in, &p, &n);
		if (loop_hup) {
			/* logrotate moved the dead-letter file: start a new
			 * one before anything more goes there. */
			loop_hup = 0;
			diag_reopen();
		}
		switch (st) {
		case LINE_STOP:
			return 0;
		case LINE_TIMEOUT:
			return -1;
		case LINE_EOF:
			csv_end(r);
			close_input(r);
			continue;
		case LINE_TOOLONG:
			/* Its bytes already went to the dead-letter file. */
			bad(r, r->in.lineno, "line longer than 16 MiB", NULL, 0);
			csv_in_reset(r->csv);
			r->in_row = false;
			continue;
		case LINE_OK:
			break;
		}
		if (r->fmt == FMT_AUTO) {
			if (blank(p, n))
				continue;
			detect(r, p, n);
		} else if (r->first == FMT_AUTO) {
			r->first = r->fmt;
		}
		int got = r->fmt == FMT_NDJSON ? next_ndjson(r, p, n, rec)
					       : next_csv(r, p, n, rec);
		if (got) {
			stats.in++;
			return 1;
		}
	}
}

void reader_close(struct reader *r)
{
	if (!r)
		return;
	if (r->open)
		close_input(r);
	header_free(r->hdr);
	csv_in_free(r->csv);
	free(r->js.slots);
	free(r->js.members);
	free(r->slots);
	free(r->slot_col);
	free(r->cfields);
	free(r);
}

void record_bad(const struct record *rec, const char *msg)
{
	const struct csv_header *h = rec->header;
	diag_bad(rec->src, rec->line, msg, rec->raw, rec->rawlen,
		 h ? h->raw : NULL, h ? h->rawlen : 0);
}

static const char *kind_name(enum vtype t)
{
	switch (t) {
	case V_MISSING: return "missing";
	case V_NULL: return "null";
	case V_BOOL: return "a boolean";
	case V_STRING: return "a string";
	default: return "an object or array";
	}
}

int record_number(const struct record *rec, const struct span *sp,
		  const char *field, struct scratch *sc, double *x)
{
	char msg[256];
	struct value v;
	if (value_load(sp, &v, sc))
		v.t = V_MISSING;
	if (!value_is_num(&v)) {
		snprintf(msg, sizeof msg, "field '%s' is %s, a number is needed",
			 field, kind_name(v.t));
		record_bad(rec, msg);
		return -1;
	}
	*x = value_num(&v);
	if (!isfinite(*x)) {
		snprintf(msg, sizeof msg, "field '%s' is out of range", field);
		record_bad(rec, msg);
		return -1;
	}
	return 0;
}

int record_time(const struct record *rec, const struct span *sp,
		const char *field, enum time_repr *unit, struct scratch *sc,
		int64_t *us, struct value *tv)
{
	struct value v;
	const char *err;
	char msg[256];
	if (value_load(sp, &v, sc))
		v.t = V_MISSING;
	if (time_from_value(&v, unit, us, &err)) {
		snprintf(msg, sizeof msg, "%s (--time-field %s)", err, field);
		record_bad(rec, msg);
		return -1;
	}
	if (tv)
		*tv = v;
	stats_event(*us);
	return 0;
}

/* ---- writing ---- */

struct writer {
	struct outbuf *o;
	enum format fmt;
	bool header_done;
	unsigned long hdr_gen;	/* CSV input header written as ours, or 0 */
	struct span *names;	/* CSV output header (owned text) */
	size_t ncols;
	struct keytab *colix;	/* column name -> its index */
	char *namebuf;
	const struct span **row;	/* per column: the value to write */
	struct fieldset *mfs;	/* members only, to convert NDJSON */
	struct json_scan js;
	struct outbuf tmp;	/* a converted record, written whole or not */
	struct scratch sc;
};

struct writer *writer_open(struct outbuf *o, enum format fmt)
{
	struct writer *w = xmalloc(sizeof *w);
	memset(w, 0, sizeof *w);
	w->o = o;
	w->fmt = fmt;
	w->mfs = fieldset_new();
	fieldset_want_members(w->mfs, true);
	out_init(&w->tmp, -1, "record");
	return w;
}

void writer_close(struct writer *w)
{
	if (!w)
		return;
	out_flush(w->o);
	fieldset_free(w->mfs);
	free(w->js.members);
	free(w->names);
	free(w->namebuf);
	free(w->row);
	if (w->colix)
		keytab_free(w->colix);
	out_free(&w->tmp);
	scratch_free(&w->sc);
	free(w);
}

/* The top-level fields of rec, scanning NDJSON again if the reader did not
 * collect them (conversion is the slow path; plain filtering never pays). */
static const struct member *fields_of(struct writer *w, const struct record *rec,
				      size_t *n)
{
	if (rec->fmt == FMT_CSV || rec->fields) {
		*n = rec->nfields;
		return rec->fields;
	}
	const char *err;
	size_t col;
	if (json_scan_line(rec->raw, rec->rawlen, w->mfs, &w->js, &err, &col) < 0) {
		*n = 0;
		return NULL;
	}
	*n = w->js.nmembers;
	return w->js.members;
}

/* A field name as text: CSV names are plain, JSON keys may need decoding. */
static void key_text(struct writer *w, const struct span *k, const char **p,
		     size_t *n)
{
	if (k->kind == SPAN_CSV) {
		*p = k->p;
		*n = k->n;
	} else if (!k->escaped) {
		*p = k->p + 1;
		*n = k->n - 2;
	} else {
		char *buf = scratch_alloc(&w->sc, k->n);
		*n = json_unescape(k, buf);
		*p = buf;
	}
}

static void header_from(struct writer *w, const struct member *f, size_t nf)
{
	size_t bytes = 0;
	w->names = xrealloc(w->names, nf * sizeof *w->names);
	w->row = xrealloc(w->row, nf * sizeof *w->row);
	const char **kp = xmalloc(nf * sizeof *kp);
	size_t *kn = xmalloc(nf * sizeof *kn);
	size_t ncols = 0;
	/* Names are looked up in a hash table, not by a scan of the columns:
	 * a scan made a record of 40,000 keys take 14 s to convert (900,000
	 * keys, within the 16 MiB line limit, hours). The ids it hands out
	 * are 0, 1, ... in order (nothing is removed): the column indexes. */
	if (w->colix)
		keytab_free(w->colix);
	w->colix = keytab_new();
	for (size_t i = 0; i < nf; i++) {
		key_text(w, &f[i].key, &kp[ncols], &kn[ncols]);
		/* a repeated JSON key is one column */
		if (keytab_find(w->colix, kp[ncols], kn[ncols]) < 0) {
			keytab_add(w->colix, kp[ncols], kn[ncols]);
			bytes += kn[ncols++];
		}
	}
	w->namebuf = xmalloc(bytes);
	char *o = w->namebuf;
	for (size_t i = 0; i < ncols; i++) {
		memcpy(o, kp[i], kn[i]);
		w->names[i] = (struct span){ o, kn[i], SPAN_CSV, false };
		o += kn[i];
	}
	w->ncols = ncols;
	free(kp);
	free(kn);
}

/* The header's names as CSV cells. A single empty name is written "":
 * an empty line would be skipped by any reader, the header lost. */
static void header_write(struct writer *w)
{
	if (w->ncols == 1 && w->names[0].n == 0) {
		out_put(w->o, "\"\"", 2);
		return;
	}
	for (size_t i = 0; i < w->ncols; i++) {
		if (i)
			out_putc(w->o, ',');
		csv_write_cell(w->o, w->names[i].p, w->names[i].n);
	}
}

static void write_header(struct writer *w, const struct record *rec)
{
	size_t nf;
	const struct member *f = fields_of(w, rec, &nf);
	header_from(w, f, nf);
	if (rec->fmt == FMT_CSV) {
		/* The input's own header line, byte for byte. */
		w->hdr_gen = rec->header->gen;
		out_put(w->o, rec->header->raw, rec->header->rawlen);
	} else {
		header_write(w);
	}
	out_putc(w->o, '\n');
	w->header_done = true;
}

static int col_of(const struct writer *w, const char *p, size_t n)
{
	return keytab_find(w->colix, p, n);
}

static void csv_value(struct writer *w, const struct span *v)
{
	struct outbuf *o = &w->tmp;
	switch (v->kind) {
	case SPAN_JSTRING:
		if (!v->escaped) {
			csv_write_cell(o, v->p + 1, v->n - 2);
		} else {
			char *buf = scratch_alloc(&w->sc, v->n);
			csv_write_cell(o, buf, json_unescape(v, buf));
		}
		break;
	case SPAN_JNULL:
	case SPAN_MISSING:
		break;
	default:	/* numbers, true/false, CSV cells, JSON containers */
		csv_write_cell(o, v->p, v->n);
	}
}

static int put_csv(struct writer *w, const struct record *rec,
		   const char **err)
{
	static char msg[160];
	size_t nf;
	const struct member *f = fields_of(w, rec, &nf);
	for (size_t i = 0; i < w->ncols; i++)
		w->row[i] = NULL;
	for (size_t i = 0; i < nf; i++) {
		const char *kp;
		size_t kn;
		key_text(w, &f[i].key, &kp, &kn);
		int c = col_of(w, kp, kn);
		if (c < 0) {
			snprintf(msg, sizeof msg,
				 "field '%.*s' is not in the CSV header",
				 (int)(kn > 64 ? 64 : kn), kp);
			*err = msg;
			return -1;
		}
		w->row[c] = &f[i].val;
	}
	w->tmp.len = 0;
	for (size_t i = 0; i < w->ncols; i++) {
		if (i)
			out_putc(&w->tmp, ',');
		if (w->row[i])
			csv_value(w, w->row[i]);
	}
	if (w->tmp.len == 0)
		out_put(&w->tmp, "\"\"", 2);	/* not an empty line: a row */
	out_putc(&w->tmp, '\n');
	out_put(w->o, w->tmp.buf, w->tmp.len);
	return 0;
}

static int put_ndjson(struct writer *w, const struct record *rec,
		      const char **err)
{
	static char msg[160];
	struct outbuf *o = &w->tmp;
	o->len = 0;
	out_putc(o, '{');
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct span *k = &rec->fields[i].key;
		const struct span *v = &rec->fields[i].val;
		struct value val;
		if (!utf8_valid(k->p, k->n) || !utf8_valid(v->p, v->n)) {
			snprintf(msg, sizeof msg,
				 "invalid UTF-8 in CSV field '%.*s'",
				 (int)(k->n > 64 ? 64 : k->n), k->p);
			*err = msg;
			return -1;
		}
		if (i)
			out_putc(o, ',');
		json_write_string(o, k->p, k->n);
		out_putc(o, ':');
		if (v->n == 0)
			out_put(o, "null", 4);
		else if (number_parse(v->p, v->n, &val))
			out_put(o, v->p, v->n);	/* the same digits */
		else
			json_write_string(o, v->p, v->n);
	}
	out_put(o, "}\n", 2);
	out_put(w->o, o->buf, o->len);
	return 0;
}

int writer_put(struct writer *w, const struct record *rec, const char **err)
{
	if (w->fmt == FMT_AUTO)
		w->fmt = rec->fmt;
	scratch_reset(&w->sc);
	if (w->fmt == FMT_NDJSON) {
		if (rec->fmt == FMT_NDJSON) {
			out_put(w->o, rec->raw, rec->rawlen);
			out_putc(w->o, '\n');
			stats.out++;
			return 0;
		}
		if (put_ndjson(w, rec, err))
			return -1;
		stats.out++;
		return 0;
	}
	if (!w->header_done) {
		size_t nf;
		fields_of(w, rec, &nf);
		if (nf == 0) {
			/* An empty header line would be skipped by any reader. */
			*err = "a record with no fields cannot start CSV output "
			       "(there is no header to write)";
			return -1;
		}
		write_header(w, rec);
	}
	if (rec->fmt == FMT_CSV && rec->header->gen == w->hdr_gen) {
		out_put(w->o, rec->raw, rec->rawlen);
		out_putc(w->o, '\n');
		stats.out++;
		return 0;
	}
	if (put_csv(w, rec, err))
		return -1;
	stats.out++;
	return 0;
}

void writer_set_format(struct writer *w, enum format fmt)
{
	if (w->fmt == FMT_AUTO)
		w->fmt = fmt;
}

/* The text of a built value: numbers as given or formatted. */
static void ofield_text(const struct value *v, char *buf, const char **p,
			size_t *n)
{
	switch (v->t) {
	case V_INT:
	case V_DOUBLE:
		if (v->s) {
			*p = v->s;
			*n = v->n;
		} else {
			*n = v->t == V_INT ? int_format(v->u.i, buf)
					   : double_format(v->u.d, buf);
			*p = buf;
		}
		return;
	case V_BOOL:
		*p = v->u.b ? "true" : "false";
		*n = strlen(*p);
		return;
	case V_NULL:
	case V_MISSING:
		*p = "null";
		*n = 4;
		return;
	default:
		*p = v->s;
		*n = v->n;
	}
}

static void fields_ndjson(struct writer *w, const struct ofield *f, size_t n)
{
	struct outbuf *o = w->o;
	char buf[40];
	out_putc(o, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			out_putc(o, ',');
		json_write_string(o, f[i].name, f[i].namelen);
		out_putc(o, ':');
		if (f[i].v.t == V_STRING) {
			json_write_string(o, f[i].v.s, f[i].v.n);
		} else {
			const char *p;
			size_t len;
			ofield_text(&f[i].v, buf, &p, &len);
			out_put(o, p, len);
		}
	}
	out_put(o, "}\n", 2);
}

static int fields_csv(struct writer *w, const struct ofield *f, size_t n,
		      const char **err)
{
	static char msg[160];
	if (!w->header_done && n == 0) {
		*err = "a record with no fields cannot start CSV output (there "
		       "is no header to write)";
		return -1;
	}
	if (!w->header_done) {
		struct member *m = xmalloc(n * sizeof *m);
		for (size_t i = 0; i < n; i++)
			m[i].key = (struct span){ f[i].name, f[i].namelen,
						  SPAN_CSV, false };
		header_from(w, m, n);
		free(m);
		header_write(w);
		out_putc(w->o, '\n');
		w->header_done = true;
	}
	const struct value **cols = (const struct value **)w->row;
	for (size_t i = 0; i < w->ncols; i++)
		cols[i] = NULL;
	for (size_t i = 0; i < n; i++) {
		int c = col_of(w, f[i].name, f[i].namelen);
		if (c < 0) {
			snprintf(msg, sizeof msg,
				 "field '%.*s' is not in the CSV header",
				 (int)(f[i].namelen > 64 ? 64 : f[i].namelen),
				 f[i].name);
			*err = msg;
			return -1;
		}
		cols[c] = &f[i].v;
	}
	char buf[40];
	if (w->ncols == 1 && (!cols[0] || cols[0]->t == V_NULL ||
			      cols[0]->t == V_MISSING ||
			      (cols[0]->t == V_STRING && cols[0]->n == 0)))
		out_put(w->o, "\"\"", 2);	/* not an empty line: a row */
	for (size_t i = 0; i < w->ncols; i++) {
		if (i)
			out_putc(w->o, ',');
		const struct value *v = cols[i];
		if (!v || v->t == V_NULL || v->t == V_MISSING)
			continue;
		const char *p;
		size_t len;
		ofield_text(v, buf, &p, &len);
		csv_write_cell(w->o, p, len);
	}
	out_putc(w->o, '\n');
	return 0;
}

int writer_put_fields(struct writer *w, const struct ofield *f, size_t n,
		      const char **err)
{
	if (w->fmt == FMT_AUTO)
		w->fmt = FMT_NDJSON;
	if (w->fmt == FMT_NDJSON)
		fields_ndjson(w, f, n);
	else if (fields_csv(w, f, n, err))
		return -1;
	stats.out++;
	return 0;
}
