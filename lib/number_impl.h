/* number_impl.h - what number.c and number_print.c share: the 128-bit
 * powers of five (obj/gen/number_pow5.c, written by tools/gen-pow5.c), the
 * 64 x 64 -> 128-bit product, and the paths the tests call one by one */
#ifndef ES_NUMBER_IMPL_H
#define ES_NUMBER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

#define NUMBER_POW5_MIN (-342)
#define NUMBER_POW5_MAX 340

/* number_pow5[q - NUMBER_POW5_MIN] = {hi, lo}: the 128 leading bits T of
 * 5^q, 5^q = T * 2^(number_log2_pow5(q) - 127), |T - exact| < 1 (the
 * rounding is gen-pow5.c's). */
extern const uint64_t number_pow5[NUMBER_POW5_MAX - NUMBER_POW5_MIN + 1][2];

/* number_parse without its fast front: the whole JSON number grammar. */
bool number_parse_any(const char *s, size_t n, struct value *v);

/* floor(log2 5^q), for -400 < q < 350 (gen-pow5 checks every entry). */
static inline int number_log2_pow5(int q)
{
	return (((152170 + 65536) * q) >> 16) - q;
}

/* a * b: returns the high 64 bits, *lo the low ones. */
static inline uint64_t number_mul64(uint64_t a, uint64_t b, uint64_t *lo)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 p = (unsigned __int128)a * b;
	*lo = (uint64_t)p;
	return (uint64_t)(p >> 64);
#else	/* 32-bit targets (armhf): four 32 x 32 products */
	uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
	*lo = mid << 32 | (uint32_t)ll;
	return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/* number_format's text (number.h) for d finite and not zero (buf: 32
 * bytes), from the 128-bit estimate; 0 where its error could change a
 * digit or the round trip: then number_print_exact, which uses big
 * integers only (and is the tests' second opinion). */
size_t number_print_fast(double d, char *buf);
size_t number_print_exact(double d, char *buf);

/* w * 10^q correctly rounded, negated if neg, into *out; false in the rare
 * case the 128-bit estimate cannot decide (number.c then asks strtod). */
bool number_eisel_lemire(uint64_t w, int q, bool neg, double *out);

#endif
