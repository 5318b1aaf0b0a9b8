/* xgb.c - fuzz target: the model loader (lib/model.c, lib/xgb.c)
 *
 * The input is a model file, loaded with model_load_mem. A file that does
 * not load has a message; one that loads is described sanely and predicts
 * without reading outside its nodes (AddressSanitizer) for three feature
 * vectors: all missing, all zero, and values taken from the input's bytes.
 * Invariants: a classifier's outputs are probabilities (in [0,1], a
 * multi-class one's summing to 1 when finite); the same vector predicts
 * the same outputs twice.
 */
#include <math.h>

#include "fuzz.h"
#include "model.h"

static void check_outputs(const struct model_info *mi, const float *y)
{
	double sum = 0;
	for (int i = 0; i < mi->noutputs; i++) {
		if (mi->task != MODEL_REGRESSION)
			FUZZ_CHECK(isnan(y[i]) || (y[i] >= 0 && y[i] <= 1));
		sum += y[i];
	}
	if (mi->task == MODEL_MULTICLASS && isfinite(sum))
		FUZZ_CHECK(fabs(sum - 1) < 1e-4);
}

static void predict_twice(const struct model *m, const float *x, float *y,
			  float *y2)
{
	const struct model_info *mi = &m->info;
	model_predict(m, x, y);
	model_predict(m, x, y2);
	FUZZ_CHECK(memcmp(y, y2, (size_t)mi->noutputs * sizeof *y) == 0);
	check_outputs(mi, y);
}

static void exercise(const struct model *m, const uint8_t *data, size_t size)
{
	const struct model_info *mi = &m->info;
	FUZZ_CHECK(mi->ninputs >= 0 && mi->noutputs >= 1);
	FUZZ_CHECK(mi->kind[0] != 0);
	FUZZ_CHECK(mi->task == MODEL_REGRESSION ? mi->nclasses == 0
		   : mi->nclasses >= 2);
	if (mi->input_names)
		for (int i = 0; i < mi->ninputs; i++)
			fuzz_touch(mi->input_names[i], strlen(mi->input_names[i]));
	/* exact sizes, so that a read past the vectors shows */
	size_t nx = (size_t)mi->ninputs;
	float *x = malloc((nx ? nx : 1) * sizeof *x);
	float *y = malloc((size_t)mi->noutputs * sizeof *y);
	float *y2 = malloc((size_t)mi->noutputs * sizeof *y2);
	FUZZ_CHECK(x && y && y2);
	for (size_t i = 0; i < nx; i++)
		x[i] = NAN;
	predict_twice(m, x, y, y2);
	for (size_t i = 0; i < nx; i++)
		x[i] = 0;
	predict_twice(m, x, y, y2);
	for (size_t i = 0; i < nx; i++)
		x[i] = size ? (float)data[i % size] - 128 : 0;
	predict_twice(m, x, y, y2);
	free(x);
	free(y);
	free(y2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	char err[512] = "";
	struct model *m = model_load_mem(buf, size, "fuzz", err, sizeof err);
	if (m) {
		exercise(m, data, size);
		model_free(m);
	} else {
		FUZZ_CHECK(err[0] != 0);
	}
	free(buf);
	return 0;
}
