/* dedup.c - the keys remembered to drop duplicates, bounded */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "keyed.h"
#include "diag.h"
#include "mem.h"
#include "size.h"

/* cfg's fields in fs (which only grows). */
static void setup_fields(struct dedup *d, struct fieldset *fs)
{
	const char *err;
	free(d->cfg->slots);
	d->cfg->slots = xmalloc((size_t)d->cfg->nkey * sizeof *d->cfg->slots);
	for (int i = 0; i < d->cfg->nkey; i++)
		d->cfg->slots[i] = fieldset_add(fs, &d->cfg->key[i]);
	if (d->cfg->within) {
		struct path tp;
		path_parse_all(d->cfg->time_field, &tp, &err);	/* checked */
		d->cfg->time_slot = fieldset_add(fs, &tp);
		path_free(&tp);
	}
}

static long ring_size(const struct dedup_conf *c)
{
	return c->within ? 0 : c->last ? c->last : c->max_keys;
}

/* ---- remembered keys ---- */

static void ids_fit(struct dedup *d, int id)
{
	if (id < d->id_cap)
		return;
	int cap = d->id_cap ? d->id_cap : 1024;
	while (cap <= id)
		cap *= 2;
	d->key_time = xrealloc(d->key_time, (size_t)cap * sizeof *d->key_time);
	d->key_gen = xrealloc(d->key_gen, (size_t)cap * sizeof *d->key_gen);
	memset(d->key_gen + d->id_cap, 0,
	       (size_t)(cap - d->id_cap) * sizeof *d->key_gen);
	d->id_cap = cap;
}

/* A heap entry of a key that has passed again since is stale. */
static bool heap_live(struct dedup *d, const struct dedup_hitem *h)
{
	return d->key_gen[h->id] == h->gen && d->key_time[h->id] == h->t;
}

/* Moves heap[i] down to its place. */
static void sift_down(struct dedup *d, size_t i)
{
	struct dedup_hitem it = d->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= d->heap_n)
			break;
		if (c + 1 < d->heap_n && d->heap[c + 1].t < d->heap[c].t)
			c++;
		if (d->heap[c].t >= it.t)
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	d->heap[i] = it;
}

/*
 * Keeps the live entries only. A key that passes again far from its copy
 * leaves a stale entry, which goes when its time expires; but times out of
 * order within --lateness (one key at 0 s, 1.5 s, 0 s... under --within
 * 1s --lateness 2s) would pile them up without bound. Done when the heap
 * is full and at least half stale: O(1) a push on the whole, and the heap
 * stays within four entries a key.
 */
static void heap_compact(struct dedup *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->heap_n; i++)
		if (heap_live(d, &d->heap[i]))
			d->heap[n++] = d->heap[i];
	d->heap_n = n;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(d, i);
}

static void heap_push(struct dedup *d, int64_t t, int id)
{
	if (d->heap_n == d->heap_cap && d->heap_n / 2 >= (size_t)keytab_count(d->keys))
		heap_compact(d);
	if (d->heap_n == d->heap_cap) {
		d->heap_cap = d->heap_cap ? d->heap_cap * 2 : 1024;
		d->heap = xrealloc(d->heap, d->heap_cap * sizeof *d->heap);
	}
	size_t i = d->heap_n++;
	while (i > 0 && d->heap[(i - 1) / 2].t > t) {
		d->heap[i] = d->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	d->heap[i] = (struct dedup_hitem){ t, id, d->key_gen[id] };
}

static struct dedup_hitem heap_pop(struct dedup *d)
{
	struct dedup_hitem top = d->heap[0];
	d->heap[0] = d->heap[--d->heap_n];
	if (d->heap_n)
		sift_down(d, 0);
	return top;
}

static void forget(struct dedup *d, int id)
{
	d->key_gen[id]++;
	keytab_remove(d->keys, id);
}

/* --within: forgets the keys passed before limit. */
static void expire(struct dedup *d, int64_t limit)
{
	while (d->heap_n && d->heap[0].t < limit) {
		struct dedup_hitem h = heap_pop(d);
		if (heap_live(d, &h))
			forget(d, h.id);
	}
}

static void warn_cap(struct dedup *d)
{
	if (d->cap_warned)
		return;
	d->cap_warned = true;
	diag_warn("--max-keys %ld reached: forgetting the oldest keys early, so "
		  "their duplicates may pass (counted as \"evicted\" in --stats)",
		  d->cfg->max_keys);
}

static void warn_state(struct dedup *d)
{
	char size[32];
	if (d->state_warned)
		return;
	d->state_warned = true;
	diag_warn("--max-state %s reached: forgetting the oldest keys early, so "
		  "their duplicates may pass (counted as \"evicted\" in --stats)",
		  size_text(d->cfg->max_state, size, sizeof size));
}

/* Would n more bytes of keys be over --max-state? (O(1)) */
static bool over(struct dedup *d, size_t n)
{
	return keytab_bytes(d->keys) + n > d->cfg->max_state;
}

/* --within: forgets the key that passed at the earliest time. */
static void heap_evict(struct dedup *d)
{
	while (d->heap_n) {
		struct dedup_hitem h = heap_pop(d);
		if (heap_live(d, &h)) {
			forget(d, h.id);
			d->evicted++;
			return;
		}
	}
}

/* The counting modes: forgets the key that passed first. */
static void ring_drop(struct dedup *d)
{
	forget(d, d->ring[d->ring_head]);
	d->ring_head = (d->ring_head + 1) % d->ring_cap;
	d->ring_n--;
}

/* Forgets the oldest keys until n more bytes fit in --max-state (or none
 * is left: a key alone over it is still remembered). Every key is in the
 * ring, or has one live heap entry. */
static void fit_state(struct dedup *d, size_t n)
{
	while (over(d, n) && keytab_count(d->keys) > 0) {
		warn_state(d);
		if (d->cfg->within) {
			heap_evict(d);
		} else {
			ring_drop(d);
			d->evicted++;
		}
	}
}

/* Makes room for one more key of n bytes: at --max-keys (or --last N)
 * the oldest key goes, then more of them while over --max-state. */
static void make_room(struct dedup *d, size_t n)
{
	if (d->cfg->within && keytab_count(d->keys) >= d->cfg->max_keys) {
		warn_cap(d);
		heap_evict(d);
	} else if (!d->cfg->within && d->ring_n == d->ring_cap) {
		if (!d->cfg->last) {
			warn_cap(d);
			d->evicted++;
		}
		ring_drop(d);
	}
	fit_state(d, n);
}

static void remember(struct dedup *d, int64_t t)
{
	make_room(d, d->key.len);
	int id = keytab_add_hashed(d->keys, d->key_hash, d->key.buf, d->key.len);
	ids_fit(d, id);
	d->key_gen[id]++;
	d->key_time[id] = t;
	if (d->cfg->within) {
		heap_push(d, t, id);
	} else {
		if (!d->ring)
			d->ring = xmalloc((size_t)d->ring_cap * sizeof *d->ring);
		d->ring[(d->ring_head + d->ring_n) % d->ring_cap] = id;
		d->ring_n++;
	}
	if (keytab_count(d->keys) > d->peak_keys)
		d->peak_keys = keytab_count(d->keys);
	if (keytab_bytes(d->keys) > d->peak_bytes)
		d->peak_bytes = keytab_bytes(d->keys);
}

/* ---- per record ---- */

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* The record's key into `key`; false (reported) if a key field is missing. */
static bool make_key(struct dedup *d, const struct record *rec)
{
	d->key.len = 0;
	for (int i = 0; i < d->cfg->nkey; i++) {
		const struct span *sp = &rec->slots[d->cfg->slots[i]];
		struct value v;
		if (sp->kind == SPAN_MISSING || value_load(sp, &v, &d->sc)) {
			snprintf(d->msg, sizeof d->msg, "missing key field '%s'",
				 d->cfg->key[i].text);
			record_bad(rec, d->msg);
			return false;
		}
		key_append(&d->key, &v);
	}
	return true;
}

/* Event time for --within; false (reported) if it cannot be read. */
static bool event_time(struct dedup *d, const struct record *rec, int64_t *t)
{
	return record_time(rec, &rec->slots[d->cfg->time_slot], d->cfg->time_field,
			   &d->unit, &d->sc, t, NULL) == 0;
}

/* True if rec (its key made) is to be written. */
static bool judge(struct dedup *d, const struct record *rec, int64_t t)
{
	if (d->cfg->within) {
		int64_t wm = sat_add(d->max_t, -d->cfg->lateness);
		if (d->have_time && t < sat_add(wm, -d->cfg->within)) {
			wm_late(rec, t, wm);
			return false;
		}
		if (!d->have_time || t > d->max_t)
			d->max_t = t;
		d->have_time = true;
		wm = sat_add(d->max_t, -d->cfg->lateness);
		expire(d, sat_add(sat_add(wm, -d->cfg->within), -d->cfg->within));
	}
	d->key_hash = keytab_hash(d->key.buf, d->key.len);
	int id = keytab_find_hashed(d->keys, d->key_hash, d->key.buf,
				    d->key.len);
	if (id < 0) {
		remember(d, t);
		return true;
	}
	if (d->cfg->within) {
		int64_t dt = t > d->key_time[id] ? t - d->key_time[id]
						 : d->key_time[id] - t;
		if (dt > d->cfg->within) {
			/* Far from the passed copy: a new event, remembered
			 * from now on (the old heap entry goes stale). */
			d->key_gen[id]++;
			d->key_time[id] = t;
			heap_push(d, t, id);
			return true;
		}
	}
	d->duplicates++;
	return false;
}


/* A record whose time the watermark rule accepted; a held one comes back
 * later, its key to be made again. */
static void timed_record(const struct record *rec, int64_t t, void *ctx)
{
	struct dedup *d = ctx;
	if (rec != d->in_hand) {
		scratch_reset(&d->sc);
		if (!make_key(d, rec))
			return;
	}
	if (judge(d, rec, t))
		d->emit(rec, d->ctx);
}

void dedup_record(struct dedup *d, const struct record *rec)
{
	int64_t t = 0;
	scratch_reset(&d->sc);
	if (!make_key(d, rec))
		return;
	if (!d->cfg->within) {
		if (judge(d, rec, t))
			d->emit(rec, d->ctx);
		return;
	}
	if (!event_time(d, rec, &t))
		return;
	d->in_hand = rec;
	wm_event(&d->wmk, rec, t, timed_record, d);
	d->in_hand = NULL;
}

/* ---- reloading --config ---- */

/* Forgets every key: a new key definition, or times not comparable. */
static void forget_all(struct dedup *d)
{
	keytab_free(d->keys);
	d->keys = keytab_new();
	d->heap_n = 0;
	free(d->ring);
	d->ring = NULL;
	d->ring_head = d->ring_n = 0;
	d->have_time = false;
	d->max_t = 0;
	wm_reset(&d->wmk);
}

/* The ring at a new size, the keys in the order they passed; past the
 * size the oldest are forgotten (evicted, if by --max-keys). */
static void ring_resize(struct dedup *d, long cap, bool by_max_keys)
{
	if (d->ring) {
		int *nr = xmalloc((size_t)cap * sizeof *nr);
		long n = 0;
		for (long i = 0; i < d->ring_n; i++) {
			int id = d->ring[(d->ring_head + i) % d->ring_cap];
			if (d->ring_n - i > cap) {
				forget(d, id);
				if (by_max_keys) {
					warn_cap(d);
					d->evicted++;
				}
			} else {
				nr[n++] = id;
			}
		}
		free(d->ring);
		d->ring = nr;
		d->ring_n = n;
		d->ring_head = 0;
	}
	d->ring_cap = cap;
}

/* --within under a smaller --max-keys: the oldest keys go at once. */
static void heap_trim(struct dedup *d)
{
	while (keytab_count(d->keys) > d->cfg->max_keys && d->heap_n) {
		warn_cap(d);
		heap_evict(d);
	}
}

static bool paths_same(const struct dedup_conf *a, const struct dedup_conf *b)
{
	return keyed_same_keys(a->key, a->nkey, b->key, b->nkey);
}

/* Do the remembered keys still mean the same under nc? Their bytes come
 * from the key fields; under --within their times from the time field,
 * and the ring of the counting modes has no times. */
static bool keys_fit(struct dedup *d, const struct dedup_conf *nc)
{
	if (!paths_same(nc, d->cfg) || !nc->within != !d->cfg->within)
		return false;
	return !nc->within || (!strcmp(nc->time_field, d->cfg->time_field) &&
			       nc->unit == d->cfg->unit);
}

/* The settings as a --key ... line, for the reload message. */
static void conf_text(struct dedup *d, char *buf, size_t n)
{
	char mode[64], size[32];
	if (d->cfg->within)
		snprintf(mode, sizeof mode, "--within %s", d->cfg->within_text);
	else if (d->cfg->last)
		snprintf(mode, sizeof mode, "--last %ld", d->cfg->last);
	else
		snprintf(mode, sizeof mode, "--max-keys %ld", d->cfg->max_keys);
	snprintf(buf, n, "--key %s %s --max-state %s", d->cfg->key_text, mode,
		 size_text(d->cfg->max_state, size, sizeof size));
}

/*
 * On SIGHUP, or with --watch-config when the file changed. The same key
 * definition keeps the remembered keys, and the new --within, --lateness,
 * --last, --max-keys or --max-state applies to them from the next record
 * (a smaller cap forgets the oldest at once); another one forgets them.
 * --late and the common options keep their start-up values.
 */
void dedup_reconf(struct dedup *d, struct dedup_conf *nc,
		  struct fieldset *fs, char *said, size_t n)
{
	bool keep = keys_fit(d, nc);
	int had = keytab_count(d->keys);
	/* Records held for confirmation were read under the old fields. */
	wm_end(&d->wmk, timed_record, d);
	if (!keep)
		forget_all(d);
	if (nc->max_state != d->cfg->max_state)
		d->state_warned = false;	/* the new limit is said when reached */
	d->cfg = nc;
	if (!keep)
		d->unit = d->cfg->unit;	/* else as guessed */
	setup_fields(d, fs);
	wm_set(&d->wmk, d->cfg->within ? d->cfg->max_ahead : 0,
	       fieldset_count(fs));
	if (d->cfg->within)
		heap_trim(d);
	else if (ring_size(d->cfg) != d->ring_cap)
		ring_resize(d, ring_size(d->cfg), !d->cfg->last);
	fit_state(d, 0);
	char text[256];
	conf_text(d, text, sizeof text);
	if (keep)
		snprintf(said, n, "%s; %d remembered key%s kept", text,
			 keytab_count(d->keys),
			 keytab_count(d->keys) == 1 ? "" : "s");
	else
		snprintf(said, n, "%s; %d remembered key%s forgotten", text, had,
			 had == 1 ? "" : "s");
}

void dedup_init(struct dedup *d, struct dedup_conf *c, struct fieldset *fs)
{
	memset(d, 0, sizeof *d);
	d->cfg = c;
	setup_fields(d, fs);
}

void dedup_start(struct dedup *d, dedup_emit_fn emit, void *ctx, int nslots)
{
	d->emit = emit;
	d->ctx = ctx;
	wm_init(&d->wmk, d->cfg->within ? d->cfg->max_ahead : 0, nslots);
	d->unit = d->cfg->unit;
	d->ring_cap = ring_size(d->cfg);
	d->keys = keytab_new();
	out_init(&d->key, -1, "key");
}

int dedup_idle(struct dedup *d)
{
	return wm_idle(&d->wmk, timed_record, d);
}

void dedup_finish(struct dedup *d)
{
	wm_end(&d->wmk, timed_record, d);
}

void dedup_stats(const struct dedup *d, char *buf, size_t n)
{
	snprintf(buf, n, ",\"duplicates\":%llu,\"keys\":%ld,\"evicted\":%llu,"
		 "\"state_bytes\":%zu", d->duplicates, d->peak_keys, d->evicted,
		 d->peak_bytes);
}

void dedup_free(struct dedup *d)
{
	wm_free(&d->wmk);
	keytab_free(d->keys);
	out_free(&d->key);
	scratch_free(&d->sc);
	free(d->key_time);
	free(d->key_gen);
	free(d->ring);
	free(d->heap);
}
