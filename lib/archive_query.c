/* archive_query.c - the records of an archive in a span of event time */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_query.h"
#include "keys.h"
#include "loop.h"
#include "mem.h"
#include "stats.h"
#include "time.h"

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

int archive_query_time(const char *text, int64_t *us, const char **err)
{
	struct value v = { .t = V_STRING, .s = text, .n = strlen(text) };
	enum time_repr unit = TIME_AUTO;
	return time_from_value(&v, &unit, us, err) ? -1 : 0;
}

int archive_query_key_split(const char *text, struct path **key, int *nkey,
			    const char *(*spans)[2], const char **err, int *at)
{
	const char *s = text;
	while (*s) {
		const char *start = s;
		*key = xrealloc(*key, (size_t)(*nkey + 1) * sizeof **key);
		if (path_parse(&s, &(*key)[*nkey], err))
			return *at = (int)(s - text), -1;
		if (spans) {
			spans[*nkey][0] = start;
			spans[*nkey][1] = s;
		}
		(*nkey)++;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return *err = "expected ','", *at = (int)(s - text), -1;
	}
	return 0;
}

void archive_query_key_free(struct path *key, int nkey)
{
	for (int i = 0; i < nkey; i++)
		path_free(&key[i]);
	free(key);
}

/* The value key_is gives the field spelled f[0..fl), or NULL. */
static const char *key_value(const char *const *key_is, int n, const char *f,
			     size_t fl)
{
	const char *v = NULL;
	for (int j = 0; j < n; j++)
		if (strncmp(key_is[j], f, fl) == 0 && key_is[j][fl] == '=')
			v = key_is[j] + fl + 1;
	return v;
}

int archive_query_key(const struct archive *a, const char *dir,
		      const char *const *key_is, int n, struct outbuf *k,
		      char *why, size_t wn)
{
	const char *akey = archive_key(a), *err, *(*spans)[2];
	struct path *paths = NULL;
	int np = 0, at, rc = 0;
	if (!akey || !*akey) {
		snprintf(why, wn, "the archive in %s has no key (it was stored "
			 "without --key); use --where", dir);
		return -1;
	}
	spans = xmalloc((strlen(akey) + 1) * sizeof *spans);
	if (archive_query_key_split(akey, &paths, &np, spans, &err, &at)) {
		snprintf(why, wn, "%s: bad key '%s'", dir, akey);
		rc = -2;
	}
	k->len = 0;
	for (int i = 0; i < np && rc == 0; i++) {
		const char *v = key_value(key_is, n, spans[i][0],
					  (size_t)(spans[i][1] - spans[i][0]));
		if (!v || n != np) {
			snprintf(why, wn, "give one FIELD=VALUE for each field "
				 "of the archive's key, %s", akey);
			rc = -1;
			break;
		}
		struct value val = { .t = V_STRING, .s = v, .n = strlen(v) };
		key_append_loose(k, &val);
	}
	archive_query_key_free(paths, np);
	free(spans);
	return rc;
}

int archive_query_slice_open(struct archive_slice *s, struct archive *a,
			     int64_t from, int64_t to, const void *key, size_t kn,
			     const struct expr *where, struct fieldset *fs,
			     const char *src, char *err, size_t n)
{
	memset(s, 0, sizeof *s);
	s->q = archive_query_open(a, from, to, key, kn, err, n);
	if (!s->q)
		return -1;
	s->where = where;
	s->fs = fs;
	s->js.slots = xmalloc(((size_t)fieldset_count(fs) + 1) *
			      sizeof *s->js.slots);
	s->rec = (struct record){ .fmt = FMT_NDJSON, .src = src };
	return 0;
}

/* The expression's verdict on the record just scanned. */
static enum archive_verdict verdict(struct archive_slice *s)
{
	bool truth;
	if (!s->where)
		return ARCHIVE_MATCH;
	scratch_reset(&s->sc);
	if (expr_test(s->where, s->rec.slots, &s->sc, &truth, s->msg,
		      sizeof s->msg) < 0)
		return ARCHIVE_BAD;
	return truth ? ARCHIVE_MATCH : ARCHIVE_OTHER;
}

int archive_query_slice_next(struct archive_slice *s, const struct record **rec,
			     enum archive_verdict *v, const char **msg, char *err,
			     size_t n)
{
	const char *raw, *m;
	size_t len, col;
	int64_t t;
	if (s->ended)
		return 0;
	int got = archive_query_next(s->q, &raw, &len, &t, err, n);
	if (got <= 0) {
		s->ended = true;
		return got;
	}
	s->read++;
	s->rec.raw = raw;
	s->rec.rawlen = len;
	s->rec.line = s->read;
	*rec = &s->rec;
	*msg = s->msg;
	if (json_scan_line(raw, len, s->fs, &s->js, &m, &col)) {
		snprintf(s->msg, sizeof s->msg, "%s", m);
		*v = ARCHIVE_BAD;
		return 1;
	}
	s->rec.slots = s->js.slots;
	*v = verdict(s);
	return 1;
}

void archive_query_slice_close(struct archive_slice *s)
{
	archive_query_close(s->q);
	s->q = NULL;
	free(s->js.slots);
	free(s->js.members);
	s->js.slots = NULL;
	s->js.members = NULL;
	scratch_free(&s->sc);
}

int archive_query_slice_write(struct archive_slice *s, struct writer *w,
			      uint64_t *filtered, char *err, size_t n)
{
	const struct record *rec;
	enum archive_verdict v;
	const char *msg;
	int got = 0;
	while (!loop_stop &&
	       (got = archive_query_slice_next(s, &rec, &v, &msg, err, n)) > 0) {
		stats.in++;
		if (v == ARCHIVE_OTHER)
			(*filtered)++;
		else if (v == ARCHIVE_BAD || writer_put(w, rec, &msg) < 0)
			record_bad(rec, msg);
	}
	return !loop_stop && got < 0 ? -1 : 0;
}
