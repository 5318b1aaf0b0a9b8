/* driver.c - runs a fuzz target without libFuzzer, over files
 *
 * make check links each target in tests/fuzz/ with this main instead of
 * libFuzzer (gcc has none), so that the inputs kept in tests/fuzz/regress/
 * are replayed on every build, the sanitizer build included. Each file
 * named is one input; the status is 0 when the target returned for all of
 * them (a broken invariant aborts).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Reads a whole file into an allocation of exactly its size. */
static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				perror("realloc");
				exit(1);
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	/* Shrink to fit: the target must see the real end of its input. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		perror("malloc");
		exit(1);
	}
	if (len)
		memcpy(exact, buf, len);
	free(buf);
	*n = len;
	return exact;
}

int main(int argc, char **argv)
{
	int status = 0;
	for (int i = 1; i < argc; i++) {
		size_t n;
		uint8_t *d = slurp(argv[i], &n);
		if (!d) {
			status = 1;
			continue;
		}
		LLVMFuzzerTestOneInput(d, n);
		free(d);
	}
	return status;
}
