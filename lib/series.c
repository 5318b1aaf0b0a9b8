/* series.c - one number per record, per key, in event time */
#include <stdlib.h>

#include "series.h"

int series_add_optional(struct fieldset *fs, const char *text,
			const char *opt)
{
	struct path p;
	const char *err;
	if (path_parse_all(text, &p, &err))
		return fieldset_add_text(fs, text, opt);	/* says why */
	int slot = fieldset_add_optional(fs, &p);
	path_free(&p);
	return slot;
}

void series_fields(struct series *s, struct fieldset *fs,
		   const struct path *kpaths, int nkeys, const char *field,
		   const char *time_field, enum time_repr *unit, bool timed)
{
	s->field = field;
	s->time_field = time_field;
	s->unit = unit;
	s->timed = timed;
	s->nkeys = nkeys;
	s->kslot = keyed_slots(fs, kpaths, nkeys, s->kslot);
	s->vslot = fieldset_add_text(fs, field, "--field");
	s->tslot = timed ? fieldset_add_text(fs, time_field, "--time-field")
			 : series_add_optional(fs, time_field, "--time-field");
}

void series_start(struct series *s, size_t size, long max_keys,
		  size_t max_state, void (*drop)(void *state, void *ctx),
		  void *ctx, int64_t max_ahead, int nslots)
{
	s->keys = keyed_new(size, max_keys, max_state, drop, ctx);
	wm_init(&s->wmk, max_ahead, nslots);
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

void series_limits(struct series *s, long max_keys, size_t max_state,
		   int64_t max_ahead, int nslots)
{
	wm_set(&s->wmk, max_ahead, nslots);
	keyed_set_max(s->keys, max_keys, max_state);
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
