/* window.h - event-time windows per group: es-window's engine
 *
 * Every event goes to the windows of its group that contain its time. The
 * watermark is the largest event time seen minus the allowed lateness; a
 * window is emitted once the watermark passes its end, so the output does
 * not depend on how fast events arrive, only on their order. An event is
 * late when every window it belongs to was already emitted (as in Flink):
 * it goes to the late callback.
 *
 * The engine reads each record's time (--time-field, or the wall clock),
 * lets it through the far-ahead rule (watermark.h), and keeps the groups
 * in a keyed table (keyed.h): at --max-groups or --max-state the least
 * recently seen group's windows are emitted early and the group forgotten.
 * Its state lives in a struct window the program owns; it emits through
 * callbacks and never exits (bad records go to record_bad).
 */
#ifndef ES_WINDOW_H
#define ES_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "json.h"
#include "path.h"
#include "record.h"
#include "time.h"

enum window_kind {
	WINDOW_NONE, WINDOW_TUMBLING, WINDOW_HOPPING, WINDOW_SLIDING,
	WINDOW_SESSION, WINDOW_COUNT,
};

#define WINDOW_DEFAULT_MAX_GROUPS 100000
/* Every event goes into size/every windows of its group: the program
 * refuses more (a hopping 1d every 1us would be 86,400,000,000 per event,
 * a loop no signal ends). */
#define WINDOW_MAX_OVERLAP 100000
/* Events a sliding window keeps per group: a bound on memory however fast
 * a group's events come. */
#define WINDOW_SLIDING_MAX_EVENTS 10000

/*
 * A window definition and the options around it, as the program checked
 * them (the engine trusts it: one kind, every <= size, the overlap above
 * within WINDOW_MAX_OVERLAP). The definition is kind, sizes, group fields,
 * aggregates and how time is read (window_reconf compares it); the rest
 * may change under open windows. Strings and paths are the caller's: they
 * must live while this configuration is in force.
 */
struct window_conf {
	enum window_kind kind;
	int64_t size, every, offset, gap, max_session, lateness, idle;
	int64_t max_ahead;	/* --max-ahead (watermark.h) */
	long count, count_every;	/* count_every 0: count */
	bool processing;	/* --time processing */
	enum time_repr unit, out_repr;	/* out_repr 0: as the input's times
					   (ms with processing time) */
	long max_groups;
	uint64_t max_state;	/* bytes */
	const char *time_field;
	const struct path *gpaths;	/* --group-by */
	int ngroup_fields;
	const char *agg_text;
};

/* The defaults: time field ts, count, --max-groups and --max-state as
 * documented, --max-ahead 1d; no window kind yet. */
void window_conf_init(struct window_conf *c);

/*
 * The checks a definition passes before the engine trusts it, after the
 * kind and --every are read: the defaults filled in (count_every 0: count;
 * processing time: ms out_repr), --every within the window's size, each
 * event in at most WINDOW_MAX_OVERLAP windows, window bounds exact in
 * out_repr, --max-session and --offset only with their kinds. every_text:
 * --every as written, for the message. Returns 0, or -1 with what is
 * wrong (naming the options) in err.
 */
int window_conf_check(struct window_conf *c, const char *every_text,
		      char *err, size_t n);

struct window_cb {
	/* A window's record: window_start, window_end, the group fields,
	 * the aggregates (valid during the call). */
	void (*emit)(const struct ofield *f, size_t n, void *ctx);
	/* rec, at event time t, is behind the watermark wm (NULL:
	 * wm_late, --late FILE's). */
	void (*late)(const struct record *rec, int64_t t, int64_t wm,
		     void *ctx);
	/* A group was forgotten at a cap, its windows emitted (NULL: none). */
	void (*evict)(const struct value *group, int n, void *ctx);
	void *ctx;
};

struct window;

/*
 * An engine for c, reading its fields through fs (the reader's fieldset,
 * which outlives it: the fields are added to it, now and at a reload).
 * NULL with a message in err if c's aggregates or fields do not parse.
 */
struct window *window_new(const struct window_conf *c, struct fieldset *fs,
			  const struct window_cb *cb, char *err, size_t n);
/* A record: its time read and checked, then its windows fed, closed or
 * written (a bad time or value: record_bad). */
void window_record(struct window *w, const struct record *rec);
/*
 * The input has been silent for silence_ms: with --idle D, once that
 * reaches D the watermark moves on with the wall clock; with processing
 * time it is the wall clock. Returns the poll timeout (ms) until the next
 * window could close, -1 for none.
 */
int window_silence(struct window *w, int64_t silence_ms);
/* Input is quiet: events the far-ahead rule held too long are decided.
 * Returns the poll timeout (ms) until the next decision, -1 if none. */
int window_idle(struct window *w);
/* End of input or a signal: the held events are decided (watermark.h). */
void window_end(struct window *w);
/* Emits every open window (end of input, --flush-on-exit), by start and
 * then by the groups' first sight. */
void window_flush(struct window *w);
/* The windows still open, and the events in them (an event in several
 * hopping windows counts in each) in *nev if not NULL. */
unsigned long long window_open(const struct window *w,
			       unsigned long long *nev);

enum window_change {
	WINDOW_BAD = -1,	/* c does not parse: nothing changed */
	WINDOW_KEPT,		/* the same definition: windows and groups kept */
	WINDOW_NEW,		/* a new one: the open windows written first */
	WINDOW_NEW_FIELDS,	/* the same, and its records have other fields */
};
/*
 * A reload between two records: c's definition replaces the running one,
 * or the running one stays (the same definition) under c's other options;
 * a lower cap emits the least recently seen groups' windows now. What was
 * done is said in said (for reload_said), or why not. At WINDOW_NEW and
 * after, fs may have grown (reader_fields_changed).
 */
enum window_change window_reconf(struct window *w, const struct window_conf *c,
				 char *said, size_t n);

/* The counters --stats reports (kept by the program past window_free). */
/* The output is JSON or line protocol, which need UTF-8: a CSV record
 * whose group field, or the field of a first or last, is not UTF-8 is bad
 * input (said, dead-lettered, counted), not written into a window. */
void window_set_utf8(struct window *w, bool on);
/* The fields of every window written, in order (names only: window_start,
 * window_end, the group fields, the aggregates). */
const struct ofield *window_fields(const struct window *w, size_t *n);

struct window_counts {
	int groups;			/* most groups at once */
	unsigned long long evicted;	/* groups, and sliding windows' events */
	size_t state_bytes;		/* most bytes of state after an event */
};
struct window_counts window_counts(const struct window *w);
void window_free(struct window *w);

/* ---- for tests/fuzz/window.c ---- */

/* The watermark (INT64_MIN before the first time), and the events the
 * far-ahead rule holds. */
int64_t window_watermark(const struct window *w);
int window_held(const struct window *w);
/* Walks every group, window and buffered event: NULL if the running
 * totals (bytes, groups) are what the walk finds, the caps hold and no
 * window the watermark passed is open; else what is wrong. */
const char *window_audit(const struct window *w);

#endif
