/* archive_query.h - the records of an archive in a span of event time */
#ifndef ES_ARCHIVE_QUERY_H
#define ES_ARCHIVE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"

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

#endif
