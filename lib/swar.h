/* swar.h - eight bytes at a time in a 64-bit word (SIMD within a register)
 *
 * The scanners pass over runs of bytes that need no attention (a string's
 * plain bytes, a number's digits) a word at a time: the caller's test sets
 * the top bit of each byte of the word that ends the run, and the run
 * ends at the lowest byte flagged. The loop is written once here; the test
 * is the caller's.
 */
#ifndef ES_SWAR_H
#define ES_SWAR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SWAR_ONES 0x0101010101010101ull	/* a byte value times this: in
					   every byte */
#define SWAR_HIGHS 0x8080808080808080ull	/* every byte's top bit */

/* The eight bytes at p as a word, the first byte lowest whatever the
 * machine's order (one load where it is little-endian), so that the
 * lowest flag of a test is the first byte it flags. */
static inline uint64_t swar_load_le(const void *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* The 1 to 7 bytes at p as a word, the first lowest, zeros above them,
 * without reading past them: two loads that overlap (the bytes they
 * share are the same). */
static inline uint64_t swar_load_tail(const void *p, size_t n)
{
	const unsigned char *u = p;
	if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, u, 4);
		memcpy(&hi, u + n - 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		lo = __builtin_bswap32(lo);
		hi = __builtin_bswap32(hi);
#endif
		return lo | (uint64_t)hi << (8 * (n - 4));
	}
	return (uint64_t)u[0] | (uint64_t)u[n / 2] << (8 * (n / 2)) |
	       (uint64_t)u[n - 1] << (8 * (n - 1));
}

/* The n <= 16 bytes at a and at b are the same: two loads of each, which
 * overlap (the bytes they share are compared twice), and no call. */
static inline bool swar_same16(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	if (n >= 8) {
		uint64_t x0, x1, y0, y1;
		memcpy(&x0, x, 8), memcpy(&x1, x + n - 8, 8);
		memcpy(&y0, y, 8), memcpy(&y1, y + n - 8, 8);
		return ((x0 ^ y0) | (x1 ^ y1)) == 0;
	}
	if (n >= 4) {
		uint32_t x0, x1, y0, y1;
		memcpy(&x0, x, 4), memcpy(&x1, x + n - 4, 4);
		memcpy(&y0, y, 4), memcpy(&y1, y + n - 4, 4);
		return ((x0 ^ y0) | (x1 ^ y1)) == 0;
	}
	return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] &&
			  x[n - 1] == y[n - 1]);
}

/* a[0..an) and b[0..bn) are the same bytes. Field names, keys and short
 * values are compared so: up to 16 bytes without memcmp, whose call cost
 * more than the compare (the scanner's wanted keys, the filter's
 * constants, the join's names). */
static inline bool swar_equal(const void *a, size_t an, const void *b,
			      size_t bn)
{
	if (an != bn)
		return false;
	return an <= 16 ? swar_same16(a, b, an) : !memcmp(a, b, an);
}

/* Exactly 0x80 in each zero byte of x, else 0: no borrow from a lower
 * byte, so every flag is true and a word's flags can be walked one by one
 * (the stop tests below may flag false bytes above a true one). */
static inline uint64_t swar_zero_bytes(uint64_t x)
{
	uint64_t low7 = ~SWAR_HIGHS;
	return ~(((x & low7) + low7) | x | low7);
}

/*
 * The first byte in [p, end) that ends the run, or end: eight bytes at a
 * time while there are eight (stop flags the bytes of a word that end
 * it), then byte by byte (goes_on: a byte that does not). A stop test may
 * flag false bytes above a true one (the borrows of the "has a zero byte"
 * trick), never below, so the lowest flag is a true one. Pass static
 * inline tests: the calls are inlined here, tests and all (the hot path
 * pays no call).
 */
static inline const unsigned char *swar_skip(const unsigned char *p,
					     const unsigned char *end,
					     uint64_t (*stop)(uint64_t),
					     bool (*goes_on)(unsigned))
{
	while (end - p >= 8) {
		uint64_t s = stop(swar_load_le(p));
		if (s)
			return p + (__builtin_ctzll(s) >> 3);
		p += 8;
	}
	while (p < end && goes_on(*p))
		p++;
	return p;
}

#endif
