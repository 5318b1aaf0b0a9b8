/* roll.h - a rolling window of (time, value) points: mean, spread, median
 *
 * The last points of one series, oldest first, in a ring that grows up to a
 * bound. Mean and variance follow each point in and out (Welford, with an
 * exact recount now and then so that rounding cannot pile up); for the
 * median and the median absolute deviation a sorted copy is kept too.
 */
#ifndef ES_ROLL_H
#define ES_ROLL_H

#include <stdbool.h>
#include <stdint.h>

struct roll {
	double *x;
	int64_t *t;
	double *sorted;		/* the same points in order, if asked for */
	bool keep_sorted;
	int cap, max;		/* allocated; bound */
	int head, n;		/* oldest at head */
	double mean, m2;
	int removed;		/* since the last exact recount */
};

/* An empty window of at most max points (nothing allocated yet);
 * keep_sorted for roll_median and roll_mad. */
void roll_init(struct roll *r, int max, bool keep_sorted);
/* Adds a point; when the window holds max points the oldest goes first
 * (returns true then). */
bool roll_push(struct roll *r, double x, int64_t t);
/* Drops the oldest points while their time is <= t. */
void roll_expire(struct roll *r, int64_t t);
double roll_mean(const struct roll *r);
/* Sample standard deviation (n - 1); 0 below two points. */
double roll_sd(const struct roll *r);
/* Median of the points (the mean of the middle two for an even count),
 * and their median absolute deviation from it: O(1) and O(n / 2) on the
 * sorted copy. 0 when empty. */
double roll_median(const struct roll *r);
double roll_mad(const struct roll *r);
void roll_free(struct roll *r);

#endif
