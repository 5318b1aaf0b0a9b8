/* influx.c - records as InfluxDB line protocol (-o influx)
 *
 * Escaping, per InfluxDB's line protocol reference: the measurement
 * escapes commas and spaces; tag keys, tag values and field keys escape
 * commas, equals signs and spaces; string field values escape double
 * quotes and backslashes. A backslash before any other byte is read as
 * itself, so other backslashes pass as they are, but one at the end of a
 * name would escape the separator after it: such a name cannot be
 * written. Nor can a newline (it ends the line) outside a string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "influx.h"
#include "mem.h"
#include "number.h"

#define DEFAULT_TIME "ts"

static struct {
	char *measurement;	/* the name, or the field's name */
	size_t mlen;
	bool mfield;		/* measurement is a field: {F} */
	char **tags;		/* sorted, no repeats */
	size_t ntags;
	const char *time_field;	/* NULL: no timestamp */
	enum time_repr precision;
} cf;

struct influx {
	enum time_repr unit;	/* the time field's, decided once */
	struct outbuf scratch;	/* the fields, written after the tags */
	const struct ofield **tagv;	/* per tag: its field or NULL */
	struct ofield *typed;	/* a built record's fields, JSON text typed */
	size_t cap;
};

static int tag_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --tags f1,f2: the names, sorted byte-wise (Go's bytes.Compare, the
 * order InfluxDB keeps them in), a repeat said. */
static int influx_tags(const char *list, const char **err)
{
	char *copy = xstrdup(list);
	for (char *s = strtok(copy, ","); s; s = strtok(NULL, ",")) {
		cf.tags = xrealloc(cf.tags, (cf.ntags + 1) * sizeof *cf.tags);
		cf.tags[cf.ntags++] = xstrdup(s);
	}
	free(copy);
	if (!cf.ntags) {
		*err = "invalid argument for --tags: no field names";
		return -1;
	}
	qsort(cf.tags, cf.ntags, sizeof *cf.tags, tag_cmp);
	for (size_t i = 1; i < cf.ntags; i++)
		if (!strcmp(cf.tags[i - 1], cf.tags[i])) {
			*err = "invalid argument for --tags: a field named twice";
			return -1;
		}
	return 0;
}

int influx_configure(const struct influx_conf *c, const char **err)
{
	const char *m = c->measurement;
	if (m) {
		size_t n = strlen(m);
		cf.mfield = n > 2 && m[0] == '{' && m[n - 1] == '}';
		cf.mlen = cf.mfield ? n - 2 : n;
		cf.measurement = xmalloc(cf.mlen + 1);
		memcpy(cf.measurement, cf.mfield ? m + 1 : m, cf.mlen);
		cf.measurement[cf.mlen] = 0;
		if (!cf.mlen) {
			*err = "invalid argument for --measurement: empty";
			return -1;
		}
	}
	if (c->tags && influx_tags(c->tags, err))
		return -1;
	const char *t = c->time_field ? c->time_field : DEFAULT_TIME;
	cf.time_field = strcmp(t, "none") ? t : NULL;
	cf.precision = c->precision ? c->precision : TIME_NS;
	return 0;
}

bool influx_ready(void)
{
	return cf.measurement != NULL;
}

struct influx *influx_new(void)
{
	struct influx *ix = xmalloc(sizeof *ix);
	memset(ix, 0, sizeof *ix);
	out_init(&ix->scratch, -1, "line");
	ix->tagv = xmalloc((cf.ntags ? cf.ntags : 1) * sizeof *ix->tagv);
	return ix;
}

void influx_free(struct influx *ix)
{
	if (!ix)
		return;
	out_free(&ix->scratch);
	free(ix->tagv);
	free(ix->typed);
	free(ix);
}

/* ---- escaping ---- */

static char msg[200];

/* Why a name cannot be written: what is "tag key", "the value of tag",
 * ...; the text said up to a newline (diagnostics are one line). */
static int influx_bad(const char **err, const char *what, const char *p,
		      size_t n, const char *why)
{
	const char *nl = memchr(p, '\n', n);
	size_t show = nl ? (size_t)(nl - p) : n;
	snprintf(msg, sizeof msg, "%s '%.*s%s' %s, which line protocol cannot "
		 "write", what, (int)(show > 64 ? 64 : show), p,
		 show < n ? "..." : "", why);
	*err = msg;
	return -1;
}

/* A measurement, tag key, tag value or field key: special bytes escaped
 * (specials: the ones this element escapes). */
static int influx_name(struct outbuf *o, const char *what, const char *p,
		       size_t n, const char *specials, const char **err)
{
	if (memchr(p, '\n', n))
		return influx_bad(err, what, p, n, "holds a newline");
	if (n && p[n - 1] == '\\')
		return influx_bad(err, what, p, n, "ends with a backslash");
	for (size_t i = 0; i < n; i++) {
		if (strchr(specials, p[i]))
			out_putc(o, '\\');
		out_putc(o, p[i]);
	}
	return 0;
}

static void influx_string(struct outbuf *o, const char *p, size_t n)
{
	out_putc(o, '"');
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			out_putc(o, '\\');
		out_putc(o, p[i]);
	}
	out_putc(o, '"');
}

/* ---- the parts of a line ---- */

static const struct ofield *influx_find(const struct ofield *f, size_t n,
					const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (f[i].namelen == len && !memcmp(f[i].name, name, len))
			return &f[i];
	return NULL;
}

const char *influx_fields_ok(const struct ofield *f, size_t n)
{
	static char why[160];
	const char *name = NULL, *opt = NULL;
	if (cf.time_field && !influx_find(f, n, cf.time_field)) {
		name = cf.time_field;
		opt = "--timestamp-field; none: the server's clock";
	} else if (cf.mfield && !influx_find(f, n, cf.measurement)) {
		name = cf.measurement;
		opt = "--measurement";
	}
	if (!name)
		return NULL;
	snprintf(why, sizeof why, "no field '%.64s' is written (%s)", name, opt);
	return why;
}

static bool influx_null(const struct value *v)
{
	return v->t == V_NULL || v->t == V_MISSING;
}

static int influx_measurement(struct outbuf *o, const struct ofield *f,
			      size_t n, const char **err)
{
	if (!cf.mfield)
		return influx_name(o, "measurement", cf.measurement, cf.mlen,
				   ", ", err);
	const struct ofield *m = influx_find(f, n, cf.measurement);
	char buf[40];
	const char *p;
	size_t len;
	if (!m || influx_null(&m->v)) {
		snprintf(msg, sizeof msg, "no measurement: field '%s' is %s "
			 "(--measurement)", cf.measurement, m ? "null" : "missing");
		*err = msg;
		return -1;
	}
	value_text(&m->v, buf, &p, &len);
	if (!len || p[0] == '#') {
		*err = len ? "the measurement starts with '#' (a comment line)"
			   : "the measurement is empty";
		return -1;
	}
	return influx_name(o, "measurement", p, len, ", ", err);
}

/* ",k=v" for each tag with a value, in the order of cf.tags. */
static int influx_tagset(struct influx *ix, struct outbuf *o,
			 const char **err)
{
	char buf[40];
	for (size_t i = 0; i < cf.ntags; i++) {
		const struct ofield *t = ix->tagv[i];
		const char *p;
		size_t len;
		if (!t || influx_null(&t->v))
			continue;
		value_text(&t->v, buf, &p, &len);
		if (!len)
			continue;	/* InfluxDB takes no empty tag value */
		out_putc(o, ',');
		if (influx_name(o, "tag key", t->name, t->namelen, ",= ", err))
			return -1;
		out_putc(o, '=');
		if (influx_name(o, "tag value", p, len, ",= ", err)) {
			snprintf(msg, sizeof msg, "the value of tag '%.*s' %s, "
				 "which line protocol cannot write",
				 (int)(t->namelen > 64 ? 64 : t->namelen), t->name,
				 memchr(p, '\n', len) ? "holds a newline"
						       : "ends with a backslash");
			return -1;
		}
	}
	return 0;
}

static void influx_value(struct outbuf *o, const struct value *v)
{
	char buf[40];
	switch (v->t) {
	case V_INT:
		out_put(o, buf, number_format_int(v->u.i, buf));
		out_putc(o, 'i');
		return;
	case V_DOUBLE:
		/* shortest round trip; never written as an integer 'i' */
		out_put(o, buf, number_format(v->u.d, buf));
		return;
	case V_BOOL:
		out_puts(o, v->u.b ? "true" : "false");
		return;
	default:	/* strings, and objects and arrays as their JSON text */
		influx_string(o, v->s, v->n);
	}
}

static bool influx_is_tag(const struct ofield *x, const struct influx *ix)
{
	for (size_t i = 0; i < cf.ntags; i++)
		if (ix->tagv[i] == x)
			return true;
	return false;
}

/* The field set into ix->scratch: every field but the measurement's, the
 * tags and the time; nulls left out. */
static int influx_fieldset(struct influx *ix, const struct ofield *f,
			   size_t n, const struct ofield *mf,
			   const struct ofield *tf, const char **err)
{
	struct outbuf *o = &ix->scratch;
	o->len = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ofield *x = &f[i];
		if (x == mf || x == tf || influx_null(&x->v) ||
		    influx_is_tag(x, ix))
			continue;
		if (o->len)
			out_putc(o, ',');
		if (influx_name(o, "field key", x->name, x->namelen, ",= ", err))
			return -1;
		out_putc(o, '=');
		influx_value(o, &x->v);
	}
	if (!o->len) {
		*err = "no field to write (line protocol needs one besides the "
		       "tags and the time)";
		return -1;
	}
	return 0;
}

static const int64_t per_unit[] = {
	[TIME_S] = 1000000, [TIME_MS] = 1000, [TIME_US] = 1, [TIME_NS] = 1,
};

/* " timestamp" in cf.precision: an epoch integer already in that unit as
 * written (nanoseconds kept), else the microseconds converted. */
static int influx_time(struct influx *ix, struct outbuf *o,
		       const struct ofield *tf, const char **err)
{
	static char tmsg[200];
	int64_t us;
	const char *e;
	if (!tf) {
		snprintf(tmsg, sizeof tmsg, "missing time field '%s' "
			 "(--timestamp-field; none: the server's clock)",
			 cf.time_field);
		*err = tmsg;
		return -1;
	}
	if (time_from_value(&tf->v, &ix->unit, &us, &e) < 0) {
		snprintf(tmsg, sizeof tmsg, "%s (--timestamp-field %s)", e,
			 cf.time_field);
		*err = tmsg;
		return -1;
	}
	char buf[40];
	out_putc(o, ' ');
	enum time_repr u = (enum time_repr)(ix->unit & ~TIME_GUESSED);
	if (tf->v.t == V_INT && u == cf.precision) {
		out_put(o, buf, number_format_int(tf->v.u.i, buf));
		return 0;
	}
	int64_t t;
	if (cf.precision == TIME_NS) {
		if (us > INT64_MAX / 1000 || us < INT64_MIN / 1000) {
			*err = "the time is beyond nanoseconds' range (years "
			       "1677 to 2262)";
			return -1;
		}
		t = us * 1000;
	} else {
		int64_t d = per_unit[cf.precision];
		t = us / d - (us % d < 0);	/* floor: before 1970 too */
	}
	out_put(o, buf, number_format_int(t, buf));
	return 0;
}

static bool influx_word(const struct value *v, const char *w)
{
	return v->n == strlen(w) && !memcmp(v->s, w, v->n);
}

/* A built record may hold JSON text (V_RAW: es-window's epoch times):
 * numbers, true, false and null in it are typed as the reader types
 * them; objects and arrays stay text. */
static const struct ofield *influx_typed(struct influx *ix,
					 const struct ofield *f, size_t n)
{
	size_t i = 0;
	while (i < n && f[i].v.t != V_RAW)
		i++;
	if (i == n)
		return f;
	if (n > ix->cap) {
		ix->cap = n;
		ix->typed = xrealloc(ix->typed, n * sizeof *ix->typed);
	}
	memcpy(ix->typed, f, n * sizeof *f);
	for (; i < n; i++) {
		struct value *v = &ix->typed[i].v;
		struct value nv;
		if (v->t != V_RAW)
			continue;
		if (number_parse(v->s, v->n, &nv))
			*v = nv;
		else if (influx_word(v, "true") || influx_word(v, "false"))
			*v = (struct value){ .t = V_BOOL, .u.b = v->s[0] == 't' };
		else if (influx_word(v, "null"))
			*v = (struct value){ .t = V_NULL };
	}
	return ix->typed;
}

int influx_line(struct influx *ix, struct outbuf *o, const struct ofield *f,
		size_t n, const char **err)
{
	f = influx_typed(ix, f, n);
	const struct ofield *mf = cf.mfield ? influx_find(f, n, cf.measurement)
					    : NULL;
	const struct ofield *tf = cf.time_field ? influx_find(f, n, cf.time_field)
						: NULL;
	for (size_t i = 0; i < cf.ntags; i++)
		ix->tagv[i] = influx_find(f, n, cf.tags[i]);
	if (influx_measurement(o, f, n, err) ||
	    influx_tagset(ix, o, err) ||
	    influx_fieldset(ix, f, n, mf, tf, err))
		return -1;
	out_putc(o, ' ');
	out_put(o, ix->scratch.buf, ix->scratch.len);
	if (cf.time_field && influx_time(ix, o, tf, err))
		return -1;
	out_putc(o, '\n');
	return 0;
}
