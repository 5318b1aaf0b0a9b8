/* rows.h - what the two latency benchmarks share: the rows, the clock,
 * the figures. Rows are a text matrix, one row a line, "nan" for a
 * missing value (bench/infer/run writes it from rows.ndjson). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static float *rows_read(const char *path, int ncol, size_t *nrows)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t n = 0, cap = 1024;
	float *x = malloc(cap * (size_t)ncol * sizeof *x);
	char tok[64];
	while (fscanf(f, "%63s", tok) == 1) {
		if (n == cap * (size_t)ncol) {
			cap *= 2;
			x = realloc(x, cap * (size_t)ncol * sizeof *x);
		}
		x[n++] = strtof(tok, NULL);
	}
	fclose(f);
	*nrows = n / (size_t)ncol;
	return x;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time of the process: robust to a machine shared with others,
 * where the wall clock of a call includes the time it was preempted. */
static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* One line: what, rows, the CPU time of the timed pass and the mean,
 * median and p99 of the calls' wall time, per row in microseconds. */
static void report(const char *what, int64_t *ns, size_t n, size_t per,
		   int64_t cpu)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)ns[i];
	qsort(ns, n, sizeof *ns, cmp_i64);
	printf("%-34s %6zu rows  cpu %7.3f  mean %8.3f  p50 %7.3f  p99 %9.3f us/row\n",
	       what, n * per, (double)cpu / 1000 / (double)(n * per),
	       sum / (double)n / 1000 / (double)per,
	       (double)ns[n / 2] / 1000 / (double)per,
	       (double)ns[n * 99 / 100] / 1000 / (double)per);
}
