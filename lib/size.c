/* size.c - sizes in bytes as options give them: 1048576, 512k, 64M, 2G */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "size.h"

int size_parse(const char *str, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(str, &end, 10);
	if (errno || end == str || str[0] == '-')
		return -1;
	int shift = 0;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

const char *size_text(uint64_t n, char *buf, size_t len)
{
	static const char suffix[] = " kMG";
	int u = 0;
	while (u < 3 && n && n % 1024 == 0) {
		n /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu%.*s", (unsigned long long)n, u > 0, suffix + u);
	return buf;
}
