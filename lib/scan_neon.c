/* scan_neon.c - the scanner's kernel for NEON (arm64)
 *
 * As scan_avx2.c, 16 bytes at a time. NEON has no movemask: each compare
 * result is ANDed with the bit of its lane and four vectors are folded
 * into one 64-bit mask by pairwise additions. UTF-8 with the three table
 * lookups of scan_utf8.h (vqtbl1q_u8), as the AVX2 kernel.
 */
#include "scan.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "scan_utf8.h"

/* Bit i of the result: lane i%16 of vector i/16 is all ones. */
static inline uint64_t mask64(uint8x16_t a, uint8x16_t b, uint8x16_t c,
			      uint8x16_t d)
{
	static const uint8_t bits[16] = { 1, 2, 4, 8, 16, 32, 64, 128,
					  1, 2, 4, 8, 16, 32, 64, 128 };
	const uint8x16_t bit = vld1q_u8(bits);
	uint8x16_t ab = vpaddq_u8(vandq_u8(a, bit), vandq_u8(b, bit));
	uint8x16_t cd = vpaddq_u8(vandq_u8(c, bit), vandq_u8(d, bit));
	uint8x16_t x = vpaddq_u8(ab, cd);
	x = vpaddq_u8(x, x);
	return vgetq_lane_u64(vreinterpretq_u64_u8(x), 0);
}

static void classify(const unsigned char *block, struct scan_masks *m)
{
	uint8x16_t q[4], b[4], c[4], x[4];
	uint8x16_t any = vdupq_n_u8(0);
	for (int k = 0; k < 4; k++) {
		x[k] = vld1q_u8(block + 16 * k);
		q[k] = vceqq_u8(x[k], vdupq_n_u8('"'));
		b[k] = vceqq_u8(x[k], vdupq_n_u8('\\'));
		c[k] = vcltq_u8(x[k], vdupq_n_u8(0x20));
		any = vorrq_u8(any, vorrq_u8(x[k], vorrq_u8(b[k], c[k])));
	}
	m->quote = mask64(q[0], q[1], q[2], q[3]);
	m->bslash = m->ctrl = m->high = 0;
	if (vmaxvq_u8(any) & 0x80) {
		m->bslash = mask64(b[0], b[1], b[2], b[3]);
		m->ctrl = mask64(c[0], c[1], c[2], c[3]);
		uint8x16_t h[4];
		for (int k = 0; k < 4; k++)
			h[k] = vcgeq_u8(x[k], vdupq_n_u8(0x80));
		m->high = mask64(h[0], h[1], h[2], h[3]);
	}
}

/* ---- UTF-8: the tables of scan_utf8.h ---- */

static uint8x16_t utf8_errors(uint8x16_t x, uint8x16_t prev)
{
	uint8x16_t prev1 = vextq_u8(prev, x, 15);
	uint8x16_t prev2 = vextq_u8(prev, x, 14);
	uint8x16_t prev3 = vextq_u8(prev, x, 13);
	uint8x16_t e = vandq_u8(
		vandq_u8(vqtbl1q_u8(vld1q_u8(scan_utf8_prev_high),
				    vshrq_n_u8(prev1, 4)),
			 vqtbl1q_u8(vld1q_u8(scan_utf8_prev_low),
				    vandq_u8(prev1, vdupq_n_u8(0x0F)))),
		vqtbl1q_u8(vld1q_u8(scan_utf8_high), vshrq_n_u8(x, 4)));
	uint8x16_t must = vandq_u8(
		vorrq_u8(vcgeq_u8(prev2, vdupq_n_u8(0xE0)),
			 vcgeq_u8(prev3, vdupq_n_u8(0xF0))),
		vdupq_n_u8(0x80));
	return veorq_u8(e, must);
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
	uint8x16_t prev = vdupq_n_u8(0), err = vdupq_n_u8(0);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		uint8x16_t x = vld1q_u8(s + i);
		if (vmaxvq_u8(vorrq_u8(x, prev)) >= 0x80)
			err = vorrq_u8(err, utf8_errors(x, prev));
		prev = x;
	}
	/* Zeros after the input show a sequence cut short. */
	unsigned char pad[16] = { 0 };
	memcpy(pad, s + i, n - i);
	err = vorrq_u8(err, utf8_errors(vld1q_u8(pad), prev));
	return vmaxvq_u8(err) == 0;
}

const struct scan_kernel scan_neon = { classify, utf8_ok };

#else
typedef int scan_neon_unused;	/* not arm64: nothing here */
#endif
