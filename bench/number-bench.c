/* number-bench.c - lib/number's cost on a file of numbers, one per line, for
 * callgrind or time (bench/README.md, "Numbers"); built by hand against a
 * number.c (this tree's, or main's for the before column):
 *
 *   number-bench parse FILE [ROUNDS]    number_parse on each line
 *   number-bench format FILE [ROUNDS]   number_format on each line's double
 *   number-bench hard N                 writes N hard numbers (seeded): a
 *                                       random double's %.17g, 19 digits
 *                                       with exponents to +-320, 16 digits
 *                                       with big exponents, integers past
 *                                       2^53 or a few digits times 10^+-300
 *
 * parse and format print a checksum, so that the work cannot be skipped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "value.h"

static uint64_t state = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)	/* xorshift64* */
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ull;
}

static void hard(long n)
{
	for (long i = 0; i < n; i++) {
		uint64_t r = next(), s = next();
		double d;
		switch (i % 4) {
		case 0:
			do {
				uint64_t b = r & 0x7FEFFFFFFFFFFFFFull;
				memcpy(&d, &b, sizeof d);
				r = next();
			} while (d == 0);
			printf("%.17g\n", d);
			break;
		case 1:
			printf("%d.%018llue%d\n", (int)(r % 9) + 1,
			       (unsigned long long)(s % 1000000000000000000ull),
			       (int)(r >> 32 & 0x3ff) % 621 - 320);
			break;
		case 2:
			printf("%llue%d\n",
			       (unsigned long long)(s % 9000000000000000ull + 1000000000000000ull),
			       (int)(r >> 32 & 0x3ff) % 621 - 330);
			break;
		default:
			if (r & 1)
				printf("%llu\n", (unsigned long long)(s % (10000000000000000000ull -
									   (1ull << 53)) + (1ull << 53)));
			else
				printf("%de%d\n", (int)(s % 999) + 1, (int)(r >> 32 & 0x3ff) % 601 - 300);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hard")) {
		hard(atol(argv[2]));
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: number-bench parse|format FILE [ROUNDS] | hard N\n");
		return 2;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 1;
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	size_t cap = 1 << 24, n = 0, lines = 0;
	char *buf = malloc(cap), line[512];
	size_t *off = malloc(sizeof *off * (cap / 2));
	while (fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\n");
		if (n + len + 1 > cap || lines == cap / 2)
			break;
		memcpy(buf + n, line, len);
		buf[n + len] = 0;
		off[lines++] = n;
		n += len + 1;
	}
	fclose(f);
	uint64_t sum = 0;
	if (!strcmp(argv[1], "parse")) {
		for (int r = 0; r < rounds; r++)
			for (size_t i = 0; i < lines; i++) {
				struct value v;
				const char *s = buf + off[i];
				if (number_parse(s, strlen(s), &v))
					sum += v.t == V_INT ? (uint64_t)v.u.i
							    : (uint64_t)(v.u.d * 1e6);
			}
	} else {
		double *d = malloc(sizeof *d * lines);
		for (size_t i = 0; i < lines; i++)
			d[i] = strtod(buf + off[i], NULL);
		char out[40];
		for (int r = 0; r < rounds; r++)
			for (size_t i = 0; i < lines; i++)
				sum += number_format(d[i], out) + (uint64_t)out[0];
	}
	printf("%zu numbers, checksum %llu\n", lines, (unsigned long long)sum);
	return 0;
}
