/* scan_avx2.c - the scanner's kernel for AVX2, chosen at run time
 *
 * The build stays portable: only the functions here are compiled for
 * AVX2 (target attributes), and scan.c calls them only on a CPU that has
 * it. A block is classified 32 bytes at a time as in scan_sse2.c. UTF-8
 * is validated 32 bytes at a time after Keiser and Lemire ("Validating
 * UTF-8 In Less Than One Instruction Per Byte"): three 16-entry table
 * lookups on the nibbles of each byte and of the byte before it flag
 * every error of a two-byte window, and the bytes two and three back
 * tell where two continuation bytes in a row are allowed.
 */
#include "scan.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

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

/* ---- UTF-8 ---- */

/* What may be wrong with a byte given the one before it: one bit a kind
 * of error, set in all three tables where that kind is possible. */
#define TOO_SHORT	0x01	/* a lead byte not followed by a continuation */
#define TOO_LONG	0x02	/* a continuation after an ASCII byte */
#define OVERLONG_3	0x04	/* E0 80..9F */
#define TOO_LARGE	0x08	/* F4 90..BF, F5..FF 90..BF */
#define SURROGATE	0x10	/* ED A0..BF */
#define OVERLONG_2	0x20	/* C0 or C1, then a continuation */
#define TOO_LARGE_1000	0x40	/* F5..FF 80..8F */
#define OVERLONG_4	0x40	/* F0 80..8F (shares its bit: both are
				   F? 80..8F, told apart by the low nibble) */
#define TWO_CONTS	0x80	/* a continuation after a continuation */
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

#define TABLE(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) \
	_mm256_setr_epi8(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, \
			 a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)

AVX2 static __m256i utf8_errors(__m256i x, __m256i prev)
{
	/* The byte before each, two before, three before. */
	__m256i carried = _mm256_permute2x128_si256(prev, x, 0x21);
	__m256i prev1 = _mm256_alignr_epi8(x, carried, 15);
	__m256i prev2 = _mm256_alignr_epi8(x, carried, 14);
	__m256i prev3 = _mm256_alignr_epi8(x, carried, 13);
	const __m256i nib = _mm256_set1_epi8(0x0F);
	/* By the high nibble of the byte before. */
	const __m256i t1h = TABLE(
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
		TOO_SHORT | OVERLONG_2, TOO_SHORT,
		TOO_SHORT | OVERLONG_3 | SURROGATE,
		TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
	/* By its low nibble. */
	const __m256i t1l = TABLE(
		CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
		CARRY | OVERLONG_2, CARRY, CARRY,
		CARRY | TOO_LARGE,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000);
	/* By the high nibble of the byte itself. */
	const __m256i t2h = TABLE(
		TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
		TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 |
			TOO_LARGE_1000 | OVERLONG_4,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
		TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
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
