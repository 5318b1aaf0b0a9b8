/* number_print.c - a double's text as number_format writes it: the first
 * of %.15g, %.16g, %.17g that reads back, computed here (no printf) from a
 * 128-bit estimate, with an exact big-integer path behind it
 *
 * The output rule is printf's, kept byte for byte: it is the shortest text
 * that reads back for every normal double (a decimal of at most 15 digits
 * that reads back as d is what %.15g prints, DBL_DIG being 15; with 16,
 * %.16g's nearest 16 digits read back unless d is a power of two whose gap
 * below is half the gap above), but not for subnormals, where %.15g's 15
 * digits may read back though fewer would (4.94065645841247e-324, not
 * 5e-324). So the question asked here is Grisu's, for a given P: are the
 * correctly rounded P digits of d, and do they lie within half a gap of
 * d? The estimate is d * 10^k * 2^64 as a 128-bit integer Y, from one
 * cached 128-bit power of five (number_pow5) and two 64-bit products;
 * its error is below 2 units, so a rounding or round-trip decision closer
 * than that to its threshold is left to the exact path, which recomputes
 * everything with big integers. Where 5^k fits 128 bits (0 <= k <= 55)
 * and no bit is shifted out, Y is exact and decides ties itself; the
 * exact path gets the ties of the others (a big integer that is exactly
 * halfway between two doubles when written with 15 digits, say: 0.2% of
 * number-test's mix) and near-ties (about 1 in 2^50 random doubles).
 */
#include <stdbool.h>
#include <string.h>

#include "number_impl.h"

static const uint64_t pow10_u64[] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull,
};

/* What %.Pg writes for the P significant digits q (10^(P-1) <= q < 10^P)
 * with decimal exponent x: trailing zeros dropped, an exponent when x < -4
 * or x >= P. */
static const char pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233"
	"34353637383940414243444546474849505152535455565758596061626364656667"
	"6869707172737475767778798081828384858687888990919293949596979899";

/* The n digits of v < 10^n, n even, two at a time (32-bit divisions: v
 * below 10^8). */
static void put_digits(char *p, uint32_t v, int n)
{
	for (int i = n - 2; i >= 0; i -= 2, v /= 100)
		memcpy(p + i, pairs + 2 * (v % 100), 2);
}

static size_t g_style(bool neg, uint64_t q, int x, int prec, char *buf)
{
	/* q < 10^17 as 17 digits (leading zeros below 17 digits), prec of
	 * them from dg */
	char t[17];
	const char *dg = t + 17 - prec;
	t[0] = (char)('0' + q / 10000000000000000ull);
	put_digits(t + 1, (uint32_t)(q / 100000000 % 100000000), 8);
	put_digits(t + 9, (uint32_t)(q % 100000000), 8);
	int nd = prec;
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

/* d = m * 2^e2 with m < 2^53; lower_half: the gap to the next double down
 * is half the gap up (d a power of two above the smallest normal). */
struct parts {
	bool neg, lower_half;
	uint64_t m;
	int e2;
};

static struct parts split(double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	struct parts p;
	int be = (int)(bits >> 52 & 0x7ff);
	uint64_t frac = bits & ((1ull << 52) - 1);
	p.neg = bits >> 63;
	p.m = be ? frac | 1ull << 52 : frac;
	p.e2 = be ? be - 1075 : -1074;
	p.lower_half = frac == 0 && be > 1;
	return p;
}

/* floor(log10 |d|), or one less (from floor(log2 |d|)). */
static int log10_estimate(const struct parts *p)
{
	int l2 = p->e2 + 63 - __builtin_clzll(p->m);
	return (l2 * 78913) >> 18;	/* 78913 / 2^18 ~ log10(2) */
}

/* ---- exact: big integers ---- */

#define BIG_LIMBS 40	/* 1280 bits; the largest here is ~850 */

struct big {
	int n;			/* limbs in use (at least 1), little-endian */
	uint32_t w[BIG_LIMBS];
};

static void big_set(struct big *b, uint64_t v)
{
	b->w[0] = (uint32_t)v;
	b->w[1] = (uint32_t)(v >> 32);
	b->n = b->w[1] ? 2 : 1;
}

static void big_mul(struct big *b, uint32_t k)
{
	uint64_t carry = 0;
	for (int i = 0; i < b->n; i++) {
		uint64_t t = (uint64_t)b->w[i] * k + carry;
		b->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	if (carry)
		b->w[b->n++] = (uint32_t)carry;
}

static void big_mul_pow5(struct big *b, int n)
{
	for (; n >= 13; n -= 13)
		big_mul(b, 1220703125);	/* 5^13 */
	uint32_t k = 1;
	while (n-- > 0)
		k *= 5;
	big_mul(b, k);
}

static void big_shl(struct big *b, int s)
{
	int limbs = s / 32, bits = s % 32;
	if (bits) {
		uint32_t carry = 0;
		for (int i = 0; i < b->n; i++) {
			uint32_t w = b->w[i];
			b->w[i] = w << bits | carry;
			carry = w >> (32 - bits);
		}
		if (carry)
			b->w[b->n++] = carry;
	}
	if (limbs) {
		memmove(b->w + limbs, b->w, (size_t)b->n * sizeof b->w[0]);
		memset(b->w, 0, (size_t)limbs * sizeof b->w[0]);
		b->n += limbs;
	}
}

static void big_shr1(struct big *b)
{
	for (int i = 0; i < b->n; i++)
		b->w[i] = b->w[i] >> 1 | (i + 1 < b->n ? b->w[i + 1] << 31 : 0);
	if (b->n > 1 && !b->w[b->n - 1])
		b->n--;
}

static int big_cmp(const struct big *a, const struct big *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (int i = a->n - 1; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

/* a -= b, a >= b */
static void big_sub(struct big *a, const struct big *b)
{
	int64_t borrow = 0;
	for (int i = 0; i < a->n; i++) {
		int64_t t = (int64_t)a->w[i] - (i < b->n ? b->w[i] : 0) - borrow;
		borrow = t < 0;
		a->w[i] = (uint32_t)(t + (borrow << 32));
	}
	while (a->n > 1 && !a->w[a->n - 1])
		a->n--;
}

static int big_bits(const struct big *b)
{
	uint32_t top = b->w[b->n - 1];
	return (b->n - 1) * 32 + (top ? 32 - __builtin_clz(top) : 0);
}

/* a / b for a quotient below 2^63; a becomes the remainder. */
static uint64_t big_divmod(struct big *a, const struct big *b)
{
	int shift = big_bits(a) - big_bits(b);
	uint64_t q = 0;
	if (shift < 0)
		return 0;
	struct big t = *b;
	big_shl(&t, shift);
	for (int i = shift; i >= 0; i--) {
		if (big_cmp(a, &t) >= 0) {
			big_sub(a, &t);
			q |= 1ull << i;
		}
		big_shr1(&t);
	}
	return q;
}

/* The sign of b * 2^e - q * 10^j. */
static int cmp_bin_dec(uint64_t b, int e, uint64_t q, int j)
{
	struct big x, y;
	big_set(&x, b);
	big_set(&y, q);
	if (j >= 0)
		big_mul_pow5(&y, j);
	else
		big_mul_pow5(&x, -j);
	if (e - j >= 0)
		big_shl(&x, e - j);
	else
		big_shl(&y, j - e);
	return big_cmp(&x, &y);
}

size_t number_print_exact(double d, char *buf)
{
	struct parts p = split(d);
	int x = log10_estimate(&p);
	for (int prec = 15; prec <= 17; prec++) {
		/* q, r: d / 10^j = q + r / den, with P digits in q */
		struct big r, den;
		uint64_t q;
		int j;
		for (;;) {
			j = x - prec + 1;
			big_set(&r, p.m);
			big_set(&den, 1);
			if (j < 0)
				big_mul_pow5(&r, -j);
			else
				big_mul_pow5(&den, j);
			if (p.e2 - j >= 0)
				big_shl(&r, p.e2 - j);
			else
				big_shl(&den, j - p.e2);
			if (big_bits(&r) - big_bits(&den) > 62) {
				x++;
				continue;
			}
			q = big_divmod(&r, &den);
			if (q >= pow10_u64[prec])
				x++;
			else if (q < pow10_u64[prec - 1])
				x--;
			else
				break;
		}
		/* rounded to nearest, ties to even, as glibc's printf */
		struct big r2 = r;
		big_shl(&r2, 1);
		int c = big_cmp(&r2, &den);
		bool up = c > 0 || (c == 0 && (q & 1));
		bool exact = r.n == 1 && r.w[0] == 0;
		uint64_t t = q + up;	/* the text: t * 10^j */
		if (prec < 17 && !exact) {
			/* reads back if strictly inside the midpoints around d,
			 * or on one with d's mantissa even */
			int s = up ? cmp_bin_dec(2 * p.m + 1, p.e2 - 1, t, j)
			   : p.lower_half ? -cmp_bin_dec(4 * p.m - 1, p.e2 - 2, t, j)
					  : -cmp_bin_dec(2 * p.m - 1, p.e2 - 1, t, j);
			/* s: the sign of (midpoint - text) toward d's side */
			if (s < 0 || (s == 0 && (p.m & 1)))
				continue;
		}
		int tx = x;
		if (t == pow10_u64[prec]) {
			t = pow10_u64[prec - 1];
			tx++;
		}
		return g_style(p.neg, t, tx, prec, buf);
	}
	return 0;	/* not reached: %.17g always reads back */
}

/* ---- the estimate ---- */

struct u128 {
	uint64_t hi, lo;
};

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	return a.lo < b.lo ? -1 : a.lo > b.lo;
}

static struct u128 u128_sub(struct u128 a, struct u128 b)
{
	struct u128 r = { a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo };
	return r;
}

static struct u128 u128_add(struct u128 a, uint64_t b)
{
	struct u128 r = { a.hi + (a.lo + b < a.lo), a.lo + b };
	return r;
}

/* True if |a - b| <= tol. */
static bool u128_near(struct u128 a, struct u128 b, uint64_t tol)
{
	if (u128_cmp(a, b) < 0) {
		struct u128 t = a;
		a = b;
		b = t;
	}
	return u128_cmp(a, u128_add(b, tol)) <= 0;
}

/* Y = m * 2^e2 * 10^k * 2^64, truncated; *exact if it is Y itself.
 * Returns false if Y does not fit (only with a wrong k). */
static bool estimate(const struct parts *p, int k, struct u128 *y, bool *exact)
{
	const uint64_t *t = number_pow5[k - NUMBER_POW5_MIN];
	uint64_t l1, l0;
	uint64_t h1 = number_mul64(p->m, t[0], &l1);
	uint64_t h0 = number_mul64(p->m, t[1], &l0);
	uint64_t r0 = l0, r1 = l1 + h0, r2 = h1 + (r1 < h0);
	/* m * T * 2^(e2 + log2pow5 + k - 63): shift right by sh */
	int sh = 63 - p->e2 - number_log2_pow5(k) - k;
	uint64_t dropped;
	if (sh <= 0 || sh >= 128)
		return false;
	if (sh >= 64) {
		int s = sh - 64;
		y->lo = s ? r1 >> s | r2 << (64 - s) : r1;
		y->hi = s ? r2 >> s : r2;
		dropped = r0 | (s ? r1 << (64 - s) : 0);
	} else {
		if (r2 >> sh)
			return false;
		y->lo = r0 >> sh | r1 << (64 - sh);
		y->hi = r1 >> sh | r2 << (64 - sh);
		dropped = r0 << (64 - sh);
	}
	*exact = k >= 0 && k <= 55 && !dropped;	/* 5^55 < 2^128 */
	return true;
}

#define ERR 2	/* |Y - exact| < 1.125 when not exact */

size_t number_print_fast(double d, char *buf)
{
	struct parts p = split(d);
	int x = log10_estimate(&p);
	struct u128 y;
	bool exact;
	for (int tries = 0;; tries++) {
		int k = 16 - x;		/* Y's integer part: 17 digits */
		if (tries > 2 || k < NUMBER_POW5_MIN || k > NUMBER_POW5_MAX ||
		    !estimate(&p, k, &y, &exact))
			return 0;
		if (y.hi >= pow10_u64[17])
			x++;
		else if (y.hi < pow10_u64[16])
			x--;
		else
			break;
	}
	for (int prec = 15; prec <= 17; prec++) {
		uint64_t div = pow10_u64[17 - prec];
		uint64_t q = y.hi / div;
		struct u128 rem = { y.hi % div, y.lo };	/* below q, in Y's units */
		struct u128 half = { div >> 1, (div & 1) << 63 };
		struct u128 unit = { div, 0 };
		if (!exact && u128_near(rem, half, ERR))
			return 0;
		int c = u128_cmp(rem, half);
		bool up = c > 0 || (c == 0 && (q & 1));
		if (prec < 17) {
			/* reads back if |text - d| < half the gap on its side:
			 * in Y's units the gap is Y / m, so 2m * |text - d| < Y
			 * (4m below a power of two); equal with m even */
			struct u128 diff = up ? u128_sub(unit, rem) : rem;
			bool below = !up && (rem.hi | rem.lo);
			uint64_t cm = p.m << (below && p.lower_half ? 2 : 1);
			struct u128 lhs;
			lhs.hi = number_mul64(cm, diff.lo, &lhs.lo) + cm * diff.hi;
			if (!exact && u128_near(lhs, y, 4 * cm + 2 * ERR))
				return 0;
			c = u128_cmp(lhs, y);
			if (c > 0 || (c == 0 && (p.m & 1)))
				continue;
		}
		int tx = x;
		q += up;
		if (q == pow10_u64[prec]) {
			q = pow10_u64[prec - 1];
			tx++;
		}
		return g_style(p.neg, q, tx, prec, buf);
	}
	return 0;	/* not reached */
}
