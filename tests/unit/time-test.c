/* time-test.c - unit driver for lib/time.c (tests/time.bats)
 *
 * Reads commands, one a line, from the arguments (each argument is one
 * command) or else from stdin, and prints one line for each:
 *
 *   dur S          duration_parse(S, no negatives)   -> us
 *   durneg S       duration_parse(S, negatives)      -> us
 *   dfmt US        duration_format(US)               -> text
 *   rfc S          rfc3339_parse(S) (rest of line)   -> us
 *   rfcfmt US      rfc3339_format(US)                -> text
 *   val UNIT X     time_from_value(X, UNIT)          -> "us unit-after"
 *                  UNIT: s ms us ns rfc3339 auto, or = to keep the unit the
 *                  previous val left; X: a JSON number, "string" (raw bytes
 *                  between the outer quotes), null, missing, true, false,
 *                  or {...} / [...] (raw)
 *   digits UNIT D  time_from_digits(D, UNIT)         -> "us unit-after i",
 *                  or "refused"; UNIT as for val (= shares val's unit)
 *   fmt REPR US    time_format(US, REPR, json false)  -> text
 *   fmtj REPR US   time_format(US, REPR, json true)   -> text
 *   guess X        time_guess_unit(strtod(X))         -> unit name
 *   unit S         time_unit_parse(S)                 -> unit name
 *   now            time_now_us() is a plausible clock -> ok
 *   zone NAME      time_set_zone(NAME) (--timezone)  -> ok
 *
 * Failures print "error: <message>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "time.h"
#include "value.h"

static const char *const unit_names[] = {
	[TIME_AUTO] = "auto", [TIME_S] = "s", [TIME_MS] = "ms",
	[TIME_US] = "us", [TIME_NS] = "ns", [TIME_RFC3339] = "rfc3339",
};

static enum time_repr cur_unit = TIME_AUTO;

static int repr_parse(const char *s, enum time_repr *r)
{
	for (size_t i = 0; i < sizeof unit_names / sizeof unit_names[0]; i++) {
		if (strcmp(s, unit_names[i]) == 0) {
			*r = (enum time_repr)i;
			return 0;
		}
	}
	return -1;
}

/* A copy of exactly n bytes (no NUL), so that the sanitizer build catches
 * a parser that reads past n. */
static char *exact_copy(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	if (!p) {
		perror("malloc");
		exit(1);
	}
	memcpy(p, s, n);
	return p;
}

static int64_t int_arg(const char *s)
{
	return strtoll(s, NULL, 10);
}

/* Splits off the first space-separated word of *rest (NUL-terminating it). */
static char *word(char **rest)
{
	char *w = *rest, *sp = strchr(w, ' ');
	if (sp) {
		*sp = '\0';
		*rest = sp + 1;
	} else {
		*rest = w + strlen(w);
	}
	return w;
}

static void do_val(char *arg)
{
	char *u = word(&arg);
	size_t n = strlen(arg);
	struct value v;
	char *copy = NULL;

	memset(&v, 0, sizeof v);
	if (strcmp(u, "=") != 0 && repr_parse(u, &cur_unit) < 0) {
		printf("error: bad unit in test: %s\n", u);
		return;
	}
	if (n >= 2 && arg[0] == '"' && arg[n - 1] == '"') {
		copy = exact_copy(arg + 1, n - 2);
		v.t = V_STRING;
		v.s = copy;
		v.n = n - 2;
	} else if (strcmp(arg, "null") == 0) {
		v.t = V_NULL;
	} else if (strcmp(arg, "missing") == 0) {
		v.t = V_MISSING;
	} else if (strcmp(arg, "true") == 0 || strcmp(arg, "false") == 0) {
		v.t = V_BOOL;
		v.u.b = arg[0] == 't';
	} else if (arg[0] == '{' || arg[0] == '[') {
		v.t = V_RAW;
		v.s = arg;
		v.n = n;
	} else if (!number_parse(arg, n, &v)) {
		printf("error: bad value in test: %s\n", arg);
		return;
	}

	int64_t us;
	const char *err;
	if (time_from_value(&v, &cur_unit, &us, &err) < 0)
		printf("error: %s\n", err);
	else
		printf("%lld %s\n", (long long)us,
		       unit_names[cur_unit & ~TIME_GUESSED]);
	free(copy);
}

static void do_digits(char *arg)
{
	char *u = word(&arg);
	int64_t us, i;
	if (strcmp(u, "=") != 0 && repr_parse(u, &cur_unit) < 0) {
		printf("error: bad unit in test: %s\n", u);
		return;
	}
	/* a copy of its own size: the digits are read as they are */
	size_t n = strlen(arg);
	char *copy = exact_copy(arg, n);
	if (time_from_digits(copy, n, &cur_unit, &us, &i))
		printf("%lld %s %lld\n", (long long)us,
		       unit_names[cur_unit & ~TIME_GUESSED], (long long)i);
	else
		printf("refused\n");
	free(copy);
}

static void command(char *line)
{
	char *arg = line;
	char *cmd = word(&arg);
	int64_t us;
	const char *err;
	char buf[64];

	if (strcmp(cmd, "dur") == 0 || strcmp(cmd, "durneg") == 0) {
		if (duration_parse(arg, strcmp(cmd, "durneg") == 0, &us, &err) < 0)
			printf("error: %s\n", err);
		else
			printf("%lld\n", (long long)us);
	} else if (strcmp(cmd, "dfmt") == 0) {
		duration_format(int_arg(arg), buf, sizeof buf);
		printf("%s\n", buf);
	} else if (strcmp(cmd, "rfc") == 0) {
		size_t n = strlen(arg);
		char *copy = exact_copy(arg, n);
		if (rfc3339_parse(copy, n, &us, &err) < 0)
			printf("error: %s\n", err);
		else
			printf("%lld\n", (long long)us);
		free(copy);
	} else if (strcmp(cmd, "rfcfmt") == 0) {
		size_t n = rfc3339_format(int_arg(arg), buf);
		if (n != strlen(buf))
			printf("error: length %zu for %s\n", n, buf);
		else
			printf("%s\n", buf);
	} else if (strcmp(cmd, "val") == 0) {
		do_val(arg);
	} else if (strcmp(cmd, "digits") == 0) {
		do_digits(arg);
	} else if (strcmp(cmd, "fmt") == 0 || strcmp(cmd, "fmtj") == 0) {
		char *r = word(&arg);
		enum time_repr repr;
		if (repr_parse(r, &repr) < 0) {
			printf("error: bad repr in test: %s\n", r);
			return;
		}
		size_t n = time_format(int_arg(arg), repr,
				       strcmp(cmd, "fmtj") == 0, buf);
		if (n != strlen(buf))
			printf("error: length %zu for %s\n", n, buf);
		else
			printf("%s\n", buf);
	} else if (strcmp(cmd, "guess") == 0) {
		printf("%s\n", unit_names[time_guess_unit(strtod(arg, NULL))]);
	} else if (strcmp(cmd, "unit") == 0) {
		enum time_repr u = TIME_RFC3339;
		if (time_unit_parse(arg, &u) < 0)
			printf("error: no such unit\n");
		else
			printf("%s\n", unit_names[u]);
	} else if (strcmp(cmd, "zone") == 0) {
		if (time_set_zone(arg, &err) < 0)
			printf("error: %s\n", err);
		else
			printf("ok\n");
	} else if (strcmp(cmd, "now") == 0) {
		us = time_now_us();
		/* between 2020 and 2100 */
		printf("%s\n", us > 1577836800000000LL &&
		       us < 4102444800000000LL ? "ok" : "implausible");
	} else {
		printf("error: unknown command in test: %s\n", cmd);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			char *line = strdup(argv[i]);
			if (!line)
				return 1;
			command(line);
			free(line);
		}
		return 0;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		command(line);
	}
	free(line);
	return 0;
}
