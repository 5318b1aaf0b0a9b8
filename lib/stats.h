/* stats.h - the counters every program keeps, --stats and --stats-file */
#ifndef ES_STATS_H
#define ES_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stats {
	uint64_t in, out, bad, late, dropped;
	int64_t event_us;	/* the event time of the last record that had one */
	bool has_event;
};
extern struct stats stats;

/* Programs with event time note each record's (for --stats-file). */
static inline void stats_event(int64_t us)
{
	stats.event_us = us;
	stats.has_event = true;
}

/* --stats: one JSON line on stderr; a program adds its own counters as
 * ",\"k\":v" text from the callback, on every way out. */
void stats_set_print(bool on);
void stats_set_extra(void (*fn)(char *buf, size_t n));
void stats_print(void);
/* --stats-file: the counters, with pid, start, last event and last output
 * times, rewritten atomically (write, rename) into path every every_ms of
 * wall clock (on the loop's tick) and at exit. */
void stats_set_file(const char *path, int64_t every_ms);

#endif
