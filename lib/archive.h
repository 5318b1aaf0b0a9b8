/* archive.h - es-archive's store: records by event time in SQLite
 *
 * One SQLite database, DIR/archive.db, in WAL mode: a table of records
 * (event time in us, key bytes, the record's NDJSON text) with an index on
 * (time, key), and a meta table holding the --key the archive was made
 * with. Records go in by batches, one transaction each: a record is stored
 * once archive_commit() has returned 0 (the commit is in the WAL: it
 * survives the process being killed; with sync full it was fsynced and
 * survives power loss too). Retention (by size of the pages in use and by
 * age) runs in the same transaction as the batch, oldest records first.
 *
 * Only es-archive and es-replay link libsqlite3: no other program may use
 * this file or archive_query.c, archive_store.c, replay.c (the objects are
 * pulled from libedgestream.a by them alone).
 */
#ifndef ES_ARCHIVE_H
#define ES_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct archive;
struct sqlite3;

/* What retention keeps: 0 for no limit. */
struct archive_limits {
	uint64_t max_size;	/* bytes of database pages in use */
	int64_t max_age;	/* us behind the newest time (see below) */
};

/* Records deleted by retention, counted by archive_commit(). */
struct archive_expired {
	uint64_t age, size;
};

/*
 * Opens DIR's archive. To store (write): DIR is made if missing, the
 * database and its tables created, DIR/lock taken (a second writer is
 * refused), and sync_full sets synchronous=FULL (else NORMAL). To query:
 * the database must exist; it is opened read-only. Returns NULL with a
 * message in err.
 */
struct archive *archive_open(const char *dir, bool write, bool sync_full,
			     char *err, size_t n);
/* The --key the archive was made with ("" for none), or NULL before the
 * first store run set it. */
const char *archive_key(const struct archive *a);
/* A store run's --key: set if the archive has none yet; -1 when it
 * differs from the archive's (message in err). */
int archive_set_key(struct archive *a, const char *key, char *err, size_t n);

/* Adds a record to the open batch (begun if none). Returns 0, or -1 (the
 * batch is rolled back; archive_error says why). */
int archive_put(struct archive *a, int64_t t, const void *key, size_t kn,
		const char *raw, size_t n);
/* Records in the open batch. */
uint64_t archive_pending(const struct archive *a);
/* Applies lim (deletions counted into ex), then commits the batch.
 * Returns 0, or -1 with the batch rolled back (its records not stored). */
int archive_commit(struct archive *a, const struct archive_limits *lim,
		   struct archive_expired *ex);
/* The last SQLite error ("database or disk is full"). */
const char *archive_error(const struct archive *a);

/* Bytes of database pages in use (the file may be larger: free pages are
 * kept for reuse), and the oldest and newest times stored (false when the
 * archive is empty). */
uint64_t archive_bytes(struct archive *a);
bool archive_span(const struct archive *a, int64_t *oldest, int64_t *newest);

/* A reader's snapshot: the queries from here to archive_close() see the
 * archive as it was at the first of them (a writer goes on meanwhile:
 * WAL). 0, or -1 with a message in err. */
int archive_read_begin(struct archive *a, char *err, size_t n);

/* For archive_query.c. */
struct sqlite3 *archive_db(const struct archive *a);
void archive_close(struct archive *a);

#endif
