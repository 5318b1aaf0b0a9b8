/* csv.c - fuzz target: the CSV row reader (lib/csv.c)
 *
 * The input is split into lines at "\n" (a "\r" before it is dropped, as
 * the line reader does) and fed to csv_in_line(), then csv_in_eof().
 * Invariants:
 *   - every status is one of the four, a bad or cut row has a message;
 *   - cells and raw text are readable (AddressSanitizer sees stale spans);
 *   - a row read back: its cells written with csv_write_cell() and ","
 *     and read again give the same cells (quoting round trip);
 *   - a second reader that splits rows 8 bytes at a time, not 16, gives
 *     the same status, message, cells and raw text for every line.
 */
#include <stdbool.h>

#include "csv.h"
#include "fuzz.h"
#include "out.h"

/* Cells copied out of the reader, which reuses its buffers. */
struct row {
	size_t n;
	struct span *cells;
	char *bytes;
};

static struct row row_copy(const struct csv_in *c)
{
	struct row r = { csv_in_ncells(c), NULL, NULL };
	const struct span *cells = csv_in_cells(c);
	size_t total = 0;
	for (size_t i = 0; i < r.n; i++)
		total += cells[i].n;
	r.cells = malloc((r.n ? r.n : 1) * sizeof *r.cells);
	r.bytes = malloc(total ? total : 1);
	FUZZ_CHECK(r.cells && r.bytes);
	char *o = r.bytes;
	for (size_t i = 0; i < r.n; i++) {
		FUZZ_CHECK(cells[i].kind == SPAN_CSV);
		if (cells[i].n)
			memcpy(o, cells[i].p, cells[i].n);
		r.cells[i] = (struct span){ o, cells[i].n, SPAN_CSV, false };
		o += cells[i].n;
	}
	return r;
}

static void row_free(struct row *r)
{
	free(r->cells);
	free(r->bytes);
}

/* Feeds text line by line to a fresh reader; the first row it completes
 * (CSV_ROW with cells, or after the end) is copied to *out. Returns false if
 * a line was bad. */
static bool read_back(const char *text, size_t n, struct row *out)
{
	struct csv_in *c = csv_in_new();
	const char *err, *p = text, *end = text + n;
	enum csv_status st = CSV_MORE;
	while (st == CSV_MORE) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		st = csv_in_line(c, p, (size_t)(e - p), &err);
		if (!nl)
			break;
		p = nl + 1;
	}
	if (st == CSV_MORE)
		st = csv_in_eof(c, &err);
	if (st == CSV_ROW)
		*out = row_copy(c);
	csv_in_free(c);
	return st == CSV_ROW;
}

/* Writing a row and reading it back gives the same cells. A row of one
 * empty cell is left out: it is written as an empty line, which reads as
 * no row at all (the reader skips such lines either way). */
static void check_round_trip(const struct csv_in *c)
{
	struct row r = row_copy(c);
	if (r.n == 0 || (r.n == 1 && r.cells[0].n == 0)) {
		row_free(&r);
		return;
	}
	struct outbuf o;
	out_init(&o, -1, "memory");
	for (size_t i = 0; i < r.n; i++) {
		if (i)
			out_putc(&o, ',');
		csv_write_cell(&o, r.cells[i].p, r.cells[i].n);
	}
	struct row back = { 0 };
	FUZZ_CHECK(read_back(o.buf, o.len, &back));
	FUZZ_CHECK(back.n == r.n);
	for (size_t i = 0; i < r.n; i++)
		FUZZ_CHECK(back.cells[i].n == r.cells[i].n &&
			   !memcmp(back.cells[i].p, r.cells[i].p, r.cells[i].n));
	row_free(&back);
	row_free(&r);
	out_free(&o);
}

static void check_status(const struct csv_in *c, enum csv_status st,
			 const char *err)
{
	const char *raw;
	size_t rawn;
	FUZZ_CHECK(st == CSV_ROW || st == CSV_MORE || st == CSV_BAD ||
		   st == CSV_CUT);
	if (st == CSV_MORE)
		return;
	csv_in_raw(c, &raw, &rawn);
	FUZZ_CHECK(raw != NULL || rawn == 0);
	if (raw)
		fuzz_touch(raw, rawn);
	if (st == CSV_BAD || st == CSV_CUT) {
		FUZZ_CHECK(err != NULL && *err);
		FUZZ_CHECK(csv_in_ncells(c) == 0);
		return;
	}
	check_round_trip(c);
}

/* The reader of words (w) said what the reader of vectors (c) said. */
static void check_same(const struct csv_in *c, enum csv_status st,
		       const char *err, const struct csv_in *w,
		       enum csv_status wst, const char *werr)
{
	FUZZ_CHECK(st == wst);
	FUZZ_CHECK((err == NULL) == (werr == NULL));
	FUZZ_CHECK(!err || !strcmp(err, werr));
	if (st == CSV_MORE)
		return;
	size_t n = csv_in_ncells(c);
	FUZZ_CHECK(n == csv_in_ncells(w));
	const struct span *a = csv_in_cells(c), *b = csv_in_cells(w);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(a[i].n == b[i].n && !memcmp(a[i].p, b[i].p, a[i].n));
	const char *ra, *rb;
	size_t na, nb;
	csv_in_raw(c, &ra, &na);
	csv_in_raw(w, &rb, &nb);
	FUZZ_CHECK(na == nb && !memcmp(ra, rb, na));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_exact(data, size);
	struct csv_in *c = csv_in_new(), *w = csv_in_new();
	csv_in_set_vectors(w, false);
	const char *p = text, *end = text + size, *err;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);
		if (nl && n > 0 && p[n - 1] == '\r')
			n--;
		/* Each line in its own allocation: the reader must not keep a
		 * pointer into a line once it has returned. */
		char *line = fuzz_exact((const uint8_t *)p, n);
		const char *werr = NULL;
		err = NULL;
		enum csv_status st = csv_in_line(c, line, n, &err);
		enum csv_status wst = csv_in_line(w, line, n, &werr);
		check_same(c, st, err, w, wst, werr);
		check_status(c, st, err);
		free(line);
		p = nl ? nl + 1 : end;
	}
	err = NULL;
	/* Not as one call: argument order is unspecified, err must be read
	 * after csv_in_eof set it. */
	enum csv_status st = csv_in_eof(c, &err);
	const char *werr = NULL;
	enum csv_status wst = csv_in_eof(w, &werr);
	check_same(c, st, err, w, wst, werr);
	check_status(c, st, err);
	csv_in_free(c);
	csv_in_free(w);
	free(text);
	return 0;
}
