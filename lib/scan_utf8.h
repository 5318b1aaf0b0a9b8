/* scan_utf8.h - the UTF-8 tables of the SIMD kernels (AVX2, NEON)
 *
 * Keiser and Lemire's validation ("Validating UTF-8 In Less Than One
 * Instruction Per Byte"): three 16-entry lookups, on the high and low
 * nibbles of the byte before and on the high nibble of the byte itself,
 * ANDed, flag every error of a two-byte window. The tables are the same
 * whatever the instruction set, so they are written once, here; each
 * kernel loads them into its vectors and adds its own test for two
 * continuation bytes in a row (allowed only three or four bytes into a
 * sequence).
 */
#ifndef ES_SCAN_UTF8_H
#define ES_SCAN_UTF8_H

#include <stdint.h>

/* What may be wrong with a byte given the one before it: one bit a kind
 * of error, set in all three tables where that kind is possible. */
#define SCAN_UTF8_TOO_SHORT	0x01	/* a lead byte not followed by a
					   continuation */
#define SCAN_UTF8_TOO_LONG	0x02	/* a continuation after ASCII */
#define SCAN_UTF8_OVERLONG_3	0x04	/* E0 80..9F */
#define SCAN_UTF8_TOO_LARGE	0x08	/* F4 90..BF, F5..FF 90..BF */
#define SCAN_UTF8_SURROGATE	0x10	/* ED A0..BF */
#define SCAN_UTF8_OVERLONG_2	0x20	/* C0 or C1, then a continuation */
#define SCAN_UTF8_TOO_LARGE_1000 0x40	/* F5..FF 80..8F */
#define SCAN_UTF8_OVERLONG_4	0x40	/* F0 80..8F (shares its bit: both
					   are F? 80..8F, told apart by the
					   low nibble) */
#define SCAN_UTF8_TWO_CONTS	0x80	/* a continuation after a
					   continuation */
#define SCAN_UTF8_CARRY \
	(SCAN_UTF8_TOO_SHORT | SCAN_UTF8_TOO_LONG | SCAN_UTF8_TWO_CONTS)

/* Short names for the tables below only. */
#define SHORT_	SCAN_UTF8_TOO_SHORT
#define LONG_	SCAN_UTF8_TOO_LONG
#define OL3_	SCAN_UTF8_OVERLONG_3
#define LARGE_	SCAN_UTF8_TOO_LARGE
#define SURR_	SCAN_UTF8_SURROGATE
#define OL2_	SCAN_UTF8_OVERLONG_2
#define L1000_	SCAN_UTF8_TOO_LARGE_1000
#define OL4_	SCAN_UTF8_OVERLONG_4
#define CONTS_	SCAN_UTF8_TWO_CONTS
#define CARRY_	SCAN_UTF8_CARRY

/* By the high nibble of the byte before. */
static const uint8_t scan_utf8_prev_high[16] = {
	LONG_, LONG_, LONG_, LONG_, LONG_, LONG_, LONG_, LONG_,
	CONTS_, CONTS_, CONTS_, CONTS_,
	SHORT_ | OL2_, SHORT_, SHORT_ | OL3_ | SURR_,
	SHORT_ | LARGE_ | L1000_ | OL4_,
};
/* By the low nibble of the byte before. */
static const uint8_t scan_utf8_prev_low[16] = {
	CARRY_ | OL3_ | OL2_ | OL4_, CARRY_ | OL2_, CARRY_, CARRY_,
	CARRY_ | LARGE_, CARRY_ | LARGE_ | L1000_,
	CARRY_ | LARGE_ | L1000_, CARRY_ | LARGE_ | L1000_,
	CARRY_ | LARGE_ | L1000_, CARRY_ | LARGE_ | L1000_,
	CARRY_ | LARGE_ | L1000_, CARRY_ | LARGE_ | L1000_,
	CARRY_ | LARGE_ | L1000_, CARRY_ | LARGE_ | L1000_ | SURR_,
	CARRY_ | LARGE_ | L1000_, CARRY_ | LARGE_ | L1000_,
};
/* By the high nibble of the byte itself. */
static const uint8_t scan_utf8_high[16] = {
	SHORT_, SHORT_, SHORT_, SHORT_, SHORT_, SHORT_, SHORT_, SHORT_,
	LONG_ | OL2_ | CONTS_ | OL3_ | L1000_ | OL4_,
	LONG_ | OL2_ | CONTS_ | OL3_ | LARGE_,
	LONG_ | OL2_ | CONTS_ | SURR_ | LARGE_,
	LONG_ | OL2_ | CONTS_ | SURR_ | LARGE_,
	SHORT_, SHORT_, SHORT_, SHORT_,
};

#undef SHORT_
#undef LONG_
#undef OL3_
#undef LARGE_
#undef SURR_
#undef OL2_
#undef L1000_
#undef OL4_
#undef CONTS_
#undef CARRY_

#endif
