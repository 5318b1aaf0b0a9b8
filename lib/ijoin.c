/* ijoin.c - the interval join of two streams: events, matching, the
 * watermarks, expiry and eviction, reloads */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "ijoin_impl.h"
#include "loop.h"
#include "mem.h"
#include "stats.h"

/* How an event leaves the state. */
enum ijoin_how { IJOIN_QUIET, IJOIN_EXPIRED, IJOIN_EVICTED };

static int64_t ijoin_sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Could a future event of the other side still match an event of side si
 * at time t? Future left events are at or after the left watermark, and L
 * matches R when R.t - HIGH <= L.t <= R.t - LOW; the other way round for
 * future right events. */
static bool ijoin_can_expire(const struct ijoin *j, int si, int64_t t)
{
	const struct ijoin_side *o = &j->S[!si];
	if (o->eof)
		return true;
	int64_t reach = si == 0 ? ijoin_sat_add(t, j->c.high)
				: ijoin_sat_add(t, -j->c.low);
	return reach < o->wm;
}

/* An event leaves the state without a partner: alone on an outer side;
 * else the join's own decision (filtered), or a limit's (dropped). */
static void ijoin_settle(struct ijoin *j, int si, const struct ijoin_view *v,
			 bool evicted)
{
	j->unmatched++;
	if (j->S[si].outer)
		ijoin_out_alone(j, si, v);
	else if (evicted)
		stats.dropped++;
	else
		j->filtered++;
}

/* Takes e (already off the heap) out of the state, settles it if it
 * never matched (unless quiet), frees it. */
static void ijoin_release(struct ijoin *j, int si, struct ijoin_ev *e,
			  enum ijoin_how how)
{
	ijoin_buf_unlink(j, si, e);
	if (!e->matched && how != IJOIN_QUIET)
		ijoin_settle(j, si, &e->v, how == IJOIN_EVICTED);
	free(e);
}

/* Lets go of side si's events that no future event can match. */
static void ijoin_expire(struct ijoin *j, int si)
{
	struct ijoin_side *s = &j->S[si];
	while (s->nheap && ijoin_can_expire(j, si, s->heap[0]->v.t))
		ijoin_release(j, si, ijoin_buf_pop(s), IJOIN_EXPIRED);
}

/* At a limit: the oldest event (by time, of either side) goes. */
static void ijoin_evict(struct ijoin *j, enum ijoin_limit why)
{
	int si = ijoin_buf_oldest(j);
	if (j->h.evict)
		j->h.evict(j->ctx, why, why == IJOIN_BY_COUNT ?
			   (uint64_t)j->c.max_buffered : j->c.max_state);
	j->evicted++;
	ijoin_release(j, si, ijoin_buf_pop(&j->S[si]), IJOIN_EVICTED);
}

/* Before the event in hand is buffered (bytes of its own, its key in
 * j->key): the oldest go until it fits within max_state, or nothing else
 * is left (the event in hand is never evicted: the bound is the limit
 * plus one event). Returns its key's id, which an eviction may have
 * removed. */
static int ijoin_make_room(struct ijoin *j, int si, size_t bytes, int bid)
{
	for (;;) {
		size_t need = bytes + (bid < 0 ? j->key.len : 0);
		if (!j->nbuffered || ijoin_buf_state(j) + need <= j->c.max_state)
			return bid;
		ijoin_evict(j, IJOIN_BY_STATE);
		bid = keytab_find(j->S[si].keys, j->key.buf, j->key.len);
	}
}

/* ---- events ---- */

/* The fields of rec as a view (names decoded, values typed, in j->sc). */
static void ijoin_view_of(struct ijoin *j, int si, const struct record *rec,
			  struct ijoin_view *v)
{
	const struct ijoin_side *s = &j->S[si];
	if (rec->nfields > j->rfcap) {
		j->rfcap = rec->nfields * 2;
		j->rf = xrealloc(j->rf, j->rfcap * sizeof *j->rf);
	}
	struct ofield *rf = j->rf;
	v->f = rf;
	v->nf = (int)rec->nfields;
	v->time_idx = -1;
	for (size_t i = 0; i < rec->nfields; i++) {
		join_name(&rec->fields[i].key, &j->sc, &rf[i].name,
			  &rf[i].namelen);
		if (value_load(&rec->fields[i].val, &rf[i].v, &j->sc))
			rf[i].v.t = V_NULL;
		if (v->time_idx < 0 && s->tname &&
		    join_same(rf[i].name, rf[i].namelen, s->tname, s->tnamelen))
			v->time_idx = (int)i;
	}
}

/* The field names of a side's first record, kept for its columns in the
 * other side's lone events (CSV) and for their names. */
static void ijoin_remember(struct ijoin_side *s, const struct ijoin_view *v)
{
	size_t text = 0;
	for (int i = 0; i < v->nf; i++)
		text += v->f[i].namelen;
	struct ofield *f = xmalloc((size_t)v->nf * sizeof *f + text + 1);
	char *p = (char *)(f + v->nf);
	for (int i = 0; i < v->nf; i++) {
		memset(&f[i], 0, sizeof f[i]);
		memcpy(p, v->f[i].name, v->f[i].namelen);
		f[i].name = p;
		f[i].namelen = v->f[i].namelen;
		f[i].v.t = V_NULL;
		p += v->f[i].namelen;
	}
	s->known.f = f;
	s->known.nf = v->nf;
	s->known.time_idx = v->time_idx;
	s->known_set = true;
}

/* Pairs v (side si, its key in j->key) with the other side's buffered
 * events of its key within the interval; true if any. */
static bool ijoin_match(struct ijoin *j, int si, const struct ijoin_view *v)
{
	struct ijoin_side *o = &j->S[!si];
	bool matched = false;
	int oid = keytab_find(o->keys, j->key.buf, j->key.len);
	for (struct ijoin_ev *e = oid < 0 ? NULL : o->bk[oid].head; e;
	     e = e->next) {
		int64_t d = si == 0 ? e->v.t - v->t : v->t - e->v.t;
		if (d < j->c.low || d > j->c.high)
			continue;
		if (si == 0)
			ijoin_out_pair(j, v, &e->v);
		else
			ijoin_out_pair(j, &e->v, v);
		e->matched = matched = true;
	}
	return matched;
}

/* Buffers v (side si, its key in j->key), making room within max_state. */
static void ijoin_keep(struct ijoin *j, int si, const struct ijoin_view *v,
		       bool matched)
{
	size_t bytes = ijoin_buf_bytes(v);
	int bid = keytab_find(j->S[si].keys, j->key.buf, j->key.len);
	if (ijoin_buf_state(j) + bytes + (bid < 0 ? j->key.len : 0) >
	    j->c.max_state)
		bid = ijoin_make_room(j, si, bytes, bid);
	ijoin_buf_add(j, si, v, bytes, bid, matched);
	size_t st = ijoin_buf_state(j);
	if (st > j->peak_state)
		j->peak_state = st;
}

/* A side's watermark after an event at t. */
static void ijoin_advance(struct ijoin *j, struct ijoin_side *s, int64_t t)
{
	if (!s->seen || t > s->max_t)
		s->max_t = t;
	s->seen = true;
	int64_t w = ijoin_sat_add(s->max_t, -j->c.lateness);
	if (w > s->wm)
		s->wm = w;
}

/* An event whose time its side's watermark rule accepted (ctx: the side);
 * a held one comes back later, its time as written to be read again. */
static void ijoin_timed(const struct record *rec, int64_t t, void *ctx)
{
	struct ijoin_side *s = ctx;
	struct ijoin *j = s->j;
	int si = (int)(s - j->S);
	struct ijoin_view v;
	struct value tv = j->in_tv;
	if (rec != j->in_hand) {
		scratch_reset(&j->sc);
		if (value_load(&rec->slots[s->time_slot], &tv, &j->sc))
			tv.t = V_MISSING;
	}
	if (t < s->wm) {
		if (j->h.late)
			j->h.late(j->ctx, rec, t, s->wm);
		else
			wm_late(rec, t, s->wm);
		return;
	}
	ijoin_advance(j, s, t);
	int64_t now = 0;
	if (j->c.idle) {
		now = loop_now_ms();
		s->last_ms = now;
	}
	ijoin_view_of(j, si, rec, &v);
	v.t = t;
	v.tv = tv;
	if (!s->known_set)
		ijoin_remember(s, &v);
	bool keyed = join_key(&j->key, rec->slots, s->kslot, j->c.keys.n,
			      &j->sc);
	bool matched = keyed && ijoin_match(j, si, &v);
	/* This side's watermark moved: the other side's events it passed
	 * can match nothing more (they go before this event needs room). */
	if (keyed && !ijoin_can_expire(j, si, t)) {
		ijoin_expire(j, !si);
		ijoin_keep(j, si, &v, matched);
	} else {
		if (!matched)
			ijoin_settle(j, si, &v, false);
		ijoin_expire(j, !si);
	}
	if (j->c.idle)
		ijoin_silence(j, now);
	while (j->nbuffered > (size_t)j->c.max_buffered)
		ijoin_evict(j, IJOIN_BY_COUNT);
	if (j->nbuffered > j->peak_buffered)
		j->peak_buffered = j->nbuffered;
}

void ijoin_event(struct ijoin *j, int si, const struct record *rec)
{
	struct ijoin_side *s = &j->S[si];
	int64_t t;
	const char *err;
	char msg[160];

	j->last_read = si;
	if (j->ofmt == FMT_AUTO)
		j->ofmt = rec->fmt;
	scratch_reset(&j->sc);
	if (record_time(rec, &rec->slots[s->time_slot], s->tpath->text,
			&s->unit, &j->sc, &t, &j->in_tv))
		return;
	if (rec->fmt == FMT_CSV && j->ofmt == FMT_NDJSON &&
	    (err = join_csv_utf8(rec, msg, sizeof msg))) {
		record_bad(rec, err);
		return;
	}
	j->in_hand = rec;
	wm_event(&s->wmk, rec, t, ijoin_timed, s);
	j->in_hand = NULL;
}

void ijoin_end(struct ijoin *j, int si)
{
	wm_end(&j->S[si].wmk, ijoin_timed, &j->S[si]);
	j->S[si].eof = true;
	ijoin_expire(j, !si);
	ijoin_expire(j, si);
}

bool ijoin_ended(const struct ijoin *j, int si)
{
	return j->S[si].eof;
}

int ijoin_pick(const struct ijoin *j)
{
	const struct ijoin_side *S = j->S;
	if (S[0].eof || S[1].eof)
		return S[0].eof ? 1 : 0;
	if (!S[0].seen || !S[1].seen)
		return S[0].seen ? 1 : 0;
	if (S[0].max_t == S[1].max_t)
		return !j->last_read;	/* a tie: in turn */
	return S[1].max_t < S[0].max_t ? 1 : 0;
}

int ijoin_held(struct ijoin *j)
{
	return wm_timeout(wm_idle(&j->S[0].wmk, ijoin_timed, &j->S[0]),
			  wm_idle(&j->S[1].wmk, ijoin_timed, &j->S[1]));
}

/* ---- silence (idle) ---- */

/* The watermark side si would have after its silence, or INT64_MIN. A
 * side that never had an event follows the other's clock. */
static int64_t ijoin_idle_wm(const struct ijoin *j, int si, int64_t now)
{
	const struct ijoin_side *s = &j->S[si], *o = &j->S[!si];
	int64_t sil = now - s->last_ms;
	if (sil * 1000 < j->c.idle)
		return INT64_MIN;
	if (s->seen)
		return ijoin_sat_add(ijoin_sat_add(s->max_t, sil * 1000),
				     -j->c.lateness);
	if (o->seen)
		return ijoin_sat_add(ijoin_sat_add(o->max_t,
						   (now - o->last_ms) * 1000),
				     -j->c.lateness);
	return INT64_MIN;
}

void ijoin_silence(struct ijoin *j, int64_t now)
{
	for (int si = 0; si < 2; si++) {
		if (j->S[si].eof)
			continue;
		int64_t w = ijoin_idle_wm(j, si, now);
		if (w > j->S[si].wm) {
			j->S[si].wm = w;
			ijoin_expire(j, !si);
		}
	}
}

/* Milliseconds until silent side si's watermark reaches need. */
static int64_t ijoin_idle_wait(const struct ijoin *j, int si, int64_t need,
			       int64_t now)
{
	const struct ijoin_side *s = &j->S[si], *o = &j->S[!si];
	int64_t base = s->seen ? s->max_t : o->max_t;
	int64_t sil = now - (s->seen ? s->last_ms : o->last_ms);
	int64_t lin = ijoin_sat_add(ijoin_sat_add(base, sil * 1000),
				    -j->c.lateness);
	int64_t d_us = need >= lin ? need - lin + 1 : 0;
	int64_t d_ms = (d_us + 999) / 1000;
	int64_t quiet = (j->c.idle + 999) / 1000 - (now - s->last_ms);
	return quiet > d_ms ? quiet : d_ms;
}

int ijoin_idle_timeout(const struct ijoin *j, int64_t now)
{
	int64_t best = INT64_MAX;
	if (!j->c.idle)
		return -1;
	for (int si = 0; si < 2; si++) {
		const struct ijoin_side *s = &j->S[si], *o = &j->S[!si];
		if (s->eof || !o->nheap)
			continue;
		int64_t t = o->heap[0]->v.t;
		int64_t need = si == 1 ? ijoin_sat_add(t, j->c.high)
				       : ijoin_sat_add(t, -j->c.low);
		int64_t d_ms = ijoin_idle_wait(j, si, need, now);
		if (d_ms < best)
			best = d_ms;
	}
	if (best == INT64_MAX)
		return -1;
	if (best < 1)
		best = 1;
	return best > INT_MAX ? INT_MAX : (int)best;
}

/* ---- the sides ---- */

/* What the conf says of side si: its prefix, outer or not, its key and
 * time fields (added to its fieldset, which only grows; the reader then
 * reads the new ones too). True if the fieldset grew. */
static bool ijoin_side_define(struct ijoin *j, int si)
{
	struct ijoin_side *s = &j->S[si];
	const struct path *tp = &j->c.time.p[si][0];
	s->prefix = j->c.prefix[si];
	s->prefixlen = strlen(s->prefix);
	s->outer = si ? j->c.type == JOIN_RIGHT || j->c.type == JOIN_FULL
		      : j->c.type == JOIN_LEFT || j->c.type == JOIN_FULL;
	s->tpath = tp;
	s->tname = join_top_name(tp, &s->tnamelen);
	if (!s->tname)
		s->tnamelen = 0;
	int before = fieldset_count(s->fs);
	free(s->kslot);
	s->kslot = join_pairs_slots(&j->c.keys, si, s->fs);
	s->time_slot = fieldset_add(s->fs, tp);
	wm_set(&s->wmk, j->c.max_ahead, fieldset_count(s->fs));
	if (si == 0) {
		j->out_time = s->tname ? s->tname : tp->text;
		j->out_timelen = s->tname ? s->tnamelen : strlen(j->out_time);
	}
	return fieldset_count(s->fs) != before;
}

/* A side as at the start: no watermark, no names known, its time unit
 * to be guessed again (unless given). Nothing may be buffered. */
static void ijoin_side_clear(struct ijoin *j, int si)
{
	struct ijoin_side *s = &j->S[si];
	s->unit = j->c.unit;
	s->wm = INT64_MIN;
	s->max_t = INT64_MIN;
	s->seen = false;
	wm_reset(&s->wmk);
	free(s->known.f);
	memset(&s->known, 0, sizeof s->known);
	s->known_set = false;
}

struct ijoin *ijoin_new(const struct ijoin_conf *c, const struct ijoin_hooks *h,
			void *ctx, enum format ofmt)
{
	struct ijoin *j = xmalloc(sizeof *j);
	memset(j, 0, sizeof *j);
	j->c = *c;
	j->h = *h;
	j->ctx = ctx;
	j->ofmt = ofmt;
	j->last_read = 1;
	out_init(&j->key, -1, "key");
	int64_t now = loop_now_ms();
	for (int si = 0; si < 2; si++) {
		struct ijoin_side *s = &j->S[si];
		s->j = j;
		s->keys = keytab_new();
		s->fs = fieldset_new();
		fieldset_want_members(s->fs, true);
		ijoin_side_define(j, si);
		ijoin_side_clear(j, si);
		s->last_ms = now;
	}
	return j;
}

struct fieldset *ijoin_fieldset(struct ijoin *j, int si)
{
	return j->S[si].fs;
}

/* ---- reloads and the end ---- */

bool ijoin_same_def(const struct ijoin_conf *a, const struct ijoin_conf *b)
{
	return join_pairs_same(&a->keys, &b->keys) &&
	       join_pairs_same(&a->time, &b->time) && a->unit == b->unit &&
	       a->low == b->low && a->high == b->high && a->type == b->type;
}

/*
 * Every buffered event goes as at the end of the input (an outer side's
 * events that never matched are written alone), oldest first by event
 * time. Returns how many went; *alone: how many of them were written
 * alone.
 */
static size_t ijoin_flush(struct ijoin *j, size_t *alone)
{
	size_t n = 0;
	int si;
	*alone = 0;
	while ((si = ijoin_buf_oldest(j)) >= 0) {
		struct ijoin_ev *e = ijoin_buf_pop(&j->S[si]);
		if (!e->matched && j->S[si].outer)
			(*alone)++;
		ijoin_release(j, si, e, IJOIN_EXPIRED);
		n++;
	}
	return n;
}

/* The inputs change sides: each side's fieldset (its reader's) and what
 * is known of its input go with it. */
static void ijoin_swap(struct ijoin *j)
{
	struct ijoin_side *a = &j->S[0], *b = &j->S[1];
	struct fieldset *fs = a->fs;
	bool eof = a->eof;
	int64_t last = a->last_ms;
	a->fs = b->fs;
	a->eof = b->eof;
	a->last_ms = b->last_ms;
	b->fs = fs;
	b->eof = eof;
	b->last_ms = last;
	/* the slots were of the other fieldset */
	free(a->kslot);
	free(b->kslot);
	a->kslot = b->kslot = NULL;
}

struct ijoin_said ijoin_reconf(struct ijoin *j, const struct ijoin_conf *c,
			       bool swap)
{
	struct ijoin_said said = { .same = !swap && ijoin_same_def(c, &j->c) };
	/* Events held for confirmation were read under the old fields. */
	for (int si = 0; si < 2; si++)
		wm_end(&j->S[si].wmk, ijoin_timed, &j->S[si]);
	if (!said.same)
		said.went = ijoin_flush(j, &said.alone);
	if (c->idle && !j->c.idle)	/* silence counts from now */
		j->S[0].last_ms = j->S[1].last_ms = loop_now_ms();
	j->c = *c;
	if (swap)
		ijoin_swap(j);
	for (int si = 0; si < 2; si++) {
		if (ijoin_side_define(j, si))
			said.grew |= 1u << si;
		if (!said.same)
			ijoin_side_clear(j, si);
	}
	said.kept = j->nbuffered;
	while (j->nbuffered > (size_t)j->c.max_buffered)
		ijoin_evict(j, IJOIN_BY_COUNT);
	while (j->nbuffered && ijoin_buf_state(j) > j->c.max_state) {
		ijoin_evict(j, IJOIN_BY_STATE);
		said.over++;
	}
	return said;
}

size_t ijoin_stop(struct ijoin *j, size_t *unmatched)
{
	size_t n = 0;
	*unmatched = 0;
	for (int si = 0; si < 2; si++) {
		struct ijoin_side *s = &j->S[si];
		wm_end(&s->wmk, ijoin_timed, s);
		for (size_t i = 0; i < s->nheap; i++) {
			n++;
			*unmatched += !s->heap[i]->matched;
		}
	}
	stats.dropped += *unmatched;
	return n;
}

void ijoin_free(struct ijoin *j)
{
	if (!j)
		return;
	for (int si = 0; si < 2; si++) {
		struct ijoin_side *s = &j->S[si];
		wm_free(&s->wmk);
		while (s->nheap)
			ijoin_release(j, si, ijoin_buf_pop(s), IJOIN_QUIET);
		free(s->heap);
		keytab_free(s->keys);
		free(s->bk);
		free(s->known.f);
		free(s->kslot);
		fieldset_free(s->fs);
	}
	if (j->nix)
		keytab_free(j->nix);
	out_free(&j->key);
	scratch_free(&j->sc);
	scratch_free(&j->osc);
	free(j->rf);
	free(j->of);
	free(j);
}

/* ---- what the program and the fuzz target look at ---- */

struct ijoin_counts ijoin_counts(const struct ijoin *j)
{
	if (!j)
		return (struct ijoin_counts){ 0 };
	return (struct ijoin_counts){
		.pairs = j->pairs, .unmatched = j->unmatched,
		.evicted = j->evicted, .filtered = j->filtered,
		.buffered = j->nbuffered, .peak_buffered = j->peak_buffered,
		.state_bytes = ijoin_buf_state(j), .peak_state = j->peak_state,
	};
}

int64_t ijoin_watermark(const struct ijoin *j, int si)
{
	return j->S[si].wm;
}

int ijoin_time(const struct ijoin *j, int si, const struct record *rec,
	       struct scratch *sc, int64_t *t)
{
	const struct ijoin_side *s = &j->S[si];
	enum time_repr unit = s->unit;
	return record_time(rec, &rec->slots[s->time_slot], s->tpath->text,
			   &unit, sc, t, NULL);
}

const char *ijoin_check(const struct ijoin *j)
{
	size_t evb = 0;
	if (j->S[0].nheap + j->S[1].nheap != j->nbuffered)
		return "the heaps hold the events counted as buffered";
	for (int si = 0; si < 2; si++) {
		const struct ijoin_side *s = &j->S[si];
		for (size_t i = 0; i < s->nheap; i++) {
			if (s->heap[i]->bytes != ijoin_buf_bytes(&s->heap[i]->v))
				return "an event holds the bytes counted for it";
			evb += s->heap[i]->bytes;
		}
		if (s->nheap && ijoin_can_expire(j, si, s->heap[0]->v.t))
			return "no buffered event that can expire is left";
		if (s->nheap && keytab_count(s->keys) == 0)
			return "buffered events have their keys";
	}
	if (evb != j->ev_bytes)
		return "the running total of bytes is what the events hold";
	return NULL;
}

int ijoin_parse_within(const char *opt, const char *arg, int64_t *low,
		       int64_t *high, char *err, size_t errn)
{
	const char *comma = strchr(arg, ','), *text = arg, *why;
	char lowt[64];
	if (!comma) {
		int64_t d;
		if (duration_parse(text, false, &d, &why))
			goto bad;
		*low = -d;
		*high = d;
		return 0;
	}
	size_t n = (size_t)(comma - arg);
	if (n >= sizeof lowt)
		n = sizeof lowt - 1;
	memcpy(lowt, arg, n);
	lowt[n] = 0;
	text = lowt;
	if (duration_parse(text, true, low, &why))
		goto bad;
	text = comma + 1;
	if (duration_parse(text, true, high, &why))
		goto bad;
	if (*low > *high) {
		snprintf(err, errn, "invalid %s '%s': LOW must not exceed HIGH",
			 opt, arg);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errn, "invalid duration '%s' for %s: %s", text, opt, why);
	return -1;
}
