/* edit.c - fuzz target: adding fields without the tree (lib/edit.c)
 *
 * The input's first byte picks which of a few top-level names get a value
 * (one bit a name) and its second which values (two bits a name); the
 * rest is one NDJSON line. When the line scans and has none of the picked
 * names (what es-map checks before it takes the quick way), then
 *   - edit_add's output is byte for byte the tree's (edit_begin, edit_set,
 *     edit_write_ndjson), and each value's text as edit_add gives it back
 *     is what edit_get reads from the tree;
 *   - the tree is the same when its members are found again (a record
 *     read without them: record_fields);
 *   - the output is one valid JSON object in which each name holds its
 *     value's text.
 */
#include <stdbool.h>

#include "edit.h"
#include "fuzz.h"
#include "json.h"
#include "path.h"
#include "record.h"
#include "value.h"

/* Top-level names as paths: plain, escaped on output, and the empty one. */
static const char *const names[] = {
	"a", "new_f", "\"\\u00e9\"", "\"q\\\"k\"", "\"\"",
};
#define NNAMES (int)(sizeof names / sizeof names[0])

static struct path paths[NNAMES];
static struct fieldset *fs;	/* the names, members wanted */
static struct edit *tree, *quick, *again;

static void setup(void)
{
	if (fs)
		return;
	fs = fieldset_new();
	for (int i = 0; i < NNAMES; i++) {
		const char *err;
		FUZZ_CHECK(path_parse_all(names[i], &paths[i], &err) == 0);
		FUZZ_CHECK(paths[i].n == 1);
		FUZZ_CHECK(fieldset_add(fs, &paths[i]) == i);
	}
	fieldset_want_members(fs, true);
	tree = edit_new();
	quick = edit_new();
	again = edit_new();
}

/* Name i's value, of the kind its two bits of kinds say: the kinds an
 * assignment yields. */
static struct value value_of(unsigned kinds, int i)
{
	unsigned k = kinds >> (2 * (i % 4)) & 3;
	static const char str[] = "x\"\\\n\x01\xc3\xa9/";
	struct value v = { 0 };
	switch (k) {
	case 0: v.t = V_INT; v.u.i = i % 2 ? -42 : 1798761600000; break;
	case 1:
		v.t = V_DOUBLE;
		v.u.d = i % 2 ? 97.80260000000001 : 0.1 + 0.2;
		break;
	case 2: v.t = V_STRING; v.s = str; v.n = sizeof str - 1; break;
	default:
		if (i % 2) {
			v.t = V_BOOL;
			v.u.b = true;
		} else {
			v.t = V_NULL;
		}
	}
	return v;
}

/* The tree's way: rec given the picked names' values, written to o (what
 * edit_get then reads stays in e). */
static void by_tree(struct edit *e, const struct record *rec, unsigned pick,
		    unsigned kinds, struct outbuf *o)
{
	const char *err;
	edit_begin(e, rec);
	for (int i = 0; i < NNAMES; i++) {
		if (!(pick >> i & 1))
			continue;
		struct value v = value_of(kinds, i);
		FUZZ_CHECK(edit_set(e, &paths[i], &v, &err) == 0);
	}
	FUZZ_CHECK(edit_write_ndjson(e, o, &err) == 0);
}

static bool same(const struct outbuf *a, const struct outbuf *b)
{
	return a->len == b->len && !memcmp(a->buf, b->buf, a->len);
}

/* The output line holds each added name with its text. */
static void check_output(const struct outbuf *o, const struct span *text,
			 unsigned pick)
{
	FUZZ_CHECK(o->len > 0 && o->buf[o->len - 1] == '\n');
	struct json_scan js = { 0 };
	js.slots = calloc(NNAMES, sizeof *js.slots);
	const char *err;
	size_t col;
	FUZZ_CHECK(json_scan_line(o->buf, o->len - 1, fs, &js, &err, &col) == 0);
	for (int i = 0; i < NNAMES; i++) {
		if (!(pick >> i & 1))
			continue;
		const struct span *s = &js.slots[i];
		FUZZ_CHECK(s->n == text[i].n && !memcmp(s->p, text[i].p, s->n));
	}
	free(js.slots);
	free(js.members);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	setup();
	unsigned pick = data[0] & ((1u << NNAMES) - 1), kinds = data[1];
	char *line = fuzz_exact(data + 2, size - 2);
	size_t n = size - 2;
	struct json_scan js = { 0 };
	js.slots = calloc(NNAMES, sizeof *js.slots);
	const char *err;
	size_t col;
	if (json_scan_line(line, n, fs, &js, &err, &col) < 0)
		goto out;
	for (int i = 0; i < NNAMES; i++)
		if (pick >> i & 1 && js.slots[i].kind != SPAN_MISSING)
			goto out;	/* not a record that only gains fields */
	struct record rec = { .raw = line, .rawlen = n, .fmt = FMT_NDJSON,
			      .src = "fuzz", .slots = js.slots,
			      .fields = js.members, .nfields = js.nmembers };
	struct outbuf a, b, c;
	out_init(&a, -1, "tree");
	out_init(&b, -1, "quick");
	out_init(&c, -1, "again");
	struct span text[NNAMES], got;
	by_tree(tree, &rec, pick, kinds, &a);
	edit_add_begin(quick, &rec);
	for (int i = 0; i < NNAMES; i++) {
		if (!(pick >> i & 1))
			continue;
		struct value v = value_of(kinds, i);
		edit_add(quick, paths[i].step[0].key, paths[i].step[0].keylen,
			 &v, &text[i]);
		edit_get(tree, &paths[i], &got);
		FUZZ_CHECK(got.kind == text[i].kind && got.n == text[i].n &&
			   got.escaped == text[i].escaped &&
			   !memcmp(got.p, text[i].p, got.n));
	}
	edit_add_write(quick, &b);
	FUZZ_CHECK(same(&a, &b));
	/* the same record read without its members */
	rec.fields = NULL;
	rec.nfields = 0;
	by_tree(again, &rec, pick, kinds, &c);
	FUZZ_CHECK(same(&a, &c));
	check_output(&b, text, pick);
	out_free(&a);
	out_free(&b);
	out_free(&c);
out:
	free(js.slots);
	free(js.members);
	free(line);
	return 0;
}
