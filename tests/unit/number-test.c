/* number-test.c - unit driver for lib/number.c's hard cases (tests/number.bats,
 * make check-numbers for the long run)
 *
 *   number-test format N   number_format against the printf reference (the
 *                          first of %.15g, %.16g, %.17g that reads back) on
 *                          N doubles of every kind: ties at the 15th, 16th
 *                          and 17th digit, powers of two and their
 *                          neighbours (where the gap below is half the gap
 *                          above), 16- and 17-digit decimals, means of
 *                          readings, random bit patterns, integers, short
 *                          decimals, subnormals, the extremes. Each text
 *                          must read back as d, be the shortest that does
 *                          (for a normal double that is not a power of
 *                          two: printf's rule is not shortest for the
 *                          others, and those that are longer are counted),
 *                          and number_print's fast and exact paths must
 *                          each give the same (the fast one's refusals are
 *                          counted); and as many int64s against %lld
 *   number-test parse N    number_parse against strtod, bit for bit, on N
 *                          texts: long mantissas, values halfway between
 *                          two doubles, extreme exponents, subnormals,
 *                          19 and 20 digits, DBL_MAX's neighbourhood; and
 *                          Eisel-Lemire alone on N random w * 10^q (its
 *                          refusals, left to strtod, counted)
 *   number-test grammar N  number_parse against number_parse_any (the
 *                          whole grammar, without number_parse's fast
 *                          front) on N random texts of up to 20 of
 *                          "-0123456789.eE+x ": the same verdict, type
 *                          and bits; and number_parse_uint takes exactly
 *                          the unsigned integers of up to 18 digits
 *                          among them, at the same value
 * Both print "N checked, M differ, ..." (and the first differences), seeded.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "number_impl.h"
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
	switch (i % 12) {
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
	case 5:	/* any bit pattern from 2^-20 to 2^43, where most
		 * readings and their means are */
		return from_bits((r & 0x800FFFFFFFFFFFFFull) |
				 (uint64_t)(1023 - 20 + (int)(r >> 52 & 63)) << 52);
	case 6:	/* integers beyond 2^53 and odd multiples of halves */
		return (double)(r >> (r & 15)) + ((r >> 20) & 1 ? 0.5 : 0);
	case 8:	/* subnormals, the smallest ones often */
		return from_bits(r & (0x800FFFFFFFFFFFFFull >> (r >> 58 & 48)));
	case 9: {	/* a decimal of 1 to 6 digits, any exponent */
		char t[40];
		snprintf(t, sizeof t, "%llue%d",
			 (unsigned long long)(r % 1000000 >> (r >> 20 & 15)),
			 (int)(r >> 32) % 330);
		return strtod(t, NULL);
	}
	case 10:	/* an integer of any size up to 2^64 */
		return (double)(r >> (r >> 58));
	case 11: {	/* the extremes: DBL_MAX, DBL_MIN, the smallest
			 * subnormal, and a few steps from each */
		static const double edge[] = { 1.7976931348623157e308,
			2.2250738585072014e-308, 4.9406564584124654e-324 };
		double e = edge[r % 3];
		for (int k = (int)(r >> 8 & 15); k > 0; k--)
			e = nextafter(e, r >> 7 & 1 ? 0 : 1e300);
		return e;
	}
	case 7:
		if (r & 1) {	/* a reading: up to 15 digits, 0 to 8 of them
				 * decimals, from 1e-5 to 1e15 (number.c's
				 * fixed_format and the paths past it) */
			char t[40];
			snprintf(t, sizeof t, "%llue-%d",
				 (unsigned long long)(next() >>
					((r >> 1 & 63) % 50 + 14)) %
					1000000000000000ull,
				 (int)(r >> 8 & 7));
			return strtod(t, NULL) * ((r >> 12 & 1) ? -1 : 1);
		}
		return from_bits(r);
	default:	/* any bit pattern */
		return from_bits(r);
	}
}

/* Significant digits in a %g-style text: from the first nonzero digit to
 * the last. */
static int sig_digits(const char *s)
{
	int n = 0, last = 0;
	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9' || (!n && *s == '0'))
			continue;
		n++;
		if (*s != '0')
			last = n;
	}
	return last;
}

static int reads_back(unsigned long long q, int x, double d)
{
	char t[48];
	snprintf(t, sizeof t, "%llue%d", q, x);
	return strtod(t, NULL) == d;
}

/* True if no decimal of fewer than nd significant digits reads back as d:
 * the two of nd - 1 digits around d (the nearest, printf's, and its
 * neighbours, a decade lower too) do not. */
static int shortest(double d, int nd)
{
	if (nd <= 1)
		return 1;
	char t[48];
	snprintf(t, sizeof t, "%.*e", nd - 2, fabs(d));
	unsigned long long q = 0;
	const char *p = t;
	for (; *p != 'e'; p++)
		if (*p != '.')
			q = q * 10 + (unsigned long long)(*p - '0');
	int x = atoi(p + 1) - (nd - 2);
	double a = fabs(d);
	if (reads_back(q, x, a) || reads_back(q + 1, x, a) ||
	    reads_back(q - 1, x, a))
		return 0;
	/* q a power of ten: below it, nd - 1 nines a decade down */
	unsigned long long p10 = 1;
	for (int k = 0; k < nd - 2; k++)
		p10 *= 10;
	return q != p10 || !reads_back(10 * q - 1, x - 1, a);
}

static int check_format(long n)
{
	char a[40], b[40], c[40];
	long differ = 0, refused = 0, longer_sub = 0, longer_pow2 = 0;
	for (long i = 0; i < n; i++) {
		double d = hard_double((uint64_t)i);
		number_format(d, a);
		reference(d, b);
		bool bad = strcmp(a, b) != 0;
		if (!bad && isfinite(d) && strtod(a, NULL) != d)
			bad = true;
		if (bad && differ++ < 10)
			printf("%.17g: %s, reference %s\n", d, a, b);
		if (isfinite(d) && d != 0) {
			/* both paths of number_print, whatever number_format
			 * took */
			if (!number_print_fast(d, c))
				refused++;
			else if (strcmp(c, b) && differ++ < 10)
				printf("%.17g: fast %s, reference %s\n", d, c, b);
			number_print_exact(d, c);
			if (strcmp(c, b) && differ++ < 10)
				printf("%.17g: exact %s, reference %s\n", d, c, b);
			uint64_t bits;
			memcpy(&bits, &d, 8);
			bool normal = (bits >> 52 & 0x7ff) != 0;
			bool pow2 = (bits & ((1ull << 52) - 1)) == 0;
			if (!shortest(d, sig_digits(a))) {
				if (normal && !pow2 && differ++ < 10)
					printf("%.17g: %s is not the shortest\n", d, a);
				longer_sub += !normal;
				longer_pow2 += normal && pow2;
			}
		}
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
	printf("%ld checked, %ld differ, %ld to the exact path; longer than the "
	       "shortest, as printf's rule: %ld subnormals, %ld powers of two\n",
	       n, differ, refused, longer_sub, longer_pow2);
	return differ != 0;
}

/* A text in JSON's number grammar that is hard to round. */
static size_t hard_text(uint64_t i, char *t, size_t cap)
{
	uint64_t r = next();
	char mant[64];
	switch (i % 11) {
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
	case 5:	/* integers around 2^53 and 2^63 */
		return (size_t)snprintf(t, cap, "%llu%s",
					(unsigned long long)(r >> (r % 2 ? 0 : 10)),
					r & 4 ? ".0" : "");
	case 6:	/* 19 and 20 digits, any exponent */
		return (size_t)snprintf(t, cap, "%llu%.*llue%d",
					(unsigned long long)(r % 9000000000000000000ull +
							     1000000000000000000ull),
					(int)(r >> 62 & 1), (unsigned long long)(r >> 40) % 10,
					(int)((r >> 20) % 660) - 345);
	case 7: {	/* the edges: subnormals, DBL_MIN, DBL_MAX, overflow */
		static const char *const edge[] = {
			"4.9406564584124654e-324", "2.4703282292062327e-324",
			"2.4703282292062328e-324", "7.4109846876186982e-324",
			"2.2250738585072011e-308", "2.2250738585072012e-308",
			"2.2250738585072014e-308", "1.7976931348623157e308",
			"1.7976931348623158e308", "1.7976931348623159e308",
			"1e-400", "-1e400", "0e999", "-0.0", "9007199254740993",
			"0.00000000000000000000000000000000000001234567890123456789",
		};
		if (r % 4 == 0)
			return (size_t)snprintf(t, cap, "%s",
						edge[(r >> 8) % (sizeof edge / sizeof edge[0])]);
		/* a 1 to 19 digit mantissa down among the subnormals or up
		 * by DBL_MAX */
		unsigned long long m = next() >> (r >> 10 & 63);
		int len = snprintf(mant, sizeof mant, "%llu", m);
		return (size_t)snprintf(t, cap, "%se%d", mant,
					r & 2 ? 308 - len + (int)(r >> 20 & 1)
					      : -324 - (int)(r >> 20 & 15) + (int)(r >> 30 & 31) - len + 1);
	}
	case 8: {	/* halfway between two doubles of any size (exact in
			 * x86-64's long double; where long double is double,
			 * as on armhf, only near it, and not past DBL_MAX) */
		double d = from_bits(r & 0x7FEFFFFFFFFFFFFFull);
		long double mid = (long double)d / 2 + (long double)nextafter(d, 1e308) / 2;
		return (size_t)snprintf(t, cap, "%.24Le", mid);
	}
	case 9: {	/* a few digits with big exponents, and leading zeros */
		unsigned long long m = r % 1000000 + 1;
		if (r >> 60 & 1) {	/* 0.000...0ddd */
			int z = (int)((r >> 20) % 40);
			memcpy(t, "0.", 2);
			memset(t + 2, '0', (size_t)z);
			return 2 + (size_t)z + (size_t)snprintf(t + 2 + z, cap - 2 - (size_t)z,
							      "%llu", m);
		}
		return (size_t)snprintf(t, cap, "%llue%d", m,
					(int)((r >> 20) % 700) - 350);
	}
	default:	/* w * 10^q, any w, any q: Eisel-Lemire's domain */
		return (size_t)snprintf(t, cap, "%llue%d",
					(unsigned long long)(r >> (next() & 63)),
					(int)((r >> 20) % 680) - 350);
	}
}

static int check_parse(long n)
{
	char t[128];
	long differ = 0, refused = 0;
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
		} else if (memcmp(&got, &want, sizeof got) && differ++ < 10) {
			printf("%s: %.17g, strtod %.17g\n", t, got, want);
		}
		/* Eisel-Lemire alone on w * 10^q */
		uint64_t r = next();
		uint64_t w = r >> (r & 63);
		int q = (int)((r >> 8) % 700) - 360;
		bool neg = r >> 17 & 1;
		snprintf(t, sizeof t, "%s%llue%d", neg ? "-" : "",
			 (unsigned long long)w, q);
		want = strtod(t, NULL);
		if (!number_eisel_lemire(w, q, neg, &got))
			refused++;
		else if (memcmp(&got, &want, sizeof got) && differ++ < 10)
			printf("%s: Eisel-Lemire %.17g, strtod %.17g\n", t, got, want);
	}
	printf("%ld checked, %ld differ, %ld left to strtod\n", n, differ, refused);
	return differ != 0;
}

/* A random text of up to 20 characters that is often a number, often
 * almost one. */
static size_t grammar_text(char *t)
{
	static const char alphabet[] = "0123456789-.eE+x ";
	static const char digits_dot[] = "0123456789011223344556677889.";
	size_t len = (size_t)(next() % 21);
	bool mostly_digits = next() % 4 != 0;
	for (size_t i = 0; i < len; i++) {
		uint64_t r = next();
		t[i] = mostly_digits && r % 8 != 0
			       ? digits_dot[(r >> 8) % (sizeof digits_dot - 1)]
			       : alphabet[(r >> 8) % (sizeof alphabet - 1)];
	}
	if (len && next() % 3 == 0)
		t[0] = '-';
	return len;
}

static int check_grammar(long n)
{
	char t[24];
	long differ = 0, numbers = 0, plain = 0;
	for (long i = 0; i < n; i++) {
		size_t len = grammar_text(t);
		struct value a = { 0 }, b = { 0 };
		bool ok_a = number_parse(t, len, &a);
		bool ok_b = number_parse_any(t, len, &b);
		numbers += ok_b;
		/* number_parse_uint: the integers of up to 18 digits, no sign */
		uint64_t u = 0;
		bool ok_u = number_parse_uint(t, len, &u);
		bool want_u = ok_b && b.t == V_INT && t[0] != '-' && len <= 18;
		plain += want_u;
		if ((ok_u != want_u || (ok_u && (int64_t)u != b.u.i)) &&
		    differ++ < 10)
			printf("%.*s: number_parse_uint %s\n", (int)len, t,
			       ok_u ? "takes it" : "refuses it");
		bool same = ok_a == ok_b &&
			    (!ok_a || (a.t == b.t && a.s == b.s && a.n == b.n &&
				       (a.t == V_INT ? a.u.i == b.u.i
						     : !memcmp(&a.u.d, &b.u.d, sizeof a.u.d))));
		if (!same && differ++ < 10)
			printf("%.*s: %s / %s\n", (int)len, t, ok_a ? "number" : "no number",
			       ok_b ? "number" : "no number");
	}
	printf("%ld checked, %ld numbers, %ld plain integers, %ld differ\n", n,
	       numbers, plain, differ);
	return differ != 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "format"))
		return check_format(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "parse"))
		return check_parse(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "grammar"))
		return check_grammar(atol(argv[2]));
	fprintf(stderr, "usage: number-test format N | number-test parse N | "
		"number-test grammar N\n");
	return 2;
}
