/* utf8.h - UTF-8: validating, encoding, \uXXXX escapes */
#ifndef ES_UTF8_H
#define ES_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 if it is not one. Inline: the
 * JSON scanner calls it on every non-ASCII byte. */
static inline size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if ((size_t)(end - p) < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

/* Length of the character at p (1: an ASCII byte), or 0 if it is not
 * valid UTF-8: the step of every validator over bytes (utf8_valid, the
 * SSE2 scanner's, which skips ASCII 16 bytes at a time first). */
static inline size_t utf8_step(const unsigned char *p,
			       const unsigned char *end)
{
	return *p < 0x80 ? 1 : utf8_seq(p, end);
}

/* True if s[0..n) is valid UTF-8 (RFC 3629). */
bool utf8_valid(const char *s, size_t n);
/* Writes code point cp as UTF-8 into o (room for 4 bytes); returns the
 * length. */
size_t utf8_encode(char *o, uint32_t cp);
/* The value of the 4 hex digits at s, or -1. */
int utf8_hex4(const char *s);
/* Decodes the escape "\uXXXX" at *s (a surrogate pair: two of them) into
 * o and advances *s past it. Returns the bytes written, 0 if the escape is
 * invalid (a bad digit, a lone surrogate); *s then stays. */
size_t utf8_unescape(const char **s, char *o);

#endif
