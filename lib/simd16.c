/* simd16.c - whether the line readers take 16 bytes at a time */
#include <stdlib.h>
#include <string.h>

#include "simd16.h"

bool simd16_on(void)
{
	static int on = -1;
	if (on < 0) {
		const char *want = getenv("ES_SIMD");
		on = SIMD16 && !(want && !strcmp(want, "scalar"));
	}
	return on;
}
