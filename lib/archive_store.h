/* archive_store.h - es-archive's store mode: records held until committed
 *
 * Records pass through: each is added to the archive's open batch and held
 * (in the output format) until that batch is committed, and only then goes
 * downstream, so that whatever a reader downstream saw is in the archive,
 * even after a SIGKILL. A batch is committed every commit_every records,
 * commit_interval after its first, when the input pauses, and at the end.
 * A write that fails (disk full) does not stop the stream: the records
 * pass on unstored (counted), and the archive rests a while before it
 * tries again.
 */
#ifndef ES_ARCHIVE_STORE_H
#define ES_ARCHIVE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "archive.h"
#include "out.h"
#include "record.h"
#include "scratch.h"

/* After a failed write (disk full) the archive rests this long. */
#define ARCHIVE_PAUSE_MS 1000

struct archive_store {
	/* Set by the caller before archive_store_start(). */
	const char *dir;
	const char *key_text;	/* the --key ("" or NULL: none) */
	const int *kslots;	/* the key fields' slots, -1 ended; NULL: none */
	struct archive_limits limits;	/* may change between commits */
	long commit_every;
	int64_t commit_interval;	/* us */
	bool sync_full;
	struct outbuf *down;	/* where committed records go */

	/* The store's own. */
	struct archive *arc;
	struct archive_expired expired;
	uint64_t stored, unstored, commits, bytes;
	struct outbuf pending, conv, keybuf;	/* held; CSV made NDJSON; key */
	struct writer *pw, *cw;
	struct scratch sc;	/* the records' values (the caller resets it) */
	uint64_t held;		/* records in pending */
	int64_t deadline_ms;	/* commit by then (the batch's first + D) */
	bool failing;		/* from a failed write to the next commit */
	int64_t pause_end_ms;	/* no write is tried before then */
};

/* Opens the archive to write (its key set or checked) and applies the
 * limits to what is there; held records are written in out_fmt. 0, or -1
 * with why (size n) and *usage when the --key is at fault. */
int archive_store_start(struct archive_store *s, enum format out_fmt,
			char *why, size_t n, bool *usage);
/* Stores rec (event time t) and holds it; commits when a batch is due.
 * A record that cannot be written in the output format is bad. */
void archive_store_record(struct archive_store *s, const struct record *rec,
			  int64_t t);
/* Commits the open batch, then lets its records go downstream. */
void archive_store_commit(struct archive_store *s);
/* Frees the buffers; the archive stays open (--stats reads its span after
 * the cleanup): archive_close(s->arc) at the end. */
void archive_store_free(struct archive_store *s);

#endif
