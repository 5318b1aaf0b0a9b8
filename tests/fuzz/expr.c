/* expr.c - fuzz target: the expression compiler and evaluator (lib/expr.c)
 *
 * The first line of the input is the expression, the rest one record. The
 * expression is compiled; a record starting with '{' is NDJSON, scanned for
 * the fields the expression names (one the scanner refuses leaves every
 * field missing, which the evaluator must take too); any other is a CSV
 * line whose cells, split at commas, are the fields in the order named (as
 * CSV cells: numbers if they look like one). The expression is evaluated
 * twice, with the scratch arena reset between: the answers must agree.
 * Invariants: a compile error has a message and a column inside the text;
 * an evaluation error has a message; a result's bytes are readable.
 */
#include <stdbool.h>

#include "expr.h"
#include "fuzz.h"
#include "json.h"
#include "value.h"

static bool same_value(const struct value *a, const struct value *b)
{
	if (a->t != b->t)
		return false;
	switch (a->t) {
	case V_BOOL: return a->u.b == b->u.b;
	case V_INT: return a->u.i == b->u.i;
	/* NaN never comes out (it becomes null), so == is exact. */
	case V_DOUBLE: return a->u.d == b->u.d;
	case V_STRING:
	case V_RAW: return a->n == b->n && !memcmp(a->s, b->s, a->n);
	default: return true;
	}
}

/* Evaluates e over slots; the result (copied if it has bytes) in *out. */
static int eval(const struct expr *e, const struct span *slots,
		struct scratch *scr, struct value *out, char **bytes)
{
	char errbuf[256] = "";
	int rc = expr_eval(e, slots, scr, out, errbuf, sizeof errbuf);
	FUZZ_CHECK(rc == 0 || rc == -1);
	*bytes = NULL;
	if (rc < 0) {
		FUZZ_CHECK(errbuf[0] != 0);
		return rc;
	}
	FUZZ_CHECK(out->t >= V_MISSING && out->t <= V_RAW);
	if (out->t == V_DOUBLE)
		FUZZ_CHECK(out->u.d == out->u.d);	/* not NaN */
	if (out->t == V_STRING || out->t == V_RAW) {
		*bytes = fuzz_exact((const uint8_t *)out->s, out->n);
		out->s = *bytes;
	}
	return rc;
}

/* Slot i is the i-th comma-separated cell of rec, missing past the last. */
static void csv_slots(const char *rec, size_t n, struct span *slots, int ns)
{
	const char *p = rec, *end = rec + n;
	for (int i = 0; i < ns; i++) {
		if (!p) {
			slots[i].kind = SPAN_MISSING;
			continue;
		}
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		slots[i] = (struct span){ p, (size_t)(e - p), SPAN_CSV, false };
		p = comma ? comma + 1 : NULL;
	}
}

static void run(const struct expr *e, const struct fieldset *fs,
		const char *rec, size_t n)
{
	int ns = fieldset_count(fs);
	struct span *slots = malloc((size_t)(ns ? ns : 1) * sizeof *slots);
	FUZZ_CHECK(slots != NULL);
	struct json_scan sc = { .slots = slots };
	const char *err;
	size_t col;
	if (n == 0 || rec[0] != '{')
		csv_slots(rec, n, slots, ns);
	else if (json_scan_line(rec, n, fs, &sc, &err, &col) < 0)
		for (int i = 0; i < ns; i++)
			slots[i].kind = SPAN_MISSING;
	struct scratch scr = { 0 };
	struct value v1, v2;
	char *b1, *b2;
	int r1 = eval(e, slots, &scr, &v1, &b1);
	scratch_reset(&scr);
	int r2 = eval(e, slots, &scr, &v2, &b2);
	FUZZ_CHECK(r1 == r2 && (r1 < 0 || same_value(&v1, &v2)));
	free(b1);
	free(b2);
	scratch_free(&scr);
	free(sc.members);
	free(slots);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;
	char *text = fuzz_cstr(data, tlen);
	size_t rlen = nl ? size - tlen - 1 : 0;
	char *rec = fuzz_exact(nl ? nl + 1 : data, rlen);
	struct fieldset *fs = fieldset_new();
	char errbuf[256] = "";
	size_t col = (size_t)-1;
	struct expr *e = expr_compile(text, fs, errbuf, sizeof errbuf, &col);
	if (!e) {
		FUZZ_CHECK(errbuf[0] != 0 && col <= strlen(text));
	} else {
		run(e, fs, rec, rlen);
		expr_free(e);
	}
	fieldset_free(fs);
	free(rec);
	free(text);
	return 0;
}
