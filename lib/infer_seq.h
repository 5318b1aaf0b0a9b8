/* infer_seq.h - es-infer --sequence: the last N readings of each key
 *
 * A model over a sliding window (an autoencoder, a 1-D CNN, trees over
 * lagged features) takes the last N feature vectors of a key, oldest
 * first: element t*F + f of its input is feature f of the t-th reading
 * (a [1, N*F] or [1, N, F] tensor, the same floats in the same order).
 * Each key's window is a ring of N*F floats in a block of lib/keyed.c,
 * counted against --max-state and capped by --max-keys: at a cap the
 * least recently seen key is forgotten (said once, counted as evicted),
 * and starts again if it comes back. Until a key has N readings its
 * records are "warming": written with null outputs, counted.
 */
#ifndef ES_INFER_SEQ_H
#define ES_INFER_SEQ_H

#include <stdbool.h>
#include <stddef.h>
#include "fieldset.h"
#include "keyed.h"
#include "path.h"
#include "record.h"

#define INFER_SEQ_MAX 100000	/* the longest --sequence */

/* What the options say (--sequence, --key, --max-keys, --max-state). */
struct infer_seq_conf {
	long n;			/* readings per window; 0: no --sequence */
	struct path *kpaths;	/* --key */
	int nkeys;
	long max_keys;
	size_t max_state;
};

struct infer_seq {
	const struct infer_seq_conf *cfg;	/* in force */
	int nfeat;		/* F */
	int *kslot;		/* the key fields' slots */
	struct keyed *keys;	/* blocks: struct of infer_seq.c */
	float *x;		/* the window handed out, N*F */
	struct scratch sc;
	unsigned long long warming;
	struct keyed_counts last;	/* of tables freed */
	unsigned long long evicted_before;	/* by tables replaced */
};

/* The windows of nfeat features under c (which must outlive s); the key
 * fields are added to fs. */
void infer_seq_init(struct infer_seq *s, const struct infer_seq_conf *c,
		    int nfeat, struct fieldset *fs);
/*
 * A reload between two records: the windows are kept when they mean the
 * same under nc (the same keys, N and features: same is the caller's
 * word on the features), else every key starts again. The new caps apply
 * at once. What was done goes to said.
 */
void infer_seq_reconf(struct infer_seq *s, const struct infer_seq_conf *nc,
		      int nfeat, bool same, struct fieldset *fs, char *said,
		      size_t n);
/*
 * A reload from windows of the features a (on: s is in use) to nc's of
 * the features b: s set up, reconfigured (kept if the keys, N and the
 * features' paths are the same) or freed; *on tells which. Returns what
 * infer_seq_reconf wrote to said, or 0.
 */
int infer_seq_switch(struct infer_seq *s, bool *on,
		     const struct infer_seq_conf *nc, const struct path *a,
		     int na, const struct path *b, int nb, struct fieldset *fs,
		     char *said, size_t n);
/* Whether a and b read the same series (keys and N). */
bool infer_seq_same(const struct infer_seq_conf *a,
		    const struct infer_seq_conf *b);
/* Adds x (nfeat values) to the window of rec's key. Returns the window
 * (N*nfeat floats, oldest first, valid until the next call), or NULL
 * while the key has fewer than N readings (counted as warming). */
const float *infer_seq_push(struct infer_seq *s, const struct record *rec,
			    const float *x);
/* --stats: ",\"warming\":..,\"keys\":..,\"evicted\":..,\"state_bytes\":..",
 * still after infer_seq_free. */
void infer_seq_stats(const struct infer_seq *s, char *buf, size_t n);
/* Frees the windows; the counters stay for --stats. */
void infer_seq_free(struct infer_seq *s);

#endif
