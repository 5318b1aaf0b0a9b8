/* watermark.h - the one rule for event times far ahead of the stream
 *
 * One device with a broken clock (9999-12-31T23:59:59Z, 2100-01-01) must not
 * drag a program's event time with it: every program whose event-time state
 * moves forward (es-window, es-join, es-dedup --within, es-deadband,
 * es-detect) lets each event through wm_event() before it uses its time.
 *
 * The rule (edgestream(7) EVENT TIME):
 *  - The stream's time is the largest event time accepted so far. An event
 *    at most --max-ahead (A, default 1d) ahead of it is accepted at once:
 *    the hot path is one compare.
 *  - An event more than A ahead is held (with the events after it that agree
 *    with it: all within A of each other) until WM_CONFIRM events in a row
 *    confirm the jump (a gateway that was off for a week, the next file of a
 *    replay): then the held events are processed in order, nothing is lost.
 *  - An event in the old range (at most A ahead of the stream's time)
 *    contradicts the jump: the held events are bad input (a diagnostic
 *    naming the time, the stream's time and --max-ahead; dead letter;
 *    counted as bad). An event far ahead of the held ones is itself bad.
 *  - Held events are also bad at the end of input (or at SIGINT/SIGTERM) and
 *    after WM_HOLD_MS of wall clock without a decision (a live pipe does not
 *    wait for ever); after the timeout the evidence is kept, so the events
 *    that agree with them still count toward the confirmation.
 *  - The first event of a stream has no stream time to compare with: it is
 *    accepted at once when it is at most A ahead of the wall clock (a live
 *    sensor, a replay of the past), else held until the next event agrees
 *    with it (within A: a replay of future-dated data) or contradicts it
 *    (an event more than A behind it: a 9999 reading first is bad). At the
 *    end of input nothing has contradicted such first events: they go
 *    through (a file of one future reading).
 *    The wall clock never rejects anything by itself.
 * A of 0 (--max-ahead 0) turns the rule off: every event is accepted.
 */
#ifndef ES_WATERMARK_H
#define ES_WATERMARK_H

#include <stdbool.h>
#include <stdint.h>
#include "record.h"

#define WM_CONFIRM 3		/* events in a row that confirm a jump */
#define WM_HOLD_MS 2000		/* wall clock a held event waits at most */
#define WM_DEFAULT_AHEAD (86400LL * 1000000)	/* --max-ahead default: 1d */

/* Processes an accepted event (the record, its time); ctx as given. */
typedef void (*wm_fn)(const struct record *rec, int64_t t, void *ctx);

struct wm_held;

struct wmark {
	int64_t limit;		/* accepted at once up to here; INT64_MIN while
				   a jump is in question or before the first */
	int64_t max;		/* the stream's time: largest accepted */
	int64_t ahead;		/* --max-ahead, us; 0: off */
	bool have;		/* max is set */
	/* the jump in question: its events' times and how many agreed */
	int64_t gmin, gmax, since_ms;
	int ngroup, nheld;
	struct wm_held *held[WM_CONFIRM];
	int nslots;		/* spans per record (the fieldset's count) */
	unsigned long long rejected;	/* bad: far ahead, not confirmed */
	unsigned long long jumps;	/* confirmed jumps */
	bool hinted;		/* the hint for sparse data was given */
};

/* A stream's rule; nslots: the reader's fieldset count (held records keep
 * that many spans). */
void wm_init(struct wmark *w, int64_t ahead, int nslots);
/* Forgets the stream's time and frees held events (without a word: the
 * caller's reset, e.g. a reload that reads time another way). */
void wm_reset(struct wmark *w);
void wm_free(struct wmark *w);
/* New --max-ahead or slot count (reload), keeping the stream's time. */
void wm_set(struct wmark *w, int64_t ahead, int nslots);

void wm_slow(struct wmark *w, const struct record *rec, int64_t t,
	     wm_fn fn, void *ctx);

/* Lets rec (time t) through the rule: fn(rec, t, ctx) now, later (held
 * events, in order, with copies of their records) or never (bad input). */
static inline void wm_event(struct wmark *w, const struct record *rec,
			    int64_t t, wm_fn fn, void *ctx)
{
	if (__builtin_expect(t <= w->limit, 1)) {
		if (t > w->max) {
			w->max = t;
			w->limit = t + w->ahead;	/* no overflow: time.h */
			if (!w->ahead)
				w->limit = INT64_MAX;
		}
		fn(rec, t, ctx);
		return;
	}
	wm_slow(w, rec, t, fn, ctx);
}

/* Input is quiet: held events past WM_HOLD_MS are decided. Returns the
 * poll timeout (ms) until the next decision, -1 if none is pending. */
int wm_idle(struct wmark *w, wm_fn fn, void *ctx);
/* End of input (or a signal): held events are bad input. */
void wm_end(struct wmark *w, wm_fn fn, void *ctx);
/* rec (time t) is late: behind the watermark wm, as the program judges
 * it. dead_late: --late FILE, counted, the first said on stderr. */
void wm_late(const struct record *rec, int64_t t, int64_t wm);
/* Min of two poll timeouts (-1: none). */
int wm_timeout(int a, int b);

/* The option every watermark program shares: --max-ahead D (0: off). */
#define WM_OPTION_HELP \
	"      --max-ahead D        an event more than D (default 1d) ahead of\n" \
	"                           the stream's time waits for 2 more events to\n" \
	"                           confirm the jump, else it is bad input; 0: off\n"

#endif
