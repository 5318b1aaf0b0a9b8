/* keys-test.c - unit driver for lib/keys.c's table at sizes the fuzz
 * target does not reach (tests/keys.bats)
 *
 *   keys-test table N   adds N keys of 1 to 60 bytes (inline in their
 *                       entries and not), removes every third, adds them
 *                       again, then looks every key up; checks each id,
 *                       key, count and byte total against a model, and
 *                       that a key's bytes do not move while it lives.
 *                       Prints "N keys: M checks, F failed" and the first
 *                       failures.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

static long checks, failed;

static void check(bool ok, const char *what, long i)
{
	checks++;
	if (ok)
		return;
	if (failed++ < 10)
		printf("failed: %s (key %ld)\n", what, i);
}

/* Key i: 1 to 60 bytes, distinct for distinct i, with NUL bytes in it. */
static size_t key_of(long i, char *buf)
{
	size_t n = (size_t)snprintf(buf, 80, "%ld:", i);
	size_t want = 1 + (size_t)((i * 7919) % 60);
	for (; n < want; n++)
		buf[n] = (char)(i * 31 + (long)n);
	return n;
}

static void check_key(struct keytab *t, long i, int id)
{
	char buf[80];
	size_t n = key_of(i, buf), kn;
	const char *k = keytab_key(t, id, &kn);
	check(kn == n && !memcmp(k, buf, n), "the key of its id", i);
	check(keytab_find(t, buf, n) == id, "found under its id", i);
}

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "table")) {
		fprintf(stderr, "usage: keys-test table N\n");
		return 2;
	}
	long n = atol(argv[2]);
	int *id = calloc((size_t)n, sizeof *id);
	struct keytab *t = keytab_new();
	char buf[80];
	size_t bytes = 0;
	size_t kn;
	const char *k1 = NULL;	/* key 1, never removed: must not move */
	for (long i = 0; i < n; i++) {
		size_t len = key_of(i, buf);
		check(keytab_find(t, buf, len) == -1, "absent before it is added", i);
		id[i] = keytab_add(t, buf, len);
		bytes += len;
		if (i == 1)
			k1 = keytab_key(t, id[1], &kn);
	}
	for (long i = 0; i < n; i += 3) {
		keytab_remove(t, id[i]);
		bytes -= key_of(i, buf);
	}
	check(keytab_count(t) == (int)(n - (n + 2) / 3), "the count", -1);
	check(keytab_bytes(t) == bytes, "the bytes", -1);
	for (long i = 0; i < n; i++) {
		size_t len = key_of(i, buf);
		if (i % 3 == 0) {
			check(keytab_find(t, buf, len) == -1, "gone once removed", i);
			id[i] = keytab_add(t, buf, len);
			bytes += len;
		}
	}
	for (long i = 0; i < n; i++)
		check_key(t, i, id[i]);
	check(keytab_count(t) == (int)n, "the count after adding again", -1);
	check(keytab_bytes(t) == bytes, "the bytes after adding again", -1);
	check(keytab_span(t) == (int)n, "ids reused", -1);
	if (n > 1)
		check(keytab_key(t, id[1], &kn) == k1, "a key's bytes stay put", 1);
	keytab_free(t);
	free(id);
	printf("%ld key%s: %ld checks, %ld failed\n", n, n == 1 ? "" : "s",
	       checks, failed);
	return failed != 0;
}
