/* modbus_plan.c - requests merging contiguous points, the schedule */
#define _GNU_SOURCE	/* qsort_r: the comparison gets the points, no statics */
#include <stdlib.h>

#include "modbus_plan.h"

/* What the comparison needs: the points and the run's default unit. */
struct plan_sort {
	const struct mb_point *points;
	int unit;
};

static int unit_of(const struct mb_point *pt, int default_unit)
{
	return pt->unit < 0 ? default_unit : pt->unit;
}

static int unit_in(const struct plan_sort *s, const struct mb_point *pt)
{
	return unit_of(pt, s->unit);
}

/* By unit, table, address, then map order (stable). */
static int by_place(const void *a, const void *b, void *ctx)
{
	const struct plan_sort *s = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct mb_point *x = &s->points[i], *y = &s->points[j];
	if (unit_in(s, x) != unit_in(s, y))
		return unit_in(s, x) < unit_in(s, y) ? -1 : 1;
	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	return i < j ? -1 : i > j;
}

static unsigned limit(enum mb_table t)
{
	return t == MB_COIL || t == MB_DI ? MB_MAX_BITS : MB_MAX_REGISTERS;
}

size_t modbus_plan(const struct mb_point *p, size_t n, int default_unit,
		   unsigned max_gap, size_t *order, struct mb_req *reqs)
{
	struct plan_sort s = { p, default_unit };
	qsort_r(order, n, sizeof *order, by_place, &s);
	size_t nreq = 0;
	for (size_t k = 0; k < n; k++) {
		const struct mb_point *pt = &p[order[k]];
		struct mb_req *r = nreq ? &reqs[nreq - 1] : NULL;
		unsigned end = pt->address + pt->count;	/* one past */
		if (r && r->unit == unit_of(pt, default_unit) && r->table == pt->table &&
		    pt->address <= r->start + r->count + max_gap &&
		    (end > r->start + r->count ? end : r->start + r->count) -
		    r->start <= limit(pt->table)) {
			if (end > r->start + r->count)
				r->count = end - r->start;
			r->n++;
			continue;
		}
		reqs[nreq++] = (struct mb_req){ .unit = unit_of(pt, default_unit),
			.table = pt->table, .start = pt->address,
			.count = pt->count, .first = k, .n = 1 };
	}
	return nreq;
}

int64_t modbus_plan_next(int64_t polled, int64_t every, int64_t now,
			 uint64_t *missed)
{
	/* the first tick at or after now: polled + k * every */
	int64_t k = now <= polled ? 1 : (now - polled + every - 1) / every;
	if (k < 1)
		k = 1;
	*missed = (uint64_t)(k - 1);
	return polled + k * every;
}
