/* time.c - fuzz target: durations, RFC 3339 and event times (lib/time.c)
 *
 * The input, as a C string and as bytes, goes to duration_parse(),
 * rfc3339_parse() and time_from_value() (as a string value and, when it is
 * a JSON number, as a number) with every unit. Its first 8 bytes are also
 * an instant to format. The round trips time.h promises:
 *   - duration_format() writes what duration_parse() reads back the same;
 *   - rfc3339_format() of a time in years -99999 to 99999 parses back the
 *     same (years beyond 0000-9999 in ISO 8601's expanded form), and of
 *     any other int64 gives a string that parses as out of range;
 *   - time_format() in microseconds or RFC 3339 reads back through
 *     time_from_value() the same; event times lie in years -99999..99999;
 *   - durations are at most 10000 years;
 *   - time_from_digits() agrees with time_from_value() where it answers.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "number.h"
#include "time.h"
#include "value.h"

static int64_t tmin, tmax;	/* the first and last instant allowed */
static int64_t dur_max;		/* the longest duration */

static void bounds_init(void)
{
	const char *err;
	static const char lo[] = "-99999-01-01T00:00:00Z";
	static const char hi[] = "+99999-12-31T23:59:59.999999Z";
	static const char dmax[] = "3652425d";
	if (tmax)
		return;
	FUZZ_CHECK(rfc3339_parse(lo, sizeof lo - 1, &tmin, &err) == 0);
	FUZZ_CHECK(rfc3339_parse(hi, sizeof hi - 1, &tmax, &err) == 0);
	FUZZ_CHECK(duration_parse(dmax, false, &dur_max, &err) == 0);
}

static void duration_round_trip(int64_t us)
{
	char buf[64];
	int64_t back;
	const char *err;
	duration_format(us, buf, sizeof buf);
	FUZZ_CHECK(duration_parse(buf, true, &back, &err) == 0 && back == us);
}

static void check_duration(const char *s)
{
	int64_t us;
	const char *err = NULL;
	if (duration_parse(s, false, &us, &err) == 0) {
		FUZZ_CHECK(us >= 0 && us <= dur_max);
		duration_round_trip(us);
	} else {
		FUZZ_CHECK(err && *err);
	}
	if (duration_parse(s, true, &us, &err) == 0)
		duration_round_trip(us);
}

static void rfc_round_trip(int64_t us)
{
	char buf[32];
	int64_t back;
	const char *err;
	size_t n = rfc3339_format(us, buf);
	FUZZ_CHECK(n > 0 && n < sizeof buf && buf[n] == 0);
	FUZZ_CHECK(rfc3339_parse(buf, n, &back, &err) == 0 && back == us);
}

/* An event time formatted in repr reads back the same (units that keep
 * every microsecond only). */
static void format_round_trip(int64_t us, enum time_repr repr)
{
	char buf[40];
	size_t n = time_format(us, repr, false, buf);
	FUZZ_CHECK(n > 0 && n < sizeof buf);
	struct value v = { .t = V_STRING, .s = buf, .n = n };
	if (repr != TIME_RFC3339)
		FUZZ_CHECK(number_parse(buf, n, &v));
	enum time_repr u = repr;
	int64_t back;
	const char *err;
	FUZZ_CHECK(time_from_value(&v, &u, &back, &err) == 0 && back == us);
}

static void check_event_time(const struct value *v)
{
	static const enum time_repr units[] = {
		TIME_AUTO, TIME_S, TIME_MS, TIME_US, TIME_NS, TIME_RFC3339,
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		enum time_repr u = units[i];
		int64_t us;
		const char *err = NULL;
		if (time_from_value(v, &u, &us, &err) < 0) {
			FUZZ_CHECK(err && *err);
			continue;
		}
		FUZZ_CHECK(us >= tmin && us <= tmax);
		FUZZ_CHECK(u != TIME_AUTO);
		if (v->t == V_INT && units[i] == TIME_US)
			FUZZ_CHECK(us == v->u.i);
		format_round_trip(us, TIME_US);
		format_round_trip(us, TIME_RFC3339);
	}
}

/* time_from_digits, the integer times' fast path, takes only what
 * time_from_value takes from number_parse's V_INT, with the same result
 * and unit, and changes nothing when it declines. */
static void check_digits(const char *b, size_t size)
{
	static const enum time_repr units[] = {
		TIME_AUTO, TIME_S, TIME_MS, TIME_US, TIME_NS, TIME_RFC3339,
		TIME_S | TIME_GUESSED, TIME_MS | TIME_GUESSED,
		TIME_US | TIME_GUESSED, TIME_NS | TIME_GUESSED,
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		enum time_repr u = units[i], u2 = units[i];
		int64_t us = 0, us2 = 0, x = 0;
		const char *err;
		if (!time_from_digits(b, size, &u, &us, &x)) {
			FUZZ_CHECK(u == units[i]);
			continue;
		}
		struct value v;
		FUZZ_CHECK(number_parse(b, size, &v) && v.t == V_INT &&
			   v.u.i == x && x >= 0);
		FUZZ_CHECK(time_from_value(&v, &u2, &us2, &err) == 0);
		FUZZ_CHECK(us == us2 && u == u2);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bounds_init();
	char *s = fuzz_cstr(data, size);
	char *b = fuzz_exact(data, size);
	check_duration(s);
	int64_t us;
	const char *err = NULL;
	if (rfc3339_parse(b, size, &us, &err) == 0) {
		FUZZ_CHECK(us >= tmin && us <= tmax);
		rfc_round_trip(us);
	} else {
		FUZZ_CHECK(err && *err);
	}
	struct value v = { .t = V_STRING, .s = b, .n = size };
	check_event_time(&v);
	check_digits(b, size);
	if (number_parse(b, size, &v))
		check_event_time(&v);
	if (size >= 8) {
		int64_t x;
		memcpy(&x, data, sizeof x);
		/* Fold x into the durations duration_parse gives. */
		duration_round_trip(x % (dur_max + 1));
		/* Any int64 is written; out of range, it reads as that. */
		char buf[32];
		size_t n = rfc3339_format(x, buf);
		FUZZ_CHECK(n > 0 && n < sizeof buf && buf[n] == 0);
		if (x < tmin || x > tmax)
			FUZZ_CHECK(rfc3339_parse(buf, n, &us, &err) < 0 &&
				   strstr(err, "out of range"));
		/* Fold x into the years -99999 to 99999. */
		uint64_t span = (uint64_t)(tmax - tmin) + 1;
		rfc_round_trip(tmin + (int64_t)((uint64_t)x % span));
	}
	free(b);
	free(s);
	return 0;
}
