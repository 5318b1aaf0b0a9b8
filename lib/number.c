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

/* strtod needs a terminated copy; numbers are short, so the stack does. */
static double slow_strtod(const char *s, size_t n)
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

/* Reads decimal digits into *mant; returns how many (mant is exact only
 * while the total stays within 19 digits). */
static const char *digits(const char *p, const char *end, uint64_t *mant)
{
	uint64_t m = *mant;
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

size_t number_format(double d, char *buf)
{
	if (!isfinite(d)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	size_t fixed = fixed_format(d, buf);
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
	return (size_t)snprintf(buf, 24, "%lld", (long long)i);
}
