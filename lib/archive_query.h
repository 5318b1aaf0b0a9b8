/* archive_query.h - the records of an archive in a span of event time
 *
 * What es-archive's query mode and es-replay share: the times a query
 * takes, the key it names (--key-is), and the slice itself (a span of
 * event time, a key, an expression) read record by record.
 */
#ifndef ES_ARCHIVE_QUERY_H
#define ES_ARCHIVE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "expr.h"
#include "fieldset.h"
#include "json.h"
#include "out.h"
#include "path.h"
#include "record.h"
#include "scratch.h"

struct archive_query;

/*
 * The records with from <= t < to, in event-time order (equal times in
 * the order they were stored), and with key bytes equal to key[0..kn) if
 * key is not NULL. Returns NULL with a message in err.
 */
struct archive_query *archive_query_open(struct archive *a, int64_t from,
					 int64_t to, const void *key,
					 size_t kn, char *err, size_t n);
/* 1 with the next record's NDJSON text (valid until the next call) and
 * time, 0 at the end, -1 on an error (message in err). */
int archive_query_next(struct archive_query *q, const char **raw, size_t *n,
		       int64_t *t, char *err, size_t errn);
void archive_query_close(struct archive_query *q);

/* A --from/--to time: RFC 3339, or an epoch number in a unit its size
 * says. 0 with *us, or -1 with *err. */
int archive_query_time(const char *text, int64_t *us, const char **err);

/* Splits F1,F2 (a --key) into paths appended to *key; spans[i] (if not
 * NULL) gets where path i's text begins and ends. Returns 0, or -1 with
 * err and *at (the column). */
int archive_query_key_split(const char *text, struct path **key, int *nkey,
			    const char *(*spans)[2], const char **err, int *at);

void archive_query_key_free(struct path *key, int nkey);

/* The key key_is ("F=V", n of them) names, in the order of a's key
 * fields, in normal form into k (as the store makes it). 0; -1 with why
 * when key_is does not fit the archive's key (a usage error); -2 when
 * the archive's key cannot be read. */
int archive_query_key(const struct archive *a, const char *dir,
		      const char *const *key_is, int n, struct outbuf *k,
		      char *why, size_t wn);

/* A slice read record by record: each record of the span (and key) with
 * a verdict on the expression. */
enum archive_verdict { ARCHIVE_MATCH, ARCHIVE_OTHER, ARCHIVE_BAD };

struct archive_slice {
	struct archive_query *q;
	const struct expr *where;	/* NULL: every record matches */
	struct fieldset *fs;	/* the fields the expression reads */
	struct json_scan js;
	struct record rec;
	struct scratch sc;
	uint64_t read;
	bool ended;		/* (a statement stepped past its end restarts) */
	char msg[256];
};

/* Opens the slice; src names the records in messages. 0, or -1 with a
 * message in err. where must have been compiled over fs. */
int archive_query_slice_open(struct archive_slice *s, struct archive *a,
			     int64_t from, int64_t to, const void *key, size_t kn,
			     const struct expr *where, struct fieldset *fs,
			     const char *src, char *err, size_t n);
/* 1 with the next record (valid until the next call) and its verdict
 * (ARCHIVE_BAD: not JSON or the expression could not take it, why in
 * *msg); 0 at the end; -1 on an error (message in err). */
int archive_query_slice_next(struct archive_slice *s, const struct record **rec,
			     enum archive_verdict *v, const char **msg, char *err,
			     size_t n);
void archive_query_slice_close(struct archive_slice *s);
/* es-archive's query: the slice's matching records written to w, until
 * its end or loop_stop; each record read counted in stats.in, the others
 * in *filtered or as bad (record_bad). 0, or -1 with a message in err. */
int archive_query_slice_write(struct archive_slice *s, struct writer *w,
			      uint64_t *filtered, char *err, size_t n);

#endif
