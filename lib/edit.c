/* edit.c - changing a record's fields: set, remove, rename, keep
 *
 * An object is an array of fields in the record's order. A field is still a
 * span of the input (F_SPAN), a computed value (F_VALUE), or an object that
 * was opened to change something inside (F_OBJ). An object is "dirty" once
 * one of its original members changed or went; a clean object is written as
 * its original text, with the members it gained spliced in before its '}'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "edit.h"
#include "mem.h"
#include "number.h"

enum fkind { F_SPAN, F_VALUE, F_OBJ };
enum { MARK_NONE, MARK_PART, MARK_ALL };	/* edit_keep */

struct obj;
struct fld {
	const char *kraw;	/* the key as read (JSON, with quotes), or NULL */
	size_t krawn;
	const char *name;	/* the key, decoded */
	size_t namen;
	enum fkind kind;
	bool gone;
	unsigned char mark;
	struct span sp;		/* F_SPAN */
	struct value v;		/* F_VALUE */
	struct obj *obj;	/* F_OBJ */
};

struct obj {
	struct fld *f;
	size_t n, cap;
	size_t norig;		/* f[0..norig) came from the input */
	bool dirty;
	struct span orig;	/* its text as read; SPAN_MISSING for a new one */
};

/* A lookup inside JSON text (edit_get past the tree): the rest of a path
 * under a wrapper key, compiled once per (path, step). */
struct sub {
	const struct path *p;
	int k;
	struct fieldset *fs;
	struct json_scan js;
};

/* A field edit_add gave a record: its name and value as JSON text. */
struct added {
	const char *name;
	size_t namen;
	struct span text;
};

struct edit {
	struct scratch sc;
	struct obj top;
	bool flat;		/* CSV: one level, paths name columns */
	struct fieldset *mfs;	/* members only: to open nested objects */
	struct json_scan js;
	struct outbuf tmp;	/* rendering values and objects */
	struct ofield *of;
	size_t ofcap;
	struct sub *subs;
	int nsubs;
	const struct record *rec;	/* edit_add_begin's */
	struct added *add;		/* edit_add's fields, in order */
	int nadd, capadd;
};

struct edit *edit_new(void)
{
	struct edit *e = xmalloc(sizeof *e);
	memset(e, 0, sizeof *e);
	e->mfs = fieldset_new();
	fieldset_want_members(e->mfs, true);
	e->js.slots = xmalloc(1);
	out_init(&e->tmp, -1, "edit");
	return e;
}

void edit_free(struct edit *e)
{
	if (!e)
		return;
	scratch_free(&e->sc);
	fieldset_free(e->mfs);
	free(e->js.slots);
	free(e->js.members);
	out_free(&e->tmp);
	free(e->of);
	for (int i = 0; i < e->nsubs; i++) {
		fieldset_free(e->subs[i].fs);
		free(e->subs[i].js.slots);
		free(e->subs[i].js.members);
	}
	free(e->subs);
	free(e->add);
	free(e);
}

/* ---- building the tree ---- */

static void key_of(struct edit *e, const struct span *k, struct fld *f)
{
	f->kraw = NULL;
	if (k->kind == SPAN_CSV) {
		f->name = k->p;
		f->namen = k->n;
		return;
	}
	f->kraw = k->p;
	f->krawn = k->n;
	if (!k->escaped) {
		f->name = k->p + 1;
		f->namen = k->n - 2;
	} else {
		char *buf = scratch_alloc(&e->sc, k->n);
		f->namen = json_unescape(k, buf);
		f->name = buf;
	}
}

static void obj_init(struct edit *e, struct obj *o, const struct member *m,
		     size_t n, const struct span *orig)
{
	o->cap = n + 4;
	o->f = scratch_alloc(&e->sc, o->cap * sizeof *o->f);
	/* the places past n are cleared as obj_append takes them */
	memset(o->f, 0, n * sizeof *o->f);
	for (size_t i = 0; i < n; i++) {
		key_of(e, &m[i].key, &o->f[i]);
		o->f[i].kind = F_SPAN;
		span_copy(&o->f[i].sp, &m[i].val);
	}
	o->n = o->norig = n;
	o->dirty = false;
	if (orig)
		o->orig = *orig;
	else
		o->orig.kind = SPAN_MISSING;
}

void edit_begin(struct edit *e, const struct record *rec)
{
	scratch_reset(&e->sc);
	e->flat = rec->fmt == FMT_CSV;
	struct span raw = { rec->raw, rec->rawlen, SPAN_JOBJECT, false };
	size_t n;
	/* obj_init copies the members: e->js is free again after it */
	const struct member *m = record_fields(rec, e->mfs, &e->js, &n);
	obj_init(e, &e->top, m, n, e->flat ? NULL : &raw);
}

static struct fld *obj_append(struct edit *e, struct obj *o)
{
	if (o->n == o->cap) {
		/* The old array stays in the arena until the next record. */
		struct fld *f = scratch_alloc(&e->sc, 2 * o->cap * sizeof *f);
		memcpy(f, o->f, o->n * sizeof *f);
		o->f = f;
		o->cap *= 2;
	}
	struct fld *f = &o->f[o->n++];
	memset(f, 0, sizeof *f);
	return f;
}

/* The index of the live field called name (the last, as JSON parsers
 * that keep one of repeated keys do), or -1. */
static long obj_find(const struct obj *o, const char *name, size_t n)
{
	for (size_t i = o->n; i-- > 0;)
		if (!o->f[i].gone && o->f[i].namen == n &&
		    !memcmp(o->f[i].name, name, n))
			return (long)i;
	return -1;
}

/* Fields before j with its name are shadowed (the last of repeated names
 * is the one read): a change to the name leaves none of them behind, so
 * that renaming or removing a does not bring an older a to light. */
static void drop_shadowed(struct obj *o, long j)
{
	for (long i = 0; i < j; i++) {
		struct fld *f = &o->f[i];
		if (!f->gone && f->namen == o->f[j].namen &&
		    !memcmp(f->name, o->f[j].name, f->namen)) {
			f->gone = true;
			if ((size_t)i < o->norig)
				o->dirty = true;
		}
	}
}

/* Opens a field holding a JSON object into a tree node; NULL if it holds
 * something else. */
static struct obj *expand(struct edit *e, struct fld *f)
{
	if (f->kind == F_OBJ)
		return f->obj;
	struct span sp;
	if (f->kind == F_SPAN && f->sp.kind == SPAN_JOBJECT)
		sp = f->sp;
	else if (f->kind == F_VALUE && f->v.t == V_RAW && f->v.n && f->v.s[0] == '{')
		sp = (struct span){ f->v.s, f->v.n, SPAN_JOBJECT, false };
	else
		return NULL;
	const char *err;
	size_t col;
	if (json_scan_line(sp.p, sp.n, e->mfs, &e->js, &err, &col) < 0)
		return NULL;	/* cannot happen: it was validated */
	struct obj *o = scratch_alloc(&e->sc, sizeof *o);
	obj_init(e, o, e->js.members, e->js.nmembers, &sp);
	f->kind = F_OBJ;
	f->obj = o;
	return o;
}

/* ---- paths ---- */

static int nsteps(const struct edit *e, const struct path *p)
{
	return e->flat ? 1 : p->n;
}

/* The key of step i (flat: the column name the reader would find). */
static void step_name(const struct edit *e, const struct path *p, int i,
		      const char **name, size_t *n)
{
	if (e->flat && !(p->n == 1 && p->step[0].key)) {
		*name = p->text;
		*n = strlen(p->text);
	} else {
		*name = p->step[i].key;
		*n = p->step[i].keylen;
	}
}

/* The index in o of the field step i of p names, or -1. */
static long step_find(const struct edit *e, const struct obj *o,
		      const struct path *p, int i)
{
	const char *name;
	size_t n;
	step_name(e, p, i, &name, &n);
	return obj_find(o, name, n);
}

/* Where a change goes: the objects passed on the way, and the index of the
 * field taken in each, to mark them dirty once something changes. */
struct chain {
	struct obj *o[PATH_MAX_DEPTH];
	size_t idx[PATH_MAX_DEPTH];
	int n;
};

static void chain_dirty(const struct chain *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->idx[i] < c->o[i]->norig)
			c->o[i]->dirty = true;
}

/* The object that holds the last step of p, creating missing objects when
 * create; NULL when there is none (or, with *err, a field on the way is
 * not an object). */
static struct obj *walk_parent(struct edit *e, const struct path *p,
			       bool create, struct chain *c, const char **err)
{
	static char msg[200];
	struct obj *o = &e->top;
	c->n = 0;
	for (int i = 0; i < nsteps(e, p) - 1; i++) {
		const char *name;
		size_t n;
		step_name(e, p, i, &name, &n);
		long j = obj_find(o, name, n);
		struct obj *child;
		if (j < 0) {
			if (!create)
				return NULL;
			struct fld *f = obj_append(e, o);
			f->name = name;
			f->namen = n;
			f->kind = F_OBJ;
			f->obj = child = scratch_alloc(&e->sc, sizeof *child);
			obj_init(e, child, NULL, 0, NULL);
			j = (long)(o->n - 1);
		} else if (!(child = expand(e, &o->f[j]))) {
			if (create) {
				snprintf(msg, sizeof msg,
					 "cannot set '%s': '%.*s' is not an object",
					 p->text, (int)(n > 64 ? 64 : n), name);
				*err = msg;
			}
			return NULL;
		}
		c->o[c->n] = o;
		c->idx[c->n++] = (size_t)j;
		o = child;
	}
	return o;
}

/* Puts content (kind and value of src) at p. */
static int put_fld(struct edit *e, const struct path *p, const struct fld *src,
		   const char **err)
{
	struct chain c;
	*err = NULL;
	struct obj *o = walk_parent(e, p, true, &c, err);
	if (!o)
		return -1;
	const char *name;
	size_t n;
	step_name(e, p, nsteps(e, p) - 1, &name, &n);
	long j = obj_find(o, name, n);
	struct fld *f;
	if (j >= 0) {
		drop_shadowed(o, j);
		f = &o->f[j];
		if ((size_t)j < o->norig)
			o->dirty = true;
	} else {
		f = obj_append(e, o);
		f->name = name;
		f->namen = n;
	}
	f->kind = src->kind;
	f->sp = src->sp;
	f->v = src->v;
	f->obj = src->obj;
	chain_dirty(&c);
	return 0;
}

int edit_set(struct edit *e, const struct path *p, const struct value *v,
	     const char **err)
{
	struct fld src = { .kind = F_VALUE, .v = *v };
	return put_fld(e, p, &src, err);
}

/* Takes the field at p out; its content goes to *out if out. */
static bool take(struct edit *e, const struct path *p, struct fld *out)
{
	struct chain c;
	const char *err;
	struct obj *o = walk_parent(e, p, false, &c, &err);
	if (!o)
		return false;
	const char *name;
	size_t n;
	step_name(e, p, nsteps(e, p) - 1, &name, &n);
	long j = obj_find(o, name, n);
	if (j < 0)
		return false;
	drop_shadowed(o, j);
	if (out)
		*out = o->f[j];
	o->f[j].gone = true;
	if ((size_t)j < o->norig)
		o->dirty = true;
	chain_dirty(&c);
	return true;
}

bool edit_remove(struct edit *e, const struct path *p)
{
	return take(e, p, NULL);
}

static bool same_parent(const struct edit *e, const struct path *a,
			const struct path *b)
{
	if (e->flat)
		return true;
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n - 1; i++)
		if (a->step[i].keylen != b->step[i].keylen ||
		    memcmp(a->step[i].key, b->step[i].key, a->step[i].keylen))
			return false;
	return true;
}

int edit_rename(struct edit *e, const struct path *from, const struct path *to,
		const char **err)
{
	if (!same_parent(e, from, to)) {
		struct fld f;
		if (!take(e, from, &f))
			return 0;
		return put_fld(e, to, &f, err);
	}
	struct chain c;
	struct obj *o = walk_parent(e, from, false, &c, err);
	const char *name, *to_name;
	size_t n, to_n;
	step_name(e, from, nsteps(e, from) - 1, &name, &n);
	step_name(e, to, nsteps(e, to) - 1, &to_name, &to_n);
	long j = o ? obj_find(o, name, n) : -1;
	if (j < 0 || (n == to_n && !memcmp(name, to_name, n)))
		return 0;
	drop_shadowed(o, j);
	long k = obj_find(o, to_name, to_n);
	if (k >= 0) {
		drop_shadowed(o, k);
		o->f[k].gone = true;
	}
	o->f[j].name = to_name;
	o->f[j].namen = to_n;
	o->f[j].kraw = NULL;
	if ((size_t)j < o->norig || (k >= 0 && (size_t)k < o->norig))
		o->dirty = true;
	chain_dirty(&c);
	return 0;
}

static void mark(struct edit *e, const struct path *p)
{
	struct obj *o = &e->top;
	for (int i = 0; i < nsteps(e, p); i++) {
		long j = step_find(e, o, p, i);
		if (j < 0)
			return;
		struct fld *f = &o->f[j];
		if (i == nsteps(e, p) - 1) {
			f->mark = MARK_ALL;
			return;
		}
		if (f->mark == MARK_ALL)
			return;
		f->mark = MARK_PART;
		if (!(o = expand(e, f)))
			return;
	}
}

/* Drops the unmarked fields of o; true if o changed. */
static bool prune(struct obj *o)
{
	bool changed = false;
	for (size_t i = 0; i < o->n; i++) {
		struct fld *f = &o->f[i];
		if (f->gone || f->mark == MARK_ALL)
			continue;
		if (f->mark == MARK_PART && f->kind == F_OBJ) {
			if (prune(f->obj)) {
				changed = true;
				if (i < o->norig)
					o->dirty = true;
			}
			continue;
		}
		f->gone = true;
		changed = true;
		if (i < o->norig)
			o->dirty = true;
	}
	return changed;
}

void edit_keep(struct edit *e, const struct path *paths, int n)
{
	for (int i = 0; i < n; i++)
		mark(e, &paths[i]);
	prune(&e->top);
}

static bool gained(const struct obj *o)
{
	for (size_t i = o->norig; i < o->n; i++)
		if (!o->f[i].gone)
			return true;
	return false;
}

bool edit_changed(const struct edit *e)
{
	return e->top.dirty || gained(&e->top);
}

/* ---- writing ---- */

void edit_write_value(struct outbuf *o, const struct value *v)
{
	char buf[40];
	size_t n;
	switch (v->t) {
	case V_BOOL:
		out_puts(o, v->u.b ? "true" : "false");
		return;
	case V_INT:
	case V_DOUBLE:
		if (v->s) {
			out_put(o, v->s, v->n);
			return;
		}
		n = v->t == V_INT ? number_format_int(v->u.i, buf)
				  : number_format(v->u.d, buf);
		out_put(o, buf, n);
		return;
	case V_STRING:
		json_write_string(o, v->s, v->n);
		return;
	case V_RAW:
		out_put(o, v->s, v->n);
		return;
	default:
		out_puts(o, "null");
	}
}

static void write_obj(struct edit *e, const struct obj *o, struct outbuf *out);

static void write_val(struct edit *e, const struct fld *f, struct outbuf *out)
{
	struct value v;
	switch (f->kind) {
	case F_SPAN:
		if (f->sp.kind == SPAN_CSV || f->sp.kind == SPAN_MISSING) {
			if (value_load(&f->sp, &v, &e->sc))
				v.t = V_NULL;
			edit_write_value(out, &v);
		} else {
			out_put(out, f->sp.p, f->sp.n);
		}
		break;
	case F_VALUE:
		edit_write_value(out, &f->v);
		break;
	case F_OBJ:
		write_obj(e, f->obj, out);
		break;
	}
}

static void write_member(struct edit *e, const struct fld *f, struct outbuf *out)
{
	if (f->kraw)
		out_put(out, f->kraw, f->krawn);
	else
		json_write_string(out, f->name, f->namen);
	out_putc(out, ':');
	write_val(e, f, out);
}

/* The members of o from index from on that are not gone, each after a
 * comma but the first when !comma. */
static void write_members(struct edit *e, const struct obj *o, size_t from,
			  bool comma, struct outbuf *out)
{
	for (size_t i = from; i < o->n; i++) {
		if (o->f[i].gone)
			continue;
		if (comma)
			out_putc(out, ',');
		comma = true;
		write_member(e, &o->f[i], out);
	}
}

static void write_obj(struct edit *e, const struct obj *o, struct outbuf *out)
{
	size_t cut, end;
	if (!o->dirty && o->orig.kind != SPAN_MISSING) {
		/* Splice: the original text up to its closing brace. */
		if (!gained(o) ||
		    !json_splice_at(o->orig.p, o->orig.n, &cut, &end)) {
			out_put(out, o->orig.p, o->orig.n);
			return;
		}
		out_put(out, o->orig.p, cut);
		write_members(e, o, o->norig, o->norig > 0, out);
		out_put(out, o->orig.p + end, o->orig.n - end);
		return;
	}
	out_putc(out, '{');
	write_members(e, o, 0, false, out);
	out_putc(out, '}');
}

int edit_write_ndjson(struct edit *e, struct outbuf *o, const char **err)
{
	if (!e->flat) {
		/* Validated JSON in, valid JSON out: no check needed. */
		write_obj(e, &e->top, o);
		out_putc(o, '\n');
		return 0;
	}
	/* CSV cells and names are bytes: JSON needs them to be UTF-8. */
	e->tmp.len = 0;
	write_obj(e, &e->top, &e->tmp);
	if (!utf8_valid(e->tmp.buf, e->tmp.len)) {
		*err = "invalid UTF-8 in a CSV field";
		return -1;
	}
	out_put(o, e->tmp.buf, e->tmp.len);
	out_putc(o, '\n');
	return 0;
}

/* Copies what e->tmp holds into the arena. */
static const char *tmp_keep(struct edit *e, size_t *n)
{
	char *p = scratch_alloc(&e->sc, e->tmp.len ? e->tmp.len : 1);
	memcpy(p, e->tmp.buf, e->tmp.len);
	*n = e->tmp.len;
	return p;
}

static void fld_value(struct edit *e, const struct fld *f, struct value *v)
{
	switch (f->kind) {
	case F_SPAN:
		if (value_load(&f->sp, v, &e->sc))
			v->t = V_NULL;
		return;
	case F_VALUE:
		*v = f->v;
		return;
	case F_OBJ:
		e->tmp.len = 0;
		write_obj(e, f->obj, &e->tmp);
		memset(v, 0, sizeof *v);
		v->t = V_RAW;
		v->s = tmp_keep(e, &v->n);
		return;
	}
}

int edit_write_fields(struct edit *e, struct writer *w, const char **err)
{
	const struct obj *o = &e->top;
	if (o->n > e->ofcap) {
		e->ofcap = o->n * 2;
		e->of = xrealloc(e->of, e->ofcap * sizeof *e->of);
	}
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++) {
		if (o->f[i].gone)
			continue;
		e->of[n].name = o->f[i].name;
		e->of[n].namelen = o->f[i].namen;
		fld_value(e, &o->f[i], &e->of[n].v);
		n++;
	}
	return writer_put_fields(w, e->of, n, err);
}

/* ---- reading back ---- */

static void text_kind(struct span *out);

/* A field's current value as a span; computed values as JSON text. */
static void fld_span(struct edit *e, const struct fld *f, struct span *out)
{
	if (f->kind == F_SPAN) {
		*out = f->sp;
		return;
	}
	if (f->kind == F_OBJ && !f->obj->dirty && !gained(f->obj) &&
	    f->obj->orig.kind != SPAN_MISSING) {
		*out = f->obj->orig;
		return;
	}
	e->tmp.len = 0;
	write_val(e, f, &e->tmp);
	out->p = tmp_keep(e, &out->n);
	out->escaped = false;
	if (f->kind == F_OBJ) {
		out->kind = SPAN_JOBJECT;
		return;
	}
	text_kind(out);
}

/* The kind of the JSON text of a computed value, from its first byte. */
static void text_kind(struct span *out)
{
	switch (out->p[0]) {
	case 't': out->kind = SPAN_JTRUE; break;
	case 'f': out->kind = SPAN_JFALSE; break;
	case 'n': out->kind = SPAN_JNULL; break;
	case '{': out->kind = SPAN_JOBJECT; break;
	case '[': out->kind = SPAN_JARRAY; break;
	case '"':
		out->kind = SPAN_JSTRING;
		out->escaped = memchr(out->p, '\\', out->n) != NULL;
		break;
	default: out->kind = SPAN_JNUMBER;
	}
}

/* The rest of p from step k inside JSON text: scanned as {"@":text}. */
static void sub_get(struct edit *e, const struct path *p, int k,
		    const struct span *text, struct span *out)
{
	struct sub *s = NULL;
	for (int i = 0; i < e->nsubs && !s; i++)
		if (e->subs[i].p == p && e->subs[i].k == k)
			s = &e->subs[i];
	if (!s) {
		e->subs = xrealloc(e->subs, (size_t)(e->nsubs + 1) * sizeof *e->subs);
		s = &e->subs[e->nsubs++];
		memset(s, 0, sizeof *s);
		s->p = p;
		s->k = k;
		struct path q = { .n = 1 + p->n - k, .text = p->text };
		q.step[0] = (struct path_step){ .key = "@", .keylen = 1 };
		for (int i = k; i < p->n; i++)
			q.step[1 + i - k] = p->step[i];
		s->fs = fieldset_new();
		fieldset_add(s->fs, &q);
		s->js.slots = xmalloc(sizeof *s->js.slots);
	}
	char *w = scratch_alloc(&e->sc, text->n + 6);
	memcpy(w, "{\"@\":", 5);
	memcpy(w + 5, text->p, text->n);
	w[text->n + 5] = '}';
	const char *err;
	size_t col;
	out->kind = SPAN_MISSING;
	if (json_scan_line(w, text->n + 6, s->fs, &s->js, &err, &col) == 0)
		*out = s->js.slots[0];
}

void edit_get(struct edit *e, const struct path *p, struct span *out)
{
	const struct obj *o = &e->top;
	out->kind = SPAN_MISSING;
	for (int i = 0; i < nsteps(e, p); i++) {
		if (!e->flat && !p->step[i].key)
			return;		/* an index into an object */
		long j = step_find(e, o, p, i);
		if (j < 0)
			return;
		const struct fld *f = &o->f[j];
		if (i == nsteps(e, p) - 1) {
			fld_span(e, f, out);
			return;
		}
		if (f->kind == F_OBJ) {
			o = f->obj;
			continue;
		}
		struct span text;
		fld_span(e, f, &text);
		if (text.kind == SPAN_JOBJECT || text.kind == SPAN_JARRAY)
			sub_get(e, p, i + 1, &text, out);
		return;
	}
}

/* ---- adding top-level fields, without the tree ---- */

void edit_add_begin(struct edit *e, const struct record *rec)
{
	scratch_reset(&e->sc);
	e->rec = rec;
	e->nadd = 0;
}

void edit_add(struct edit *e, const char *name, size_t namen,
	      const struct value *v, struct span *text)
{
	if (e->nadd == e->capadd) {
		e->capadd = e->capadd ? 2 * e->capadd : 4;
		e->add = xrealloc(e->add, (size_t)e->capadd * sizeof *e->add);
	}
	struct added *a = &e->add[e->nadd++];
	a->name = name;
	a->namen = namen;
	e->tmp.len = 0;
	edit_write_value(&e->tmp, v);
	a->text.p = tmp_keep(e, &a->text.n);
	a->text.escaped = false;
	text_kind(&a->text);
	*text = a->text;
}

/* As write_obj splices the members a clean object gained. */
void edit_add_write(struct edit *e, struct outbuf *o)
{
	const char *raw = e->rec->raw;
	size_t n = e->rec->rawlen, cut, end;
	if (!e->nadd || !json_splice_at(raw, n, &cut, &end)) {
		out_put(o, raw, n);
		out_putc(o, '\n');
		return;
	}
	out_put(o, raw, cut);
	bool comma = raw[cut - 1] != '{';	/* the object had members */
	for (int i = 0; i < e->nadd; i++) {
		if (comma)
			out_putc(o, ',');
		comma = true;
		json_write_string(o, e->add[i].name, e->add[i].namen);
		out_putc(o, ':');
		out_put(o, e->add[i].text.p, e->add[i].text.n);
	}
	out_put(o, raw + end, n - end);
	out_putc(o, '\n');
}
