/* deadband.h - report by exception: the dead band and the swinging door
 *
 * Per key, a record passes when its value moved more than abs or pct from
 * the last value passed for that key (the first record of a key always
 * passes), or when silence of event time went by without one.
 *
 * With the swinging door of width E, the points kept are those a historian
 * needs to redraw the series within E by straight lines between kept
 * points. From the last kept point A (the pivot), the door is the range of
 * slopes [lo, hi] of lines from A that pass within E of every point since
 * A. A new point P is held while the slope from A to P lies inside the door
 * of the points before it; then P's own range narrows the door. When the
 * slope to P falls outside, the door closes: the held point (the one before
 * P) is kept and becomes the pivot, and P is judged from there. So every
 * dropped point lies within E of the line between the kept points around
 * it. A held point is written late (when its door closes, or at the end of
 * input), so it is kept as a copy (lib/held.h).
 */
#ifndef ES_DEADBAND_H
#define ES_DEADBAND_H

#include <stdbool.h>
#include <stdint.h>
#include "held.h"
#include "series.h"

/* What the options say; the strings point into the command line's words. */
struct deadband_conf {
	struct series_conf s;	/* -k, -f, the event time, the caps */
	double abs, pct, door;
	bool has_abs, has_pct, has_door;
	int64_t silence;	/* us; 0: off */
};

/* Writes rec; false if it could not be (said and counted already). */
typedef bool (*deadband_emit_fn)(const struct record *rec, void *ctx);

struct deadband {
	struct deadband_conf *cfg;	/* in force */
	struct series s;
	deadband_emit_fn emit;
	void *ctx;
	struct held_headers hdrs;
	uint64_t seq;
	unsigned long long bytes_in, bytes_out;
	/* Records read well and not written: inside the band, or a held
	 * point whose door let a later one through. */
	unsigned long long filtered;
	bool draining;
};

/* Whether c reads the event time (--max-silence, --swinging-door). */
bool deadband_uses_time(const struct deadband_conf *c);
/* Under c (which d keeps), the fields in fs. Returns 0, or -1 with why
 * in err (a bad field path). */
int deadband_init(struct deadband *d, struct deadband_conf *c,
		  struct fieldset *fs, char *err, size_t n);
/* The state for a run: records passed go to emit(rec, ctx). */
void deadband_start(struct deadband *d, deadband_emit_fn emit, void *ctx,
		    int nslots);
void deadband_record(struct deadband *d, const struct record *rec);
/* Input is quiet: returns the poll timeout (ms, -1: none). */
int deadband_idle(struct deadband *d);
/*
 * A reload between two records: if the series are the same (keys, value,
 * method, time read the same way) every key keeps its state and the
 * guessed time unit stays; else the held points are written, as at the
 * end of input, and every key starts again. nc (with its fields added to
 * fs) is in force after; what was done goes to said.
 */
void deadband_reconf(struct deadband *d, struct deadband_conf *nc,
		     struct fieldset *fs, char *said, size_t n);
/* End of input or a signal: the held points complete the series. */
void deadband_finish(struct deadband *d);
/* --stats: ",\"filtered\":..." (out: the records written). */
void deadband_stats(const struct deadband *d, unsigned long long out,
		    char *buf, size_t n);
void deadband_free(struct deadband *d);

#endif
