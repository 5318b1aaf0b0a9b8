/* roll.c - a rolling window of (time, value) points: mean, spread, median */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mem.h"
#include "roll.h"

void roll_init(struct roll *r, int max, bool keep_sorted)
{
	memset(r, 0, sizeof *r);
	r->max = max;
	r->keep_sorted = keep_sorted;
}

static int at(const struct roll *r, int i)
{
	return (r->head + i) % r->cap;
}

/* Doubles the ring (up to max), unwrapping it so the oldest is at 0. */
static void grow(struct roll *r)
{
	int cap = r->cap ? r->cap * 2 : 16;
	if (cap > r->max)
		cap = r->max;
	double *x = xmalloc((size_t)cap * sizeof *x);
	int64_t *t = xmalloc((size_t)cap * sizeof *t);
	for (int i = 0; i < r->n; i++) {
		x[i] = r->x[at(r, i)];
		t[i] = r->t[at(r, i)];
	}
	free(r->x);
	free(r->t);
	r->x = x;
	r->t = t;
	r->cap = cap;
	r->head = 0;
	if (r->keep_sorted)
		r->sorted = xrealloc(r->sorted, (size_t)cap * sizeof *r->sorted);
}

/* The first index of the sorted copy whose value is not below x. */
static int lower_bound(const struct roll *r, double x)
{
	int lo = 0, hi = r->n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (r->sorted[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Called with r->n not yet counting x (insert) or still counting it. */
static void sorted_insert(struct roll *r, double x)
{
	int i = lower_bound(r, x);
	memmove(&r->sorted[i + 1], &r->sorted[i],
		(size_t)(r->n - i) * sizeof *r->sorted);
	r->sorted[i] = x;
}

static void sorted_remove(struct roll *r, double x)
{
	int i = lower_bound(r, x);
	memmove(&r->sorted[i], &r->sorted[i + 1],
		(size_t)(r->n - i - 1) * sizeof *r->sorted);
}

/* Mean and m2 again from the points, exactly (two passes). */
static void recount(struct roll *r)
{
	double sum = 0, m2 = 0;
	for (int i = 0; i < r->n; i++)
		sum += r->x[at(r, i)];
	r->mean = r->n ? sum / r->n : 0;
	for (int i = 0; i < r->n; i++) {
		double d = r->x[at(r, i)] - r->mean;
		m2 += d * d;
	}
	r->m2 = m2;
	r->removed = 0;
}

static void drop_oldest(struct roll *r)
{
	double x = r->x[r->head];
	if (r->keep_sorted)
		sorted_remove(r, x);
	r->head = (r->head + 1) % r->cap;
	r->n--;
	if (r->n == 0) {
		r->mean = r->m2 = 0;
		r->removed = 0;
		return;
	}
	double d = x - r->mean;
	r->mean -= d / r->n;
	r->m2 -= d * (x - r->mean);
	if (r->m2 < 0)
		r->m2 = 0;
	/* Each removal may leave a rounding error; a recount after as many
	 * removals as the window holds keeps the cost O(1) per point. */
	if (++r->removed >= r->max)
		recount(r);
}

bool roll_push(struct roll *r, double x, int64_t t)
{
	bool full = r->n == r->max;
	if (full)
		drop_oldest(r);
	if (r->n == r->cap)
		grow(r);
	if (r->keep_sorted)
		sorted_insert(r, x);
	int i = at(r, r->n);
	r->x[i] = x;
	r->t[i] = t;
	r->n++;
	double d = x - r->mean;
	r->mean += d / r->n;
	r->m2 += d * (x - r->mean);
	return full;
}

void roll_expire(struct roll *r, int64_t t)
{
	while (r->n && r->t[r->head] <= t)
		drop_oldest(r);
}

double roll_mean(const struct roll *r)
{
	return r->mean;
}

double roll_sd(const struct roll *r)
{
	return r->n < 2 ? 0 : sqrt(r->m2 / (r->n - 1));
}

double roll_median(const struct roll *r)
{
	int n = r->n;
	if (n == 0)
		return 0;
	if (n % 2)
		return r->sorted[n / 2];
	return (r->sorted[n / 2 - 1] + r->sorted[n / 2]) / 2;
}

/*
 * The deviations from the median grow both ways from the middle of the
 * sorted copy: leftwards (med - s[i]) and rightwards (s[j] - med). Merging
 * the two runs gives them in order; the median is half-way.
 */
double roll_mad(const struct roll *r)
{
	int n = r->n;
	if (n == 0)
		return 0;
	double med = roll_median(r);
	const double *s = r->sorted;
	int i = n / 2 - 1, j = n / 2;	/* s[..i] <= med <= s[j..] */
	double prev = 0, cur = 0;
	for (int k = 0; k <= n / 2; k++) {
		prev = cur;
		if (j >= n || (i >= 0 && med - s[i] <= s[j] - med))
			cur = med - s[i--];
		else
			cur = s[j++] - med;
	}
	return n % 2 ? cur : (prev + cur) / 2;
}

void roll_free(struct roll *r)
{
	free(r->x);
	free(r->t);
	free(r->sorted);
	r->x = NULL;
	r->t = NULL;
	r->sorted = NULL;
	r->n = r->cap = 0;
}
