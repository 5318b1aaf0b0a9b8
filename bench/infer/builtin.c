/* builtin.c - es-infer's evaluator (lib/model.h) one row at a time
 *
 *   builtin MODEL ROWS NCOL   (linked with obj/libedgestream.a, -ljansson)
 *
 * Each row is predicted alone and timed alone; a checksum of the outputs
 * is printed so that the work cannot be optimised away and the two
 * programs can be compared.
 */
#include "rows.h"
#include "model.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: builtin MODEL ROWS NCOL\n");
		return 2;
	}
	char err[512];
	int64_t t0 = now_ns();
	struct model *m = model_load(argv[1], err, sizeof err);
	if (!m) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("load: %.2f ms\n", (double)(now_ns() - t0) / 1e6);
	int ncol = atoi(argv[3]);
	size_t n;
	float *x = rows_read(argv[2], ncol, &n);
	float y[64];
	int64_t *ns = malloc(n * sizeof *ns);
	double sum = 0;
	int64_t cpu = 0;
	for (int pass = 0; pass < 2; pass++) {	/* the first warms the caches */
		cpu = cpu_ns();
		for (size_t i = 0; i < n; i++) {
			int64_t a = now_ns();
			model_predict(m, x + i * (size_t)ncol, y);
			ns[i] = now_ns() - a;
			sum += y[0];
		}
		cpu = cpu_ns() - cpu;
	}
	report("es-infer evaluator, 1 row", ns, n, 1, cpu);
	printf("checksum %.6f\n", sum / 2);
	model_free(m);
	free(x);
	free(ns);
	return 0;
}
