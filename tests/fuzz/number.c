/* number.c - fuzz target: JSON numbers read and written (lib/number.c,
 * lib/number_print.c) against the C library
 *
 *   - the input, if number_parse() takes it, reads as strtod() and
 *     strtoll() read it: a V_DOUBLE bit for bit, a V_INT exactly;
 *   - number_parse() (with its fast front) and number_parse_any() (the
 *     whole grammar alone) agree: the same verdict, type and value;
 *   - number_parse_uint() takes exactly its unsigned integers of up to 18
 *     digits, at the same value;
 *   - the input's first 8 bytes as a double, and the double just parsed,
 *     are written by number_format() as printf's first of %.15g, %.16g,
 *     %.17g that reads back writes them, number_print_fast() (where it
 *     answers) and number_print_exact() give the same text, and
 *     number_parse() reads it back as the same double.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>

#include "fuzz.h"
#include "number.h"
#include "number_impl.h"
#include "value.h"

static void reference(double d, char *buf)
{
	if (!isfinite(d)) {
		snprintf(buf, 32, "null");
		return;
	}
	for (int prec = 15; prec < 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
	snprintf(buf, 32, "%.17g", d);
}

static void check_format(double d)
{
	char a[40], b[40], c[40];
	size_t n = number_format(d, a);
	reference(d, b);
	FUZZ_CHECK(n == strlen(a) && strcmp(a, b) == 0);
	if (!isfinite(d))
		return;
	if (d != 0) {
		if (number_print_fast(d, c))
			FUZZ_CHECK(strcmp(c, b) == 0);
		number_print_exact(d, c);
		FUZZ_CHECK(strcmp(c, b) == 0);
	}
	struct value v;
	FUZZ_CHECK(number_parse(a, n, &v));
	FUZZ_CHECK((v.t == V_INT ? (double)v.u.i : v.u.d) == d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_exact(data, size);
	struct value v, any;
	bool ok = number_parse(s, size, &v);
	FUZZ_CHECK(ok == number_parse_any(s, size, &any));
	if (ok)
		FUZZ_CHECK(v.t == any.t && (v.t == V_INT ? v.u.i == any.u.i
				: memcmp(&v.u.d, &any.u.d, sizeof v.u.d) == 0));
	/* number_parse_uint: exactly the unsigned integers of <= 18 digits */
	uint64_t u;
	bool ok_u = number_parse_uint(s, size, &u);
	FUZZ_CHECK(ok_u == (ok && v.t == V_INT && size <= 18 && s[0] != '-'));
	if (ok_u)
		FUZZ_CHECK((int64_t)u == v.u.i);
	if (ok) {
		char *t = fuzz_cstr(data, size);
		FUZZ_CHECK(strlen(t) == size);	/* a number has no NUL */
		if (v.t == V_INT) {
			errno = 0;
			long long i = strtoll(t, NULL, 10);
			FUZZ_CHECK(errno == 0 && i == v.u.i);
		} else {
			FUZZ_CHECK(v.t == V_DOUBLE);
			double want = strtod(t, NULL);
			FUZZ_CHECK(memcmp(&want, &v.u.d, sizeof want) == 0);
			check_format(v.u.d);
		}
		free(t);
	}
	uint64_t bits = 0;
	double d;
	memcpy(&bits, data, size < 8 ? size : 8);
	memcpy(&d, &bits, sizeof d);
	check_format(d);
	free(s);
	return 0;
}
