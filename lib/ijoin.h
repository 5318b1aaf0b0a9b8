/* ijoin.h - the interval join of two streams
 *
 * es-join --left A --right B (Flink's interval join): a left event L and
 * a right event R join when their keys are equal and LOW <= R.t - L.t <=
 * HIGH. The program reads both inputs as data arrives and hands each
 * record to ijoin_event with its side (0 left, 1 right); every pair is
 * emitted once, when its second half arrives. Each side has a watermark
 * (its largest event time minus the lateness): an event behind its own
 * side's watermark is late, and a buffered event goes once no future
 * event of the other side can reach it, so the state is bounded by the
 * interval, not by the stream; and by max_buffered (events) and max_state
 * (their bytes and their keys'), at which the oldest buffered events are
 * evicted.
 *
 * An event that leaves the state without a partner is emitted alone on
 * an outer side (--type left, right, full); on an inner side it is
 * filtered when it expired (what the join means) and dropped
 * (stats.dropped) when it was evicted at a limit.
 */
#ifndef ES_IJOIN_H
#define ES_IJOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "join.h"
#include "record.h"
#include "time.h"

#define IJOIN_DEFAULT_MAX_BUFFERED 100000

/* What the options say. The engine keeps a copy; its strings and paths
 * are the program's, to live while the conf is in force. */
struct ijoin_conf {
	struct join_pairs keys;	/* [0] the left side's, [1] the right's */
	struct join_pairs time;	/* one pair: the time fields */
	enum join_type type;
	int64_t low, high;	/* the interval, us */
	int64_t lateness;	/* us */
	int64_t idle;		/* us: a silent side's watermark follows the
				   wall clock after this; 0: never */
	int64_t max_ahead;	/* lib/watermark.h */
	long max_buffered;
	uint64_t max_state;	/* bytes */
	enum time_repr unit;
	const char *prefix[2];	/* of each side's renamed fields */
};

enum ijoin_limit { IJOIN_BY_COUNT, IJOIN_BY_STATE };

struct ijoin_hooks {
	/* A record to write: a pair, or an outer side's event alone. */
	void (*emit)(void *ctx, const struct ofield *f, size_t n);
	/* An event behind its side's watermark (NULL: wm_late). */
	void (*late)(void *ctx, const struct record *rec, int64_t t,
		     int64_t wm);
	/* The oldest event is evicted at a limit, whose value is limit
	 * (NULL: nothing to say). */
	void (*evict)(void *ctx, enum ijoin_limit why, uint64_t limit);
};

struct ijoin_counts {
	unsigned long long pairs, unmatched, evicted;
	unsigned long long filtered;	/* unmatched, expired, inner side */
	size_t buffered, peak_buffered;	/* events */
	size_t state_bytes, peak_state;	/* what max_state counts */
};

/* What a reload did (ijoin_reconf). */
struct ijoin_said {
	bool same;		/* the same definition: the events were kept */
	size_t kept;		/* events buffered then */
	size_t went, alone;	/* another: events ended, of them written alone */
	size_t over;		/* evicted to fit the new max_state */
	unsigned grew;		/* bit si: side si's fieldset has new fields */
};

struct ijoin;
/* ofmt: the output format (FMT_AUTO: the first record's). */
struct ijoin *ijoin_new(const struct ijoin_conf *c, const struct ijoin_hooks *h,
			void *ctx, enum format ofmt);
/* The fields side si's input is to be read for (reader_open). */
struct fieldset *ijoin_fieldset(struct ijoin *j, int si);
/* A record of side si: joined, buffered, late, or bad (reported). */
void ijoin_event(struct ijoin *j, int si, const struct record *rec);
/* Side si's input ended: its held events are decided, and what can no
 * longer match goes. */
void ijoin_end(struct ijoin *j, int si);
bool ijoin_ended(const struct ijoin *j, int si);
/* The side to read first: the one behind in event time (so two files are
 * read side by side in time and the state stays small; ties in turn). */
int ijoin_pick(const struct ijoin *j);
/* The inputs are quiet at now_ms: the idle rule moves a silent side's
 * watermark. */
void ijoin_silence(struct ijoin *j, int64_t now_ms);
/* Milliseconds until the idle rule would let a buffered event go, -1 for
 * none (at least 1). */
int ijoin_idle_timeout(const struct ijoin *j, int64_t now_ms);
/* Held far-ahead events past their wait are decided (wm_idle); returns
 * the milliseconds to the next decision, -1 for none. */
int ijoin_held(struct ijoin *j);
/* True if buffered events mean the same under b as under a (keys, times,
 * unit, interval, type). */
bool ijoin_same_def(const struct ijoin_conf *a, const struct ijoin_conf *b);
/*
 * A reload: c in force from the next event. The same definition keeps
 * the buffered events; another one (or swap: the inputs change sides)
 * first ends them as at the end of input, then starts from nothing. The
 * new limits evict at once. A side whose fieldset grew is said in grew:
 * its reader is to be told (reader_fields_changed).
 */
struct ijoin_said ijoin_reconf(struct ijoin *j, const struct ijoin_conf *c,
			       bool swap);
/* Stopped by a signal: held events are bad, the buffered ones are not
 * written. Returns how many are buffered; *unmatched: how many of them
 * never matched, on either side (counted as dropped: an outer side's are
 * not written alone, an inner side's might have matched later). */
size_t ijoin_stop(struct ijoin *j, size_t *unmatched);
/* j's counters (all 0 for NULL: before the engine is made). */
struct ijoin_counts ijoin_counts(const struct ijoin *j);
/* Side si's watermark (INT64_MIN before its first event). */
int64_t ijoin_watermark(const struct ijoin *j, int si);
/* The event time of rec as side si reads it now (its unit guessed
 * already, not guessed again): 0 with *t, or -1 as record_time. */
int ijoin_time(const struct ijoin *j, int si, const struct record *rec,
	       struct scratch *sc, int64_t *t);
/* Checks the state against its running totals and the watermarks (for
 * the fuzz target): NULL, or the invariant that does not hold. */
const char *ijoin_check(const struct ijoin *j);
/* Frees everything; buffered events are not emitted. */
void ijoin_free(struct ijoin *j);

/* "D" (-D to D, D >= 0) or "LOW,HIGH" into *low, *high (us). Returns 0,
 * or -1 with why in err (opt names the option). */
int ijoin_parse_within(const char *opt, const char *arg, int64_t *low,
		       int64_t *high, char *err, size_t errn);

#endif
