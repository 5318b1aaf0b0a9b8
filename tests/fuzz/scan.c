/* scan.c - fuzz target: the SIMD scanner against the scalar one
 *
 * The input is one line. json_scan_scalar() (lib/json.c, byte by byte)
 * and scan_line() on every SIMD path this machine has (lib/scan.c: SSE2
 * and AVX2 on x86-64, NEON on arm64) must give the same answer: the same
 * verdict, and on a valid line the same span in every slot and the same
 * member list. The line is scanned as it is and again after leading
 * spaces, which move every byte to another place in its 64-byte block.
 * Each path's UTF-8 validator must agree with utf8_valid() on the raw
 * bytes too. The fieldset has nested, array and escaped paths and asks for
 * the members, as tests/fuzz/json.c's does.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "json.h"
#include "path.h"
#include "scan.h"
#include "utf8.h"
#include "value.h"

static const char *const paths[] = {
	"a", "b", "a.b", "a.b.c", "a[0]", "a[1].b", "b[0][1]", "c",
	"\"\\u00e9\"", "\"\"", "\"a b\".c", "x.y[2].z",
};
#define NPATHS (sizeof paths / sizeof paths[0])

static struct fieldset *fieldset_get(void)
{
	static struct fieldset *fs;
	if (fs)
		return fs;
	fs = fieldset_new();
	for (size_t i = 0; i < NPATHS; i++) {
		struct path p;
		const char *err;
		FUZZ_CHECK(path_parse_all(paths[i], &p, &err) == 0);
		FUZZ_CHECK(fieldset_add(fs, &p) == (int)i);
		path_free(&p);
	}
	fieldset_want_members(fs, true);
	return fs;
}

static bool same_span(const struct span *a, const struct span *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == SPAN_MISSING)
		return true;
	return a->p == b->p && a->n == b->n && a->escaped == b->escaped;
}

/* Every SIMD path against the scalar scanner on line[0..n). */
static void compare_paths(const char *line, size_t n)
{
	const struct fieldset *fs = fieldset_get();
	struct span want[NPATHS], got[NPATHS];
	struct json_scan ref = { .slots = want }, sc = { .slots = got };
	const char *err;
	size_t col;
	int rc = json_scan_scalar(line, n, fs, &ref, &err, &col);
	for (int p = SCAN_SSE2; p < SCAN_NPATHS; p++) {
		if (!scan_path_available((enum scan_path)p))
			continue;
		int r = scan_line((enum scan_path)p, line, n, fs, &sc);
		if (r != (rc == 0 ? 0 : -1)) {
			fprintf(stderr, "%s says %d, scalar %d (%s)\n",
				scan_path_name((enum scan_path)p), r, rc,
				rc ? err : "");
			FUZZ_CHECK(!"the paths agree");
		}
		if (rc)
			continue;
		for (size_t i = 0; i < NPATHS; i++)
			FUZZ_CHECK(same_span(&got[i], &want[i]));
		FUZZ_CHECK(sc.nmembers == ref.nmembers);
		for (size_t i = 0; i < sc.nmembers; i++) {
			FUZZ_CHECK(same_span(&sc.members[i].key,
					     &ref.members[i].key));
			FUZZ_CHECK(same_span(&sc.members[i].val,
					     &ref.members[i].val));
		}
	}
	/* What json_scan_line says, on whatever path it takes. */
	const char *err2;
	size_t col2;
	int rc2 = json_scan_line(line, n, fs, &sc, &err2, &col2);
	FUZZ_CHECK(rc2 == rc);
	if (rc)
		FUZZ_CHECK(!strcmp(err2, err) && col2 == col);
	free(ref.members);
	free(sc.members);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_exact(data, size);
	compare_paths(line, size);
	bool valid = utf8_valid(line, size);
	for (int p = SCAN_SCALAR; p < SCAN_NPATHS; p++)
		if (scan_path_available((enum scan_path)p))
			FUZZ_CHECK(scan_utf8_valid((enum scan_path)p, line,
						   size) == valid);
	/* The same line after 1 to 63 spaces. */
	size_t k = 1 + size % 63;
	char *moved = malloc(size + k);
	FUZZ_CHECK(moved != NULL);
	memset(moved, ' ', k);
	if (size)
		memcpy(moved + k, data, size);
	compare_paths(moved, size + k);
	free(moved);
	free(line);
	return 0;
}
