/* capi.c - libxgboost's C API (Debian's libxgboost-dev) on the same rows
 *
 *   capi MODEL ROWS NCOL
 *
 * Three ways, each timed per call: a DMatrix made per row and predicted
 * (XGDMatrixCreateFromMat, XGBoosterPredict), the in-place prediction of
 * one row (XGBoosterPredictFromDense), and batches of 256 rows through a
 * DMatrix. One thread (nthread=1), as es-infer has.
 */
#include <xgboost/c_api.h>

#include "rows.h"

#define CHECK(call)                                                        \
	do {                                                               \
		if ((call) != 0) {                                         \
			fprintf(stderr, "%s: %s\n", #call, XGBGetLastError()); \
			exit(1);                                           \
		}                                                          \
	} while (0)

static double dmatrix_predict(BoosterHandle h, const float *x, size_t rows,
			      int ncol)
{
	DMatrixHandle dm;
	bst_ulong len;
	const float *out;
	CHECK(XGDMatrixCreateFromMat(x, rows, (bst_ulong)ncol, NAN, &dm));
	CHECK(XGBoosterPredict(h, dm, 0, 0, 0, &len, &out));
	double s = 0;
	for (size_t i = 0; i < rows; i++)
		s += out[i * (len / rows)];
	XGDMatrixFree(dm);
	return s;
}

static double inplace_predict(BoosterHandle h, const float *x, int ncol)
{
	char arr[256];
	const bst_ulong *shape;
	bst_ulong dim;
	const float *out;
	snprintf(arr, sizeof arr, "{\"data\": [%lu, true], \"shape\": [1, %d], "
		 "\"typestr\": \"<f4\", \"version\": 3}",
		 (unsigned long)(uintptr_t)x, ncol);
	CHECK(XGBoosterPredictFromDense(h, arr, "{\"type\": 0, \"training\": false, "
		"\"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false, "
		"\"missing\": NaN, \"cache_id\": 0}", NULL, &shape, &dim, &out));
	return out[0];
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: capi MODEL ROWS NCOL\n");
		return 2;
	}
	BoosterHandle h;
	int64_t t0 = now_ns();
	CHECK(XGBoosterCreate(NULL, 0, &h));
	CHECK(XGBoosterLoadModel(h, argv[1]));
	CHECK(XGBoosterSetParam(h, "nthread", "1"));
	printf("load: %.2f ms\n", (double)(now_ns() - t0) / 1e6);
	int ncol = atoi(argv[3]);
	size_t n, nb = 0;
	float *x = rows_read(argv[2], ncol, &n);
	int64_t *ns = malloc(n * sizeof *ns);
	double s1 = 0, s2 = 0, s3 = 0;
	int64_t cpu = 0;
	for (int pass = 0; pass < 2; pass++) {
		cpu = cpu_ns();
		for (size_t i = 0; i < n; i++) {
			int64_t a = now_ns();
			s1 += dmatrix_predict(h, x + i * (size_t)ncol, 1, ncol);
			ns[i] = now_ns() - a;
		}
		cpu = cpu_ns() - cpu;
	}
	report("libxgboost DMatrix, 1 row", ns, n, 1, cpu);
	for (int pass = 0; pass < 2; pass++) {
		cpu = cpu_ns();
		for (size_t i = 0; i < n; i++) {
			int64_t a = now_ns();
			s2 += inplace_predict(h, x + i * (size_t)ncol, ncol);
			ns[i] = now_ns() - a;
		}
		cpu = cpu_ns() - cpu;
	}
	report("libxgboost in-place, 1 row", ns, n, 1, cpu);
	for (int pass = 0; pass < 2; pass++) {
		cpu = cpu_ns();
		nb = 0;
		for (size_t i = 0; i + 256 <= n; i += 256) {
			int64_t a = now_ns();
			s3 += dmatrix_predict(h, x + i * (size_t)ncol, 256, ncol);
			ns[nb++] = now_ns() - a;
		}
		cpu = cpu_ns() - cpu;
	}
	report("libxgboost DMatrix, batch of 256", ns, nb, 256, cpu);
	printf("checksum %.6f %.6f\n", s1 / 2, s2 / 2);
	XGBoosterFree(h);
	free(x);
	free(ns);
	return 0;
}
