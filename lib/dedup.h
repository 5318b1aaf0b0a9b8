/* dedup.h - the keys remembered to drop duplicates, bounded
 *
 * Three ways to remember keys, all bounded:
 *   last N       the last N distinct keys passed (a ring of key ids; the
 *                oldest is forgotten when a new one comes);
 *   within D     keys passed within D of event time: a record is a
 *                duplicate of a passed one with the same key when their
 *                times are at most D apart (either order). The watermark W
 *                is the largest time seen minus the lateness; a record
 *                before W - D is late (its copy may have been forgotten), and
 *                a key passed at t0 is forgotten once t0 < W - 2D, when no
 *                record that is not late can be within D of it (a min-heap
 *                by t0);
 *   neither      every key, up to max_keys, oldest forgotten first.
 * max_keys caps the last two; max_state caps the bytes of the keys in all
 * three (a key is as long as its fields' values: the input decides). At
 * either cap the oldest keys go early, said once on stderr.
 */
#ifndef ES_DEDUP_H
#define ES_DEDUP_H

#include <stdbool.h>
#include <stdint.h>
#include "keys.h"
#include "record.h"
#include "time.h"
#include "watermark.h"

/* What the options say; the strings point into the command line's words. */
struct dedup_conf {
	const char *key_text;	/* --key as given (the last one counts) */
	struct path *key;
	int nkey;
	int *slots;		/* the key paths' slots (dedup_init) */
	const char *within_text;
	int64_t within;		/* 0: not by time */
	int64_t lateness;
	int64_t max_ahead;	/* --max-ahead (lib/watermark.h) */
	long last;		/* 0: not --last */
	long max_keys;
	size_t max_state;	/* bytes of keys */
	const char *time_field;
	enum time_repr unit;	/* as given */
	const char *late;
	bool lateness_given, max_ahead_given;
	int time_slot;
};

/* Writes rec (a record that is not a duplicate). */
typedef void (*dedup_emit_fn)(const struct record *rec, void *ctx);

/* --within: (time, id, generation), smallest time on top. */
struct dedup_hitem {
	int64_t t;
	int id;
	unsigned gen;
};

struct dedup {
	struct dedup_conf *cfg;	/* in force */
	enum time_repr unit;	/* cfg->unit, or the unit guessed */
	dedup_emit_fn emit;
	void *ctx;
	struct keytab *keys;
	struct outbuf key;	/* the key of the record at hand */
	uint64_t key_hash;	/* its keytab_hash */
	struct scratch sc;
	char msg[200];
	unsigned long long duplicates, evicted;
	long peak_keys;
	size_t peak_bytes;
	bool cap_warned, state_warned;	/* state: again after a reload
					   that changes it */
	/* Per key id: the time it passed at, and a generation that tells a
	 * heap entry of the key from one of an earlier key with the same id. */
	int64_t *key_time;
	unsigned *key_gen;
	int id_cap;
	/* last and the default: key ids in the order they passed */
	int *ring;
	long ring_head, ring_n, ring_cap;
	struct dedup_hitem *heap;
	size_t heap_n, heap_cap;
	int64_t max_t;
	bool have_time;
	struct wmark wmk;	/* far-ahead records wait here */
	const struct record *in_hand;	/* its key is in key */
};

/* Under c (which d keeps; its slots are set), the fields in fs. */
void dedup_init(struct dedup *d, struct dedup_conf *c, struct fieldset *fs);
/* The state for a run: records passed go to emit(rec, ctx). */
void dedup_start(struct dedup *d, dedup_emit_fn emit, void *ctx, int nslots);
void dedup_record(struct dedup *d, const struct record *rec);
/* Input is quiet: returns the poll timeout (ms, -1: none). */
int dedup_idle(struct dedup *d);
/*
 * A reload between two records: the same key definition (and, with within,
 * time field and unit) keeps the remembered keys, and nc's within,
 * lateness, last, max_keys and max_state apply to them from the next
 * record (a smaller cap forgets the oldest at once); another one forgets
 * them. nc (its fields added to fs) is in force after; said tells.
 */
void dedup_reconf(struct dedup *d, struct dedup_conf *nc,
		  struct fieldset *fs, char *said, size_t n);
/* End of input: records held for confirmation are decided. */
void dedup_finish(struct dedup *d);
/* --stats: ",\"duplicates\":..." */
void dedup_stats(const struct dedup *d, char *buf, size_t n);
void dedup_free(struct dedup *d);

#endif
