/* json.c - fuzz target: the NDJSON scanner (lib/json.c)
 *
 * The input is one line. json_scan_line() runs over it with a fieldset of
 * nested, array and escaped paths and the member list on; then
 *   - every span lies inside the line, and value_load() takes every slot;
 *   - a string slot unescapes into at most its own length, as valid UTF-8;
 *   - jansson (an independent parser) agrees: the scanner accepts exactly
 *     the lines jansson loads as an object, and each slot holds what jansson
 *     finds at that path (the last of duplicate keys wins in both), and
 *     the expression len(a) counts what jansson counts in field a.
 * Where the documented semantics differ from jansson's, jansson's verdict is
 * not used: lone surrogate escapes (decoded to U+FFFD here), \u0000 in a
 * key, numbers beyond the double range (infinity here) and its depth limit,
 * which counts the scalar inside the innermost container as a level.
 * A raw NUL byte is never valid JSON, but jansson skips one after a number
 * ({"a":1<NUL>} loads): such lines must be refused, without asking jansson.
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>

#include "expr.h"
#include "fuzz.h"
#include "json.h"
#include "path.h"
#include "value.h"

static const char *const paths[] = {
	"a", "b", "a.b", "a.b.c", "a[0]", "a[1].b", "b[0][1]", "c",
	"\"\\u00e9\"", "\"\"", "\"a b\".c",
};
#define NPATHS (sizeof paths / sizeof paths[0])

static struct expr *len_a;	/* len(a), over slot 0 */

static struct fieldset *fieldset_get(void)
{
	static struct fieldset *fs;
	if (fs)
		return fs;
	fs = fieldset_new();
	for (size_t i = 0; i < NPATHS; i++) {
		struct path p;
		const char *err;
		FUZZ_CHECK(path_parse_all(paths[i], &p, &err) == 0);
		FUZZ_CHECK(fieldset_add(fs, &p) == (int)i);
		path_free(&p);
	}
	fieldset_want_members(fs, true);
	char errbuf[128];
	size_t col;
	len_a = expr_compile("len(a)", fs, errbuf, sizeof errbuf, &col);
	FUZZ_CHECK(len_a && fieldset_count(fs) == (int)NPATHS);
	return fs;
}

/* Code points of valid UTF-8: the bytes that do not continue one. */
static int64_t code_points(const char *s, size_t n)
{
	int64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

/* len(a) against jansson's field a: elements of an array, code points of
 * a string, members of an object (duplicates count here, not there). */
static void compare_len(const struct span *slots, json_t *a, struct scratch *scr)
{
	if (!a || !(json_is_array(a) || json_is_object(a) || json_is_string(a)))
		return;
	struct value v;
	char errbuf[128];
	FUZZ_CHECK(expr_eval(len_a, slots, scr, &v, errbuf, sizeof errbuf) == 0);
	FUZZ_CHECK(v.t == V_INT);
	if (json_is_array(a))
		FUZZ_CHECK(v.u.i == (int64_t)json_array_size(a));
	else if (json_is_object(a))
		FUZZ_CHECK(v.u.i >= (int64_t)json_object_size(a));
	else
		FUZZ_CHECK(v.u.i == code_points(json_string_value(a),
						json_string_length(a)));
}

/* A span the scanner made: inside the line, typed as its first byte says. */
static void check_span(const struct span *sp, const char *line, size_t n)
{
	FUZZ_CHECK(fuzz_inside(sp->p, sp->n, line, n) && sp->n > 0);
	static const char first[] = {
		[SPAN_JSTRING] = '"', [SPAN_JTRUE] = 't', [SPAN_JFALSE] = 'f',
		[SPAN_JNULL] = 'n', [SPAN_JOBJECT] = '{', [SPAN_JARRAY] = '[',
	};
	if (sp->kind == SPAN_JNUMBER)
		FUZZ_CHECK(sp->p[0] == '-' || (sp->p[0] >= '0' && sp->p[0] <= '9'));
	else
		FUZZ_CHECK(sp->kind <= SPAN_JARRAY && sp->p[0] == first[sp->kind]);
	if (sp->kind == SPAN_JSTRING || sp->kind == SPAN_JOBJECT ||
	    sp->kind == SPAN_JARRAY)
		FUZZ_CHECK(sp->n >= 2);
}

/* json_unescape into a buffer of exactly sp->n bytes (its documented
 * bound); the result is valid UTF-8 and, unescaped, the raw bytes. */
static void check_string(const struct span *sp)
{
	char *out = malloc(sp->n);
	FUZZ_CHECK(out != NULL);
	size_t len = json_unescape(sp, out);
	FUZZ_CHECK(len <= sp->n);
	FUZZ_CHECK(utf8_valid(out, len));
	if (!sp->escaped)
		FUZZ_CHECK(len == sp->n - 2 && !memcmp(out, sp->p + 1, len));
	free(out);
}

/* A container's span is itself valid JSON (an array is checked as the
 * value of a one-member object). */
static void check_container(const struct span *sp)
{
	static struct fieldset *none;
	if (!none)
		none = fieldset_new();
	struct json_scan sc = { 0 };
	const char *err;
	size_t col;
	if (sp->kind == SPAN_JOBJECT) {
		FUZZ_CHECK(json_scan_line(sp->p, sp->n, none, &sc, &err, &col) == 0);
		return;
	}
	char *w = malloc(sp->n + 6);
	FUZZ_CHECK(w != NULL);
	memcpy(w, "{\"k\":", 5);
	memcpy(w + 5, sp->p, sp->n);
	w[sp->n + 5] = '}';
	FUZZ_CHECK(json_scan_line(w, sp->n + 6, none, &sc, &err, &col) == 0);
	free(w);
}

static void check_value(const struct span *sp, struct scratch *scr)
{
	struct value v;
	FUZZ_CHECK(value_load(sp, &v, scr) == 0);
	if (v.t == V_STRING || v.t == V_RAW)
		fuzz_touch(v.s, v.n);
	if (sp->kind == SPAN_JSTRING)
		check_string(sp);
	if (sp->kind == SPAN_JOBJECT || sp->kind == SPAN_JARRAY)
		check_container(sp);
}

/* What jansson finds at path p, or NULL. */
static json_t *jansson_at(json_t *root, const struct path *p)
{
	json_t *j = root;
	for (int i = 0; i < p->n && j; i++) {
		const struct path_step *st = &p->step[i];
		if (st->key)
			j = json_is_object(j) ? json_object_getn(j, st->key, st->keylen)
					      : NULL;
		else
			j = json_is_array(j) ? json_array_get(j, (size_t)st->index)
					     : NULL;
	}
	return j;
}

/* The slot and jansson's value agree in type and, for scalars, value. */
static void compare_slot(const struct span *sp, json_t *j, struct scratch *scr)
{
	if (!j) {
		FUZZ_CHECK(sp->kind == SPAN_MISSING);
		return;
	}
	struct value v;
	FUZZ_CHECK(value_load(sp, &v, scr) == 0);
	switch (json_typeof(j)) {
	case JSON_OBJECT: FUZZ_CHECK(sp->kind == SPAN_JOBJECT); break;
	case JSON_ARRAY: FUZZ_CHECK(sp->kind == SPAN_JARRAY); break;
	case JSON_TRUE: FUZZ_CHECK(sp->kind == SPAN_JTRUE); break;
	case JSON_FALSE: FUZZ_CHECK(sp->kind == SPAN_JFALSE); break;
	case JSON_NULL: FUZZ_CHECK(sp->kind == SPAN_JNULL); break;
	case JSON_STRING:
		FUZZ_CHECK(v.t == V_STRING && v.n == json_string_length(j) &&
			   !memcmp(v.s, json_string_value(j), v.n));
		break;
	case JSON_INTEGER:	/* not made: JSON_DECODE_INT_AS_REAL */
	case JSON_REAL:
		/* Both round correctly, so the doubles are the same. */
		FUZZ_CHECK(value_is_num(&v) &&
			   value_num(&v) == json_real_value(j));
		break;
	}
}

/* Errors where jansson's rules, not the scanner's, decide (see the top). */
static bool jansson_differs(const json_error_t *e)
{
	return strstr(e->text, "invalid Unicode") ||
	       strstr(e->text, "NUL byte in object key") ||
	       strstr(e->text, "real number overflow") ||
	       strstr(e->text, "maximum parsing depth");
}

static void compare_jansson(const char *line, size_t n, int rc,
			    const struct json_scan *sc, struct scratch *scr)
{
	if (memchr(line, 0, n)) {
		FUZZ_CHECK(rc < 0);
		return;
	}
	json_error_t e;
	json_t *root = json_loadb(line, n, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
	if (!root) {
		FUZZ_CHECK(rc < 0 || jansson_differs(&e));
		return;
	}
	FUZZ_CHECK((rc == 0) == json_is_object(root));
	if (rc == 0) {
		const struct fieldset *fs = fieldset_get();
		for (int i = 0; i < fieldset_count(fs); i++)
			compare_slot(&sc->slots[i], jansson_at(root, fieldset_path(fs, i)),
				     scr);
		compare_len(sc->slots, json_object_get(root, "a"), scr);
		/* Duplicates are members here but one key in jansson. */
		FUZZ_CHECK(sc->nmembers >= json_object_size(root));
	}
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fieldset *fs = fieldset_get();
	char *line = fuzz_exact(data, size);
	struct span slots[NPATHS];
	struct json_scan sc = { .slots = slots };
	struct scratch scr = { 0 };
	const char *err = NULL;
	size_t col = 0;
	int rc = json_scan_line(line, size, fs, &sc, &err, &col);
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc < 0) {
		FUZZ_CHECK(err != NULL && *err && col <= size);
	} else {
		for (size_t i = 0; i < NPATHS; i++)
			if (slots[i].kind != SPAN_MISSING) {
				check_span(&slots[i], line, size);
				check_value(&slots[i], &scr);
			}
		for (size_t i = 0; i < sc.nmembers; i++) {
			FUZZ_CHECK(sc.members[i].key.kind == SPAN_JSTRING);
			check_span(&sc.members[i].key, line, size);
			check_span(&sc.members[i].val, line, size);
			check_value(&sc.members[i].key, &scr);
			check_value(&sc.members[i].val, &scr);
		}
	}
	compare_jansson(line, size, rc, &sc, &scr);
	scratch_free(&scr);
	free(sc.members);
	free(line);
	return 0;
}
