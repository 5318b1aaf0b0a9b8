/* modbus_plan.h - a device's points read in as few requests as the
 * protocol allows, and a poll schedule that does not drift
 *
 * Pure: no I/O. Points of the same unit and table whose addresses are
 * close (a gap of at most max_gap registers or bits between them) share a
 * request, up to the protocol's limit per request (125 registers, 2000
 * coils or discrete inputs).
 */
#ifndef ES_MODBUS_PLAN_H
#define ES_MODBUS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "modbus_map.h"

#define MB_MAX_REGISTERS 125	/* per read of holding or input registers */
#define MB_MAX_BITS 2000	/* per read of coils or discrete inputs */

struct mb_req {
	int unit;
	enum mb_table table;
	unsigned start, count;	/* registers or bits */
	size_t first, n;	/* its points: order[first .. first+n-1] */
};

/*
 * Plans the reads of n points of p (whose unit -1 is default_unit): order
 * holds their indexes in p, in any order, and gets them grouped by
 * request; reqs (up to n entries) gets the requests, in unit, table and
 * address order. Returns the number of requests.
 */
size_t modbus_plan(const struct mb_point *p, size_t n, int default_unit,
		   unsigned max_gap, size_t *order, struct mb_req *reqs);

/*
 * The schedule: polls at a start time + k * every, whatever each poll
 * took. After the poll of time polled, ended at now: the next poll time
 * (the first at or after now); *missed gets the poll times that passed
 * while this one ran (an overrun), which are skipped, not run late one
 * after another.
 */
int64_t modbus_plan_next(int64_t polled, int64_t every, int64_t now,
			 uint64_t *missed);

#endif
