/* simd16.h - sixteen bytes at a time: where two byte values stand
 *
 * The line readers (the end of a line, a CSV row's delimiters and quotes)
 * look for one or two byte values in short runs; a 16-byte vector compare
 * halves the steps of swar.h's eight bytes. SSE2 is x86-64's baseline and
 * NEON arm64's, so no run-time choice is needed; elsewhere SIMD16 is 0 and
 * the callers keep their word path, which ES_SIMD=scalar also forces (see
 * simd16_on), so that the tests run both.
 *
 * A mask has 1 << SIMD16_SHIFT bits per byte (SSE2's movemask gives one,
 * NEON's narrowing shift four) and exactly one of them set for a byte that
 * matches: the lowest set bit's index >> SIMD16_SHIFT is the first match,
 * and mask &= mask - 1 drops it.
 */
#ifndef ES_SIMD16_H
#define ES_SIMD16_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#define SIMD16 1
#define SIMD16_SHIFT 0

static inline uint64_t simd16_eq2(const char *p, char a, char b)
{
	__m128i x = _mm_loadu_si128((const __m128i *)p);
	__m128i m = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(a)),
				 _mm_cmpeq_epi8(x, _mm_set1_epi8(b)));
	return (unsigned)_mm_movemask_epi8(m);
}
#elif defined(__aarch64__)
#include <arm_neon.h>
#define SIMD16 1
#define SIMD16_SHIFT 2

static inline uint64_t simd16_eq2(const char *p, char a, char b)
{
	uint8x16_t x = vld1q_u8((const uint8_t *)p);
	uint8x16_t m = vorrq_u8(vceqq_u8(x, vdupq_n_u8((uint8_t)a)),
				vceqq_u8(x, vdupq_n_u8((uint8_t)b)));
	/* Each byte's 0xFF or 0 narrowed to a nibble; one bit of it kept. */
	uint8x8_t nib = vshrn_n_u16(vreinterpretq_u16_u8(m), 4);
	return vget_lane_u64(vreinterpret_u64_u8(nib), 0) &
	       0x8888888888888888ull;
}
#else
#define SIMD16 0
#define SIMD16_SHIFT 0

static inline uint64_t simd16_eq2(const char *p, char a, char b)
{
	(void)p, (void)a, (void)b;
	return 0;
}
#endif

/* True unless there is no vector path or ES_SIMD=scalar asks for none
 * (read once; scan.c says what is wrong with any other value, which
 * leaves the vectors on, as it takes the best path). */
bool simd16_on(void);

#endif
