/* agg.h - aggregates and sketches (es-window, later es-detect) */
#ifndef ES_AGG_H
#define ES_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "value.h"

/* Exact up to this many values per window, then a sketch. */
#define AGG_EXACT_MAX 10000

enum agg_kind {
	AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_MEAN, AGG_STDDEV, AGG_VAR,
	AGG_FIRST, AGG_LAST, AGG_MEDIAN, AGG_PCT, AGG_DISTINCT, AGG_RATE,
	AGG_DELTA,
};

struct agg_spec {
	enum agg_kind kind;
	double pct;		/* AGG_PCT: 0 < pct < 100 (p95 = 95, p99.9 = 99.9) */
	char *field;		/* the field path as written, NULL for count/rate */
	char *name;		/* output name: given with "as", else the default:
				   count, rate, sum_value, mean_value, p95_value,
				   p99_9_value, median_value, distinct_device... */
	int slot;		/* set by the caller: the fieldset slot of field */
};

/*
 * Parses a comma list: count, sum(f), min(f), max(f), mean(f), stddev(f),
 * var(f), first(f), last(f), median(f), p<N>(f), distinct(f), rate,
 * delta(f), each optionally followed by "as name". f is a field path
 * (path.h grammar; commas inside quoted keys are fine). Returns the number
 * of specs (malloc'd array in *out), or -1 with a message in err.
 */
int agg_parse(const char *text, struct agg_spec **out, char *err, size_t errlen);
void agg_specs_free(struct agg_spec *specs, int n);

/* Which aggregates need a number (all but count, rate, first, last,
 * distinct). */
bool agg_needs_number(enum agg_kind k);

/*
 * The state of all aggregates of one window of one group: one block of
 * agg_state_size() bytes (fixed part), plus heap parts that grow (exact
 * values, distinct sets, first/last strings) owned by it.
 */
size_t agg_state_size(const struct agg_spec *specs, int n);
void agg_state_init(const struct agg_spec *specs, int n, void *st);
/*
 * Adds one event: vals[i] is the value of specs[i].field for this event (a
 * V_MISSING/V_NULL value is skipped by that aggregate, as SQL does; count
 * and rate count events). t is the event time (first/last/delta go by event
 * time; ties by arrival). The caller has checked that agg_needs_number
 * aggregates get numbers or null.
 */
void agg_state_add(const struct agg_spec *specs, int n, void *st,
		   const struct value *vals, int64_t t);
/* Folds src into dst (session windows that merge). src stays valid but
 * must still be freed. */
void agg_state_merge(const struct agg_spec *specs, int n, void *dst,
		     const void *src);
/*
 * The results, one value per spec, for a window of length_us (for rate).
 * Strings (first/last of a string field) point into st; numbers are V_INT
 * when exact integers (count, distinct, sum/min/max/first/last/delta of
 * integers), else V_DOUBLE with s == NULL. An aggregate with no values is
 * V_NULL (count and rate give 0).
 */
void agg_state_result(const struct agg_spec *specs, int n, void *st,
		      int64_t length_us, struct value *out);
void agg_state_free(const struct agg_spec *specs, int n, void *st);
/* Bytes the state holds on the heap (for --stats and state limits). */
size_t agg_state_heap(const struct agg_spec *specs, int n, const void *st);
/*
 * The same, looking only at the slots that can hold heap parts (first/last
 * past 32 bytes, median/pN values, distinct sets): for a caller that keeps
 * the count up to date after every event. agg_heap_slots fills out (room
 * for n) and returns how many; agg_slots_heap sums them over one block.
 */
struct agg_heap_slot {
	enum agg_kind kind;
	size_t off;		/* in the block */
};
int agg_heap_slots(const struct agg_spec *specs, int n,
		   struct agg_heap_slot *out);
size_t agg_slots_heap(const struct agg_heap_slot *hs, int n, const void *st);

#endif
