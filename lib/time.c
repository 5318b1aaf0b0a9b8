/* time.c - event time, durations, RFC 3339 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "number.h"
#include "time.h"

/* The instants every time must lie within: years -99999 to 99999
 * (days_from_civil(-99999,1,1) = -37243412, days_from_civil(100000,1,1) =
 * 35804722), under 2^61.5 us either way; with durations of at most 10000
 * years, a time plus or minus a few durations never leaves int64, so the
 * programs' window arithmetic cannot overflow. Years outside 0000-9999 are
 * written and read in ISO 8601's expanded form (-0001, +10000), as
 * java.time does: a window bound next to year 0 or 9999 reads back. */
#define US_PER_DAY (86400LL * US_PER_S)
#define TIME_MIN_US (-37243412LL * US_PER_DAY)
#define TIME_MAX_US (35804722LL * US_PER_DAY - 1)

static const char range_msg[] = "event time out of range (years -99999 to 99999)";
static const char rfc_range_msg[] = "time out of range (years -99999 to 99999)";
#define PATH_MAX_ZONE 512

/* Floor division and modulo for a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b < 0) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	int64_t r = a % b;
	return r < 0 ? r + b : r;
}

/* ---- civil dates (proleptic Gregorian, days since 1970-01-01) ---- */

/* After Howard Hinnant's days_from_civil: eras of 400 years starting
 * March 1st, so the leap day is the last day of its year. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);		/* [0, 399] */
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* [0, 146096] */
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* ---- durations ---- */

/* Exact arithmetic in nanoseconds. At most 10000 Gregorian years
 * (3652425 days): far beyond any window or timeout, and small enough that
 * times (above) plus durations stay inside int64. That many nanoseconds
 * (3.2e20) is past int64, and 32-bit ARM has no 128-bit integers: a count
 * is kept as microseconds and the nanoseconds over them. */
#define DUR_MAX_US (3652425LL * 86400 * 1000000)

struct nsec {
	int64_t us;
	int64_t ns;		/* [0, 1000) */
};

/* Above 10000 years (the most is DUR_MAX_US us and 999 ns). */
static bool nsec_over(const struct nsec *a)
{
	return a->us > DUR_MAX_US;
}

static void nsec_add(struct nsec *a, const struct nsec *b)
{
	a->us += b->us;
	a->ns += b->ns;
	if (a->ns >= 1000) {
		a->us++;
		a->ns -= 1000;
	}
}

/* a * 10 + digit, for a count read digit by digit (not past the limit). */
static void nsec_digit(struct nsec *a, int digit)
{
	int64_t low = a->ns * 10 + digit;
	a->us = a->us * 10 + low / 1000;
	a->ns = low % 1000;
}

/* The count n of units of u ns, in ns; false if that is above the limit. */
static bool nsec_times(const struct nsec *n, int64_t u, struct nsec *out)
{
	if (n->us > DUR_MAX_US / u + 1)
		return false;
	int64_t low = n->ns * u;	/* < 1000 * 8.64e13 */
	*out = (struct nsec){ n->us * u + low / 1000, low % 1000 };
	return !nsec_over(out);
}

/* The fraction 0.d1d2...dk of u ns, floored to the ns: Horner's rule from
 * the last digit, dividing by 10 each step (floor of a floor is exact). */
static int64_t fraction_ns(const char *digits, int k, int64_t u)
{
	int64_t f = 0;
	for (int i = k - 1; i >= 0; i--)
		f = ((digits[i] - '0') * u + f) / 10;
	return f;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The unit at p, longest match first; its length in *len. 0 if none. */
static int64_t unit_ns(const char *p, size_t *len)
{
	static const struct { const char *name; int64_t ns; } units[] = {
		{"ns", 1}, {"us", 1000}, {"ms", 1000000},
		{"s", 1000000000LL}, {"m", 60000000000LL},
		{"h", 3600000000000LL}, {"d", 86400000000000LL},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t n = strlen(units[i].name);
		if (strncmp(p, units[i].name, n) == 0) {
			*len = n;
			return units[i].ns;
		}
	}
	return 0;
}

int duration_parse(const char *s, bool allow_neg, int64_t *us, const char **err)
{
	const char *p = s;
	bool neg = false;

	if (!*p) {
		*err = "empty duration";
		return -1;
	}
	if (*p == '-') {
		if (!allow_neg) {
			*err = "negative duration";
			return -1;
		}
		neg = true;
		p++;
	}
	if (strcmp(p, "0") == 0) {
		*us = 0;
		return 0;
	}

	struct nsec total = { 0, 0 };
	bool too_large = false, nonzero = false;
	do {
		/* digits, with an optional fraction */
		if (!is_digit(*p)) {
			*err = "expected a number in duration";
			return -1;
		}
		struct nsec ip = { 0, 0 };
		for (; is_digit(*p); p++) {
			if (!nsec_over(&ip))
				nsec_digit(&ip, *p - '0');
			nonzero |= *p != '0';
		}
		/* Up to 18 fraction digits count (below 1e-4 ns even in
		 * days); the rest are read and dropped. */
		const char *frac = NULL;
		int nfrac = 0;
		if (*p == '.') {
			p++;
			if (!is_digit(*p)) {
				*err = "expected a number in duration";
				return -1;
			}
			frac = p;
			for (; is_digit(*p); p++) {
				nonzero |= *p != '0';
				if (nfrac < 18)
					nfrac++;
			}
		}
		if (!*p) {
			*err = "missing unit in duration";
			return -1;
		}
		size_t ulen;
		int64_t u = unit_ns(p, &ulen);
		if (!u) {
			*err = "unknown unit in duration (use ms, s, m, h, d)";
			return -1;
		}
		p += ulen;
		struct nsec term;
		if (too_large || !nsec_times(&ip, u, &term)) {
			too_large = true;	/* still check the syntax */
			continue;
		}
		int64_t f = frac ? fraction_ns(frac, nfrac, u) : 0;
		struct nsec fr = { f / 1000, f % 1000 };
		nsec_add(&total, &term);
		nsec_add(&total, &fr);
		too_large = nsec_over(&total);
	} while (*p);

	if (too_large) {
		*err = "duration too large (10000 years at most)";
		return -1;
	}
	if (nonzero && total.us == 0) {
		*err = "duration below 1us";
		return -1;
	}
	int64_t v = total.us;
	*us = neg ? -v : v;
	return 0;
}

void duration_format(int64_t us, char *buf, size_t n)
{
	static const struct { const char *name; uint64_t us; } parts[] = {
		{"d", 86400000000ULL}, {"h", 3600000000ULL}, {"m", 60000000ULL},
		{"s", 1000000ULL}, {"ms", 1000ULL}, {"us", 1ULL},
	};
	size_t len = 0;

	if (n == 0)
		return;
	buf[0] = '\0';
	if (us == 0) {
		snprintf(buf, n, "0s");
		return;
	}
	uint64_t u = us < 0 ? -(uint64_t)us : (uint64_t)us;
	if (us < 0) {
		int w = snprintf(buf, n, "-");
		len = (size_t)w < n ? (size_t)w : n - 1;
	}
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		uint64_t q = u / parts[i].us;
		if (!q)
			continue;
		u -= q * parts[i].us;
		int w = snprintf(buf + len, n - len, "%llu%s",
				 (unsigned long long)q, parts[i].name);
		if (w < 0)
			return;
		len += (size_t)w;
		if (len >= n)
			return;	/* truncated, still NUL-terminated */
	}
}

/* ---- RFC 3339 ---- */

/* Reads exactly k digits at s[*i] (i < n). false if any is not a digit. */
static bool digits(const char *s, size_t n, size_t *i, int k, unsigned *out)
{
	unsigned v = 0;
	if (n - *i < (size_t)k)
		return false;
	for (int j = 0; j < k; j++) {
		char c = s[*i + (size_t)j];
		if (!is_digit(c))
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*i += (size_t)k;
	*out = v;
	return true;
}

/* The year: RFC 3339's four digits, or ISO 8601's expanded form as
 * java.time's Instant writes and reads it: '-' and 4 to 6 digits before
 * year 0000 (-0001), '+' and 5 or 6 after 9999 (+10000). */
static bool year_digits(const char *s, size_t n, size_t *i, int64_t *year)
{
	bool neg = false, sign = *i < n && (s[*i] == '+' || s[*i] == '-');
	size_t j = *i + sign;
	int64_t v = 0;
	int k = 0;
	if (sign)
		neg = s[*i] == '-';
	for (; j < n && is_digit(s[j]) && k < 7; j++, k++)
		v = v * 10 + (s[j] - '0');
	if (!sign ? k != 4 : neg ? k < 4 || k > 6 || v == 0 : k < 5 || k > 6)
		return false;
	*i = j;
	*year = neg ? -v : v;
	return true;
}

static bool expect(const char *s, size_t n, size_t *i, char c)
{
	if (*i < n && s[*i] == c) {
		(*i)++;
		return true;
	}
	return false;
}

static int64_t zone_offset(int64_t local);

/* A date-time's clock: hh:mm:ss, a fraction, and Z, an offset or none (no
 * offset: local time, which --timezone says). */
struct clock {
	unsigned hh, mm, ss, frac;
	int64_t off_s;
	bool local, leap;
};

/* The clock after the date at s[i]: 'T' (or 't', or a space as exports
 * write it), then the time to the end. Returns 0, or -1 with *err. */
static int clock_parse(const char *s, size_t n, size_t i, struct clock *c,
		       const char **err)
{
	unsigned hh, mm, ss, frac = 0;
	bool local = false;
	if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
		i++;
	} else {
		*err = "expected 'T' after the date";
		return -1;
	}
	if (!digits(s, n, &i, 2, &hh) || !expect(s, n, &i, ':') ||
	    !digits(s, n, &i, 2, &mm) || !expect(s, n, &i, ':') ||
	    !digits(s, n, &i, 2, &ss)) {
		*err = "expected a time hh:mm:ss";
		return -1;
	}
	if (hh > 23) {
		*err = "hour out of range";
		return -1;
	}
	if (mm > 59) {
		*err = "minute out of range";
		return -1;
	}
	/* A leap second (23:59:60, in any offset: minute 59) is read as
	 * the last microsecond of its minute, as java.time smooths it: in
	 * order after :59 and in the same minute, day and window. */
	bool leap = ss == 60 && mm == 59;
	if (ss > 59 && !leap) {
		*err = "second out of range";
		return -1;
	}
	if (expect(s, n, &i, '.')) {
		int k = 0;
		for (; i < n && is_digit(s[i]); i++, k++) {
			if (k < 6)
				frac = frac * 10 + (unsigned)(s[i] - '0');
		}
		if (k < 1 || k > 9) {
			*err = "expected 1 to 9 fraction digits";
			return -1;
		}
		for (; k < 6; k++)
			frac *= 10;
	}

	int64_t off_s = 0;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		bool neg = s[i] == '-';
		unsigned oh, om;
		i++;
		/* +hh:mm, and as exports also write it +hhmm and +hh */
		om = 0;
		bool ok = digits(s, n, &i, 2, &oh);
		if (ok && expect(s, n, &i, ':'))
			ok = digits(s, n, &i, 2, &om);
		else if (ok && i < n)
			ok = digits(s, n, &i, 2, &om);
		if (!ok) {
			*err = "expected an offset +hh:mm";
			return -1;
		}
		if (oh > 23 || om > 59) {
			*err = "offset out of range";
			return -1;
		}
		off_s = (int64_t)oh * 3600 + om * 60;
		if (neg)
			off_s = -off_s;
	} else if (i < n) {
		*err = "expected Z or an offset +hh:mm after the time";
		return -1;
	} else {
		local = true;	/* no offset: --timezone says (UTC) */
	}
	if (i != n) {
		*err = "trailing characters";
		return -1;
	}

	*c = (struct clock){ hh, mm, ss, frac, off_s, local, leap };
	return 0;
}

int rfc3339_parse(const char *s, size_t n, int64_t *us, const char **err)
{
	size_t i = 0;
	unsigned mon, day;
	int64_t year;

	if (!year_digits(s, n, &i, &year) || !expect(s, n, &i, '-') ||
	    !digits(s, n, &i, 2, &mon) || !expect(s, n, &i, '-') ||
	    !digits(s, n, &i, 2, &day)) {
		*err = "expected a date YYYY-MM-DD";
		return -1;
	}
	if (mon < 1 || mon > 12) {
		*err = "month out of range";
		return -1;
	}
	if (day < 1 || day > days_in_month(year, mon)) {
		*err = "day out of range";
		return -1;
	}
	/* nothing after the date (daily exports: 2012-01-01): its midnight,
	 * local as a time without an offset is */
	struct clock c = { .local = true };
	if (i < n && clock_parse(s, n, i, &c, err) < 0)
		return -1;
	if (c.leap) {
		c.ss = 59;
		c.frac = US_PER_S - 1;
	}
	int64_t secs = days_from_civil(year, mon, day) * 86400 +
		       (int64_t)c.hh * 3600 + c.mm * 60 + c.ss - c.off_s;
	if (c.local)
		secs -= zone_offset(secs);
	/* secs * US_PER_S would leave int64 for such years: the range is
	 * checked in seconds first. */
	if (secs < TIME_MIN_US / US_PER_S - 1 || secs > TIME_MAX_US / US_PER_S) {
		*err = rfc_range_msg;
		return -1;
	}
	int64_t t = secs * US_PER_S + c.frac;
	if (t < TIME_MIN_US || t > TIME_MAX_US) {
		*err = rfc_range_msg;
		return -1;
	}
	*us = t;
	return 0;
}

size_t rfc3339_format(int64_t us, char *buf)
{
	int64_t days = floor_div(us, US_PER_DAY);
	int64_t rem = floor_mod(us, US_PER_DAY);	/* us into the day */
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	unsigned sod = (unsigned)(rem / US_PER_S);
	unsigned f = (unsigned)(rem % US_PER_S);
	char frac[8] = "";
	if (f % 1000 != 0)
		snprintf(frac, sizeof frac, ".%06u", f);
	else if (f != 0)
		snprintf(frac, sizeof frac, ".%03u", f / 1000);
	/* Outside 0000-9999 the year has a sign (ISO 8601 expanded, as
	 * java.time writes it); int64 us needs at most 6 digits. */
	int w = snprintf(buf, 32, y > 9999 ? "+%lld-%02u-%02uT%02u:%02u:%02u%sZ" :
			 y < 0 ? "-%04lld-%02u-%02uT%02u:%02u:%02u%sZ" :
			 "%04lld-%02u-%02uT%02u:%02u:%02u%sZ",
			 (long long)(y < 0 ? -y : y), m, d, sod / 3600,
			 sod / 60 % 60, sod % 60, frac);
	return w < 0 ? 0 : (size_t)w < 32 ? (size_t)w : 31;
}

/* ---- event time from values ---- */

enum time_repr time_guess_unit(double x)
{
	double a = fabs(x);
	if (a < 1e11)
		return TIME_S;
	if (a < 1e14)
		return TIME_MS;
	if (a < 1e17)
		return TIME_US;
	return TIME_NS;
}

/* The same for an integer, exactly: (double)99999999999999999 is 1e17. */
static enum time_repr guess_unit_int(int64_t x)
{
	uint64_t a = x < 0 ? -(uint64_t)x : (uint64_t)x;
	if (a < 100000000000ULL)
		return TIME_S;
	if (a < 100000000000000ULL)
		return TIME_MS;
	if (a < 100000000000000000ULL)
		return TIME_US;
	return TIME_NS;
}

static bool in_range(int64_t t)
{
	return t >= TIME_MIN_US && t <= TIME_MAX_US;
}

/* --timezone: NULL is UTC. */
static const char *zone;
static int64_t cmin, coff;

int time_set_zone(const char *name, const char **err)
{
	static char msg[PATH_MAX_ZONE + 96];
	if (!strcmp(name, "UTC") || !strcmp(name, "Z")) {
		zone = NULL;
		return 0;
	}
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX_ZONE];
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!*name || name[0] == '/' || strstr(name, "..") ||
	    access(path, R_OK) != 0) {
		snprintf(msg, sizeof msg, "no such zone in %s (an IANA name "
			 "such as Europe/Rome, or UTC)", dir);
		*err = msg;
		return -1;
	}
	zone = name;
	cmin = INT64_MIN;	/* zone_offset's cache: none */
	setenv("TZ", name, 1);
	tzset();
	return 0;
}

/* The zone's offset from UTC (s) at instant t (s). */
static int64_t offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		return 0;
	return tm.tm_gmtoff;
}

/*
 * The offset that makes local time L (seconds, as if UTC) an instant of
 * --timezone, as java.time's ZonedDateTime.of resolves it: in an overlap
 * (autumn: 02:30 happens twice) the earlier instant, the summer offset;
 * in a gap (spring: 02:30 never happens) the offset before the gap, so
 * that the time moves later by the gap's length (02:30 is 03:30 summer
 * time). Cached per minute of L: offsets change on whole minutes.
 */

static int64_t zone_offset(int64_t L)
{
	if (!zone)
		return 0;
	int64_t m = floor_div(L, 60);
	if (m == cmin)
		return coff;
	int64_t oa = offset_at(L - 86400), ob = offset_at(L + 86400);
	bool va = offset_at(L - oa) == oa, vb = offset_at(L - ob) == ob;
	int64_t off;
	if (va && vb)
		off = oa > ob ? oa : ob;	/* the earlier instant */
	else if (vb)
		off = ob;
	else
		off = oa;	/* only a, or a gap: the offset before it */
	cmin = m;
	coff = off;
	return off;
}

static const char *unit_name(enum time_repr u)
{
	return u == TIME_S ? "seconds" : u == TIME_MS ? "milliseconds" :
	       u == TIME_US ? "microseconds" : "nanoseconds";
}

/* A number whose size says another unit than the one guessed for the
 * input: bad input, never a time misread by a factor of 1000. */
static int unit_contradiction(const struct value *v, enum time_repr by,
			      enum time_repr in, const char **err)
{
	static char msg[200];
	char num[40];
	if (v->s && v->n < sizeof num) {
		memcpy(num, v->s, v->n);
		num[v->n] = 0;
	} else if (v->t == V_INT) {
		snprintf(num, sizeof num, "%lld", (long long)v->u.i);
	} else {
		snprintf(num, sizeof num, "%.17g", v->u.d);
	}
	snprintf(msg, sizeof msg, "time %s is %s by its size, but this input's "
		 "times are %s (guessed from its first time; say which with "
		 "--time-unit)", num, unit_name(by), unit_name(in));
	*err = msg;
	return -1;
}

/* Is s[0..n) an epoch number written as a string ("1798761600000")? */
static bool epoch_text(const char *s, size_t n, struct value *nv)
{
	return n > 0 && n < 32 && (is_digit(s[0]) || s[0] == '-') &&
	       number_parse(s, n, nv);
}

/* An integer time x in the unit the input has (*u: guessed from x when
 * unit names none): its microseconds in *t, or why not (by: the unit x
 * looks like, for the message). */
enum int_time { INT_OK, INT_CONTRA, INT_RANGE };
static enum int_time int_time(int64_t x, enum time_repr unit,
			      enum time_repr *u, enum time_repr *by,
			      int64_t *t)
{
	*u = (enum time_repr)(unit & ~TIME_GUESSED);
	*by = guess_unit_int(x);
	if (*u != TIME_S && *u != TIME_MS && *u != TIME_US && *u != TIME_NS)
		*u = *by;
	else if ((unit & TIME_GUESSED) && *by != *u)
		return INT_CONTRA;	/* a guessed unit checks each value */
	switch (*u) {
	case TIME_S:
		return __builtin_mul_overflow(x, US_PER_S, t) ? INT_RANGE
							      : INT_OK;
	case TIME_MS:
		return __builtin_mul_overflow(x, US_PER_MS, t) ? INT_RANGE
							       : INT_OK;
	case TIME_US:
		*t = x;
		return INT_OK;
	default:
		*t = floor_div(x, 1000);
		return INT_OK;
	}
}

/*
 * The last time read as digits, and what it gave. Readings in long form
 * (a row per device and sensor, as gateways poll them) come in runs that
 * share one time: the same text again costs a compare, not a parse
 * (which, with record_time around it, took 7% of es-window's CSV job).
 * The result depends on the text and the unit alone, so one cache serves
 * every caller. Only a program's main thread reads times (es-modbus's
 * pollers, its one other thread, read devices, not text).
 */
static struct {
	size_t n;		/* 0: empty */
	uint64_t w0, w1;	/* its first and last eight bytes */
	enum time_repr unit_in, unit_out;
	int64_t us, i;
} last_digits;

/* Times of 8 to 16 digits are kept (seconds have 10, milliseconds 13,
 * microseconds 16): their text is two words that overlap, read, compared
 * and stored without a call. With every time new, keeping them costs
 * es-window's CSV job 1-2%. */
static inline bool digits_kept(const char *s, size_t n, enum time_repr unit,
			       uint64_t *w0, uint64_t *w1)
{
	if (n < 8 || n > 16)
		return false;
	memcpy(w0, s, 8);
	memcpy(w1, s + n - 8, 8);
	return n == last_digits.n && unit == last_digits.unit_in &&
	       *w0 == last_digits.w0 && *w1 == last_digits.w1;
}

bool time_from_digits(const char *s, size_t n, enum time_repr *unit,
		      int64_t *us, int64_t *i)
{
	uint64_t w0, w1;
	if (digits_kept(s, n, *unit, &w0, &w1)) {
		*unit = last_digits.unit_out;
		*us = last_digits.us;
		*i = last_digits.i;
		return true;
	}
	uint64_t m;
	enum time_repr u, by, in = *unit;
	int64_t t;
	if (!number_parse_uint(s, n, &m) ||
	    int_time((int64_t)m, *unit, &u, &by, &t) != INT_OK || !in_range(t))
		return false;
	if (*unit == TIME_AUTO)
		*unit = (enum time_repr)(u | TIME_GUESSED);
	*us = t;
	*i = (int64_t)m;
	if (n >= 8 && n <= 16) {
		last_digits.n = n;
		last_digits.w0 = w0;
		last_digits.w1 = w1;
		last_digits.unit_in = in;
		last_digits.unit_out = *unit;
		last_digits.us = t;
		last_digits.i = (int64_t)m;
	}
	return true;
}

int time_from_value(const struct value *v, enum time_repr *unit, int64_t *us,
		    const char **err)
{
	static char msg[160];
	/* A guessed unit checks the size of every later number. */
	bool check = *unit & TIME_GUESSED;
	enum time_repr u = (enum time_repr)(*unit & ~TIME_GUESSED);
	int64_t t;

	switch (v->t) {
	case V_MISSING:
		*err = "missing time field";
		return -1;
	case V_NULL:
		*err = "time field is null";
		return -1;
	case V_STRING: {
		const char *e;
		struct value nv;
		if (epoch_text(v->s, v->n, &nv))
			return time_from_value(&nv, unit, us, err);
		if (rfc3339_parse(v->s, v->n, &t, &e) < 0) {
			if (e == rfc_range_msg) {
				*err = range_msg;
			} else {
				snprintf(msg, sizeof msg,
					 "invalid RFC 3339 time: %s", e);
				*err = msg;
			}
			return -1;
		}
		if (*unit == TIME_AUTO)
			*unit = TIME_RFC3339;
		*us = t;
		return 0;
	}
	case V_INT: {
		enum time_repr by;
		switch (int_time(v->u.i, *unit, &u, &by, &t)) {
		case INT_CONTRA:
			return unit_contradiction(v, by, u, err);
		case INT_RANGE:
			goto out_of_range;
		default:
			break;
		}
		break;
	}
	case V_DOUBLE: {
		double x = v->u.d;
		if (!isfinite(x))
			goto out_of_range;
		if (u != TIME_S && u != TIME_MS && u != TIME_US && u != TIME_NS) {
			u = time_guess_unit(x);
		} else if (check) {
			enum time_repr by = time_guess_unit(x);
			if (by != u)
				return unit_contradiction(v, by, u, err);
		}
		if (u == TIME_NS) {
			/* To the nearest ns, then down to the us like an
			 * integer: 1500.0 ns is 1 us as 1500 is. */
			double r = round(x);
			if (fabs(r) < 9e18)
				t = floor_div((int64_t)r, 1000);
			else if (fabs(x) < 9e21)
				t = (int64_t)floor(x / 1000);
			else
				goto out_of_range;
			break;
		}
		double f = u == TIME_S ? 1e6 : u == TIME_MS ? 1e3 : 1.0;
		/* Nearest, not floor: 1798761600.123 s is a hair below
		 * ...600123000 us in binary. */
		double r = round(x * f);
		if (!(fabs(r) < 9e18))
			goto out_of_range;
		t = (int64_t)r;
		break;
	}
	default:
		*err = "time field is not a number or an RFC 3339 string";
		return -1;
	}
	if (!in_range(t))
		goto out_of_range;
	if (*unit == TIME_AUTO)
		*unit = (enum time_repr)(u | TIME_GUESSED);
	*us = t;
	return 0;

out_of_range:
	*err = range_msg;
	return -1;
}

size_t time_format(int64_t us, enum time_repr repr, bool json, char *buf)
{
	/* Integers without printf: a window's start and end are written for
	 * each window (printf was 2% of es-window's instructions). */
	switch ((enum time_repr)(repr & ~TIME_GUESSED)) {
	case TIME_S:
		return number_format_int(floor_div(us, US_PER_S), buf);
	case TIME_US:
		return number_format_int(us, buf);
	case TIME_NS: {
		/* us * 1000 as text: exact even where it overflows int64. */
		size_t n = number_format_int(us, buf);
		if (us) {
			memcpy(buf + n, "000", 4);
			n += 3;
		}
		return n;
	}
	case TIME_RFC3339:
		if (json) {
			buf[0] = '"';
			size_t n = rfc3339_format(us, buf + 1);
			buf[n + 1] = '"';
			buf[n + 2] = '\0';
			return n + 2;
		}
		return rfc3339_format(us, buf);
	case TIME_MS:
	case TIME_AUTO:
	default:
		return number_format_int(floor_div(us, US_PER_MS), buf);
	}
}

int time_unit_parse(const char *s, enum time_repr *unit)
{
	static const struct { const char *name; enum time_repr u; } names[] = {
		{"s", TIME_S}, {"ms", TIME_MS}, {"us", TIME_US},
		{"ns", TIME_NS}, {"auto", TIME_AUTO},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(s, names[i].name) == 0) {
			*unit = names[i].u;
			return 0;
		}
	}
	return -1;
}

int64_t time_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}
