/* reader.c - fuzz target: the whole record reader and writer (lib/record.c)
 *
 * The input is written to a file, which reader_open() reads with the format
 * detected from its first byte ('{' NDJSON, else CSV), for a fieldset of a
 * few paths and every top-level member. Bad lines are reported on stderr
 * and skipped, as in the programs. Each record goes to a writer in its own
 * format and to one in the other format. Invariants:
 *   - a record's raw text, slots and fields are readable and value_load()
 *     takes every slot;
 *   - a record written in its own format is its raw text and a newline;
 *   - converted to NDJSON, every line written is a JSON object the scanner
 *     accepts; converted to CSV, every row has as many cells as the header.
 */
#include <stdbool.h>
#include <unistd.h>

#include "csv.h"
#include "diag.h"
#include "fuzz.h"
#include "json.h"
#include "path.h"
#include "record.h"

static const char *const paths[] = { "a", "a.b", "b[0]", "ts", "\"x y\"" };
#define NPATHS (sizeof paths / sizeof paths[0])

static struct fieldset *fs;
static char file[] = "/tmp/es-fuzz-reader.XXXXXX";
static int fd = -1;

static void setup(void)
{
	if (fs)
		return;
	diag_init("fuzz-reader");
	fs = fieldset_new();
	for (size_t i = 0; i < NPATHS; i++) {
		struct path p;
		const char *err;
		FUZZ_CHECK(path_parse_all(paths[i], &p, &err) == 0);
		fieldset_add(fs, &p);
		path_free(&p);
	}
	fieldset_want_members(fs, true);
	fd = mkstemp(file);
	FUZZ_CHECK(fd >= 0);
	/* The name is enough for reader_open; nothing is left behind. */
	unlink(file);
}

/* The input as the file's whole content, under a name reader_open takes. */
static char *input_file(const uint8_t *data, size_t size)
{
	static char name[64];
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
	return name;
}

static void check_record(const struct record *rec, struct scratch *scr)
{
	FUZZ_CHECK(rec->fmt == FMT_NDJSON || rec->fmt == FMT_CSV);
	FUZZ_CHECK(rec->line >= 1);
	fuzz_touch(rec->raw, rec->rawlen);
	for (size_t i = 0; i < NPATHS; i++) {
		struct value v;
		if (rec->slots[i].kind != SPAN_MISSING)	/* else p is stale */
			fuzz_touch(rec->slots[i].p, rec->slots[i].n);
		FUZZ_CHECK(value_load(&rec->slots[i], &v, scr) == 0);
	}
	for (size_t i = 0; i < rec->nfields; i++) {
		fuzz_touch(rec->fields[i].key.p, rec->fields[i].key.n);
		fuzz_touch(rec->fields[i].val.p, rec->fields[i].val.n);
	}
	if (rec->fmt == FMT_CSV)
		FUZZ_CHECK(rec->header && rec->nfields == rec->header->n);
}

/* Written as it came: the raw bytes and a newline, nothing else. */
static void check_same_format(struct writer *w, struct outbuf *o,
			      const struct record *rec)
{
	const char *err;
	size_t before = o->len;
	FUZZ_CHECK(writer_put(w, rec, &err) == 0);
	const char *p = o->buf + o->len - rec->rawlen - 1;
	FUZZ_CHECK(o->len - before >= rec->rawlen + 1);
	FUZZ_CHECK(!memcmp(p, rec->raw, rec->rawlen) && p[rec->rawlen] == '\n');
}

/* Every line of NDJSON output is an object. */
static void check_ndjson_out(const struct outbuf *o)
{
	static struct fieldset *none;
	if (!none)
		none = fieldset_new();
	const char *p = o->buf, *end = o->buf + o->len, *err;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(nl != NULL);
		struct json_scan sc = { 0 };
		size_t col;
		FUZZ_CHECK(json_scan_line(p, (size_t)(nl - p), none, &sc, &err,
					  &col) == 0);
		p = nl + 1;
	}
}

/* Every row of CSV output has the header's number of cells, and the
 * header is never empty (a record with no fields cannot start CSV output:
 * it is bad input). */
static void check_csv_out(const struct outbuf *o)
{
	FUZZ_CHECK(o->len == 0 || o->buf[0] != '\n');
	struct csv_in *c = csv_in_new();
	const char *p = o->buf, *end = o->buf + o->len, *err;
	size_t ncols = 0;
	bool header = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(nl != NULL);
		enum csv_status st = csv_in_line(c, p, (size_t)(nl - p), &err);
		FUZZ_CHECK(st != CSV_BAD);
		if (st == CSV_ROW && header)
			ncols = csv_in_ncells(c);
		else if (st == CSV_ROW)
			FUZZ_CHECK(csv_in_ncells(c) == ncols);
		if (st == CSV_ROW)
			header = false;
		p = nl + 1;
	}
	FUZZ_CHECK(csv_in_eof(c, &err) == CSV_ROW);
	csv_in_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	char *name = input_file(data, size);
	struct reader *r = reader_open(&name, 1, FMT_AUTO, fs, NULL, NULL);
	struct outbuf same, other;
	out_init(&same, -1, "same");
	out_init(&other, -1, "other");
	struct writer *ws = writer_open(&same, FMT_AUTO), *wo = NULL;
	struct scratch scr = { 0 };
	struct record rec;
	int got;
	while ((got = reader_next(r, &rec)) == 1) {
		check_record(&rec, &scr);
		scratch_reset(&scr);
		check_same_format(ws, &same, &rec);
		if (!wo)
			wo = writer_open(&other, rec.fmt == FMT_CSV ? FMT_NDJSON
								 : FMT_CSV);
		const char *err = NULL;
		if (writer_put(wo, &rec, &err) < 0)
			FUZZ_CHECK(err && *err);
	}
	FUZZ_CHECK(got == 0);
	if (reader_format(r) == FMT_CSV)
		check_ndjson_out(&other);
	else
		check_csv_out(&other);
	writer_close(ws);
	writer_close(wo);
	reader_close(r);
	scratch_free(&scr);
	out_free(&same);
	out_free(&other);
	return 0;
}
