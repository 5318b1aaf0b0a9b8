/* series.c - one number per record, per key, in event time */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"

/* The slot of option opt's path text, -1 with why in err. */
static int field_slot(struct fieldset *fs, const char *opt, const char *text,
		      bool optional, char *err, size_t n)
{
	const char *why;
	int slot = fieldset_add_text(fs, text, optional, &why);
	if (slot < 0)
		snprintf(err, n, "invalid %s '%s': %s", opt, text, why);
	return slot;
}

int series_fields(struct series *s, struct fieldset *fs,
		  struct series_conf *c, bool timed, char *err, size_t n)
{
	s->field = c->field;
	s->time_field = c->time_field;
	s->unit = &c->unit;
	s->timed = timed;
	s->nkeys = c->nkeys;
	s->kslot = keyed_slots(fs, c->kpaths, c->nkeys, s->kslot);
	s->vslot = field_slot(fs, "--field", c->field, false, err, n);
	if (s->vslot < 0)
		return -1;
	s->tslot = field_slot(fs, "--time-field", c->time_field, !timed, err, n);
	return s->tslot < 0 ? -1 : 0;
}

void series_start(struct series *s, size_t size, const struct series_conf *c,
		  void (*drop)(void *state, void *ctx), void *ctx, int nslots)
{
	s->keys = keyed_new(size, c->max_keys, c->max_state, drop, ctx);
	wm_init(&s->wmk, c->max_ahead, nslots);
}

bool series_same(const struct series_conf *a, struct series_conf *b,
		 bool timed)
{
	bool same = keyed_same_keys(a->kpaths, a->nkeys, b->kpaths, b->nkeys) &&
		    !strcmp(a->field, b->field) &&
		    (!timed || (!strcmp(a->time_field, b->time_field) &&
				a->unit_opt == b->unit_opt));
	if (same)
		b->unit = a->unit;
	return same;
}

void series_conf_free(struct series_conf *c)
{
	keyed_paths_free(c->kpaths, c->nkeys);
}

void series_drain(struct series *s, bool same, wm_fn fn, void *ctx)
{
	wm_end(&s->wmk, fn, ctx);
	if (!same)
		wm_reset(&s->wmk);
}

int series_reload(struct series *s, bool same, char *said, size_t n)
{
	return keyed_reload(s->keys, same, said, n);
}

void series_limits(struct series *s, const struct series_conf *c, int nslots)
{
	wm_set(&s->wmk, c->max_ahead, nslots);
	keyed_set_max(s->keys, c->max_keys, c->max_state);
}

int series_idle(struct series *s, wm_fn fn, void *ctx)
{
	return wm_idle(&s->wmk, fn, ctx);
}

void series_end(struct series *s, wm_fn fn, void *ctx)
{
	wm_end(&s->wmk, fn, ctx);
	wm_free(&s->wmk);
}

void series_close(struct series *s)
{
	/* --stats at exit still reports the table's counters */
	s->last = keyed_counts(s->keys, NULL);
	keyed_free(s->keys);
	s->keys = NULL;
}

struct keyed_counts series_counts(const struct series *s)
{
	return keyed_counts(s->keys, &s->last);
}

void series_free(struct series *s)
{
	free(s->kslot);
	s->kslot = NULL;
	scratch_free(&s->sc);
}
