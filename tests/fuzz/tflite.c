/* tflite.c - fuzz target: the TensorFlow Lite loader (lib/tflite.cc)
 *
 * The input is a model file, loaded with model_load_mem as es-infer loads
 * one: the TFLite backend (linked with this target) first loads it in a
 * forked child, since Arm NN 20.08 itself crashes on some corrupt files
 * (not ours to fix); a crash there is the loader's message. So what is
 * fuzzed is our side: the sniffing, the guard, the checks of the graph's
 * inputs and outputs, the error path (every exception caught, one line),
 * and predicting with what the loader said. A file that does not load has
 * a one-line message; one that loads is described sanely (a [1, T, F]
 * input of T*F values) and predicts without reading or writing outside
 * its vectors (AddressSanitizer) the same outputs twice, for zeros and
 * for values taken from the input's bytes.
 */
#include <math.h>

#include "fuzz.h"
#include "model.h"
#include "tflite.h"

/* Outputs equal, NaN included. */
static bool same(const float *a, const float *b, int n)
{
	for (int i = 0; i < n; i++)
		if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i]))))
			return false;
	return true;
}

static void exercise(const struct model *m, const uint8_t *data, size_t size)
{
	const struct model_info *mi = &m->info;
	FUZZ_CHECK(mi->ninputs >= 1 && mi->noutputs >= 1);
	FUZZ_CHECK(mi->kind[0] != 0 && !mi->missing_ok);
	FUZZ_CHECK(mi->steps >= 0 && (!mi->steps || mi->ninputs % mi->steps == 0));
	FUZZ_CHECK(mi->task == MODEL_REGRESSION ? mi->noutputs == 1
		   : mi->nclasses == mi->noutputs);
	/* exact sizes, so that a read or write past the vectors shows */
	size_t nx = (size_t)mi->ninputs, ny = (size_t)mi->noutputs;
	float *x = calloc(nx, sizeof *x);
	float *y = malloc(ny * sizeof *y), *y2 = malloc(ny * sizeof *y2);
	FUZZ_CHECK(x && y && y2);
	for (int round = 0; round < 2; round++) {
		model_predict(m, x, y);
		model_predict(m, x, y2);
		FUZZ_CHECK(same(y, y2, mi->noutputs));
		for (size_t i = 0; i < nx; i++)
			x[i] = (float)data[i % size] - 128;
	}
	free(x);
	free(y);
	free(y2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	char err[512] = "";
	/* the target is linked with the backend: model.c's weak reference
	 * finds it */
	FUZZ_CHECK(&tflite_backend != NULL);
	struct model *m = model_load_mem(buf, size, "fuzz", err, sizeof err);
	if (m) {
		exercise(m, data, size);
		model_free(m);
	} else {
		FUZZ_CHECK(err[0] != 0 && !strchr(err, '\n'));
	}
	free(buf);
	return 0;
}
