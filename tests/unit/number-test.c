/* number-test.c - unit driver for lib/number.c's hard cases (tests/number.bats,
 * make check-numbers for the long run)
 *
 *   number-test format N   number_format against the printf reference (the
 *                          first of %.15g, %.16g, %.17g that reads back) on
 *                          N doubles chosen to be hard: ties at the 15th,
 *                          16th and 17th digit, powers of two and their
 *                          neighbours (where the gap below is half the gap
 *                          above), 16- and 17-digit decimals, means of
 *                          readings; each text must also read back as d;
 *                          and as many int64s against printf's %lld
 *   number-test parse N    number_parse against strtod, bit for bit, on N
 *                          texts: long mantissas, values halfway between
 *                          two doubles, extreme exponents, subnormals
 * Both print "N checked, M differ" (and the first differences), seeded.
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

static uint64_t state = 0x2545F4914F6CDD1Dull;

static uint64_t next(void)	/* xorshift64* */
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ull;
}

static double from_bits(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof d);
	return d;
}

/* Doubles where the formatting is hardest to get exactly right. */
static double hard_double(uint64_t i)
{
	uint64_t r = next();
	switch (i % 8) {
	case 0:	/* short binary fractions of big mantissas: exact ties at
		 * the 15th to 17th digit are common among these */
		return ldexp((double)(r >> 11), -(int)(r % 24) - 1);
	case 1: {	/* a power of two, or a neighbour of one */
		double p = ldexp(1, (int)(r % 240) - 120);
		int step = (int)(r >> 60 & 3);
		return step == 1 ? nextafter(p, 0) : step == 2 ? nextafter(p, 1e300) : p;
	}
	case 2: {	/* a 17-digit decimal's nearest double, and neighbours */
		char t[40];
		snprintf(t, sizeof t, "%llu.%llue%d",
			 (unsigned long long)(r % 9 + 1),
			 (unsigned long long)(next() % 10000000000000000ull),
			 (int)(r >> 40 & 31) - 12);
		double d = strtod(t, NULL);
		int step = (int)(r >> 62);
		return step == 1 ? nextafter(d, 0) : step == 2 ? nextafter(d, 1e300) : d;
	}
	case 3: {	/* a 16-digit decimal */
		char t[40];
		snprintf(t, sizeof t, "%llue%d",
			 (unsigned long long)(r % 9000000000000000ull + 1000000000000000ull),
			 (int)(r >> 58) - 40);
		return strtod(t, NULL);
	}
	case 4: {	/* the mean of a window of readings */
		int n = (int)(r % 60) + 1;
		double s = 0;
		for (int k = 0; k < n; k++)
			s += (double)(int64_t)(next() % 100000) / 1000;
		return s / n;
	}
	case 5:	/* any bit pattern in the range the exact path covers */
		return from_bits((r & 0x800FFFFFFFFFFFFFull) |
				 (uint64_t)(1023 - 20 + (int)(r >> 52 & 63)) << 52);
	case 6:	/* integers beyond 2^53 and odd multiples of halves */
		return (double)(r >> (r & 15)) + ((r >> 20) & 1 ? 0.5 : 0);
	default:
		return from_bits(r);
	}
}

static int check_format(long n)
{
	char a[40], b[40];
	long differ = 0;
	for (long i = 0; i < n; i++) {
		double d = hard_double((uint64_t)i);
		number_format(d, a);
		reference(d, b);
		bool bad = strcmp(a, b) != 0;
		if (!bad && isfinite(d) && strtod(a, NULL) != d)
			bad = true;
		if (bad && differ++ < 10)
			printf("%.17g: %s, reference %s\n", d, a, b);
		/* and an int64: the extremes, small ones, any */
		static const int64_t edge[] = { INT64_MIN, INT64_MAX, 0, -1, 9, -10 };
		uint64_t r = next();
		int64_t x = i % 100 < 6 ? edge[i % 100] :
			    (int64_t)(r >> (r & 63)) * ((r >> 7 & 1) ? -1 : 1);
		number_format_int(x, a);
		snprintf(b, sizeof b, "%lld", (long long)x);
		if (strcmp(a, b) && differ++ < 10)
			printf("int %s: %s\n", b, a);
	}
	printf("%ld checked, %ld differ\n", n, differ);
	return differ != 0;
}

/* A text in JSON's number grammar that is hard to round. */
static size_t hard_text(uint64_t i, char *t, size_t cap)
{
	uint64_t r = next();
	char mant[64];
	switch (i % 6) {
	case 0: {	/* halfway between two doubles: d's exact value plus half
			 * an ulp, all its digits (%.40e is exact enough here) */
		double d = ldexp((double)(r >> 11 | 1), (int)(r % 80) - 60);
		double up = nextafter(d, 1e300);
		/* the midpoint is exact in long double on x86-64 */
		long double mid = ((long double)d + (long double)up) / 2;
		return (size_t)snprintf(t, cap, "%.30Le", mid);
	}
	case 1: {	/* 19 to 40 digits */
		int nd = 19 + (int)(r % 22), k = 0;
		mant[k++] = (char)('1' + r % 9);
		for (; k < nd; k++)
			mant[k] = (char)('0' + next() % 10);
		mant[k] = 0;
		return (size_t)snprintf(t, cap, "%.1s.%se%d", mant, mant + 1,
					(int)((r >> 50) % 600) - 300);
	}
	case 2:	/* extreme exponents: overflow, underflow, subnormals */
		return (size_t)snprintf(t, cap, "%llue%d",
					(unsigned long long)(r >> (r & 63)),
					(int)((r >> 32) % 700) - 350);
	case 3:	/* readings with a few decimals */
		return (size_t)snprintf(t, cap, "%s%lld.%03lld", r & 1 ? "-" : "",
					(long long)(r >> 20) % 1000,
					(long long)(r >> 40) % 1000);
	case 4:	/* 16-17 significant digits, as %.17g writes them */
		return (size_t)snprintf(t, cap, "%.17g",
					from_bits(r & 0x7FEFFFFFFFFFFFFFull));
	default:	/* integers around 2^53 and 2^63 */
		return (size_t)snprintf(t, cap, "%llu%s",
					(unsigned long long)(r >> (r % 2 ? 0 : 10)),
					r & 4 ? ".0" : "");
	}
}

static int check_parse(long n)
{
	char t[128];
	long differ = 0;
	for (long i = 0; i < n; i++) {
		size_t len = hard_text((uint64_t)i, t, sizeof t);
		struct value v;
		if (!number_parse(t, len, &v)) {
			if (differ++ < 10)
				printf("%s: not a number\n", t);
			continue;
		}
		double want = strtod(t, NULL);
		double got = v.t == V_INT ? (double)v.u.i : v.u.d;
		if (v.t == V_INT) {
			/* an integer: exact, and strtod's double is its nearest */
			char back[32];
			snprintf(back, sizeof back, "%lld", (long long)v.u.i);
			if (strcmp(back, t) && differ++ < 10)
				printf("%s: int %s\n", t, back);
			continue;
		}
		if (memcmp(&got, &want, sizeof got) && differ++ < 10)
			printf("%s: %.17g, strtod %.17g\n", t, got, want);
	}
	printf("%ld checked, %ld differ\n", n, differ);
	return differ != 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "format"))
		return check_format(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "parse"))
		return check_parse(atol(argv[2]));
	fprintf(stderr, "usage: number-test format N | number-test parse N\n");
	return 2;
}
