/* value.h - the typed values of a record: what a field path yields */
#ifndef ES_VALUE_H
#define ES_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scratch.h"

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

/* *d = *s a member at a time. A span is mostly copied right after its
 * members were stored one by one, and a 16-byte load of two 8-byte
 * stores cannot take their data until they retire (no store forwarding):
 * the copy as one struct stalled jsonslot_member for most of its time. */
static inline void span_copy(struct span *d, const struct span *s)
{
	d->p = s->p;
	d->n = s->n;
	d->kind = s->kind;
	d->escaped = s->escaped;
}

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

/* Types a span. JSON strings with escapes are decoded into sc.
 * Returns 0, or -1 if the span is malformed (cannot happen for spans the
 * validating scanner produced). */
int value_load(const struct span *sp, struct value *v, struct scratch *sc);

/* *d = *s a member at a time: a value just filled so (value_load) and
 * copied whole is read by wider loads than its stores, which then wait
 * for the stores to retire (perf put 2% of es-window's CSV job there). */
static inline void value_copy(struct value *d, const struct value *s)
{
	d->t = s->t;
	d->u.i = s->u.i;
	d->s = s->s;
	d->n = s->n;
}

static inline double value_num(const struct value *v)
{
	return v->t == V_INT ? (double)v->u.i : v->u.d;
}
static inline bool value_is_num(const struct value *v)
{
	return v->t == V_INT || v->t == V_DOUBLE;
}

/* The text of a value as output writes it: a number as it was written
 * (or formatted into buf, 32 bytes at least), true/false, null, else its
 * span. */
void value_text(const struct value *v, char *buf, const char **p, size_t *n);

#endif
