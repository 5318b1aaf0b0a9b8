/* keys.c - fuzz target: group keys and the key table (lib/keys.c)
 *
 * Each input line is a value, typed the way a record's field would be: a
 * JSON number, true, false, null, an object or array text, else a string;
 * a leading '-' on a line that is not a number removes the key instead.
 * Invariants:
 *   - key_decode() gives back what key_append() was given (the type; the
 *     bytes of a string or raw value; the text of a number in the form
 *     number_format_int/number_format write), for one value and for the whole
 *     sequence as a compound key;
 *   - key_append_loose() makes a numeric string, its number and an integral
 *     double one key;
 *   - the key table agrees with a plain list of the keys added and removed
 *     (find, count, the bytes kept for an id).
 */
#include <math.h>
#include <stdbool.h>

#include "fuzz.h"
#include "keys.h"
#include "number.h"
#include "out.h"
#include "value.h"

#define MAXKEYS 256

static struct value value_of(const char *p, size_t n)
{
	struct value v = { .t = V_STRING, .s = p, .n = n };
	if (number_parse(p, n, &v))
		return v;
	if (n == 4 && !memcmp(p, "null", 4))
		v.t = V_NULL;
	else if ((n == 4 && !memcmp(p, "true", 4)) ||
		 (n == 5 && !memcmp(p, "false", 5)))
		v = (struct value){ .t = V_BOOL, .u.b = n == 4 };
	else if (n && (p[0] == '{' || p[0] == '['))
		v.t = V_RAW;
	return v;
}

/* The text key_append writes for a number: an infinity as 1e999 or
 * -1e999 (one key per sign), -0 as 0 (equal by value). */
static size_t num_text(const struct value *v, char *buf)
{
	if (v->t == V_INT)
		return number_format_int(v->u.i, buf);
	if (isinf(v->u.d))
		return (size_t)sprintf(buf, "%s", v->u.d > 0 ? "1e999" : "-1e999");
	return number_format(v->u.d == 0 ? 0.0 : v->u.d, buf);
}

static void check_decoded(const struct value *in, const struct value *out)
{
	char buf[40];
	switch (in->t) {
	case V_MISSING:
	case V_NULL:
		FUZZ_CHECK(out->t == V_NULL);
		break;
	case V_BOOL:
		FUZZ_CHECK(out->t == V_BOOL && out->u.b == in->u.b);
		break;
	case V_INT:
	case V_DOUBLE: {
		size_t n = num_text(in, buf);
		FUZZ_CHECK(out->t == in->t && out->n == n && !memcmp(out->s, buf, n));
		break;
	}
	case V_STRING:
	case V_RAW:
		FUZZ_CHECK(out->t == in->t && out->n == in->n &&
			   !memcmp(out->s, in->s, in->n));
		break;
	}
}

/* A string that reads as a number is, loosely, that number's key. */
static void check_loose(const struct value *v)
{
	struct value num;
	if (v->t != V_STRING || !number_parse(v->s, v->n, &num))
		return;
	struct outbuf a, b;
	out_init(&a, -1, "memory");
	out_init(&b, -1, "memory");
	key_append_loose(&a, v);
	key_append_loose(&b, &num);
	FUZZ_CHECK(a.len == b.len && !memcmp(a.buf, b.buf, a.len));
	if (num.t == V_INT && num.u.i > -(1LL << 53) && num.u.i < (1LL << 53)) {
		struct value d = { .t = V_DOUBLE, .u.d = (double)num.u.i };
		b.len = 0;
		key_append_loose(&b, &d);
		FUZZ_CHECK(a.len == b.len && !memcmp(a.buf, b.buf, a.len));
	}
	out_free(&a);
	out_free(&b);
}

/* The model: the keys the table should hold, by id. */
struct model {
	char *key[MAXKEYS];
	size_t n[MAXKEYS];
	int id[MAXKEYS];
	int count;
};

static int model_find(const struct model *m, const char *k, size_t n)
{
	for (int i = 0; i < m->count; i++)
		if (m->n[i] == n && !memcmp(m->key[i], k, n))
			return i;
	return -1;
}

/* Adds or removes key k in table and model alike, then compares them. */
static void table_step(struct keytab *t, struct model *m, const char *k,
		       size_t n, bool remove)
{
	int i = model_find(m, k, n);
	int id = keytab_find(t, k, n);
	FUZZ_CHECK(i < 0 ? id == -1 : id == m->id[i]);
	if (remove && i >= 0) {
		keytab_remove(t, id);
		free(m->key[i]);
		m->count--;
		m->key[i] = m->key[m->count];
		m->n[i] = m->n[m->count];
		m->id[i] = m->id[m->count];
	} else if (!remove && i < 0 && m->count < MAXKEYS) {
		m->key[m->count] = fuzz_exact((const uint8_t *)k, n);
		m->n[m->count] = n;
		m->id[m->count] = keytab_add(t, k, n);
		m->count++;
	}
	FUZZ_CHECK(keytab_count(t) == m->count);
	for (int j = 0; j < m->count; j++) {
		size_t kn;
		const char *kk = keytab_key(t, m->id[j], &kn);
		FUZZ_CHECK(m->id[j] < keytab_span(t));
		FUZZ_CHECK(kn == m->n[j] && !memcmp(kk, m->key[j], kn));
		FUZZ_CHECK(keytab_find(t, m->key[j], m->n[j]) == m->id[j]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_exact(data, size);
	struct value vals[MAXKEYS];
	int nv = 0;
	struct outbuf all, one;
	out_init(&all, -1, "memory");
	out_init(&one, -1, "memory");
	struct keytab *t = keytab_new();
	struct model m = { .count = 0 };
	const char *p = text, *end = text + size;
	while (p < end && nv < MAXKEYS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		struct value v = value_of(p, (size_t)(e - p));
		bool remove = !value_is_num(&v) && e > p && p[0] == '-';
		if (remove)
			v = value_of(p + 1, (size_t)(e - p - 1));
		struct value back;
		one.len = 0;
		key_append(&one, &v);
		key_decode(one.buf, 1, &back);
		check_decoded(&v, &back);
		check_loose(&v);
		key_append(&all, &v);
		vals[nv++] = v;
		table_step(t, &m, one.buf, one.len, remove);
		p = nl ? nl + 1 : end;
	}
	struct value back[MAXKEYS];
	key_decode(all.buf, nv, back);
	for (int i = 0; i < nv; i++)
		check_decoded(&vals[i], &back[i]);
	for (int i = 0; i < m.count; i++)
		free(m.key[i]);
	keytab_free(t);
	out_free(&all);
	out_free(&one);
	free(text);
	return 0;
}
