/* number.c - JSON numbers: parsed exactly, written shortest */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "number.h"
#include "number_impl.h"

static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* strtod needs a terminated copy; numbers are short, so the stack does.
 * Not inlined: its buffer would cost number_parse's fast paths a larger
 * frame and a stack-protector check on every call. */
static __attribute__((noinline)) double slow_strtod(const char *s, size_t n)
{
	char small[128];
	char *buf = n < sizeof small ? small : xmalloc(n + 1);
	memcpy(buf, s, n);
	buf[n] = 0;
	double d = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return d;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* True if the 8 bytes of w (little-endian) are all '0'..'9': each byte's
 * high nibble is 3, and adding 6 does not carry into it. */
static inline bool eight_digits(uint64_t w)
{
	const uint64_t hi = 0xF0F0F0F0F0F0F0F0ull;
	return ((w & hi) | (((w + 0x0606060606060606ull) & hi) >> 4)) ==
	       0x3333333333333333ull;
}

/* The value of 8 digits (the first in the low byte), combined pairwise:
 * bytes into 2-digit lanes, those into 4-digit, then 8; no lane carries. */
static inline uint64_t eight_value(uint64_t w)
{
	w -= 0x3030303030303030ull;
	w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFull;
	w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFull;
	return (w * 10000 + (w >> 32)) & 0xFFFFFFFFull;
}
#define SWAR_DIGITS 1
#endif

/* Reads decimal digits into *mant; returns how many (mant is exact only
 * while the total stays within 19 digits; past that it wraps the same way
 * whether digits are taken one or eight at a time). */
#ifdef SWAR_DIGITS
/* Whole words of eight digits from p on into *mant (long runs: times in
 * ms or us, ids); where the first that is not all digits starts. */
static inline __attribute__((always_inline)) const char *
digit_words(const char *p, const char *end, uint64_t *mant)
{
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		if (!eight_digits(w))
			break;
		*mant = *mant * 100000000 + eight_value(w);
		p += 8;
	}
	return p;
}
#endif

static inline __attribute__((always_inline)) const char *
digits(const char *p, const char *end, uint64_t *mant)
{
#ifdef SWAR_DIGITS
	p = digit_words(p, end, mant);
#endif
	uint64_t m = *mant;
	while (p < end && (unsigned)(*p - '0') <= 9)
		m = m * 10 + (uint64_t)(*p++ - '0');
	*mant = m;
	return p;
}

/*
 * Eisel-Lemire (Lemire, "Number Parsing at a Gigabyte per Second", 2021,
 * as fast_float does it): w * 10^q for w < 2^64 from the 128-bit 5^q.
 * With w normalized (top bit set), the high 64 bits of w * T carry the 54
 * bits of the result and a rounding bit, at most one unit low; when the
 * bits below those are all ones the low half of T decides, and if they are
 * still all ones (an error that could carry) the answer is left to strtod
 * (false; Mushtak and Lemire prove it never happens, the tests count it).
 * A decimal exactly halfway between two doubles needs -4 <= q <= 23; there
 * an all-zero tail below the rounding bit is one, rounded to even.
 */
__attribute__((noinline)) bool
number_eisel_lemire(uint64_t w, int q, bool neg, double *out)
{
	uint64_t bits;
	if (w == 0 || q < NUMBER_POW5_MIN) {
		bits = 0;
	} else if (q > 308) {
		bits = 0x7ffull << 52;
	} else {
		int lz = __builtin_clzll(w);
		w <<= lz;
		const uint64_t *t = number_pow5[q - NUMBER_POW5_MIN];
		uint64_t lo, hi = number_mul64(w, t[0], &lo);
		if ((hi & 0x1ff) == 0x1ff) {	/* 64 - 55 bits */
			uint64_t lo2, hi2 = number_mul64(w, t[1], &lo2);
			lo += hi2;
			hi += lo < hi2;
			if ((hi & 0x1ff) == 0x1ff && lo == UINT64_MAX)
				return false;
		}
		int upper = (int)(hi >> 63), shift = upper + 9;
		uint64_t m = hi >> shift;
		/* the biased exponent: floor(log2 10^q) + 63 + upper - lz,
		 * less the bias's -1023 */
		int e = number_log2_pow5(q) + q + 63 + upper - lz + 1023;
		if (e <= 0) {	/* subnormal, or zero */
			if (1 - e >= 64) {
				m = 0;
			} else {
				m >>= 1 - e;
				m = (m + (m & 1)) >> 1;
			}
			/* rounding up may have reached the smallest normal */
			e = m >= 1ull << 52;
			bits = (uint64_t)e << 52 | (m & ((1ull << 52) - 1));
		} else {
			if (lo <= 1 && q >= -4 && q <= 23 && (m & 3) == 1 &&
			    m << shift == hi)
				m &= ~1ull;	/* a tie, and even below */
			m = (m + (m & 1)) >> 1;
			if (m >= 2ull << 52) {
				m = 1ull << 52;
				e++;
			}
			bits = e >= 0x7ff ? 0x7ffull << 52
					  : (uint64_t)e << 52 | (m & ((1ull << 52) - 1));
		}
	}
	bits |= (uint64_t)neg << 63;
	memcpy(out, &bits, sizeof *out);
	return true;
}

/* The whole grammar: any JSON number (number_parse takes the common ones
 * first). Not inlined into number_parse, whose fast path then needs no
 * saved registers. */
__attribute__((noinline)) bool number_parse_any(const char *s, size_t n,
					       struct value *v)
{
	const char *p = s, *end = s + n;
	bool neg = p < end && *p == '-';
	p += neg;
	if (p == end || (unsigned)(*p - '0') > 9)
		return false;
	uint64_t mant = 0;
	const char *int_start = p;
	if (*p == '0')
		p++;		/* no leading zeros in JSON: "01" stops here */
	else
		p = digits(p, end, &mant);
	size_t nd = (size_t)(p - int_start);
	int exp10 = 0;
	bool isint = true;
	if (p < end && *p == '.') {
		isint = false;
		const char *f = ++p;
		p = digits(p, end, &mant);
		if (p == f)
			return false;
		nd += (size_t)(p - f);
		exp10 = -(int)(p - f);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		isint = false;
		p++;
		bool eneg = false;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == end || (unsigned)(*p - '0') > 9)
			return false;
		int e = 0;
		for (; p < end && (unsigned)(*p - '0') <= 9; p++)
			if (e < 100000)
				e = e * 10 + (*p - '0');
		exp10 += eneg ? -e : e;
	}
	if (p != end)
		return false;
	v->s = s;
	v->n = n;
	bool exact = nd <= 19;	/* mant holds every digit */
	if (isint && exact && mant <= (uint64_t)INT64_MAX + neg) {
		v->t = V_INT;
		v->u.i = neg ? (int64_t)(0 - mant) : (int64_t)mant;
		return true;
	}
	v->t = V_DOUBLE;
	if (!exact && *int_start == '0') {
		/* 0.000123...: the zeros after the point are not significant
		 * digits (nor in mant) */
		const char *z = int_start + 2;
		while (z < end && *z == '0')
			z++;
		exact = nd - 1 - (size_t)(z - int_start - 2) <= 19;
	}
	/* Clinger's fast path: exact when the mantissa and the power of ten
	 * are both exact doubles; then Eisel-Lemire for up to 19 digits;
	 * strtod rounds the rest correctly (more digits, a rare doubt). */
	if (exact && mant < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
		double d = (double)mant;
		d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
		v->u.d = neg ? -d : d;
	} else if (!exact || !number_eisel_lemire(mant, exp10, neg, &v->u.d)) {
		v->u.d = slow_strtod(s, n);
	}
	return true;
}

/*
 * Readings as sensors give them, before number_print: d is the double
 * nearest a decimal of at most 15 significant digits, at most FIXED_K of
 * them after the point, with 1e-4 <= |d| < FIXED_MAX (or an integer below
 * 10^15, where %g writes no exponent). Then m = rint(d *
 * 10^FIXED_K) is that decimal's digits (with zeros after it up to FIXED_K
 * decimals): m < 10^15, so the product's error is below a quarter, and m
 * / 10^FIXED_K gives back d. That division is rounded once, as strtod
 * rounds the text "m with the point FIXED_K digits in", which therefore
 * reads back as d; and a decimal of at most 15 digits is what %.15g
 * recovers from its nearest double, so the text (m's trailing zeros
 * dropped) is the same as number_print's. Returns 0 when d is not such a
 * number.
 *
 * One scale is tried, not each k up to FIXED_K: a mean of 17 digits pays
 * one product and one division for nothing, not four, and readings of 4
 * to 6 decimals (a value * 9 / 5 + 32) take this path too
 * (bench/README.md, "Numbers").
 */
#define FIXED_K 6
#define FIXED_MAX 1e9		/* 10^(15 - FIXED_K) */

static size_t fixed_format(double d, char *buf)
{
	double a = fabs(d);
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	/* from FIXED_MAX to 10^15 (no exponent in %g): integers only */
	int k = a < FIXED_MAX ? FIXED_K : 0;
	double scale = k ? 1e6 : 1;	/* 10^FIXED_K */
	double m = rint(a * scale);
	if (m / scale != a)
		return 0;
	uint64_t u = (uint64_t)m;
	while (k > 0 && u % 10 == 0) {
		u /= 10;
		k--;
	}
	char digits[24];
	int nd = 0;
	for (; u; u /= 10)
		digits[nd++] = (char)('0' + u % 10);
	size_t n = 0;
	if (d < 0)
		buf[n++] = '-';
	if (nd <= k) {	/* 0.000ddd */
		buf[n++] = '0';
		buf[n++] = '.';
		for (int i = nd; i < k; i++)
			buf[n++] = '0';
	}
	for (int i = nd - 1; i >= 0; i--) {
		buf[n++] = digits[i];
		if (i == k && k > 0)
			buf[n++] = '.';
	}
	buf[n] = 0;
	return n;
}

size_t number_format(double d, char *buf)
{
	if (!isfinite(d)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	if (d == 0) {	/* as %g: 0 and -0 */
		const char *z = signbit(d) ? "-0" : "0";
		size_t n = strlen(z);
		memcpy(buf, z, n + 1);
		return n;
	}
	size_t fixed = fixed_format(d, buf);
	if (fixed)
		return fixed;
	fixed = number_print_fast(d, buf);
	return fixed ? fixed : number_print_exact(d, buf);
}

size_t number_format_int(int64_t i, char *buf)
{
	char t[24];
	int n = 0;
	uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
	do
		t[n++] = (char)('0' + u % 10);
	while (u /= 10);
	size_t len = 0;
	if (i < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = t[--n];
	buf[len] = 0;
	return len;
}

bool number_parse_uint(const char *s, size_t n, uint64_t *out)
{
	if (n - 1 >= 18 || (*s == '0' && n > 1))
		return false;
	uint64_t m = 0;
#ifdef SWAR_DIGITS
	if (n >= 8) {
		/* eight digits a word; the last word ends at the last digit,
		 * the digits it shares with the one before read as zeros (a
		 * 13-digit time in ms: two words, no loop) */
		const char *end = s + n, *p = digit_words(s, end, &m);
		if (end - p >= 8)
			return false;	/* a word that is not all digits */
		if (p < end) {
			unsigned k = (unsigned)(end - p), old = 8 - k;
			uint64_t w, seen = (1ull << (8 * old)) - 1;
			memcpy(&w, end - 8, 8);
			w = (w & ~seen) | (0x3030303030303030ull & seen);
			if (!eight_digits(w))
				return false;
			static const uint32_t scale[8] = { 1, 10, 100, 1000,
				10000, 100000, 1000000, 10000000 };
			m = m * scale[k] + eight_value(w);
		}
		*out = m;
		return true;
	}
#endif
	if (digits(s, s + n, &m) != s + n)
		return false;
	*out = m;
	return true;
}

/*
 * The numbers sensors send, taken first: 18 characters at most, an
 * optional '-', digits with at most one '.' among them, no exponent
 * (1798761600000, 36.557, -0.25). Their digits are exact in an int64; an
 * integer is V_INT, a decimal goes Clinger's way (its digits an exact
 * double, divided once by an exact power of ten: correctly rounded), as
 * number_parse_any takes them. Anything else is number_parse_any's, and
 * a text that is no number is refused by either alike (number-test
 * grammar compares both on random texts). About a fifth fewer
 * instructions on gen-sensors' numbers, mostly the saved registers of
 * number_parse_any's frame.
 */
bool number_parse(const char *s, size_t n, struct value *v)
{
	const char *p = s, *end = s + n;
	if (n > 18)	/* 18 digits: below 2^63 */
		return number_parse_any(s, n, v);
	bool neg = n > 0 && *p == '-';
	p += neg;
	const char *first = p, *dot = NULL;
	if (p == end || (unsigned)(unsigned char)*p - '0' > 9)
		return false;	/* a CSV cell of text, mostly: said at once */
	/* "0" alone or "0." starts a number; "01" is not one */
	if (*p == '0' && p + 1 < end && p[1] != '.')
		return number_parse_any(s, n, v);
	uint64_t mant = 0;
#ifdef SWAR_DIGITS
	if (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		if (eight_digits(w)) {
			mant = eight_value(w);
			p += 8;
		}
	}
#endif
	for (; p < end; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';
		if (d <= 9)
			mant = mant * 10 + d;
		else if (*p == '.' && !dot)
			dot = p;
		else if ((*p | 0x20) == 'e')
			return number_parse_any(s, n, v);
		else
			return false;	/* "1a", "1.2.3": no number */
	}
	v->s = s;
	v->n = n;
	if (!dot) {
		v->t = V_INT;
		v->u.i = neg ? -(int64_t)mant : (int64_t)mant;
		return true;
	}
	/* "1." and ".5" are not numbers; 2^53 and up is not an exact double */
	if (dot == first || dot == end - 1 || mant >= 1ull << 53)
		return number_parse_any(s, n, v);
	double d = (double)mant / pow10_exact[end - dot - 1];
	v->t = V_DOUBLE;
	v->u.d = neg ? -d : d;
	return true;
}
