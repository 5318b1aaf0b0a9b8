/* series.h - one number per record, per key, in event time
 *
 * What the per-key detectors (lib/deadband.c, lib/detect.c) share: the
 * slots of the key, value and time fields, the value and (if the method
 * needs it) the event time of each record, the far-ahead rule of
 * lib/watermark.h, the per-key state of lib/keyed.c, and the steps of a
 * reload and of the end of input around them.
 */
#ifndef ES_SERIES_H
#define ES_SERIES_H

#include <stdbool.h>
#include <stdint.h>
#include "keyed.h"
#include "record.h"
#include "time.h"
#include "watermark.h"

struct series {
	const char *field, *time_field;
	enum time_repr *unit;	/* the conf's: guessed on the first time */
	bool timed;		/* the time is read */
	int *kslot, nkeys, vslot, tslot;
	struct keyed *keys;
	struct keyed_counts last;	/* once keys is freed */
	struct wmark wmk;
	struct scratch sc;
	const struct record *in_hand;	/* the record being read, */
	double in_x;			/* and its value */
};

/* A path a program can do without (a field it only tests for, or does not
 * read under these options): no warning for a CSV header without it. */
int series_add_optional(struct fieldset *fs, const char *text,
			const char *opt);
/* The slots of the fields in fs (again after a reload); the time is read
 * only if timed. The strings and unit must live as long as s uses them. */
void series_fields(struct series *s, struct fieldset *fs,
		   const struct path *kpaths, int nkeys, const char *field,
		   const char *time_field, enum time_repr *unit, bool timed);
/* The keys (blocks of size bytes, lib/keyed.h) and the watermark. */
void series_start(struct series *s, size_t size, long max_keys,
		  size_t max_state, void (*drop)(void *state, void *ctx),
		  void *ctx, int64_t max_ahead, int nslots);

/* The record's value, or false after reporting it as bad input. */
static inline bool series_value(struct series *s, const struct record *rec,
				double *x)
{
	return record_number(rec, &rec->slots[s->vslot], s->field, &s->sc,
			     x) == 0;
}

/* Reads rec's value and time and passes it through the watermark rule to
 * fn (now, later or never); fn gets its value from series_x. */
static inline void series_record(struct series *s, const struct record *rec,
				 wm_fn fn, void *ctx)
{
	int64_t t = 0;
	scratch_reset(&s->sc);
	if (!series_value(s, rec, &s->in_x))
		return;
	if (s->timed && record_time(rec, &rec->slots[s->tslot], s->time_field,
				    s->unit, &s->sc, &t, NULL))
		return;
	s->in_hand = rec;
	if (s->timed)
		wm_event(&s->wmk, rec, t, fn, ctx);
	else
		fn(rec, t, ctx);
	s->in_hand = NULL;
}

/* In fn: the value of rec (a record held by the watermark is read again;
 * false if it cannot be, after reporting it). */
static inline bool series_x(struct series *s, const struct record *rec,
			    double *x)
{
	if (rec == s->in_hand) {
		*x = s->in_x;
		return true;
	}
	scratch_reset(&s->sc);
	return series_value(s, rec, x);
}

/* The block of rec's key (keyed_get). */
static inline void *series_state(struct series *s, const struct record *rec,
				 bool *fresh)
{
	return keyed_get(s->keys, rec->slots, s->kslot, s->nkeys, &s->sc,
			 fresh);
}

/* A reload, first step: the records held for confirmation go to fn (they
 * were read under the old fields); if !same, the stream's time is
 * forgotten. */
void series_drain(struct series *s, bool same, wm_fn fn, void *ctx);
/* Second step: the keys kept or forgotten (keyed_reload: said, returns
 * its length). Then the program sets its fields again (series_fields) and
 * calls series_limits. */
int series_reload(struct series *s, bool same, char *said, size_t n);
/* New caps and --max-ahead (start-up values at series_start). */
void series_limits(struct series *s, long max_keys, size_t max_state,
		   int64_t max_ahead, int nslots);
/* Input is quiet: the poll timeout of the watermark (wm_idle). */
int series_idle(struct series *s, wm_fn fn, void *ctx);
/* End of input: the held records go to fn (or are bad input). */
void series_end(struct series *s, wm_fn fn, void *ctx);
/* Forgets every key (drop on each); their counters stay for --stats. */
void series_close(struct series *s);
/* The counters of the keys (open or closed). */
struct keyed_counts series_counts(const struct series *s);
void series_free(struct series *s);

#endif
