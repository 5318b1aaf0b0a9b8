/* scan_avx2.c - the scanner's kernel for AVX2, chosen at run time
 *
 * The build stays portable: only the functions here are compiled for
 * AVX2 (target attributes), and scan.c calls them only on a CPU that has
 * it. A block is classified 32 bytes at a time as in scan_sse2.c. UTF-8
 * is validated 32 bytes at a time with the table lookups of
 * scan_utf8.h (vpshufb), and the bytes two and three back tell where two
 * continuation bytes in a row are allowed.
 */
#include "scan.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "scan_utf8.h"

#define AVX2 __attribute__((target("avx2")))

AVX2 static void classify(const unsigned char *block, struct scan_masks *m)
{
	const __m256i dq = _mm256_set1_epi8('"');
	const __m256i back = _mm256_set1_epi8('\\');
	const __m256i c1f = _mm256_set1_epi8(0x1F);
	uint64_t quote = 0, bs = 0, ctrl = 0, high = 0;
	for (int k = 0; k < 2; k++) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(block + 32 * k));
		__m256i b = _mm256_cmpeq_epi8(x, back);
		__m256i c = _mm256_cmpeq_epi8(_mm256_min_epu8(x, c1f), x);
		unsigned sh = 32u * (unsigned)k;
		quote |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
				 _mm256_cmpeq_epi8(x, dq)) << sh;
		if (_mm256_movemask_epi8(
			    _mm256_or_si256(x, _mm256_or_si256(b, c)))) {
			bs |= (uint64_t)(uint32_t)_mm256_movemask_epi8(b) << sh;
			ctrl |= (uint64_t)(uint32_t)_mm256_movemask_epi8(c) << sh;
			high |= (uint64_t)(uint32_t)_mm256_movemask_epi8(x) << sh;
		}
	}
	m->quote = quote;
	m->bslash = bs;
	m->ctrl = ctrl;
	m->high = high;
}

/* ---- UTF-8: the tables of scan_utf8.h ---- */

/* A 16-byte table in both lanes (vpshufb looks up within a lane); set
 * element by element, the compiler makes it a constant, not a load a
 * call. */
AVX2 static inline __m256i table(const uint8_t *t)
{
	return _mm256_setr_epi8(
		(char)t[0], (char)t[1], (char)t[2], (char)t[3], (char)t[4],
		(char)t[5], (char)t[6], (char)t[7], (char)t[8], (char)t[9],
		(char)t[10], (char)t[11], (char)t[12], (char)t[13], (char)t[14],
		(char)t[15], (char)t[0], (char)t[1], (char)t[2], (char)t[3],
		(char)t[4], (char)t[5], (char)t[6], (char)t[7], (char)t[8],
		(char)t[9], (char)t[10], (char)t[11], (char)t[12], (char)t[13],
		(char)t[14], (char)t[15]);
}

AVX2 static __m256i utf8_errors(__m256i x, __m256i prev)
{
	/* The byte before each, two before, three before. */
	__m256i carried = _mm256_permute2x128_si256(prev, x, 0x21);
	__m256i prev1 = _mm256_alignr_epi8(x, carried, 15);
	__m256i prev2 = _mm256_alignr_epi8(x, carried, 14);
	__m256i prev3 = _mm256_alignr_epi8(x, carried, 13);
	const __m256i nib = _mm256_set1_epi8(0x0F);
	const __m256i t1h = table(scan_utf8_prev_high);
	const __m256i t1l = table(scan_utf8_prev_low);
	const __m256i t2h = table(scan_utf8_high);
	__m256i e = _mm256_and_si256(
		_mm256_and_si256(
			_mm256_shuffle_epi8(t1h, _mm256_and_si256(
				_mm256_srli_epi16(prev1, 4), nib)),
			_mm256_shuffle_epi8(t1l, _mm256_and_si256(prev1, nib))),
		_mm256_shuffle_epi8(t2h, _mm256_and_si256(
			_mm256_srli_epi16(x, 4), nib)));
	/* Two continuations in a row are right only as the third byte of a
	 * three- or four-byte sequence or the fourth of a four-byte one. */
	__m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8((char)0xDF));
	__m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)0xEF));
	__m256i must = _mm256_and_si256(
		_mm256_xor_si256(
			_mm256_cmpeq_epi8(_mm256_or_si256(third, fourth),
					  _mm256_setzero_si256()),
			_mm256_set1_epi8(-1)),
		_mm256_set1_epi8((char)0x80));
	return _mm256_xor_si256(e, must);
}

/* The last, short block is padded with zeros: at least one follows the
 * input, which shows a sequence cut short as one followed by ASCII. */
AVX2 static bool utf8_ok(const unsigned char *s, size_t n)
{
	__m256i prev = _mm256_setzero_si256(), err = _mm256_setzero_si256();
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(s + i));
		if (_mm256_movemask_epi8(_mm256_or_si256(x, prev)))
			err = _mm256_or_si256(err, utf8_errors(x, prev));
		prev = x;
	}
	unsigned char pad[32] = { 0 };
	memcpy(pad, s + i, n - i);
	__m256i x = _mm256_loadu_si256((const __m256i *)pad);
	err = _mm256_or_si256(err, utf8_errors(x, prev));
	return _mm256_testz_si256(err, err);
}

const struct scan_kernel scan_avx2 = { classify, utf8_ok };

#else
typedef int scan_avx2_unused;	/* not x86-64: nothing here */
#endif
