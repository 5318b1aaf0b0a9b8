/* model.h - a trained model behind one small interface (es-infer)
 *
 * A model is loaded once from a file, says what it takes and gives
 * (model_info), and predicts one feature vector at a time. The backend is
 * chosen by the file's content, not its name: each backend looks at the
 * first bytes (model_backend.sniff) and the first that knows them loads
 * the file. The built-in one evaluates XGBoost's JSON model format
 * (xgb.c). Another runtime (TensorFlow Lite through Arm NN, ONNX Runtime
 * when Debian packages it) is one more struct model_backend in the table
 * of model.c, in a file of its own, linked only by es-infer.
 *
 * Inputs and outputs are float32, as every backend computes them; a
 * missing input is NaN, taken where the model has a rule for it
 * (model_info.missing_ok: a tree's default direction).
 */
#ifndef ES_MODEL_H
#define ES_MODEL_H

#include <stdbool.h>
#include <stddef.h>

/* What the model computes. */
enum model_task {
	MODEL_REGRESSION,	/* one number */
	MODEL_BINARY,		/* one number: the probability of class 1 */
	MODEL_MULTICLASS,	/* one probability per class */
};

struct model_info {
	enum model_task task;
	int ninputs;		/* the length of the feature vector */
	int steps;		/* an input of shape [1, steps, ninputs/steps]
				 * (a window of readings); 0: [1, ninputs] */
	char **input_names;	/* ninputs names, or NULL when the file has none */
	int noutputs;		/* the numbers predict writes */
	int nclasses;		/* classifiers: 2 or more; else 0 */
	bool missing_ok;	/* NaN inputs are taken (trees) */
	char kind[160];		/* "xgboost 1.7.4 gbtree, 3 trees, binary:logistic" */
};

struct model_backend {
	const char *name;
	/* Whether the file's first bytes look like this backend's format. */
	bool (*sniff)(const char *buf, size_t n);
	/* Loads a model from the whole file; NULL with a one-line message in
	 * err (never a crash, whatever the bytes). Fills *info. */
	void *(*load)(const char *buf, size_t n, struct model_info *info,
		      char *err, size_t errlen);
	/* x: ninputs values; out: noutputs values. Allocates nothing. */
	void (*predict)(const void *impl, const float *x, float *out);
	void (*free)(void *impl);
};

struct model {
	const struct model_backend *be;
	void *impl;
	struct model_info info;
};

/* The largest model file read (a corrupt size is a clear error). */
#define MODEL_MAX_BYTES (512u << 20)

/* Loads the model in the file at path; NULL with a one-line message in
 * err ("FILE: No such file or directory", "FILE: not a valid XGBoost
 * JSON model: why"). */
struct model *model_load(const char *path, char *err, size_t errlen);
/* Loads a model from bytes already read (name: for messages). */
struct model *model_load_mem(const char *buf, size_t n, const char *name,
			     char *err, size_t errlen);
static inline void model_predict(const struct model *m, const float *x,
				 float *out)
{
	m->be->predict(m->impl, x, out);
}
void model_free(struct model *m);

#endif
