/* statsprom.c - the counters in Prometheus's text exposition format */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "stats.h"
#include "statsprom.h"

/* The program's own counters that are levels, not running counts. */
static const char *const gauges[] = { "groups", "state_bytes", "table_rows",
				       "queued", "queued_bytes", "last_status",
				       NULL };

struct text {
	char *buf;
	size_t n, len;
};

static void put(struct text *t, const char *fmt, ...)
{
	if (t->len >= t->n)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(t->buf + t->len, t->n - t->len, fmt, ap);
	va_end(ap);
	t->len = k < 0 || (size_t)k >= t->n - t->len ? t->n - 1 : t->len + (size_t)k;
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label(struct text *t, const char *name, const char *v)
{
	put(t, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(t, "\\%c", *v);
		else if (*v == '\n')
			put(t, "\\n");
		else
			put(t, "%c", *v);
	}
	put(t, "\"");
}

/* HELP, TYPE and the one sample of a family; value is printf'd. */
static void family(struct text *t, const char *name, const char *type,
		   const char *help, const char *value)
{
	const char *pipeline = getenv("EDGESTREAM_PIPELINE");
	put(t, "# HELP %s %s\n# TYPE %s %s\n%s{", name, help, name, type, name);
	put_label(t, "program", diag_prog);
	if (pipeline && *pipeline) {
		put(t, ",");
		put_label(t, "pipeline", pipeline);
	}
	put(t, "} %s\n", value);
}

static void counter(struct text *t, const char *name, const char *help, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof num, "%" PRIu64, v);
	family(t, name, "counter", help, num);
}

static void seconds(struct text *t, const char *name, const char *help, int64_t us)
{
	char num[32];
	snprintf(num, sizeof num, "%.3f", (double)us / 1e6);
	family(t, name, "gauge", help, num);
}

static int is_gauge(const char *key, size_t len)
{
	for (const char *const *g = gauges; *g; g++)
		if (strlen(*g) == len && !memcmp(*g, key, len))
			return 1;
	return 0;
}

/* The program's own counters: each ,"key":number of extra. The HELP text
 * depends on the name alone, as the textfile collector wants one text per
 * name across all the files it reads. */
static void extras(struct text *t, const char *extra)
{
	const char *p = extra;
	while ((p = strstr(p, ",\"")) != NULL) {
		const char *key = p + 2, *end = strchr(key, '"');
		if (!end || end[1] != ':' || end - key > 64)
			break;
		size_t len = (size_t)(end - key);
		const char *v = end + 2;
		size_t vlen = strspn(v, "0123456789");
		p = v;
		if (vlen == 0 || vlen > 20 || strspn(key, "abcdefghijklmnopqrstuvwxyz_") != len)
			continue;	/* not a count: not a metric */
		char name[96], help[160], num[24];
		int gauge = is_gauge(key, len);
		snprintf(name, sizeof name, "edgestream_%.*s%s", (int)len, key,
			 gauge ? "" : "_total");
		snprintf(help, sizeof help, "The program's \"%.*s\" %s of --stats "
			 "(its manual page says what it counts).", (int)len, key,
			 gauge ? "level" : "counter");
		snprintf(num, sizeof num, "%.*s", (int)vlen, v);
		family(t, name, gauge ? "gauge" : "counter", help, num);
	}
}

size_t statsprom_render(char *buf, size_t n, const char *extra,
			int64_t started_us, int64_t output_us)
{
	struct text t = { buf, n, 0 };
	buf[0] = 0;
	counter(&t, "edgestream_records_in_total", "Records read.", stats.in);
	counter(&t, "edgestream_records_out_total", "Records written.", stats.out);
	counter(&t, "edgestream_records_bad_total",
		"Input lines that could not be read (bad input).", stats.bad);
	counter(&t, "edgestream_records_late_total",
		"Records behind the watermark (late events).", stats.late);
	counter(&t, "edgestream_records_dropped_total",
		"Records dropped for a reason said on stderr.", stats.dropped);
	extras(&t, extra);
	seconds(&t, "edgestream_start_time_seconds",
		"When the program started, in seconds since the epoch.", started_us);
	if (stats.has_event)
		seconds(&t, "edgestream_last_event_time_seconds",
			"The event time of the last record that had one, in "
			"seconds since the epoch.", stats.event_us);
	if (output_us)
		seconds(&t, "edgestream_last_output_time_seconds",
			"When the program last wrote output, in seconds since "
			"the epoch.", output_us);
	return t.len;
}

int statsprom_wanted(const char *path)
{
	size_t n = strlen(path);
	return n > 5 && !strcmp(path + n - 5, ".prom");
}
