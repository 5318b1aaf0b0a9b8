/* value.c - typing spans into values */
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "number.h"
#include "scratch.h"
#include "value.h"

int value_load(const struct span *sp, struct value *v, struct scratch *sc)
{
	v->s = NULL;
	v->n = 0;
	switch (sp->kind) {
	case SPAN_MISSING:
		v->t = V_MISSING;
		return 0;
	case SPAN_JSTRING:
		v->t = V_STRING;
		if (!sp->escaped) {
			v->s = sp->p + 1;
			v->n = sp->n - 2;
		} else {
			char *out = scratch_alloc(sc, sp->n);
			v->n = json_unescape(sp, out);
			v->s = out;
		}
		return 0;
	case SPAN_JNUMBER:
		return number_parse(sp->p, sp->n, v) ? 0 : -1;
	case SPAN_JTRUE:
	case SPAN_JFALSE:
		v->t = V_BOOL;
		v->u.b = sp->kind == SPAN_JTRUE;
		return 0;
	case SPAN_JNULL:
		v->t = V_NULL;
		return 0;
	case SPAN_JOBJECT:
	case SPAN_JARRAY:
		v->t = V_RAW;
		v->s = sp->p;
		v->n = sp->n;
		return 0;
	case SPAN_CSV:
		/* CSV has no null: an empty cell is the closest thing. */
		if (sp->n == 0) {
			v->t = V_NULL;
			return 0;
		}
		if (number_parse(sp->p, sp->n, v))
			return 0;
		v->t = V_STRING;
		v->s = sp->p;
		v->n = sp->n;
		return 0;
	}
	return -1;
}

void value_text(const struct value *v, char *buf, const char **p, size_t *n)
{
	switch (v->t) {
	case V_INT:
	case V_DOUBLE:
		if (v->s) {
			*p = v->s;
			*n = v->n;
		} else {
			*n = v->t == V_INT ? number_format_int(v->u.i, buf)
					   : number_format(v->u.d, buf);
			*p = buf;
		}
		return;
	case V_BOOL:
		*p = v->u.b ? "true" : "false";
		*n = strlen(*p);
		return;
	case V_NULL:
	case V_MISSING:
		*p = "null";
		*n = 4;
		return;
	default:
		*p = v->s;
		*n = v->n;
	}
}
