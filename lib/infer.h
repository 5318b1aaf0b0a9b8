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
#include "edit.h"
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
};

struct infer;
/*
 * Binds spec to the model m (kept, freed with the engine): the feature
 * paths (and the output paths) are added to fs. NULL with a message in
 * err when they do not fit (a count of features or labels that is not the
 * model's, a model that names no features and no -f).
 */
struct infer *infer_new(const struct infer_spec *spec, struct model *m,
			struct fieldset *fs, char *err, size_t errlen);
const struct model *infer_model(const struct infer *in);

/*
 * Reads rec's features, predicts, and sets the outputs in ed (begun on
 * rec), their text in sc. Returns 0, or -1 after reporting rec as bad
 * (a string where a number is needed; a missing feature the model cannot
 * take without --fill). *ns: the time the model took, in nanoseconds.
 */
int infer_record(struct infer *in, const struct record *rec,
		 struct edit *ed, struct scratch *sc, int64_t *ns);
/* After infer_record: slots (a copy of the record's) with the output
 * fields as they now are, for an expression over them. */
void infer_slots(struct infer *in, struct edit *ed, const struct fieldset *fs,
		 struct span *slots);
void infer_free(struct infer *in);
/* --check: the model, its inputs (with the fields they come from) and
 * the fields its outputs go to, one a line. */
void infer_describe(const struct infer *in, FILE *f);

/* The shortest text that reads back as f (a JSON number); buf needs 32
 * bytes. Returns its length. */
size_t infer_float_text(float f, char *buf);

#endif
