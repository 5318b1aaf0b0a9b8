/* path.c - fuzz target: the field-path parser (lib/path.c)
 *
 * The input, as a C string, goes to path_parse_all() and to path_parse()
 * (which stops where the path ends, as inside an expression).
 * Invariants: an error has a message and, for path_parse, leaves the
 * position inside the text; a parsed path has 1 to PATH_MAX_DEPTH steps;
 * written back in the grammar (names bare, other keys quoted with escapes,
 * indexes in brackets) it parses to the same steps; a fieldset takes it
 * and gives back the same path.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "json.h"
#include "out.h"
#include "path.h"

static bool is_name(const char *k, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     c == '_' || c == '$';
		if (!alpha && (i == 0 || c < '0' || c > '9'))
			return false;
	}
	return true;
}

/* Key bytes as a quoted key: quote, backslash and control bytes escaped,
 * NUL included (a \u0000 key is legal). */
static void write_quoted(struct outbuf *o, const char *k, size_t n)
{
	out_putc(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];
		char esc[8];
		if (c < 0x20 || c == '"' || c == '\\') {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			out_puts(o, esc);
		} else {
			out_putc(o, (char)c);
		}
	}
	out_putc(o, '"');
}

static void write_path(struct outbuf *o, const struct path *p)
{
	for (int i = 0; i < p->n; i++) {
		const struct path_step *st = &p->step[i];
		char idx[32];
		if (!st->key) {
			snprintf(idx, sizeof idx, "[%ld]", st->index);
			out_puts(o, idx);
			continue;
		}
		if (i > 0)
			out_putc(o, '.');
		if (is_name(st->key, st->keylen))
			out_put(o, st->key, st->keylen);
		else
			write_quoted(o, st->key, st->keylen);
	}
	out_putc(o, 0);
}

static bool same_path(const struct path *a, const struct path *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		const struct path_step *x = &a->step[i], *y = &b->step[i];
		if (!x->key != !y->key)
			return false;
		if (x->key ? x->keylen != y->keylen ||
			     memcmp(x->key, y->key, x->keylen)
			   : x->index != y->index)
			return false;
	}
	return true;
}

static void check_path(const struct path *p)
{
	FUZZ_CHECK(p->n >= 1 && p->n <= PATH_MAX_DEPTH && p->text != NULL);
	FUZZ_CHECK(p->step[0].key != NULL);	/* a path starts with a key */
	for (int i = 0; i < p->n; i++)
		if (p->step[i].key)
			fuzz_touch(p->step[i].key, p->step[i].keylen + 1);
		else
			FUZZ_CHECK(p->step[i].index >= 0 &&
				   p->step[i].index <= 999999999);
	struct outbuf o;
	out_init(&o, -1, "memory");
	write_path(&o, p);
	struct path back;
	const char *err;
	FUZZ_CHECK(path_parse_all(o.buf, &back, &err) == 0);
	FUZZ_CHECK(same_path(p, &back));
	path_free(&back);
	out_free(&o);
	struct fieldset *fs = fieldset_new();
	FUZZ_CHECK(fieldset_add(fs, p) == 0 && fieldset_add(fs, p) == 0);
	FUZZ_CHECK(same_path(p, fieldset_path(fs, 0)));
	fieldset_free(fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	size_t len = strlen(s);
	struct path p;
	const char *err = NULL;
	if (path_parse_all(s, &p, &err) == 0) {
		check_path(&p);
		path_free(&p);
	} else {
		FUZZ_CHECK(err && *err);
	}
	const char *q = s;
	err = NULL;
	int rc = path_parse(&q, &p, &err);
	FUZZ_CHECK(q >= s && q <= s + len);
	if (rc == 0) {
		check_path(&p);
		FUZZ_CHECK(strlen(p.text) <= (size_t)(q - s));
		path_free(&p);
	} else {
		FUZZ_CHECK(rc == -1 && err && *err);
	}
	free(s);
	return 0;
}
