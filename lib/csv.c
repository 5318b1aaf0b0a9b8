/* csv.c - RFC 4180 CSV rows over libcsv, and quoting on output
 *
 * Each physical line is fed to libcsv followed by "\n". Outside quotes that
 * "\n" ends the row, so when libcsv has not reported a row end afterwards a
 * quoted field is still open and the row goes on to the next line.
 *
 * libcsv hands over each field as it ends, in a buffer it reuses. The bytes
 * are copied into one arena per row and turned into spans only when the row
 * is complete, because the arena may move while it grows. Arena, span array
 * and the copy of a multi-line row's raw text are kept from row to row, so
 * once they have grown to fit the input, a row allocates nothing.
 *
 * A line without a quote that starts a row needs no CSV parser: its cells
 * are the text between delimiters, spans into the line itself (valid, as
 * the arena's, until the next line), so that common case skips libcsv.
 *
 * A quoted field may hold line breaks, but real multi-line cells are short:
 * a row still open after CSV_ROW_MAX_LINES lines or CSV_ROW_MAX_BYTES bytes
 * is cut off (CSV_CUT), so that one stray quote cannot make the reader hold
 * the rest of the stream. The caller sets the row's first line aside and
 * reads the others again.
 */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "diag.h"
#include "input.h"
#include "mem.h"
#include "out.h"
#include "simd16.h"
#include "swar.h"

/* libcsv's own header: lib/ is on the quote-only search path (-iquote), so
 * the angle brackets find the system one, not our "csv.h". */
#include <csv.h>

_Static_assert(LINE_MAX_BYTES == 16u << 20, "a message says 16 MiB");

struct csv_in {
	struct csv_parser p;
	/* Decoded bytes of the row being read, its cells one after another. */
	char *bytes;
	size_t nbytes, capbytes;
	/* Cells of that row. From libcsv, n is set as each cell ends and p
	 * only at the row's end. */
	struct span *cells;
	size_t ncells, capcells;
	size_t nready;		/* cells of the last complete row, else 0 */
	/* Raw text of a row spanning lines: the lines joined with "\n". */
	char *raw;
	size_t nraw, capraw;
	const char *rawp;	/* what csv_in_raw() gives */
	size_t rawn;
	size_t nlines;		/* lines of the open row */
	bool open;		/* a quoted field goes on past the last line */
	bool ended;		/* libcsv reported the end of a row */
	char delim;
	bool vectors;		/* simd16_on() */
};

_Static_assert(CSV_ROW_MAX_BYTES < LINE_MAX_BYTES,
	       "an open row is cut off before a line would be");

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap;
	while (c < need)
		c *= 2;
	p = xrealloc(p, c * size);
	*cap = c;
	return p;
}

/* Spaces are data (libcsv would trim them from unquoted fields). */
static int no_space(unsigned char ch)
{
	(void)ch;
	return 0;
}

/* Only the "\n" we add ends a row; a "\r" inside a line is data. */
static int is_lf(unsigned char ch)
{
	return ch == '\n';
}

static void parser_init(struct csv_in *c)
{
	csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_space_func(&c->p, no_space);
	csv_set_term_func(&c->p, is_lf);
	csv_set_delim(&c->p, (unsigned char)c->delim);
}

void csv_in_set_delim(struct csv_in *c, char delim)
{
	c->delim = delim;
	csv_set_delim(&c->p, (unsigned char)delim);
}

void csv_in_set_vectors(struct csv_in *c, bool on)
{
	c->vectors = on && simd16_on();
}

/* libcsv keeps its state after an error; start it afresh. */
static void parser_reset(struct csv_in *c)
{
	csv_free(&c->p);
	parser_init(c);
	c->open = false;
	c->nraw = 0;
}

struct csv_in *csv_in_new(void)
{
	struct csv_in *c = memset(xmalloc(sizeof *c), 0, sizeof *c);
	c->delim = ',';
	c->vectors = simd16_on();
	parser_init(c);
	/* Never NULL, so that spans over an empty row still point somewhere. */
	c->capbytes = 4096;
	c->bytes = grow(NULL, &c->capbytes, 1, 1);
	c->capcells = 64;
	c->cells = grow(NULL, &c->capcells, 1, sizeof *c->cells);
	c->capraw = 4096;
	c->raw = grow(NULL, &c->capraw, 1, 1);
	c->rawp = "";
	return c;
}

void csv_in_free(struct csv_in *c)
{
	if (!c)
		return;
	csv_free(&c->p);
	free(c->bytes);
	free(c->cells);
	free(c->raw);
	free(c);
}

/* libcsv: a field has ended. */
static void on_field(void *s, size_t n, void *data)
{
	struct csv_in *c = data;
	if (c->capbytes - c->nbytes < n)
		c->bytes = grow(c->bytes, &c->capbytes, c->nbytes + n, 1);
	if (n)
		memcpy(c->bytes + c->nbytes, s, n);
	c->nbytes += n;
	if (c->ncells == c->capcells)
		c->cells = grow(c->cells, &c->capcells, c->ncells + 1,
				sizeof *c->cells);
	c->cells[c->ncells++] = (struct span){ NULL, n, SPAN_CSV, false };
}

/* libcsv: the row has ended. */
static void on_row(int ch, void *data)
{
	(void)ch;
	((struct csv_in *)data)->ended = true;
}

/* Adds a line to the raw copy, after a "\n" if it is not the first. */
static void raw_add(struct csv_in *c, const char *line, size_t n)
{
	size_t sep = c->open;
	if (c->capraw - c->nraw < sep + n)
		c->raw = grow(c->raw, &c->capraw, c->nraw + sep + n, 1);
	if (sep)
		c->raw[c->nraw++] = '\n';
	if (n)
		memcpy(c->raw + c->nraw, line, n);
	c->nraw += n;
}

/* The row is complete: point the spans into the arena, now that it is
 * done moving. */
static void row_done(struct csv_in *c)
{
	const char *p = c->bytes;
	for (size_t i = 0; i < c->ncells; i++) {
		c->cells[i].p = p;
		p += c->cells[i].n;
	}
	c->nready = c->ncells;
}

static enum csv_status bad(struct csv_in *c, const char *line, size_t n,
			   const char *msg, const char **err)
{
	if (c->open) {
		c->rawp = c->raw;
		c->rawn = c->nraw;
	} else {
		c->rawp = line;
		c->rawn = n;
	}
	parser_reset(c);
	*err = msg;
	return CSV_BAD;
}

/* The open row went past its bounds or the end of input: hand over its
 * lines, forget it. */
static enum csv_status cut(struct csv_in *c, const char **err)
{
	c->rawp = c->raw;
	c->rawn = c->nraw;
	parser_reset(c);
	c->nbytes = c->ncells = 0;
	*err = "unterminated quote";
	return CSV_CUT;
}

/* Why libcsv stopped short of the end of what it was given. */
static const char *parse_error(struct csv_in *c)
{
	int e = csv_error(&c->p);
	if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
		mem_oom();
	/* In strict mode: text after a closing quote, or a quote inside an
	 * unquoted field. */
	return c->p.quoted ? "malformed quoted field"
			   : "quote inside unquoted field";
}

/* One cell of a plain row: the text from p to e. */
static void plain_cell(struct csv_in *c, const char *p, const char *e)
{
	if (c->ncells == c->capcells)
		c->cells = grow(c->cells, &c->capcells, c->ncells + 1,
				sizeof *c->cells);
	c->cells[c->ncells++] = (struct span){ p, (size_t)(e - p), SPAN_CSV,
					       false };
}

/* The delimiters marked in at, a match mask of the bytes from p on (bit
 * (i << shift) or, for words, ((i << 3) + 7) for byte i): each ends a
 * cell. False at a quote. */
static inline bool plain_marks(struct csv_in *c, const char *p, uint64_t at,
			       unsigned shift, const char **cell)
{
	for (; at; at &= at - 1) {
		const char *q = p + (__builtin_ctzll(at) >> shift);
		if (*q == '"')
			return false;
		plain_cell(c, *cell, q);
		*cell = q + 1;
	}
	return true;
}

/* Cells from p on, 16 bytes at a time; the last 16 of the line are read
 * whole, the bytes already seen shifted out of the mask. For n >= 16. */
static bool plain_vectors(struct csv_in *c, const char *p, const char *end,
			  const char **cell)
{
	for (; end - p > 16; p += 16)
		if (!plain_marks(c, p, simd16_eq2(p, c->delim, '"'),
				 SIMD16_SHIFT, cell))
			return false;
	unsigned seen = (unsigned)(16 - (end - p));
	uint64_t at = simd16_eq2(end - 16, c->delim, '"') >>
		      (seen << SIMD16_SHIFT);
	return plain_marks(c, p, at, SIMD16_SHIFT, cell);
}

/* Cells from p on, eight bytes at a time, then byte by byte. */
static bool plain_words(struct csv_in *c, const char *p, const char *end,
			const char **cell)
{
	const uint64_t delims = SWAR_ONES * (unsigned char)c->delim;
	const uint64_t quotes = SWAR_ONES * '"';
	for (; end - p >= 8; p += 8) {
		uint64_t x = swar_load_le(p);
		uint64_t at = swar_zero_bytes(x ^ delims) |
			      swar_zero_bytes(x ^ quotes);
		if (!plain_marks(c, p, at, 3, cell))
			return false;
	}
	for (; p < end; p++) {
		if (*p == '"')
			return false;
		if (*p == c->delim) {
			plain_cell(c, *cell, p);
			*cell = p + 1;
		}
	}
	return true;
}

/*
 * A line with no quote in it, starting a row, is the whole row and its cells
 * are the text between delimiters: exactly what libcsv would give, without
 * its per-byte cost. One pass finds the delimiters and any quote, sixteen
 * bytes a step where the CPU has vectors (simd16.h), else eight (a memchr
 * call for each cell, one for the quote and a copy of the line took a
 * fifth more of es-filter's CSV job, 5% more of es-window's). False at a
 * quote, with no cell kept: the line is libcsv's.
 */
static bool plain_row(struct csv_in *c, const char *line, size_t n)
{
	/* The cells point into the line, as the raw text does: both live
	 * until the next line is read, as the arena's cells would. */
	const char *cell = line, *end = line + n;
	bool ok = SIMD16 && c->vectors && n >= 16
			  ? plain_vectors(c, line, end, &cell)
			  : plain_words(c, line, end, &cell);
	if (!ok) {
		c->ncells = 0;
		return false;
	}
	plain_cell(c, cell, end);
	c->nready = c->ncells;
	c->rawp = line;		/* one line: no copy */
	c->rawn = n;
	return true;
}

/* The line through libcsv, then the "\n" that ends it. */
static enum csv_status parse_line(struct csv_in *c, const char *line,
				  size_t n, const char **err)
{
	/* With no "\r" in the line, libcsv's built-in test for a row end (CR
	 * or LF) gives the same answer as is_lf and saves a call per byte. */
	bool cr = n > 0 && memchr(line, '\r', n);
	csv_set_term_func(&c->p, cr ? is_lf : NULL);
	/* libcsv grows its field buffer by a fixed step (128 bytes), which
	 * copies a long field over and over; a step as large as the buffer
	 * and the line makes growth geometric, once per line at most. */
	size_t step = csv_get_buffer_size(&c->p);
	csv_set_blk_size(&c->p, step > n + 1 ? step : n + 1);
	c->ended = false;
	if (csv_parse(&c->p, line, n, on_field, on_row, c) != n ||
	    csv_parse(&c->p, "\n", 1, on_field, on_row, c) != 1)
		return bad(c, line, n, parse_error(c), err);
	if (!c->ended) {
		/* Inside quotes: keep the text, the caller's buffer moves on. */
		if (!c->open) {
			raw_add(c, line, n);
			c->nlines = 1;
		}
		c->open = true;
		if (c->nlines >= CSV_ROW_MAX_LINES || c->nraw > CSV_ROW_MAX_BYTES)
			return cut(c, err);
		return CSV_MORE;
	}
	row_done(c);
	if (c->open) {
		c->rawp = c->raw;
		c->rawn = c->nraw;
		c->open = false;
	} else {
		c->rawp = line;	/* one line: no copy */
		c->rawn = n;
	}
	return CSV_ROW;
}

enum csv_status csv_in_line(struct csv_in *c, const char *line, size_t n,
			    const char **err)
{
	c->nready = 0;
	if (!c->open) {
		c->nbytes = c->ncells = 0;
		c->nraw = 0;
		if (n == 0) {
			/* libcsv skips empty lines silently; report one as
			 * a row of no cells, which the caller skips. */
			c->rawp = "";
			c->rawn = 0;
			return CSV_ROW;
		}
		if (plain_row(c, line, n))
			return CSV_ROW;
	} else {
		raw_add(c, line, n);
		c->nlines++;
	}
	return parse_line(c, line, n, err);
}

enum csv_status csv_in_eof(struct csv_in *c, const char **err)
{
	c->nready = 0;
	if (!c->open) {
		c->rawp = "";
		c->rawn = 0;
		return CSV_ROW;
	}
	return cut(c, err);
}

void csv_in_reset(struct csv_in *c)
{
	if (c->open)
		parser_reset(c);
	c->nready = 0;
	c->nbytes = c->ncells = 0;
	c->nraw = 0;
	c->rawp = "";
	c->rawn = 0;
}

size_t csv_in_ncells(const struct csv_in *c)
{
	return c->nready;
}

const struct span *csv_in_cells(const struct csv_in *c)
{
	return c->cells;
}

void csv_in_raw(const struct csv_in *c, const char **p, size_t *n)
{
	*p = c->rawp;
	*n = c->rawn;
}

/* ---- output ---- */

static bool needs_quotes(const char *s, size_t n)
{
	if (n == 0)
		return false;
	if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		/* All four specials sort at or below ',': one compare skips
		 * letters and digits. */
		if (ch <= ',' && (ch == ',' || ch == '"' || ch == '\n' ||
				  ch == '\r'))
			return true;
	}
	return false;
}

void csv_write_cell(struct outbuf *o, const char *s, size_t n)
{
	if (!needs_quotes(s, n)) {
		out_put(o, s, n);
		return;
	}
	out_putc(o, '"');
	const char *end = s + n;
	const char *q;
	while ((q = memchr(s, '"', (size_t)(end - s)))) {
		out_put(o, s, (size_t)(q - s) + 1);	/* up to the quote... */
		out_putc(o, '"');			/* ...then doubles it */
		s = q + 1;
	}
	out_put(o, s, (size_t)(end - s));
	out_putc(o, '"');
}
