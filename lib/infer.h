/* infer.h - es-infer's engine: a record's features in, a model's outputs out
 *
 * Bound once to a model (and again when a reload brings another), it reads
 * the feature fields of each record into a float vector, runs the model
 * and sets the output fields in the record being edited:
 *
 *   regression   NAME: the score
 *   classifier   NAME: the class (its --labels name, else its index);
 *                with probabilities, NAME_p: the probability of class 1
 *                (binary), or an object of one probability per class
 *                (multi-class) keyed by label
 *
 * Numbers are written with the fewest digits that read back as the same
 * float32 (the models compute in float32; more digits would be noise).
 */
#ifndef ES_INFER_H
#define ES_INFER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "agg.h"
#include "edit.h"
#include "infer_seq.h"
#include "json.h"
#include "model.h"
#include "path.h"
#include "record.h"

struct infer_spec {
	struct path *feat;	/* -f: the feature paths; NULL: the model's names */
	int nfeat;
	const char *as;		/* NULL: score (regression) or class */
	char **labels;		/* --labels, or NULL */
	int nlabels;
	bool probabilities;
	bool fill;		/* --fill given: missing features take fill_value */
	double fill_value;
	long sequence;		/* --sequence N (lib/infer_seq.h); 0: none */
};

/* --labels L0,L1 and -f F1,F2 into sp, replacing a list given before;
 * -1 with why in err (the list as it was, or part of it, stays to be
 * freed). */
int infer_spec_labels(struct infer_spec *sp, const char *arg, char *err,
		      size_t errlen);
int infer_spec_features(struct infer_spec *sp, const char *arg, char *err,
			size_t errlen);
/* Frees the lists of sp. */
void infer_spec_free(struct infer_spec *sp);

struct infer;
/*
 * Binds spec to the model m (kept, freed with the engine): the feature
 * paths (and the output paths) are added to fs. NULL with a message in
 * err when they do not fit (a count of features or labels that is not the
 * model's, a model that names no features and no -f; with --sequence N,
 * a model that does not take N*F inputs, or a [1, T, F] input whose T is
 * not N).
 */
struct infer *infer_new(const struct infer_spec *spec, struct model *m,
			struct fieldset *fs, char *err, size_t errlen);
const struct model *infer_model(const struct infer *in);

/*
 * Reads rec's features, predicts, and sets the outputs in ed (begun on
 * rec), their text in sc. Returns 0, or -1 after reporting rec as bad
 * (a string where a number is needed; a missing feature the model cannot
 * take without --fill). *ns: the time the model took, in nanoseconds.
 * With seq (--sequence), the features join the window of rec's key and
 * the model reads the window; while it is not full, the outputs are set
 * to null and 1 is returned (no inference: *ns is 0).
 */
int infer_record(struct infer *in, const struct record *rec,
		 struct infer_seq *seq, struct edit *ed, struct scratch *sc,
		 int64_t *ns);
/* The feature paths bound (for a reload to compare). */
const struct path *infer_features(const struct infer *in, int *n);
/* After infer_record: slots (a copy of the record's) with the output
 * fields as they now are, for an expression over them. */
void infer_slots(struct infer *in, struct edit *ed, const struct fieldset *fs,
		 struct span *slots);
void infer_free(struct infer *in);
/* --check: the model, its inputs (with the fields they come from; with
 * --sequence, the window's shape) and the fields its outputs go to, one
 * a line. */
void infer_describe(const struct infer *in, const struct infer_seq *seq,
		    FILE *f);

/* --stats: the inferences and the model's time (mean and p99, in us). */
struct infer_clock {
	unsigned long long inferences;
	struct agg_spec *spec;
	void *state;		/* NULL once freed: then */
	double mean, p99;	/* the results kept */
};
void infer_clock_init(struct infer_clock *c);
/* One inference that took ns nanoseconds. */
void infer_clock_add(struct infer_clock *c, int64_t ns);
/* ",\"inferences\":..,\"infer_us_mean\":..,\"infer_us_p99\":.." */
void infer_clock_stats(const struct infer_clock *c, char *buf, size_t n);
/* Frees the time's state (the counters stay for --stats). */
void infer_clock_free(struct infer_clock *c);

/* The shortest text that reads back as f (a JSON number); buf needs 32
 * bytes. Returns its length. */
size_t infer_float_text(float f, char *buf);

#endif
