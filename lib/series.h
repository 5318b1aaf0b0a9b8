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
#include "size.h"
#include "time.h"
#include "watermark.h"

/* The options a series is read by, the same in both programs (parsed by
 * lib/optgroup.c); the strings point into the command line's words. */
struct series_conf {
	const char *field, *time_field;
	struct path *kpaths;	/* --key */
	int nkeys;
	enum time_repr unit_opt;	/* --time-unit as given */
	enum time_repr unit;		/* in use: TIME_AUTO until guessed */
	int64_t max_ahead;	/* --max-ahead (lib/watermark.h) */
	long max_keys;
	size_t max_state;	/* bytes */
};
#define SERIES_CONF_DEFAULTS { \
	.field = "value", .time_field = "ts", .max_ahead = WM_DEFAULT_AHEAD, \
	.max_keys = KEYED_DEFAULT_MAX, .max_state = SIZE_DEFAULT_MAX_STATE }

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

/* The slots of c's fields in fs (again after a reload); the time is read
 * only if timed. c must live as long as s uses it. Returns 0, or -1 with
 * why in err ("invalid --field 'x': ..."). */
int series_fields(struct series *s, struct fieldset *fs,
		  struct series_conf *c, bool timed, char *err, size_t n);
/* The keys (blocks of size bytes, lib/keyed.h) and the watermark. */
void series_start(struct series *s, size_t size, const struct series_conf *c,
		  void (*drop)(void *state, void *ctx), void *ctx, int nslots);
/* True if a key's state under a means the same under b: the same keys and
 * value, and (if timed) times read the same way. Then b takes a's guessed
 * time unit. */
bool series_same(const struct series_conf *a, struct series_conf *b,
		 bool timed);
void series_conf_free(struct series_conf *c);

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
/* c's caps and --max-ahead (start-up values at series_start). */
void series_limits(struct series *s, const struct series_conf *c, int nslots);
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
