/* number.h - JSON numbers: parsed exactly, written shortest */
#ifndef ES_NUMBER_H
#define ES_NUMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

/* Parses text as a JSON number (RFC 8259 grammar exactly: no '+', no
 * leading zeros, no '.5'). Integers that fit int64 become V_INT, everything
 * else V_DOUBLE (correctly rounded). Returns false if text is not a number. */
bool number_parse(const char *s, size_t n, struct value *v);
/* The value of s[0..n) when it is a plain integer's digits, 1 to 18 of
 * them, no sign, no leading zero ("0" alone is one): what number_parse
 * reads as V_INT from such a text, without its other cases (the times of
 * records go this way first). False for anything else. */
bool number_parse_uint(const char *s, size_t n, uint64_t *out);

/* Writes d as the shortest text that reads back as the same double
 * (integral values without a fraction: 3 not 3.0; non-finite as null):
 * byte for byte what printf's first of %.15g, %.16g, %.17g that reads back
 * writes, which is the shortest for every normal double but a few powers
 * of two (17 digits where 16 would do), and not for many subnormals
 * (4.94065645841247e-324 for 5e-324). buf needs 32 bytes. Returns the
 * length. */
size_t number_format(double d, char *buf);
/* Writes an int64 in decimal; buf needs 24 bytes. */
size_t number_format_int(int64_t i, char *buf);

#endif
