/* archive_store.c - es-archive's store mode: records held until committed */
#include <stdio.h>
#include <stdlib.h>

#include "archive_store.h"
#include "diag.h"
#include "keys.h"
#include "loop.h"
#include "stats.h"
#include "time.h"

/* The archive failed to take lost records: they pass on unstored, and
 * the archive rests ARCHIVE_PAUSE_MS before it tries again. Said once until
 * a commit succeeds again (a disk full for hours is one message). */
static void store_failed(struct archive_store *s, uint64_t lost)
{
	s->unstored += lost;
	if (!s->failing)
		diag_warn("cannot store into %s (%s): archive writes pause for "
			  "%ds at a time while the records pass on (counted as "
			  "\"unstored\" in --stats)", s->dir,
			  archive_error(s->arc), ARCHIVE_PAUSE_MS / 1000);
	s->failing = true;
	s->pause_end_ms = loop_now_ms() + ARCHIVE_PAUSE_MS;
}

void archive_store_commit(struct archive_store *s)
{
	uint64_t n = archive_pending(s->arc);
	if (n && archive_commit(s->arc, &s->limits, &s->expired))
		store_failed(s, n);
	else if (n) {
		s->stored += n;
		s->commits++;
		if (s->failing)
			diag_warn("archive writes into %s resumed (%llu records "
				  "unstored)", s->dir,
				  (unsigned long long)s->unstored);
		s->failing = false;
	}
	if (n)
		s->bytes = archive_bytes(s->arc);
	out_put(s->down, s->pending.buf, s->pending.len);
	s->pending.len = 0;
	s->held = 0;
}

/* The key of rec in normal form (as --key-is makes it). */
static const char *record_key(struct archive_store *s,
			      const struct record *rec, size_t *n)
{
	s->keybuf.len = 0;
	struct value v;
	for (int i = 0; s->kslots && s->kslots[i] >= 0; i++) {
		if (value_load(&rec->slots[s->kslots[i]], &v, &s->sc))
			v.t = V_MISSING;
		key_append_loose(&s->keybuf, &v);
	}
	*n = s->keybuf.len;
	return s->kslots ? s->keybuf.buf : NULL;
}

/* The NDJSON text stored for rec (CSV rows are converted), or NULL after
 * reporting it bad. */
static const char *record_text(struct archive_store *s,
			       const struct record *rec, size_t *n)
{
	if (rec->fmt == FMT_NDJSON) {
		*n = rec->rawlen;
		return rec->raw;
	}
	const char *err;
	s->conv.len = 0;
	if (writer_put(s->cw, rec, &err) < 0) {
		record_bad(rec, err);
		return NULL;
	}
	stats.out--;	/* a copy to store, not a record written */
	*n = s->conv.len - 1;	/* without its newline */
	return s->conv.buf;
}

static void store(struct archive_store *s, const struct record *rec,
		  int64_t t, const char *text, size_t n)
{
	if (s->failing && loop_now_ms() < s->pause_end_ms) {
		s->unstored++;
		return;
	}
	size_t kn;
	const char *key = record_key(s, rec, &kn);
	uint64_t batch = archive_pending(s->arc) + 1;
	if (archive_put(s->arc, t, key, kn, text, n))
		store_failed(s, batch);
}

void archive_store_record(struct archive_store *s, const struct record *rec,
			  int64_t t)
{
	const char *err, *text;
	size_t n;
	if (!(text = record_text(s, rec, &n)))
		return;
	if (writer_put(s->pw, rec, &err) < 0) {
		record_bad(rec, err);
		return;
	}
	store(s, rec, t, text, n);
	int64_t now = loop_now_ms();
	if (s->held++ == 0)
		s->deadline_ms = now + s->commit_interval / US_PER_MS;
	if (s->held >= (uint64_t)s->commit_every || now >= s->deadline_ms)
		archive_store_commit(s);
}

int archive_store_start(struct archive_store *s, enum format out_fmt,
			char *why, size_t n, bool *usage)
{
	char err[512];
	*usage = false;
	s->arc = archive_open(s->dir, true, s->sync_full, why, n);
	if (!s->arc)
		return -1;
	if (archive_set_key(s->arc, s->key_text ? s->key_text : "", err,
			    sizeof err)) {
		snprintf(why, n, "%s: %s", s->dir, err);
		*usage = true;
		return -1;
	}
	out_init(&s->pending, -1, "pending");
	out_init(&s->conv, -1, "conv");
	out_init(&s->keybuf, -1, "key");
	s->pw = writer_open(&s->pending, out_fmt);
	s->cw = writer_open(&s->conv, FMT_NDJSON);
	/* A first commit applies the limits to what is there already. */
	if (archive_commit(s->arc, &s->limits, &s->expired) == 0)
		s->bytes = archive_bytes(s->arc);
	return 0;
}

void archive_store_free(struct archive_store *s)
{
	writer_close(s->pw);
	writer_close(s->cw);
	s->pw = s->cw = NULL;
	out_free(&s->pending);
	out_free(&s->conv);
	out_free(&s->keybuf);
	scratch_free(&s->sc);
}
