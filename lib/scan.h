/* scan.h - the SIMD path of the NDJSON scanner, and the choice of path
 *
 * json_scan_line() first asks scan_line() whether a line is a valid JSON
 * object, and where the wanted fields sit; scan_line() gives the same
 * answers as the byte by byte scanner (json_scan_scalar), only faster, and
 * says no without saying why (the scalar scanner then says it).
 *
 * The path is the best the CPU has (AVX2 chosen at run time, else SSE2 on
 * x86-64; NEON on arm64), or the one the environment variable ES_SIMD
 * names: scalar, sse2, avx2 or neon (the tests run with each in turn).
 */
#ifndef ES_SCAN_H
#define ES_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fieldset.h"
#include "json.h"

enum scan_path { SCAN_SCALAR, SCAN_SSE2, SCAN_AVX2, SCAN_NEON, SCAN_NPATHS };

/* The path of this run (decided at the first call). */
enum scan_path scan_path(void);
/* True if this build and CPU can take the path. */
bool scan_path_available(enum scan_path p);
const char *scan_path_name(enum scan_path p);

/* Scans line[0..n) as json_scan_line() does, on path p (not SCAN_SCALAR,
 * and available). Returns 0 with sc filled, or -1 if the line is not a
 * valid JSON object (sc is then undefined). */
int scan_line(enum scan_path p, const char *line, size_t n,
	      const struct fieldset *fs, struct json_scan *sc);

/* True if s[0..n) is valid UTF-8, on path p (the scalar path too). */
bool scan_utf8_valid(enum scan_path p, const char *s, size_t n);

/*
 * What an instruction set does for the scanner: the bytes of a 64-byte
 * block classified into bit masks (bit i for byte i), and UTF-8 validated.
 * scan_sse2.c, scan_avx2.c and scan_neon.c each define one.
 */
struct scan_masks {
	uint64_t quote;		/* '"' */
	uint64_t bslash;	/* '\\' */
	uint64_t ctrl;		/* bytes < 0x20 */
	uint64_t high;		/* bytes >= 0x80 */
};

struct scan_kernel {
	void (*classify)(const unsigned char *block, struct scan_masks *m);
	bool (*utf8_valid)(const unsigned char *s, size_t n);
};

extern const struct scan_kernel scan_sse2, scan_avx2, scan_neon;

#endif
