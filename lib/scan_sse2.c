/* scan_sse2.c - the scanner's kernel for SSE2, x86-64's baseline
 *
 * A block's bytes classified 16 at a time with byte compares. The masks
 * that are nearly always empty (backslashes, control and non-ASCII bytes)
 * are taken out of the vectors only when a vector has any of them. SSE2
 * has no byte shuffle, so UTF-8 is checked by skipping ASCII 16 bytes at a
 * time and checking the rest byte by byte.
 */
#include "scan.h"

#if defined(__x86_64__)
#include <emmintrin.h>

#include "utf8.h"

static void classify(const unsigned char *block, struct scan_masks *m)
{
	uint64_t quote = 0, bs = 0, ctrl = 0, high = 0;
	const __m128i dq = _mm_set1_epi8('"'), back = _mm_set1_epi8('\\');
	const __m128i c1f = _mm_set1_epi8(0x1F);
	for (int k = 0; k < 4; k++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(block + 16 * k));
		__m128i b = _mm_cmpeq_epi8(x, back);
		__m128i c = _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x);
		unsigned sh = 16u * (unsigned)k;
		quote |= (uint64_t)(unsigned)_mm_movemask_epi8(
				 _mm_cmpeq_epi8(x, dq)) << sh;
		/* x | b | c has its top bit set where any of the rare
		 * classes is. */
		if (_mm_movemask_epi8(_mm_or_si128(x, _mm_or_si128(b, c)))) {
			bs |= (uint64_t)(unsigned)_mm_movemask_epi8(b) << sh;
			ctrl |= (uint64_t)(unsigned)_mm_movemask_epi8(c) << sh;
			high |= (uint64_t)(unsigned)_mm_movemask_epi8(x) << sh;
		}
	}
	m->quote = quote;
	m->bslash = bs;
	m->ctrl = ctrl;
	m->high = high;
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
	const unsigned char *p = s, *end = s + n;
	while (p < end) {
		if (end - p >= 16 &&
		    !_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)p))) {
			p += 16;	/* 16 ASCII bytes */
			continue;
		}
		size_t l = utf8_step(p, end);
		if (!l)
			return false;
		p += l;
	}
	return true;
}

const struct scan_kernel scan_sse2 = { classify, utf8_ok };

#else
typedef int scan_sse2_unused;	/* not x86-64: nothing here */
#endif
