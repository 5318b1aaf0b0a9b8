/* number.c - JSON numbers: parsed exactly, written shortest */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "number.h"

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
static inline __attribute__((always_inline)) const char *
digits(const char *p, const char *end, uint64_t *mant)
{
	uint64_t m = *mant;
#ifdef SWAR_DIGITS
	/* Long runs (times in ms or us, ids) eight digits a step. */
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		if (!eight_digits(w))
			break;
		m = m * 100000000 + eight_value(w);
		p += 8;
	}
#endif
	while (p < end && (unsigned)(*p - '0') <= 9)
		m = m * 10 + (uint64_t)(*p++ - '0');
	*mant = m;
	return p;
}

bool number_parse(const char *s, size_t n, struct value *v)
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
	/* Clinger's fast path: exact when the mantissa and the power of ten
	 * are both exact doubles; otherwise strtod rounds correctly. */
	if (exact && mant < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
		double d = (double)mant;
		d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
		v->u.d = neg ? -d : d;
	} else {
		v->u.d = slow_strtod(s, n);
	}
	return true;
}

/*
 * The common case without printf: d is the double nearest a decimal of at
 * most 15 significant digits, k of them after the point, with 1e-4 <= |d| <
 * 1e15 (where %g writes no exponent). The smallest k for which m =
 * rint(d * 10^k) gives back d as m / 10^k is the answer: m and 10^k are
 * exact doubles, so that division is rounded once, as strtod rounds the
 * text "m with the point k digits in", which therefore reads back as d; and
 * a decimal of at most 15 digits is what %.15g recovers from its nearest
 * double, so the text is the same as the slow path's. Returns 0 when d is
 * not such a number.
 */
static size_t fixed_format(double d, char *buf)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
	};
	double a = fabs(d);
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (int k = 0; k < (int)(sizeof pow10 / sizeof pow10[0]); k++) {
		double m = rint(a * pow10[k]);
		if (m >= 1e15)
			return 0;	/* more than 15 digits */
		if (m / pow10[k] != a)
			continue;
		char digits[24];
		int nd = 0;
		for (uint64_t u = (uint64_t)m; u; u /= 10)
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
	return 0;
}

/* ---- %.Pg without printf ---- */

#ifdef __SIZEOF_INT128__	/* 64-bit targets; printf does it elsewhere */
typedef unsigned __int128 u128;

static u128 pow10_u128(int k)
{
	u128 p = 1;
	while (k-- > 0)
		p *= 10;
	return p;
}

/* What %.Pg writes for the P significant digits q (10^(P-1) <= q < 10^P)
 * with decimal exponent x: trailing zeros dropped, an exponent when x < -4
 * or x >= P. */
static size_t g_style(bool neg, uint64_t q, int x, int prec, char *buf)
{
	char dg[24];
	int nd = 0;
	for (int i = prec - 1; i >= 0; i--, q /= 10)
		dg[i] = (char)('0' + q % 10);
	nd = prec;
	while (nd > 1 && dg[nd - 1] == '0')
		nd--;
	size_t n = 0;
	if (neg)
		buf[n++] = '-';
	if (x < -4 || x >= prec) {
		buf[n++] = dg[0];
		if (nd > 1) {
			buf[n++] = '.';
			memcpy(buf + n, dg + 1, (size_t)nd - 1);
			n += (size_t)nd - 1;
		}
		buf[n++] = 'e';
		buf[n++] = x < 0 ? '-' : '+';
		int ax = x < 0 ? -x : x;
		if (ax >= 100)
			buf[n++] = (char)('0' + ax / 100);
		buf[n++] = (char)('0' + ax / 10 % 10);
		buf[n++] = (char)('0' + ax % 10);
	} else if (x < 0) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (int i = -1; i > x; i--)
			buf[n++] = '0';
		memcpy(buf + n, dg, (size_t)nd);
		n += (size_t)nd;
	} else {
		for (int i = 0; i <= x; i++)
			buf[n++] = i < nd ? dg[i] : '0';
		if (nd > x + 1) {
			buf[n++] = '.';
			memcpy(buf + n, dg + x + 1, (size_t)(nd - x - 1));
			n += (size_t)(nd - x - 1);
		}
	}
	buf[n] = 0;
	return n;
}

/*
 * number_format's search (%.15g, %.16g, %.17g: the first that reads back
 * as d) in exact integer arithmetic, for the doubles where that fits 128
 * bits: d = m / 2^s with m < 2^53, 0 < s <= 120, and the scale 10^k that
 * brings P digits before the point at most 10^22. Then N = m * 10^k is
 * exact, q = N / 2^s rounded half to even is what printf's correctly
 * rounded %.Pg prints, and the text reads back as d exactly when it lies
 * inside d's rounding interval: |q * 2^s - N| < 2^s * ulp / 2 scaled,
 * i.e. 2 * |diff| < 10^k (4 * |diff| below a power of two, where the gap
 * to the next double down is half as wide; equal counts when m is even,
 * as strtod rounds ties to even). Returns 0 when d is out of that range
 * (printf does it then).
 */
static size_t exact_format(double d, char *buf)
{
	uint64_t bits;
	memcpy(&bits, &d, 8);
	bool neg = bits >> 63;
	int be = (int)(bits >> 52 & 0x7ff);
	if (be == 0)
		return 0;	/* zero and subnormals */
	uint64_t m = (bits & ((1ull << 52) - 1)) | 1ull << 52;
	int s = 1075 - be;	/* d = m / 2^s */
	if (s <= 0 || s > 120)
		return 0;
	/* floor(log10 |d|), estimated from the binary exponent (off by at
	 * most one; set right below from the digits). */
	int x = (int)floor((52 - s) * 0.30102999566398120);
	for (int prec = 15; prec <= 17; prec++) {
		u128 lo = pow10_u128(prec - 1), hi = lo * 10, N, q;
		int k;
		for (int tries = 0;; tries++) {
			k = prec - 1 - x;
			if (k < 0 || k > 22 || tries > 2)
				return 0;
			N = (u128)m * pow10_u128(k);
			q = N >> s;
			if (q >= hi)
				x++;
			else if (q < lo)
				x--;
			else
				break;
		}
		u128 half = (u128)1 << (s - 1), r = N & (((u128)1 << s) - 1);
		bool up = r > half || (r == half && (q & 1));
		u128 diff = up ? ((u128)1 << s) - r : r;
		q += up;
		int qx = x;
		if (q == hi) {
			q = lo;
			qx++;
		}
		if (prec < 17) {
			u128 scale = pow10_u128(k);
			bool below = !up && r;	/* the text is less than d */
			u128 gap = below && m == 1ull << 52 && be > 1 ? 4 * diff
								   : 2 * diff;
			bool even = !(m & 1);
			if (!(gap < scale || (gap == scale && even)))
				continue;
		}
		return g_style(neg, (uint64_t)q, qx, prec, buf);
	}
	return 0;
}
#else
static size_t exact_format(double d, char *buf)
{
	(void)d;
	(void)buf;
	return 0;
}
#endif

size_t number_format(double d, char *buf)
{
	if (!isfinite(d)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	size_t fixed = fixed_format(d, buf);
	if (fixed)
		return fixed;
	fixed = exact_format(d, buf);
	if (fixed)
		return fixed;
	for (int prec = 15; prec <= 17; prec++) {
		int n = snprintf(buf, 32, "%.*g", prec, d);
		if (prec == 17 || strtod(buf, NULL) == d)
			return (size_t)n;
	}
	return strlen(buf);
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
