/* value-test.c - unit driver for lib/value.c (tests/value.bats)
 *
 *   value-test fmt X...     number_format(strtod(X)) for each X, one a line
 *   value-test compare N    number_format against the printf reference (the
 *                           shortest of %.15g, %.16g, %.17g that reads back)
 *                           on N doubles of several kinds, seeded; prints
 *                           "N checked, M differ" and the first differences
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "value.h"

static size_t reference(double d, char *buf)
{
	if (!isfinite(d))
		return (size_t)snprintf(buf, 32, "null");
	for (int prec = 15; prec < 17; prec++) {
		int n = snprintf(buf, 32, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return (size_t)n;
	}
	return (size_t)snprintf(buf, 32, "%.17g", d);
}

static uint64_t state = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)	/* xorshift64* */
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ull;
}

/* The kinds of number the programs write: sensor readings with a few
 * decimals, their means and products, integers as doubles, tiny and huge
 * magnitudes, and any bit pattern at all. */
static double sample(uint64_t i)
{
	uint64_t r = next();
	double scale[] = { 1, 10, 100, 1000, 1e4, 1e6 };
	switch (i % 7) {
	case 0: return (double)(int64_t)(r % 2000000 - 1000000) / scale[r >> 60 & 3];
	case 1: return (double)(int64_t)(r % 100000) / scale[(r >> 58) % 6] * 9 / 5 + 32;
	case 2: return ((double)(r >> 11) / 9007199254740992.0) * pow(10, (int)(r % 40) - 20);
	case 3: return (double)(int64_t)(r >> 12) * ((r & 1) ? 1 : -1);
	case 4: return (double)(r % 100000) / 3.0;
	case 5: return (double)(r % 1000) * 1e-4 + (double)(r >> 50);
	default: {
		double d;
		memcpy(&d, &r, sizeof d);
		return d;
	}
	}
}

int main(int argc, char **argv)
{
	char a[40], b[40];
	if (argc >= 2 && !strcmp(argv[1], "fmt")) {
		for (int i = 2; i < argc; i++) {
			number_format(strtod(argv[i], NULL), a);
			puts(a);
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "compare")) {
		long n = atol(argv[2]), differ = 0;
		for (long i = 0; i < n; i++) {
			double d = sample((uint64_t)i);
			number_format(d, a);
			reference(d, b);
			if (strcmp(a, b) && differ++ < 10)
				printf("%.17g: %s, reference %s\n", d, a, b);
		}
		printf("%ld checked, %ld differ\n", n, differ);
		return differ != 0;
	}
	fprintf(stderr, "usage: value-test fmt X... | value-test compare N\n");
	return 2;
}
