/* archive_query.c - the records of an archive in a span of event time */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_query.h"
#include "mem.h"

struct archive_query {
	sqlite3_stmt *st;
	char *key;	/* a copy: bound for the statement's life */
};

/* The range is read in the order of the table's key (t, seq): no sort.
 * A key is matched on the records of the range. */
static const char *const sql[2] = {
	"SELECT raw, t FROM rec WHERE t >= ?1 AND t < ?2 ORDER BY t, seq",
	"SELECT raw, t FROM rec WHERE t >= ?1 AND t < ?2 AND k = ?3 "
	"ORDER BY t, seq",
};

struct archive_query *archive_query_open(struct archive *a, int64_t from,
					 int64_t to, const void *key,
					 size_t kn, char *err, size_t n)
{
	sqlite3 *db = archive_db(a);
	struct archive_query *q = xmalloc(sizeof *q);
	q->key = NULL;
	if (sqlite3_prepare_v2(db, sql[key != NULL], -1, &q->st, NULL)) {
		snprintf(err, n, "query: %s", sqlite3_errmsg(db));
		free(q);
		return NULL;
	}
	sqlite3_bind_int64(q->st, 1, from);
	sqlite3_bind_int64(q->st, 2, to);
	if (key) {
		q->key = xmalloc(kn + 1);
		memcpy(q->key, key, kn);
		sqlite3_bind_blob(q->st, 3, q->key, (int)kn, SQLITE_STATIC);
	}
	return q;
}

int archive_query_next(struct archive_query *q, const char **raw, size_t *n,
		       int64_t *t, char *err, size_t errn)
{
	int rc = sqlite3_step(q->st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		snprintf(err, errn, "query: %s",
			 sqlite3_errmsg(sqlite3_db_handle(q->st)));
		return -1;
	}
	*raw = (const char *)sqlite3_column_text(q->st, 0);
	*n = (size_t)sqlite3_column_bytes(q->st, 0);
	*t = sqlite3_column_int64(q->st, 1);
	return 1;
}

void archive_query_close(struct archive_query *q)
{
	if (!q)
		return;
	sqlite3_finalize(q->st);
	free(q->key);
	free(q);
}
