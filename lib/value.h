/* value.h - the typed values of a record: what a field path yields */
#ifndef ES_VALUE_H
#define ES_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A span is where a field's value sits in the record text, untyped.
 * The scanner fills spans; value_load() types them only when asked,
 * so a field nobody compares is never converted.
 */
enum span_kind {
	SPAN_MISSING = 0,	/* the record has no such field */
	SPAN_JSTRING,		/* JSON string, p/n include the quotes, may hold escapes */
	SPAN_JNUMBER,		/* JSON number text */
	SPAN_JTRUE, SPAN_JFALSE, SPAN_JNULL,
	SPAN_JOBJECT, SPAN_JARRAY,	/* raw JSON text of a container */
	SPAN_CSV,		/* a decoded CSV cell: a number if it looks like one */
};

struct span {
	const char *p;
	size_t n;
	enum span_kind kind;
	bool escaped;		/* SPAN_JSTRING: contains backslash escapes */
};

enum vtype {
	V_MISSING = 0,		/* behaves as null, but exists() tells it apart */
	V_NULL, V_BOOL, V_INT, V_DOUBLE, V_STRING,
	V_RAW,			/* an object or array: its JSON text in s/n */
};

struct value {
	enum vtype t;
	union {
		bool b;
		int64_t i;
		double d;
	} u;
	const char *s;		/* V_STRING: bytes (not NUL-terminated); V_INT,
				   V_DOUBLE: the number's text when it came from
				   input (NULL when computed); V_RAW: JSON text */
	size_t n;
};

/* A scratch arena reset per record: decoded strings and computed text live
 * here, so the hot path allocates nothing once it has grown to fit. */
struct scratch {
	char *buf;
	size_t len, cap;
};
void *scratch_alloc(struct scratch *sc, size_t n);	/* exits 1 on OOM */
void scratch_reset(struct scratch *sc);
void scratch_free(struct scratch *sc);

/* Types a span. JSON strings with escapes are decoded into sc.
 * Returns 0, or -1 if the span is malformed (cannot happen for spans the
 * validating scanner produced). */
int value_load(const struct span *sp, struct value *v, struct scratch *sc);

/* Parses text as a JSON number (RFC 8259 grammar exactly: no '+', no
 * leading zeros, no '.5'). Integers that fit int64 become V_INT, everything
 * else V_DOUBLE (correctly rounded). Returns false if text is not a number. */
bool number_parse(const char *s, size_t n, struct value *v);

/* Writes d as the shortest text that reads back as the same double
 * (integral values without a fraction: 3 not 3.0; non-finite as null).
 * buf needs 32 bytes. Returns the length. */
size_t double_format(double d, char *buf);
/* Writes an int64 in decimal; buf needs 24 bytes. */
size_t int_format(int64_t i, char *buf);

static inline double value_num(const struct value *v)
{
	return v->t == V_INT ? (double)v->u.i : v->u.d;
}
static inline bool value_is_num(const struct value *v)
{
	return v->t == V_INT || v->t == V_DOUBLE;
}

#endif
