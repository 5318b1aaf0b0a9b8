/* pubtmpl.c - a publisher's text with {field} parts filled from each record */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "mem.h"
#include "path.h"
#include "pubtmpl.h"

/* The field in braces at t (after the '{'), up to close, into p. */
static bool pubtmpl_field(struct pubtmpl_part *p, const char *t,
			  const char *close, struct fieldset *fs, char *errbuf,
			  size_t errn)
{
	size_t n = (size_t)(close - t);
	p->name = xmalloc(n + 1);
	memcpy(p->name, t, n);
	p->name[n] = 0;
	struct path path;
	const char *err;
	if (path_parse_all(p->name, &path, &err) < 0) {
		snprintf(errbuf, errn, "field '%s': %s", p->name, err);
		return false;
	}
	p->slot = fieldset_add(fs, &path);
	path_free(&path);
	return true;
}

bool pubtmpl_compile(struct pubtmpl *t, const char *text, const char *what,
		     struct fieldset *fs, char *errbuf, size_t errn)
{
	size_t n = (strlen(text) + 1) * sizeof *t->parts;
	t->parts = memset(xmalloc(n), 0, n);
	t->n = 0;
	t->what = what;
	while (*text) {
		struct pubtmpl_part *p = &t->parts[t->n++];
		const char *open = strchr(text, '{');
		if (open != text) {
			p->lit = text;
			p->litlen = open ? (size_t)(open - text) : strlen(text);
			text += p->litlen;
			continue;
		}
		const char *close = strchr(text, '}');
		if (!close) {
			snprintf(errbuf, errn, "'{' without '}'");
			return false;
		}
		if (!pubtmpl_field(p, text + 1, close, fs, errbuf, errn))
			return false;
		text = close + 1;
	}
	return true;
}

char *pubtmpl_sample(const struct pubtmpl *t, size_t *n)
{
	*n = 0;
	for (int i = 0; i < t->n; i++)
		*n += t->parts[i].lit ? t->parts[i].litlen : 1;
	char *s = xmalloc(*n + 1), *w = s;
	for (int i = 0; i < t->n; i++) {
		if (t->parts[i].lit) {
			memcpy(w, t->parts[i].lit, t->parts[i].litlen);
			w += t->parts[i].litlen;
		} else {
			*w++ = 'x';
		}
	}
	*w = 0;
	return s;
}

/* A field's value as text; NULL, or why it cannot be. */
static const char *pubtmpl_value(const struct span *sp, struct scratch *sc,
				 const char **p, size_t *n)
{
	struct value v;
	value_load(sp, &v, sc);
	switch (v.t) {
	case V_MISSING: return "is missing";
	case V_NULL: return "is null";
	case V_RAW: return "is an object or array";
	case V_BOOL:
		*p = v.u.b ? "true" : "false";
		*n = strlen(*p);
		return NULL;
	case V_INT: case V_DOUBLE:
		if (!v.s)
			return "is not a plain number";
		__attribute__((fallthrough));	/* the number as written */
	case V_STRING:
		*p = v.s;
		*n = v.n;
		return *n ? NULL : "is empty";
	}
	return "cannot be used";
}

bool pubtmpl_fill(const struct pubtmpl *t, const struct record *rec,
		  struct scratch *sc, struct outbuf *out,
		  const char *(*check)(const char *p, size_t n),
		  char *err, size_t errn)
{
	for (int i = 0; i < t->n; i++) {
		const struct pubtmpl_part *tp = &t->parts[i];
		if (tp->lit) {
			out_put(out, tp->lit, tp->litlen);
			continue;
		}
		const char *p = NULL;
		size_t n = 0;
		const char *why = pubtmpl_value(&rec->slots[tp->slot], sc, &p, &n);
		if (!why && check)
			why = check(p, n);
		if (why) {
			snprintf(err, errn, "field '%s' for the %s %s", tp->name,
				 t->what, why);
			return false;
		}
		out_put(out, p, n);
	}
	return true;
}

void pubtmpl_free(struct pubtmpl *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->parts[i].name);
	free(t->parts);
	t->parts = NULL;
	t->n = 0;
}
