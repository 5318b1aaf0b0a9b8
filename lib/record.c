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
#include "dead.h"
#include "diag.h"
#include "influx.h"
#include "input.h"
#include "keys.h"
#include "loop.h"
#include "mem.h"
#include "number.h"
#include "record.h"
#include "stats.h"



/* ---- reading ---- */

/* -d and --null-values: the same for every reader of the program. */
static char csv_delim = ',';
static struct span *nulls;	/* the --null-values items, as text */
static size_t nnulls;

void reader_set_delimiter(char delim)
{
	csv_delim = delim;
}

void reader_set_null_values(const char *list)
{
	free(nulls);
	nulls = NULL;
	nnulls = 0;
	if (!list)
		return;
	for (const char *p = list;; p++) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		nulls = xrealloc(nulls, (nnulls + 1) * sizeof *nulls);
		nulls[nnulls++] = (struct span){ p, n, SPAN_CSV, false };
		if (!c)
			break;
		p = c;
	}
}

static bool is_null_text(const char *p, size_t n)
{
	for (size_t i = 0; i < nnulls; i++)
		if (nulls[i].n == n && !memcmp(nulls[i].p, p, n))
			return true;
	return false;
}

/* A field written exactly as a --null-values item reads as null: a CSV
 * cell, a JSON number's text, a JSON string's text without escapes. */
static void null_mark(struct span *sp)
{
	static const struct span null = { "null", 4, SPAN_JNULL, false };
	const char *p = sp->p;
	size_t n = sp->n;
	if (sp->kind == SPAN_JSTRING && !sp->escaped) {
		p++;
		n -= 2;
	} else if (sp->kind != SPAN_CSV && sp->kind != SPAN_JNUMBER) {
		return;
	}
	if (is_null_text(p, n))
		*sp = null;
}

static void null_mark_record(struct span *slots, int ns, struct member *m,
			     size_t nm)
{
	for (int i = 0; i < ns; i++)
		null_mark(&slots[i]);
	for (size_t i = 0; i < nm; i++)
		null_mark(&m[i].val);
}

/* -i json: values split from the text whatever its layout, one at a time
 * (see next_json). */
struct jsplit {
	char *buf;		/* the value so far, without whitespace outside
				   strings */
	size_t len, cap;
	const char *p, *end;	/* the rest of the current line */
	uint64_t line;		/* where the value started */
	int depth;		/* of the value being read; 0 between values */
	bool array;		/* inside a top-level array: its elements are
				   the values */
	bool str, esc;		/* inside a string, after a backslash in it */
	bool scalar;		/* reading a top-level scalar (bad input) */
	bool gap;		/* whitespace since the last byte kept */
	bool skip;		/* after a bad value: until a line starts with
				   '{' or '[' */
	bool toolong;		/* past LINE_MAX_BYTES: going to the dead
				   letter in pieces */
	const char *why;	/* the bad value's message, NULL if good */
};

/* The lines of a cut-off CSV row after its first, read again before any
 * new input (joined with "\n", left lines from pos). */
struct replay {
	char *buf;
	size_t len, pos, left;
	uint64_t line;		/* the number of the next one */
};

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
	uint64_t line;		/* the number of the line being read */
	struct replay rp;
	int64_t row_deadline;	/* when an open CSV row waiting for input is
				   cut off (live input) */
	bool hinted;		/* the delimiter or NDJSON hint was given for
				   this input */
	bool quiet;		/* NDJSON errors of this input not said (after
				   the -i json hint) */
	bool seen;		/* a non-blank NDJSON line of this input was
				   read */
	struct jsplit js2;
};

/* An NDJSON record's top-level fields, when its fieldset wants them; NULL
 * says they were not collected (record_fields finds them then). */
static void rec_members(const struct reader *r, struct record *rec)
{
	bool have = fieldset_wants_members(r->fs);
	rec->fields = have ? r->js.members : NULL;
	rec->nfields = have ? r->js.nmembers : 0;
}

/* A quoted CSV field still open when the input has been waiting this long
 * since the row began is cut off: a live pipe does not hold records back
 * for a quote that never closes. */
#define CSV_ROW_WAIT_MS 1000

static unsigned long header_gen;

/* An over-long line goes to the dead letter in pieces as it is read; for
 * CSV under its input's header, like any other bad row. */
static void spill(void *ctx, const char *p, size_t n, bool last)
{
	struct reader *r = ctx;
	if (!r->spilling && r->fmt == FMT_CSV && r->hdr)
		dead_header(r->hdr->raw, r->hdr->rawlen);
	r->spilling = !last;
	dead_piece(p, n, last);
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
	r->want = fmt;
	r->fs = fs;
	r->idle = idle;
	r->ctx = ctx;
	r->timeout_ms = -1;
	int ns = fieldset_count(fs);
	r->js.slots = xmalloc((size_t)ns * sizeof *r->js.slots);
	r->slots = xmalloc((size_t)ns * sizeof *r->slots);
	r->slot_col = xmalloc((size_t)ns * sizeof *r->slot_col);
	r->csv = csv_in_new();
	csv_in_set_delim(r->csv, csv_delim);
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
	free(h->shadowed);
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
	dead_flush();
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
		r->hinted = r->quiet = r->seen = false;
		struct jsplit *j = &r->js2;
		char *buf = j->buf;
		size_t cap = j->cap;
		memset(j, 0, sizeof *j);
		j->buf = buf;
		j->cap = cap;
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
	stats.in++;	/* read, if not readable: in = out + ... + bad */
	dead_bad(r->in.name, line, msg, raw, n, h, hn);
}

/* Bad, but said only in --stats (after the one hint that says why). */
static void bad_quiet(const char *raw, size_t n)
{
	stats.in++;
	stats.bad++;
	dead_piece(raw, n, true);
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* A line that starts a pretty-printed object or an array: "{", "[", "[{",
 * or one that opens a member it does not close ("{ \"a\": 1,"). */
static bool looks_pretty(const char *p, size_t n)
{
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (n == 0)
		return false;
	if (p[0] == '[')
		return true;
	return p[0] == '{' && (p[n - 1] == '{' || p[n - 1] == '[' ||
			       p[n - 1] == ',');
}

static const char pretty_hint[] = "this looks like pretty-printed JSON or a "
	"JSON array: read it with -i json (the bad lines after it are not said "
	"one by one)";

static void ndjson_bad(struct reader *r, const char *p, size_t n, int st,
		       const char *err, size_t col)
{
	char msg[256];
	if (r->quiet) {
		bad_quiet(p, n);
		return;
	}
	if (st == -2)
		snprintf(msg, sizeof msg, "not a JSON object");
	else
		snprintf(msg, sizeof msg, "invalid JSON at column %zu: %s",
			 col + 1, err);
	if (!r->hinted && !r->seen && looks_pretty(p, n)) {
		/* One line, not one per line of the file: every line of a
		 * pretty-printed file is bad NDJSON. */
		r->hinted = r->quiet = true;
		size_t l = strlen(msg);
		snprintf(msg + l, sizeof msg - l, "; %s", pretty_hint);
	}
	bad(r, r->in.lineno, msg, p, n);
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
		ndjson_bad(r, p, n, st, err, col);
		r->seen = true;
		return 0;
	}
	r->seen = true;
	if (nnulls)
		null_mark_record(r->js.slots, fieldset_count(r->fs),
				 r->js.members, r->js.nmembers);
	rec->raw = p;
	rec->rawlen = n;
	rec->fmt = FMT_NDJSON;
	rec->src = r->in.name;
	rec->line = r->in.lineno;
	rec->slots = r->js.slots;
	rec_members(r, rec);
	rec->header = NULL;
	return 1;
}

/* Maps each wanted path to a column: a header name equal to the whole path
 * as written (so "a.b" finds a flattened column), else to its single key.
 * Of repeated names the last is read, as JSON readers (jq) take the last
 * of repeated keys. */
static void header_map(struct reader *r)
{
	int ns = fieldset_count(r->fs);
	for (int s = 0; s < ns; s++) {
		const struct path *p = fieldset_path(r->fs, s);
		r->slot_col[s] = -1;
		for (size_t c = r->hdr->n; c-- > 0;) {
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

static bool same_name(const struct span *a, const struct span *b)
{
	return a->n == b->n && !memcmp(a->p, b->p, a->n);
}

/* A name given to two columns: the earlier is shadowed (see header_map),
 * said once per header; conversion writes only the last. */
static void header_repeats(struct reader *r)
{
	struct csv_header *h = r->hdr;
	bool said = false;
	for (size_t i = 0; i < h->n; i++)
		for (size_t j = i + 1; j < h->n; j++) {
			if (!same_name(&h->names[i], &h->names[j]))
				continue;
			if (!h->shadowed)
				h->shadowed = memset(xmalloc(h->n), 0, h->n);
			h->shadowed[i] = true;
			if (!said)
				diag_warn("%s: the CSV header has '%.*s' twice "
					  "(columns %zu and %zu): the last one "
					  "is read", r->in.name,
					  (int)(h->names[i].n > 64 ? 64 : h->names[i].n),
					  h->names[i].p, i + 1, j + 1);
			said = true;
			break;
		}
}

/* A delimiter the header line holds when it was read as one name. */
static char other_delim(const struct csv_header *h)
{
	static const char cand[] = ",;\t|";
	if (h->n != 1)
		return 0;
	for (const char *c = cand; *c; c++)
		if (*c != csv_delim && memchr(h->names[0].p, *c, h->names[0].n))
			return *c;
	return 0;
}

/* "; the header has ';' in it: is the delimiter ';'? (-d ';')", or "". */
static void delim_hint(const struct csv_header *h, char *buf, size_t n)
{
	char d = other_delim(h);
	buf[0] = 0;
	if (d == '\t')
		snprintf(buf, n, "; the header has a tab in it: is the "
			 "delimiter a tab? (-d tab)");
	else if (d)
		snprintf(buf, n, "; the header has '%c' in it: is the delimiter "
			 "'%c'? (-d '%c')", d, d, d);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool same_nocase(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Whether name holds word as one of its parts between bytes a bare path
 * cannot hold ("co2" in "co2-ppm"), letter case aside. */
static bool has_part(const char *name, size_t n, const char *word, size_t wn)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && (name[j] == '_' || name[j] == '$' ||
				 (name[j] >= '0' && name[j] <= '9') ||
				 (lower((unsigned char)name[j]) >= 'a' &&
				  lower((unsigned char)name[j]) <= 'z')))
			j++;
		if (j > i && same_nocase(name + i, j - i, word, wn))
			return true;
		i = j + 1;
	}
	return false;
}

/* Levenshtein distance, letter case aside, capped at 9 (names are short;
 * longer ones are not compared). */
static size_t distance(const char *a, size_t an, const char *b, size_t bn)
{
	size_t row[65];
	if (an > 64 || bn > 64)
		return 9;
	for (size_t j = 0; j <= bn; j++)
		row[j] = j;
	for (size_t i = 1; i <= an; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= bn; j++) {
			size_t up = row[j];
			size_t sub = diag + (lower((unsigned char)a[i - 1]) !=
					     lower((unsigned char)b[j - 1]));
			size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			diag = up;
		}
	}
	return row[bn] > 9 ? 9 : row[bn];
}

/* The header name nearest the path text t: the same but for letter case,
 * then one holding t as a part, then the fewest edits (at most 2, or a
 * third of t's length); -1 for none. */
static long nearest(const struct csv_header *h, const char *t, size_t tn)
{
	for (size_t c = 0; c < h->n; c++)
		if (same_nocase(h->names[c].p, h->names[c].n, t, tn))
			return (long)c;
	for (size_t c = 0; c < h->n; c++)
		if (has_part(h->names[c].p, h->names[c].n, t, tn))
			return (long)c;
	long best = -1;
	size_t bd = tn / 3 > 2 ? tn / 3 : 2;
	for (size_t c = 0; c < h->n; c++) {
		size_t d = distance(h->names[c].p, h->names[c].n, t, tn);
		if (d <= bd && (best < 0 || d < bd)) {
			best = (long)c;
			bd = d;
		}
	}
	return best;
}

/* The first byte of name that a bare path cannot hold, or 0. */
static char needs_quoting(const char *name, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		bool ok = ch == '_' || ch == '$' ||
			  (lower((unsigned char)ch) >= 'a' &&
			   lower((unsigned char)ch) <= 'z') ||
			  (i > 0 && ch >= '0' && ch <= '9');
		if (!ok)
			return ch;
	}
	return 0;
}

/* "the header has 'co2-ppm': a name with '-' is written .\"co2-ppm\"" (a
 * quoted step, in an expression as in an option's path), or
 * the first few names. */
static void unknown_why(const struct csv_header *h, const char *t, char *buf,
			size_t n)
{
	long c = nearest(h, t, strlen(t));
	if (c < 0) {
		size_t o = (size_t)snprintf(buf, n, "the header has ");
		for (size_t i = 0; i < h->n && i < 6 && o < n; i++)
			o += (size_t)snprintf(buf + o, n - o, "%s%.*s",
					      i ? ", " : "",
					      (int)(h->names[i].n > 32 ? 32 : h->names[i].n),
					      h->names[i].p);
		if (h->n > 6 && o < n)
			snprintf(buf + o, n - o, ", ...");
		return;
	}
	const struct span *m = &h->names[c];
	int mn = (int)(m->n > 64 ? 64 : m->n);
	char q = needs_quoting(m->p, m->n);
	if (!q || q == '.')
		snprintf(buf, n, "the header has '%.*s'", mn, m->p);
	else if (q == ' ')
		snprintf(buf, n, "the header has '%.*s': a name with a space is "
			 "written .\"%.*s\"", mn, m->p, mn, m->p);
	else
		snprintf(buf, n, "the header has '%.*s': a name with '%c' is "
			 "written .\"%.*s\"", mn, m->p, q, mn, m->p);
}

/* Each path the program reads that names no column of this input's header
 * is said once: a typo or a dash (co2-ppm is co2 minus ppm) would
 * otherwise match nothing, silently. */
static void header_unknown(struct reader *r)
{
	int ns = fieldset_count(r->fs);
	char why[512], hint[96];
	delim_hint(r->hdr, hint, sizeof hint);
	for (int s = 0; s < ns; s++) {
		if (r->slot_col[s] >= 0 || fieldset_optional(r->fs, s))
			continue;
		const char *t = fieldset_path(r->fs, s)->text;
		unknown_why(r->hdr, t, why, sizeof why);
		diag_warn("%s: no column '%s' (%s)%s", r->in.name, t, why, hint);
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
	h->shadowed = NULL;
	r->hdr = h;
	r->cfields = xrealloc(r->cfields, nc * sizeof *r->cfields);
	for (size_t i = 0; i < nc; i++)
		r->cfields[i].key = h->names[i];
	header_map(r);
	header_repeats(r);
	header_unknown(r);
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
		char msg[256], hint[96] = "";
		if (!r->hinted) {
			/* The likely cause, once: the first of a file's bad
			 * rows says it, the others would repeat it. */
			r->hinted = true;
			delim_hint(r->hdr, hint, sizeof hint);
		}
		snprintf(msg, sizeof msg, "CSV row has %zu field%s, header has %zu%s",
			 nc, nc == 1 ? "" : "s", r->hdr->n, hint);
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
	if (nnulls)
		null_mark_record(r->slots, ns, r->cfields, nc);
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

/* Puts text (lines joined with "\n", the first numbered line) before the
 * lines still to be read again. */
static void replay_push(struct reader *r, const char *text, size_t n,
			uint64_t line)
{
	struct replay *rp = &r->rp;
	size_t rest = rp->left ? rp->len - rp->pos : 0;
	char *buf = xmalloc(n + 1 + rest);
	memcpy(buf, text, n);
	size_t left = 1;
	for (size_t i = 0; i < n; i++)
		left += text[i] == '\n';
	if (rest) {
		buf[n] = '\n';
		memcpy(buf + n + 1, rp->buf + rp->pos, rest);
	}
	free(rp->buf);
	rp->buf = buf;
	rp->len = n + (rest ? 1 + rest : 0);
	rp->pos = 0;
	rp->left += left;
	rp->line = line;
}

/* The next line read again, if any. */
static bool replay_line(struct reader *r, const char **p, size_t *n)
{
	struct replay *rp = &r->rp;
	if (!rp->left)
		return false;
	const char *s = rp->buf + rp->pos;
	const char *nl = memchr(s, '\n', rp->len - rp->pos);
	*p = s;
	*n = nl ? (size_t)(nl - s) : rp->len - rp->pos;
	rp->pos += *n + (nl != NULL);
	rp->left--;
	r->line = rp->line++;
	return true;
}

/* A row that broke after its first line (a quote that never closed, or
 * closed in a malformed way): the quote is most likely a stray one, so the
 * first line alone is bad and the lines after it are read again. One
 * stray quote costs one line, not the rest of the file. */
static void csv_resync(struct reader *r, enum csv_status st, const char *err)
{
	const char *raw;
	size_t rawlen;
	char msg[160];
	csv_in_raw(r->csv, &raw, &rawlen);
	const char *nl = raw ? memchr(raw, '\n', rawlen) : NULL;
	if (st == CSV_CUT)
		snprintf(msg, sizeof msg, "invalid CSV: %s opened on line %llu",
			 err, (unsigned long long)r->row_line);
	else if (nl)
		snprintf(msg, sizeof msg, "invalid CSV: %s on line %llu (the "
			 "quote opened on line %llu)", err,
			 (unsigned long long)r->line,
			 (unsigned long long)r->row_line);
	else
		snprintf(msg, sizeof msg, "invalid CSV: %s", err);
	size_t first = nl ? (size_t)(nl - raw) : rawlen;
	bad(r, r->row_line, msg, raw, first);
	if (nl)
		replay_push(r, nl + 1, rawlen - first - 1, r->row_line + 1);
}

static int next_csv(struct reader *r, const char *p, size_t n,
		    struct record *rec)
{
	const char *err;
	if (!r->in_row) {
		r->row_line = r->line;
		r->in_row = true;
	}
	enum csv_status st = csv_in_line(r->csv, p, n, &err);
	if (st == CSV_MORE) {
		if (r->row_line == r->line)
			r->row_deadline = loop_now_ms() + CSV_ROW_WAIT_MS;
		return 0;
	}
	r->in_row = false;
	if (st != CSV_ROW) {
		csv_resync(r, st, err);
		return 0;
	}
	return csv_row(r, r->row_line, rec);
}

/* The open CSV row ends here (end of input, a live input that kept it
 * waiting too long, an over-long line): cut off and read again. */
static void csv_end(struct reader *r)
{
	const char *err;
	if (r->fmt != FMT_CSV || !r->in_row)
		return;
	r->in_row = false;
	enum csv_status st = csv_in_eof(r->csv, &err);
	if (st != CSV_ROW)
		csv_resync(r, st, err);
}

/* How long the next read may wait: the program's timeout, shortened while
 * a CSV row waits for its closing quote. */
static void set_wait(struct reader *r)
{
	int t = r->timeout_ms;
	if (r->in_row && r->fmt == FMT_CSV) {
		int64_t left = r->row_deadline - loop_now_ms();
		if (left < 0)
			left = 0;
		if (t < 0 || left < t)
			t = (int)left;
	}
	r->in.timeout_ms = t;
}

/* ---- -i json ---- */

static void js_put(struct jsplit *j, char c)
{
	if (j->toolong) {
		/* Past the record limit: the rest goes to the dead letter in
		 * pieces, not into memory. */
		if (j->len == j->cap) {
			dead_piece(j->buf, j->len, false);
			j->len = 0;
		}
	} else if (j->len == j->cap) {
		if (j->len >= LINE_MAX_BYTES) {
			j->toolong = true;
			dead_piece(j->buf, j->len, false);
			j->len = 0;
		} else {
			j->cap = j->cap ? 2 * j->cap : 4096;
			j->buf = xrealloc(j->buf, j->cap);
		}
	}
	j->buf[j->len++] = c;
}

static bool scalar_byte(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

/* The value so far is bad (why); what follows up to the next line that
 * starts with '{' or '[' belongs to it. */
static void js_fail(struct jsplit *j, const char *why)
{
	if (!j->why)
		j->why = why;
	j->skip = true;
	j->depth = 0;
	j->str = j->esc = j->scalar = false;
}

enum { JS_NONE, JS_VALUE, JS_BAD };

/* Starts a value at byte c. */
static void js_start(struct jsplit *j, uint64_t line)
{
	j->len = 0;
	j->line = line;
	j->why = NULL;
	j->toolong = false;
	j->gap = false;
}

/*
 * Reads bytes of the current line until a value ends (JS_VALUE: j->buf) or
 * a bad one does (JS_BAD: j->why) or the line does (JS_NONE). A structural
 * scan only (strings, nesting, what may follow what); json_scan_line
 * checks the value. Whitespace outside strings is dropped, so that the
 * value is one line of NDJSON.
 */
static int js_feed(struct jsplit *j, uint64_t line)
{
	while (j->p < j->end) {
		char c = *j->p;
		if (j->str) {
			j->p++;
			js_put(j, c);
			if (j->esc)
				j->esc = false;
			else if (c == '\\')
				j->esc = true;
			else if (c == '"') {
				j->str = false;
				if (j->depth == 0) {	/* a top-level string */
					js_fail(j, "not a JSON object");
					j->skip = false;
					return JS_BAD;
				}
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			j->p++;
			j->gap = true;
			if (j->scalar) {
				j->scalar = false;
				js_fail(j, "not a JSON object");
				j->skip = false;
				return JS_BAD;
			}
			continue;
		}
		if (j->depth == 0 && !j->scalar) {
			/* Between values. */
			if (c == '[' && !j->array) {
				j->p++;
				j->array = true;
				continue;
			}
			if (j->array && (c == ',' || c == ']')) {
				j->p++;
				j->array = c == ',';
				continue;
			}
			js_start(j, line);
			if (c == '}' || c == ']' || c == ',' || c == ':') {
				j->p++;
				js_put(j, c);
				js_fail(j, "unexpected character outside a value");
				return JS_NONE;
			}
		}
		if (j->scalar) {
			if (!scalar_byte(c)) {
				j->scalar = false;
				js_fail(j, "not a JSON object");
				j->skip = false;
				return JS_BAD;
			}
			j->p++;
			js_put(j, c);
			continue;
		}
		char last = j->len ? j->buf[j->len - 1] : 0;
		bool starts = c == '{' || c == '[' || c == '"' ||
			      (scalar_byte(c) && (j->gap || !scalar_byte(last)));
		bool ended = last == '}' || last == ']' || last == '"' ||
			     scalar_byte(last);
		if (j->len && starts && ended) {
			/* A value right after a value: a comma or a closing
			 * brace is missing. A '{' may start the next record. */
			js_fail(j, "a comma or closing bracket is missing");
			if (c == '{')
				j->skip = false;
			return JS_BAD;
		}
		j->p++;
		j->gap = false;
		js_put(j, c);
		if (c == '"') {
			j->str = true;
		} else if (c == '{' || c == '[') {
			j->depth++;
		} else if (c == '}' || c == ']') {
			if (--j->depth == 0)
				return JS_VALUE;
		} else if (j->depth == 0) {
			j->scalar = true;	/* a top-level number, true, ... */
		}
	}
	/* The line ends. */
	if (j->str) {
		js_fail(j, "a string runs past the end of its line");
		return JS_NONE;
	}
	if (j->scalar) {
		j->scalar = false;
		js_fail(j, "not a JSON object");
		j->skip = false;
		return JS_BAD;
	}
	j->gap = true;
	return JS_NONE;
}

/* The bad value, with what was skipped after it, to the dead letter. */
static void js_bad(struct reader *r)
{
	struct jsplit *j = &r->js2;
	if (j->toolong) {
		dead_piece(j->buf, j->len, true);
		bad(r, j->line, "JSON value longer than 16 MiB", NULL, 0);
	} else {
		bad(r, j->line, j->why, j->buf, j->len);
	}
	j->why = NULL;
	j->len = 0;
	j->toolong = false;
}

/* A complete value: a record if it is a valid object. */
static int js_value(struct reader *r, struct record *rec)
{
	struct jsplit *j = &r->js2;
	const char *err;
	size_t col;
	if (j->toolong) {
		j->why = "JSON value longer than 16 MiB";
		js_bad(r);
		return 0;
	}
	int st = json_scan_line(j->buf, j->len, r->fs, &r->js, &err, &col);
	if (st < 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "invalid JSON: %s", err);
		j->why = st == -2 ? "not a JSON object" : msg;
		js_bad(r);
		return 0;
	}
	if (nnulls)
		null_mark_record(r->js.slots, fieldset_count(r->fs),
				 r->js.members, r->js.nmembers);
	rec->raw = j->buf;
	rec->rawlen = j->len;
	rec->fmt = FMT_NDJSON;
	rec->src = r->in.name;
	rec->line = j->line;
	rec->slots = r->js.slots;
	rec_members(r, rec);
	rec->header = NULL;
	j->len = 0;
	return 1;
}

/* Skipping after a bad value: a line that starts with '{' or '[' ends it. */
static bool js_skip_line(struct jsplit *j, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && (p[i] == '{' || p[i] == '['))
		return false;
	for (size_t k = 0; k < n && !j->toolong; k++)
		js_put(j, p[k]);
	return true;
}

/* -i json: the values of the current line, from where the last call left
 * off. 1 with a record, 0 when the line is used up. */
static int next_json(struct reader *r, struct record *rec)
{
	struct jsplit *j = &r->js2;
	for (;;) {
		int st = js_feed(j, r->line);
		if (j->skip) {
			/* The rest of the line belongs to the bad value. */
			while (j->p < j->end)
				js_put(j, *j->p++);
			return 0;
		}
		if (st == JS_VALUE) {
			if (js_value(r, rec))
				return 1;
		} else if (st == JS_BAD) {
			js_bad(r);
		} else {
			return 0;
		}
	}
}

/* A new line for -i json (p is not NULL), or the end of the input. */
static int json_line(struct reader *r, const char *p, size_t n,
		     struct record *rec)
{
	struct jsplit *j = &r->js2;
	if (!p) {
		if (j->skip || j->depth || j->str) {
			if (!j->why)
				js_fail(j, "the input ends inside a value");
			js_bad(r);
		}
		j->skip = j->str = false;
		j->depth = 0;
		return 0;
	}
	if (j->skip) {
		if (js_skip_line(j, p, n))
			return 0;
		j->skip = false;
		js_bad(r);
	}
	j->p = p;
	j->end = p + n;
	return next_json(r, rec);
}

/* The records of -i json are NDJSON records. */
static void first_format(struct reader *r)
{
	if (r->first == FMT_AUTO)
		r->first = r->fmt == FMT_JSON ? FMT_NDJSON : r->fmt;
}

/* '{' NDJSON, '[' JSON (an array of records), else CSV. */
static void detect(struct reader *r, const char *p, size_t n)
{
	if (r->fmt == FMT_AUTO) {
		size_t i = 0;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		r->fmt = i < n && p[i] == '{' ? FMT_NDJSON
			 : i < n && p[i] == '[' ? FMT_JSON : FMT_CSV;
	}
	first_format(r);
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
		/* -i json: more values on the line the last one ended on. */
		if (r->fmt == FMT_JSON && r->js2.p < r->js2.end &&
		    next_json(r, rec)) {
			stats.in++;
			return 1;
		}
		if (replay_line(r, &p, &n)) {
			if (next_csv(r, p, n, rec)) {
				stats.in++;
				return 1;
			}
			continue;
		}
		set_wait(r);
		enum line_status st = input_line(&r->in, &p, &n);
		r->line = r->in.lineno;
		if (loop_hup) {
			/* logrotate moved the dead-letter file: start a new
			 * one before anything more goes there. */
			loop_hup = 0;
			if (dead_reopen() < 0)
				return 0;	/* said; the run ends */
		}
		switch (st) {
		case LINE_STOP:
			return 0;
		case LINE_ERROR:
			diag_warn("read error on %s: %s", r->in.name,
				  strerror(r->in.err));
			diag_end(EXIT_RUNTIME);
			return 0;
		case LINE_TIMEOUT:
			if (r->in_row && r->fmt == FMT_CSV &&
			    loop_now_ms() >= r->row_deadline) {
				csv_end(r);	/* a quote that never closes */
				continue;
			}
			return -1;
		case LINE_EOF:
			csv_end(r);
			if (r->rp.left)
				continue;	/* its lines first */
			if (r->fmt == FMT_JSON)
				json_line(r, NULL, 0, rec);
			close_input(r);
			continue;
		case LINE_TOOLONG:
			/* Its bytes already went to the dead-letter file. */
			bad(r, r->in.lineno, "line longer than 16 MiB", NULL, 0);
			csv_end(r);
			continue;
		case LINE_OK:
			break;
		}
		if (r->fmt == FMT_AUTO) {
			if (blank(p, n))
				continue;
			detect(r, p, n);
		} else if (r->first == FMT_AUTO) {
			first_format(r);
		}
		int got = r->fmt == FMT_NDJSON ? next_ndjson(r, p, n, rec)
			  : r->fmt == FMT_CSV	 ? next_csv(r, p, n, rec)
						 : json_line(r, p, n, rec);
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
	free(r->rp.buf);
	free(r->js2.buf);
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
	dead_bad(rec->src, rec->line, msg, rec->raw, rec->rawlen,
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
	int64_t i;
	if ((sp->kind == SPAN_CSV || sp->kind == SPAN_JNUMBER) &&
	    time_from_digits(sp->p, sp->n, unit, us, &i)) {
		/* the common case: an integer; as value_load would load it */
		if (tv)
			*tv = (struct value){ .t = V_INT, .s = sp->p,
					      .n = sp->n, .u.i = i };
		stats_event(*us);
		return 0;
	}
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
	struct influx *ix;	/* -o influx: line protocol (lib/influx.h) */
	struct ofield *of;	/* a record's fields typed, for it */
	size_t ofcap;
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
	influx_free(w->ix);
	free(w->of);
	free(w);
}

const struct member *record_fields(const struct record *rec,
				   const struct fieldset *mfs,
				   struct json_scan *js, size_t *n)
{
	if (rec->fmt == FMT_CSV || rec->fields) {
		*n = rec->nfields;
		return rec->fields;
	}
	const char *err;
	size_t col;
	if (json_scan_line(rec->raw, rec->rawlen, mfs, js, &err, &col) < 0) {
		*n = 0;
		return NULL;
	}
	if (nnulls)
		null_mark_record(NULL, 0, js->members, js->nmembers);
	*n = js->nmembers;
	return js->members;
}

/* The top-level fields of rec (conversion is the slow path; plain
 * filtering never pays). */
static const struct member *fields_of(struct writer *w, const struct record *rec,
				      size_t *n)
{
	return record_fields(rec, w->mfs, &w->js, n);
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

/* The column of a field name. Records mostly list their fields in the
 * header's order, so the column after the last one found is tried first:
 * one comparison instead of a hash and a probe (a fifth of the NDJSON to
 * CSV job; bench/README.md, "Session 10"). */
static int col_of(const struct writer *w, const char *p, size_t n, int next)
{
	if ((size_t)next < w->ncols && w->names[next].n == n) {
		/* names are short: a loop here costs less than a memcmp call */
		const char *q = w->names[next].p;
		size_t i = 0;
		while (i < n && p[i] == q[i])
			i++;
		if (i == n)
			return next;
	}
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
	case SPAN_JNUMBER:
	case SPAN_JTRUE:
	case SPAN_JFALSE:	/* nothing in them needs quotes */
		out_put(o, v->p, v->n);
		break;
	default:	/* CSV cells, JSON containers */
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
	int c = -1;
	for (size_t i = 0; i < nf; i++) {
		const char *kp;
		size_t kn;
		key_text(w, &f[i].key, &kp, &kn);
		c = col_of(w, kp, kn, c + 1);
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

/* A CSV cell and its name are bytes: true, with why, if either is not
 * the UTF-8 that JSON and line protocol need. */
static bool csv_not_utf8(const struct member *m, const char **err)
{
	static char msg[160];
	const struct span *k = &m->key, *v = &m->val;
	if (utf8_valid(k->p, k->n) && utf8_valid(v->p, v->n))
		return false;
	snprintf(msg, sizeof msg, "invalid UTF-8 in CSV field '%.*s'",
		 (int)(k->n > 64 ? 64 : k->n), k->p);
	*err = msg;
	return true;
}

static int put_ndjson(struct writer *w, const struct record *rec,
		      const char **err)
{
	struct outbuf *o = &w->tmp;
	o->len = 0;
	out_putc(o, '{');
	const bool *shadowed = rec->header ? rec->header->shadowed : NULL;
	bool first = true;
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct span *k = &rec->fields[i].key;
		const struct span *v = &rec->fields[i].val;
		struct value val;
		if (shadowed && shadowed[i])
			continue;	/* a repeated name: the last is read */
		if (csv_not_utf8(&rec->fields[i], err))
			return -1;
		if (!first)
			out_putc(o, ',');
		first = false;
		json_write_string(o, k->p, k->n);
		out_putc(o, ':');
		if (v->n == 0 || v->kind == SPAN_JNULL)
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

/* A built record's line, written whole or not at all. */
static int influx_put(struct writer *w, const struct ofield *f, size_t n,
		      const char **err)
{
	if (!w->ix)
		w->ix = influx_new();
	w->tmp.len = 0;
	if (influx_line(w->ix, &w->tmp, f, n, err))
		return -1;
	out_put(w->o, w->tmp.buf, w->tmp.len);
	return 0;
}

/* rec's top-level fields typed (CSV cells: numbers when they look like
 * them, empty ones null), then its line. */
static int put_influx(struct writer *w, const struct record *rec,
		      const char **err)
{
	size_t nf, n = 0;
	const struct member *f = fields_of(w, rec, &nf);
	const bool *shadowed = rec->fmt == FMT_CSV && rec->header
			       ? rec->header->shadowed : NULL;
	if (nf > w->ofcap) {
		w->ofcap = nf;
		w->of = xrealloc(w->of, nf * sizeof *w->of);
	}
	for (size_t i = 0; i < nf; i++) {
		if (shadowed && shadowed[i])
			continue;	/* a repeated name: the last is read */
		if (rec->fmt == FMT_CSV && csv_not_utf8(&f[i], err))
			return -1;	/* line protocol is UTF-8, as JSON */
		struct ofield *o = &w->of[n++];
		key_text(w, &f[i].key, &o->name, &o->namelen);
		if (value_load(&f[i].val, &o->v, &w->sc) < 0)
			o->v.t = V_NULL;
	}
	return influx_put(w, w->of, n, err);
}

int writer_put(struct writer *w, const struct record *rec, const char **err)
{
	if (w->fmt == FMT_AUTO)
		w->fmt = rec->fmt;
	scratch_reset(&w->sc);
	if (w->fmt == FMT_INFLUX) {
		if (put_influx(w, rec, err))
			return -1;
		stats.out++;
		return 0;
	}
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
			value_text(&f[i].v, buf, &p, &len);
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
	int c = -1;
	for (size_t i = 0; i < n; i++) {
		c = col_of(w, f[i].name, f[i].namelen, c + 1);
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
		value_text(v, buf, &p, &len);
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
	else if (w->fmt == FMT_INFLUX) {
		if (influx_put(w, f, n, err))
			return -1;
	} else if (fields_csv(w, f, n, err))
		return -1;
	stats.out++;
	return 0;
}
