/* time.h - event time, durations, RFC 3339 */
#ifndef ES_TIME_H
#define ES_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "value.h"

/*
 * Times and durations are int64 microseconds: fine enough for any window.
 * Times lie in years -99999 to 99999 and durations are at most 10000
 * years, so that a time plus or minus a few durations never overflows.
 * Nanosecond input is truncated to the microsecond.
 */
#define US_PER_MS 1000LL
#define US_PER_S 1000000LL

/* How the input wrote its times; output windows use the same. */
enum time_repr {
	TIME_AUTO = 0,	/* not known yet: guess from the first value */
	TIME_S, TIME_MS, TIME_US, TIME_NS,	/* epoch numbers */
	TIME_RFC3339,
	/* Or'ed into an epoch unit that time_from_value guessed (not given
	 * with --time-unit): a later number whose size says another unit is
	 * an error. time_format takes a unit with it. */
	TIME_GUESSED = 16,
};

/*
 * Durations: a decimal integer or decimal fraction followed by a unit, and
 * sums of those: 250ms, 10s, 1.5s, 5m, 1h, 2d, 1h30m, 100us, 500ns.
 * "0" alone is allowed (no lateness). Negative only where allow_neg. At
 * most 10000 years (3652425d).
 * Returns 0, or -1 with *err set to a static message.
 */
int duration_parse(const char *s, bool allow_neg, int64_t *us, const char **err);
/* Writes a duration the way duration_parse reads it ("10s", "1h30m",
 * "250ms"), for messages and defaults in --help. */
void duration_format(int64_t us, char *buf, size_t n);

/*
 * RFC 3339 date-time: 2027-01-01T00:00:00Z, with optional fraction (up to 9
 * digits, truncated to us) and Z or ±hh:mm offset; 't'/'z' and a space for
 * 'T' are accepted (RFC 3339 section 5.6 note), and as exports write them
 * offsets +hhmm and +hh, and no offset at all: the time is then local time
 * in --timezone (time_set_zone; UTC by default). Checks field ranges,
 * including days per month and leap years; a leap second (:60 of minute
 * 59) is read as the last microsecond of its minute (java.time smooths it
 * the same way: in order, in the same minute and window).
 * Years 0000-9999 as RFC 3339 has them, and beyond in ISO 8601's expanded
 * form as java.time writes them ('-' and 4-6 digits, '+' and 5-6 digits:
 * -0001, +10000), within years -99999 to 99999. Returns 0, or -1 (*err
 * set).
 */
int rfc3339_parse(const char *s, size_t n, int64_t *us, const char **err);
/* --timezone: the zone of date-times written without an offset
 * ("2004-03-10 18:00:00"): UTC, or an IANA name from the C library's tz
 * database (Europe/Rome; TZ is set to it). A local time the zone skips
 * (spring: 02:30) moves later by the gap (03:30 summer time); one it
 * repeats (autumn: 02:30 twice) is the earlier instant (summer time), as
 * java.time resolves them. Returns 0, or -1 with *err set. */
int time_set_zone(const char *name, const char **err);
/* Writes us as RFC 3339 in UTC ("Z"), with as many fraction digits as
 * needed (0, 3 or 6), years beyond 0000-9999 as rfc3339_parse reads them
 * (any int64 fits). Returns the length; buf needs 32 bytes. */
size_t rfc3339_format(int64_t us, char *buf);

/*
 * Event time from a field's value: a number is an epoch count in unit
 * (TIME_AUTO on input: guess from its magnitude, see time_guess_unit, and
 * *unit is set to the guess | TIME_GUESSED so that later values use the
 * same, and a later number in another band of time_guess_unit is an error:
 * "time 1798761600127 is milliseconds by its size, but this input's times
 * are seconds ..."; a unit given is never checked), a string is an epoch
 * number written as a JSON number ("1798761600000", read as a number) or
 * RFC 3339 (*unit becomes TIME_RFC3339 if it was TIME_AUTO).
 * Returns 0, or -1 with a static message (missing, wrong type, out of
 * range: beyond years -99999 to 99999).
 */
int time_from_value(const struct value *v, enum time_repr *unit, int64_t *us,
		    const char **err);
/* time_from_value's common case, taken first: s[0..n) the digits of an
 * integer time (number_parse_uint) that converts without a word to say.
 * Then as time_from_value (*unit, *us), and the integer in *i; else false
 * and nothing changed: time_from_value decides, and says why. */
bool time_from_digits(const char *s, size_t n, enum time_repr *unit,
		      int64_t *us, int64_t *i);
/* The unit of an epoch number by magnitude: |x| < 1e11 seconds (to year
 * 5138), < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds. */
enum time_repr time_guess_unit(double x);

/* Writes us in repr (epoch integer in that unit, or RFC 3339 in quotes when
 * json is true, without when false). Returns the length; buf >= 40 bytes. */
size_t time_format(int64_t us, enum time_repr repr, bool json, char *buf);

/* Parses a --time-unit argument: s, ms, us, ns (or auto). -1 if none. */
int time_unit_parse(const char *s, enum time_repr *unit);

/* Wall clock, epoch microseconds (for --time processing). */
int64_t time_now_us(void);

#endif
