/* infer_seq.c - es-infer --sequence: the last N readings of each key */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer_seq.h"
#include "mem.h"

/* A key's window: a ring of N readings of F floats, the oldest at head
 * once full. */
struct kwin {
	float *ring;
	long count;		/* readings so far, up to N */
	long head;		/* where the next reading goes */
};

static void drop(void *state, void *ctx)
{
	(void)ctx;
	struct kwin *w = state;
	free(w->ring);
	w->ring = NULL;
}

static size_t window_bytes(const struct infer_seq *s)
{
	return (size_t)s->cfg->n * (size_t)s->nfeat * sizeof(float);
}

/* A new table of windows for s->cfg (the old one's counters kept). */
static void new_table(struct infer_seq *s)
{
	const struct infer_seq_conf *c = s->cfg;
	s->keys = keyed_new(sizeof(struct kwin), c->max_keys, c->max_state,
			    drop, s);
	keyed_set_evict(s->keys, "--max-keys",
			"forgetting the least recently seen key's readings",
			NULL);
	free(s->x);
	s->x = xmalloc(window_bytes(s) ? window_bytes(s) : 1);
}

void infer_seq_init(struct infer_seq *s, const struct infer_seq_conf *c,
		    int nfeat, struct fieldset *fs)
{
	memset(s, 0, sizeof *s);
	s->cfg = c;
	s->nfeat = nfeat;
	s->kslot = keyed_slots(fs, c->kpaths, c->nkeys, NULL);
	new_table(s);
}

bool infer_seq_same(const struct infer_seq_conf *a,
		    const struct infer_seq_conf *b)
{
	return a->n == b->n &&
	       keyed_same_keys(a->kpaths, a->nkeys, b->kpaths, b->nkeys);
}

/* The table's counters folded into s->last before it goes. */
static void close_table(struct infer_seq *s)
{
	struct keyed_counts kc = keyed_counts(s->keys, NULL);
	if (kc.peak > s->last.peak)
		s->last.peak = kc.peak;
	if (kc.peak_bytes > s->last.peak_bytes)
		s->last.peak_bytes = kc.peak_bytes;
	s->evicted_before += kc.evicted;
	keyed_free(s->keys);
	s->keys = NULL;
}

void infer_seq_reconf(struct infer_seq *s, const struct infer_seq_conf *nc,
		      int nfeat, bool same, struct fieldset *fs, char *said,
		      size_t n)
{
	same = same && nfeat == s->nfeat && infer_seq_same(s->cfg, nc);
	s->kslot = keyed_slots(fs, nc->kpaths, nc->nkeys, s->kslot);
	if (same) {
		keyed_reload(s->keys, true, said, n);
		s->cfg = nc;
		keyed_set_max(s->keys, nc->max_keys, nc->max_state);
		return;
	}
	/* windows of another length or of other readings: all start again
	 * (as keyed_reload says), in a table for the new size */
	keyed_reload(s->keys, false, said, n);
	close_table(s);
	s->cfg = nc;
	s->nfeat = nfeat;
	new_table(s);
}

int infer_seq_switch(struct infer_seq *s, bool *on,
		     const struct infer_seq_conf *nc, const struct path *a,
		     int na, const struct path *b, int nb, struct fieldset *fs,
		     char *said, size_t n)
{
	bool same = na == nb;
	for (int i = 0; same && i < na; i++)
		same = !strcmp(a[i].text, b[i].text);
	if (*on && nc->n) {
		infer_seq_reconf(s, nc, nb, same, fs, said, n);
		return (int)strlen(said);
	}
	if (*on) {
		infer_seq_free(s);
	} else if (nc->n) {
		struct infer_seq was = *s;	/* its counters, if used before */
		infer_seq_init(s, nc, nb, fs);
		s->warming = was.warming;
		s->last = was.last;
		s->evicted_before = was.evicted_before;
	}
	*on = nc->n > 0;
	return 0;
}

const float *infer_seq_push(struct infer_seq *s, const struct record *rec,
			    const float *x)
{
	long n = s->cfg->n;
	size_t f = (size_t)s->nfeat;
	bool fresh;
	scratch_reset(&s->sc);
	struct kwin *w = keyed_get(s->keys, rec->slots, s->kslot,
				   s->cfg->nkeys, &s->sc, &fresh);
	if (fresh) {
		w->ring = xmalloc(window_bytes(s) ? window_bytes(s) : 1);
		keyed_held(s->keys, w, window_bytes(s));	/* may forget others */
	}
	memcpy(w->ring + (size_t)w->head * f, x, f * sizeof *x);
	w->head = (w->head + 1) % n;
	if (w->count < n)
		w->count++;
	if (w->count < n) {
		s->warming++;
		return NULL;
	}
	/* oldest first: head .. N-1, then 0 .. head-1 */
	size_t older = (size_t)(n - w->head) * f;
	memcpy(s->x, w->ring + (size_t)w->head * f, older * sizeof *x);
	memcpy(s->x + older, w->ring, (size_t)w->head * f * sizeof *x);
	return s->x;
}

void infer_seq_stats(const struct infer_seq *s, char *buf, size_t n)
{
	struct keyed_counts kc = keyed_counts(s->keys, &s->last);
	if (s->keys) {
		if (s->last.peak > kc.peak)
			kc.peak = s->last.peak;
		if (s->last.peak_bytes > kc.peak_bytes)
			kc.peak_bytes = s->last.peak_bytes;
		kc.evicted += s->evicted_before;
	} else {
		kc.evicted = s->evicted_before;
	}
	snprintf(buf, n, ",\"warming\":%llu,\"keys\":%d,\"evicted\":%llu,"
		 "\"state_bytes\":%zu", s->warming, kc.peak, kc.evicted,
		 kc.peak_bytes);
}

void infer_seq_free(struct infer_seq *s)
{
	if (s->keys)
		close_table(s);
	free(s->kslot);
	s->kslot = NULL;
	free(s->x);
	s->x = NULL;
	scratch_free(&s->sc);
}
