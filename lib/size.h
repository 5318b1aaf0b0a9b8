/* size.h - sizes in bytes as options give them: 1048576, 512k, 64M, 2G */
#ifndef ES_SIZE_H
#define ES_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a size: 1048576, 512k, 64M, 2G (powers of 1024). -1 if bad. */
int size_parse(const char *s, uint64_t *out);
/* What --max-state is unless given: the programs that hold state agree. */
#define SIZE_DEFAULT_MAX_STATE ((uint64_t)64 << 20)	/* 64M */
/* A size as size_parse reads it back, in the largest unit that is exact
 * (65536 -> "64k", 67108864 -> "64M"), into buf; returns buf. */
const char *size_text(uint64_t n, char *buf, size_t len);

#endif
