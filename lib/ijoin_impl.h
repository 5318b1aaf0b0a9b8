/* ijoin_impl.h - what the files of the interval join share (not for
 * programs: they use ijoin.h)
 *
 * ijoin.c: events, matching, watermarks, expiry and eviction, reloads;
 * ijoin_buf.c: the buffered events of a side (by key and by time) and
 * the bytes they hold; ijoin_out.c: the output record of a pair or of an
 * event alone, and its field names.
 */
#ifndef ES_IJOIN_IMPL_H
#define ES_IJOIN_IMPL_H

#include "ijoin.h"
#include "keys.h"
#include "watermark.h"

/* The fields of an event: an input record's (valid until the next
 * record) or a buffered copy's. */
struct ijoin_view {
	struct ofield *f;
	int nf;
	int time_idx;		/* its top-level time field among f, or -1 */
	struct value tv;	/* its time as written */
	int64_t t;
};

struct ijoin_ev;
struct ijoin_bucket {		/* a side's buffered events of one key */
	struct ijoin_ev *head, *tail;	/* by arrival */
};

struct ijoin_ev {
	int bid;		/* its bucket: the key's id */
	struct ijoin_ev *prev, *next;
	uint64_t seq;		/* arrival order: ties in time */
	bool matched;
	size_t bytes;		/* its fields and text, counted in ev_bytes */
	struct ijoin_view v;	/* fields and text follow the struct */
};

struct ijoin_side {
	struct ijoin *j;
	struct fieldset *fs;	/* moves with its input on a swap */
	bool eof;
	int64_t last_ms;	/* wall clock of its last record (idle) */
	/* from the conf (ijoin_side_define) */
	const char *prefix;
	size_t prefixlen;
	int *kslot, time_slot;
	const struct path *tpath;
	const char *tname;	/* the time field when it is top-level */
	size_t tnamelen;
	bool outer;
	/* state (ijoin_side_clear) */
	enum time_repr unit;	/* guessed from its first time */
	struct wmark wmk;	/* far-ahead events wait here */
	int64_t max_t, wm;
	bool seen;
	struct keytab *keys;	/* the keys of its buffered events */
	struct ijoin_bucket *bk;	/* by key id */
	int capbk;
	struct ijoin_ev **heap;	/* buffered events by time: the next to go */
	size_t nheap, capheap;
	struct ijoin_view known;	/* the names of its first record */
	bool known_set;
};

struct ijoin {
	struct ijoin_conf c;
	struct ijoin_hooks h;
	void *ctx;
	enum format ofmt;
	struct ijoin_side S[2];
	size_t nbuffered, peak_buffered;
	/* What max_state counts, kept up to date as events come and go: the
	 * buffered events' fields and text (their fixed header is bounded by
	 * max_buffered) and the bytes of the sides' keys. */
	size_t ev_bytes, peak_state;
	uint64_t ev_seq;
	unsigned long long pairs, unmatched, filtered, evicted;
	int last_read;		/* the side read last: ties in turn */
	struct outbuf key;	/* the key of the event in hand */
	struct scratch sc;	/* per input record */
	struct scratch osc;	/* per output record */
	struct ofield *rf;	/* the fields of the record being read */
	size_t rfcap;
	struct ofield *of;	/* the output record being built */
	size_t ofcap;
	const char *out_time;	/* the output's time field */
	size_t out_timelen;
	struct keytab *nix;	/* the names of nix_view (ijoin_out.c) */
	const struct ijoin_view *nix_view;
	const struct record *in_hand;	/* the record ijoin_event has */
	struct value in_tv;	/* its time as written */
};

/* ijoin_buf.c */
bool ijoin_buf_less(const struct ijoin_ev *a, const struct ijoin_ev *b);
/* The bytes a buffered copy of v holds past its header. */
size_t ijoin_buf_bytes(const struct ijoin_view *v);
/* What max_state counts now. */
size_t ijoin_buf_state(const struct ijoin *j);
/* Buffers v (of bytes) on side si under the key in j->key, whose id is
 * bid (-1: not there yet). */
void ijoin_buf_add(struct ijoin *j, int si, const struct ijoin_view *v,
		   size_t bytes, int bid, bool matched);
/* The side's next event to go (by time), off its heap. */
struct ijoin_ev *ijoin_buf_pop(struct ijoin_side *s);
/* The side whose next event is the older, or -1 if none is buffered. */
int ijoin_buf_oldest(const struct ijoin *j);
/* Takes e (off the heap already) out of its bucket and the totals. */
void ijoin_buf_unlink(struct ijoin *j, int si, struct ijoin_ev *e);

/* ijoin_out.c */
void ijoin_out_pair(struct ijoin *j, const struct ijoin_view *l,
		    const struct ijoin_view *r);
void ijoin_out_alone(struct ijoin *j, int si, const struct ijoin_view *v);

#endif
