/* fuzz.h - what every fuzz target in tests/fuzz/ shares
 *
 * Each target is one C file defining LLVMFuzzerTestOneInput. It is linked
 * either with libFuzzer (make fuzz) or with driver.c, which feeds it files
 * (the regression inputs that make check runs). A broken invariant aborts,
 * so that both libFuzzer and the bats test see it as a crash.
 */
#ifndef ES_FUZZ_H
#define ES_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The check stays in every build (no NDEBUG surprise) and names itself. */
#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",   \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

/* A copy of exactly n bytes in its own allocation (no terminator), so that
 * AddressSanitizer catches a parser reading one byte too far. */
static inline char *fuzz_exact(const uint8_t *d, size_t n)
{
	char *p = malloc(n ? n : 1);
	FUZZ_CHECK(p != NULL);
	if (n)
		memcpy(p, d, n);
	return p;
}

/* A NUL-terminated copy for parsers that take C strings (they stop at an
 * embedded NUL, which is what a C string from argv does too). */
static inline char *fuzz_cstr(const uint8_t *d, size_t n)
{
	char *p = malloc(n + 1);
	FUZZ_CHECK(p != NULL);
	if (n)
		memcpy(p, d, n);
	p[n] = 0;
	return p;
}

/* Reads every byte of s[0..n), so that a span pointing at freed or foreign
 * memory shows up under AddressSanitizer even where nobody else reads it. */
static inline unsigned fuzz_touch(const char *s, size_t n)
{
	volatile unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)s[i];
	return sum;
}

/* True if the span [p, p+n) lies inside [base, base+len). */
static inline int fuzz_inside(const char *p, size_t n, const char *base,
			      size_t len)
{
	return p >= base && p <= base + len && n <= (size_t)(base + len - p);
}

#endif
