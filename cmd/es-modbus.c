/* es-modbus - read field devices (Modbus TCP and RTU) into the pipeline
 *
 * Each device (--tcp or --rtu) has its points (--map FILE, --point) and
 * its schedule (--every); a thread per device reads them
 * (lib/modbus_poll.c) and this program's thread writes one record per
 * point per poll, or one per device with --wide. The engine is in
 * lib/modbus_*.c; this file holds the options and the wiring.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dead.h"
#include "diag.h"
#include "evloop.h"
#include "loop.h"
#include "mem.h"
#include "modbus_map.h"
#include "modbus_poll.h"
#include "prog.h"
#include "reload.h"
#include "stats.h"
#include "time.h"

enum {
	OPT_TCP = OPT_PROGRAM, OPT_RTU, OPT_BAUD, OPT_PARITY, OPT_DATA_BITS,
	OPT_STOP_BITS, OPT_UNIT, OPT_TIMEOUT, OPT_BYTE_TIMEOUT, OPT_NAME,
	OPT_MAP, OPT_POINT, OPT_EVERY, OPT_MAX_GAP, OPT_WIDE, OPT_ERROR_RECORDS,
};

static const struct opts_entry device_opts[] = {
	{"tcp", required_argument, OPT_TCP, "HOST[:PORT]",
	 "a Modbus TCP device (port 502 by default);\n"
	 "the options after it are this device's"},
	{"rtu", required_argument, OPT_RTU, "DEVICE",
	 "a Modbus RTU device on a serial line\n"
	 "(/dev/ttyUSB0); the options after it are its"},
	{"baud", required_argument, OPT_BAUD, "N",
	 "RTU: the line's speed (default 19200)"},
	{"parity", required_argument, OPT_PARITY, "N|E|O",
	 "RTU: none, even or odd (default E)"},
	{"data-bits", required_argument, OPT_DATA_BITS, "N",
	 "RTU: 5 to 8 (default 8)"},
	{"stop-bits", required_argument, OPT_STOP_BITS, "N",
	 "RTU: 1 or 2 (default 1)"},
	{"unit", required_argument, OPT_UNIT, "ID",
	 "the unit (slave) id of points that name none\n"
	 "(default 1)"},
	{"timeout", required_argument, OPT_TIMEOUT, "D",
	 "the wait for a response (default 1s)"},
	{"byte-timeout", required_argument, OPT_BYTE_TIMEOUT, "D",
	 "the wait between two bytes of a response\n"
	 "(default 500ms)"},
	{"name", required_argument, OPT_NAME, "NAME",
	 "the device's name in records (default\n"
	 "HOST:PORT or DEVICE)"},
	{0}
};

static const struct opts_entry point_opts[] = {
	{"map", required_argument, 'm', "FILE",
	 "the device's register map, CSV (repeatable;\n"
	 "see es-modbus(1))"},
	{"point", required_argument, 'p', "SPEC",
	 "a point: NAME=TABLE:ADDRESS:TYPE[:ORDER]\n"
	 "[*SCALE][+OFFSET][@EVERY], TABLE coil, di, hr\n"
	 "or ir, ADDRESS 0-based, ORDER abcd (default),\n"
	 "cdab, badc or dcba, EVERY its own interval\n"
	 "(repeatable)"},
	{"every", required_argument, 'e', "D",
	 "poll the device every D (default 1s); a point\n"
	 "with an interval of its own keeps it"},
	{"max-gap", required_argument, OPT_MAX_GAP, "N",
	 "read across a gap of up to N unused registers\n"
	 "or bits to save a request (default 16)"},
	{0}
};

static const struct opts_entry output_opts[] = {
	{"wide", no_argument, OPT_WIDE, NULL,
	 "one record per device and poll, a field per\n"
	 "point (default: one record per point)"},
	{"error-records", no_argument, OPT_ERROR_RECORDS, NULL,
	 "a point that cannot be read gives a record with\n"
	 "\"error\" (default: counted, said once)"},
	{"count", required_argument, 'C', "N",
	 "stop after N polls of every device"},
	{0}
};

static const struct prog_group groups[] = {
	{ "Devices (options before the first --tcp or --rtu apply to every device):",
	  device_opts },
	{ "Points and polling:", point_opts },
	{ "Output:", output_opts },
	{ NULL, NULL }
};

/* A device as the options give it: its points still as words. */
struct devspec {
	struct modbus_device d;
	char *name;		/* owned (a default built from the address) */
	char *host;		/* owned: HOST of --tcp */
	const char **maps, **points;
	size_t nmaps, npoints;
};

struct conf {
	struct devspec defaults;	/* options before the first device */
	struct devspec *devs;
	size_t ndevs;
	bool wide, error_records;
	uint64_t count;
};

static void conf_init(void *conf)
{
	struct conf *c = conf;
	struct modbus_device *d = &c->defaults.d;
	d->unit = 1;
	d->every_us = 1000000;
	d->max_gap = 16;
	d->dev = (struct modbus_dev_opts){ .port = 502, .baud = 19200,
		.parity = 'E', .data_bits = 8, .stop_bits = 1,
		.response_us = 1000000, .byte_us = 500000 };
}

static const char **words_copy(const char **w, size_t n)
{
	const char **c = xmalloc((n + 1) * sizeof *c);
	if (n)
		memcpy(c, w, n * sizeof *c);
	return c;
}

static void words_add(const char ***w, size_t *n, const char *s)
{
	*w = xrealloc(*w, (*n + 1) * sizeof **w);
	(*w)[(*n)++] = s;
}

/* --tcp HOST[:PORT] or [V6ADDR]:PORT. */
static void parse_tcp(struct devspec *s, const char *arg)
{
	const char *colon = strrchr(arg, ':'), *host = arg;
	size_t hl = strlen(arg);
	if (*arg == '[') {
		const char *close = strchr(arg, ']');
		if (!close || (close[1] && close[1] != ':'))
			diag_usage("invalid address '%s' for --tcp", arg);
		host = arg + 1;
		hl = (size_t)(close - host);
		colon = close[1] ? close + 1 : NULL;
	} else if (colon && strchr(arg, ':') != colon) {
		colon = NULL;	/* a bare IPv6 address */
	} else if (colon) {
		hl = (size_t)(colon - arg);
	}
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || port < 1 || port > 65535)
			diag_usage("invalid port in '%s' for --tcp", arg);
		s->d.dev.port = (int)port;
	}
	if (hl == 0)
		diag_usage("invalid address '%s' for --tcp: no host", arg);
	s->host = xmalloc(hl + 1);
	memcpy(s->host, host, hl);
	s->host[hl] = 0;
	s->d.dev.host = s->host;
}

/* A new device: the defaults given so far, then its own options. */
static struct devspec *new_device(struct conf *c)
{
	c->devs = xrealloc(c->devs, (c->ndevs + 1) * sizeof *c->devs);
	struct devspec *s = &c->devs[c->ndevs++];
	*s = c->defaults;
	s->name = s->host = NULL;
	s->d.name = c->defaults.d.name;
	s->maps = words_copy(c->defaults.maps, c->defaults.nmaps);
	s->points = words_copy(c->defaults.points, c->defaults.npoints);
	return s;
}

static long int_arg(const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi)
		diag_usage("invalid argument '%s' for %s: expected %ld to %ld",
			   arg, opt, lo, hi);
	return v;
}

static void serial_option(struct modbus_dev_opts *o, int code, const char *arg)
{
	switch (code) {
	case OPT_BAUD: o->baud = (int)int_arg("--baud", arg, 50, 4000000); break;
	case OPT_DATA_BITS: o->data_bits = (int)int_arg("--data-bits", arg, 5, 8); break;
	case OPT_STOP_BITS: o->stop_bits = (int)int_arg("--stop-bits", arg, 1, 2); break;
	case OPT_PARITY:
		if (strlen(arg) != 1 || !strchr("NEO", arg[0]))
			diag_usage("invalid argument '%s' for --parity: N, E or O", arg);
		o->parity = arg[0];
		break;
	}
}

static void device_option(struct devspec *s, int code, const char *arg)
{
	struct modbus_device *d = &s->d;
	switch (code) {
	case OPT_UNIT: d->unit = (int)int_arg("--unit", arg, 0, 255); break;
	case OPT_TIMEOUT:
		d->dev.response_us = opts_duration("--timeout", arg, false);
		break;
	case OPT_BYTE_TIMEOUT:
		d->dev.byte_us = opts_duration("--byte-timeout", arg, false);
		break;
	case OPT_NAME: d->name = arg; break;
	case 'm': words_add(&s->maps, &s->nmaps, arg); break;
	case 'p': words_add(&s->points, &s->npoints, arg); break;
	case 'e':
		d->every_us = opts_duration("--every", arg, false);
		if (d->every_us < 1000)
			diag_usage("invalid duration '%s' for --every: at least 1ms", arg);
		break;
	case OPT_MAX_GAP:
		d->max_gap = (unsigned)int_arg("--max-gap", arg, 0, MB_MAX_BITS);
		break;
	default: serial_option(&d->dev, code, arg);
	}
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	struct devspec *cur = c->ndevs ? &c->devs[c->ndevs - 1] : &c->defaults;
	switch (code) {
	case OPT_TCP: parse_tcp(new_device(c), arg); break;
	case OPT_RTU: new_device(c)->d.dev.serial = arg; break;
	case OPT_WIDE: c->wide = true; break;
	case OPT_ERROR_RECORDS: c->error_records = true; break;
	case 'C': c->count = (uint64_t)opts_count("-C/--count", arg); break;
	default: device_option(cur, code, arg);
	}
}

/* A bad map line: bad input (DESIGN.md): said, to --dead-letter, counted;
 * fatal under --strict. */
static void map_bad(const char *path, uint64_t line, const char *msg,
		    const char *raw, size_t n, const char *header, size_t hn)
{
	dead_bad(path, line, msg, raw, n, header, hn);
}

/* The device's points: its map files, then its --point words. */
static void device_points(struct devspec *s)
{
	char err[300];
	for (size_t i = 0; i < s->nmaps; i++)
		if (modbus_map_load(&s->d.map, s->maps[i], map_bad, err, sizeof err))
			diag_usage("%s", err);
	for (size_t i = 0; i < s->npoints; i++) {
		struct mb_point pt;
		if (modbus_map_point(s->points[i], &pt, err, sizeof err))
			diag_usage("invalid argument '%s' for --point: %s",
				   s->points[i], err);
		modbus_map_add(&s->d.map, &pt);
	}
	if (!s->d.map.n)
		diag_usage("device %s has no points: give --map or --point", s->d.name);
	/* A name is a record's key downstream (and a field with --wide). */
	for (size_t i = 1; i < s->d.map.n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->d.map.p[i].name, s->d.map.p[j].name))
				diag_usage("device %s has two points named '%s'",
					   s->d.name, s->d.map.p[i].name);
}

static void conf_check(struct prog_run *run, void *conf, int argc, char **argv)
{
	(void)run;
	struct conf *c = conf;
	if (optind < argc)
		diag_usage("unexpected argument '%s' (es-modbus reads no input)",
			   argv[optind]);
	if (!c->ndevs)
		diag_usage("no device: give --tcp HOST or --rtu DEVICE");
	for (size_t i = 0; i < c->ndevs; i++) {
		struct devspec *s = &c->devs[i];
		if (!s->d.name) {
			char b[300];
			if (s->d.dev.host)
				snprintf(b, sizeof b, "%s:%d", s->d.dev.host, s->d.dev.port);
			else
				snprintf(b, sizeof b, "%s", s->d.dev.serial);
			s->d.name = s->name = xstrdup(b);
		}
		device_points(s);
	}
}

static void spec_free(struct devspec *s)
{
	free(s->name);
	free(s->host);
	free(s->maps);
	free(s->points);
	modbus_map_free(&s->d.map);
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	for (size_t i = 0; i < c->ndevs; i++)
		spec_free(&c->devs[i]);
	free(c->devs);
	spec_free(&c->defaults);
}

/* ---- the run ---- */

static struct modbus_queue queue;
static struct modbus_poller *pollers;
static size_t npollers, active;	/* pollers, those not done (--count) */
static struct modbus_counts total;

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"polls\":%llu,\"requests\":%llu,\"values\":%llu,"
		 "\"failed\":%llu,\"exceptions\":%llu,\"timeouts\":%llu,"
		 "\"disconnects\":%llu,\"reconnects\":%llu,\"overruns\":%llu,"
		 "\"skipped\":%llu",
		 (unsigned long long)total.polls, (unsigned long long)total.requests,
		 (unsigned long long)total.values, (unsigned long long)total.failed,
		 (unsigned long long)total.exceptions,
		 (unsigned long long)total.timeouts,
		 (unsigned long long)total.disconnects,
		 (unsigned long long)total.reconnects,
		 (unsigned long long)total.overruns,
		 (unsigned long long)total.skipped);
}

/* struct modbus_counts is uint64_t counters only: summed as an array. */
static void counts_add(const struct modbus_counts *c)
{
	uint64_t *t = (uint64_t *)&total;
	const uint64_t *d = (const uint64_t *)c;
	for (size_t i = 0; i < sizeof total / sizeof *t; i++)
		t[i] += d[i];
}

#define MAX_FIELDS 64

static struct ofield text_field(const char *name, const char *s, size_t n)
{
	return (struct ofield){ name, strlen(name),
				{ .t = V_STRING, .s = s, .n = n } };
}

static void put(struct prog_run *run, struct ofield *f, size_t n)
{
	const char *err;
	if (writer_put_fields(run->w, f, n, &err) < 0) {
		stats.dropped++;
		diag_warn("cannot write a record: %s", err);
	}
}

/* One record per point: its value, or its error with --error-records. */
static void write_points(struct prog_run *run, const struct modbus_device *d,
			 const struct modbus_batch *b)
{
	const struct conf *c = run->conf;
	struct ofield f[MAX_FIELDS];
	char ts[40];
	size_t tslen = 0;
	int64_t ts_us = INT64_MIN;
	for (size_t i = 0; i < b->n; i++) {
		const struct mb_point *pt = &d->map.p[i];
		const struct modbus_sample *s = &b->s[i];
		if (!s->due)
			continue;	/* its own --every has not come */
		stats.in++;
		if (!s->ok && !c->error_records) {
			stats.dropped++;	/* said and counted by its fault */
			continue;
		}
		if (s->ts_us != ts_us)	/* the points of a request share it */
			tslen = rfc3339_format(ts_us = s->ts_us, ts);
		size_t n = 0;
		f[n++] = text_field("ts", ts, tslen);
		f[n++] = text_field("device", d->name, strlen(d->name));
		f[n++] = text_field("name", pt->name, strlen(pt->name));
		if (s->ok)
			f[n++] = (struct ofield){ "value", 5, s->v };
		else
			f[n++] = text_field("error", s->error, strlen(s->error));
		for (size_t t = 0; t < pt->ntags && n < MAX_FIELDS; t++)
			f[n++] = text_field(pt->tags[t].name, pt->tags[t].value,
					    strlen(pt->tags[t].value));
		put(run, f, n);
	}
}

/* --wide: one record per poll, a field per point due (null when not read);
 * with --error-records an "error" field (null when every point was read).
 * A poll that read nothing gives no record without --error-records. */
static void write_wide(struct prog_run *run, const struct modbus_device *d,
		       const struct modbus_batch *b)
{
	const struct conf *c = run->conf;
	static struct ofield *f;
	static size_t cap;
	if (cap < b->n + 3)
		f = xrealloc(f, (cap = b->n + 3) * sizeof *f);
	char ts[40];
	int64_t when = 0;
	const char *error = NULL;
	size_t n = c->error_records ? 3 : 2;
	for (size_t i = 0; i < b->n; i++) {
		const struct modbus_sample *s = &b->s[i];
		if (!s->due)
			continue;
		if (s->ts_us > when)
			when = s->ts_us;
		if (!s->ok && !error)
			error = s->error;
		const char *name = d->map.p[i].name;
		f[n++] = (struct ofield){ name, strlen(name),
			s->ok ? s->v : (struct value){ .t = V_NULL } };
	}
	stats.in++;
	if (b->counts.values == 0 && !c->error_records) {
		stats.dropped++;
		return;
	}
	f[0] = text_field("ts", ts, rfc3339_format(when, ts));
	f[1] = text_field("device", d->name, strlen(d->name));
	if (c->error_records)
		f[2] = error ? text_field("error", error, strlen(error))
			     : (struct ofield){ "error", 5, { .t = V_NULL } };
	put(run, f, n);
}

static void write_batches(struct prog_run *run)
{
	const struct conf *c = run->conf;
	struct modbus_batch *list = modbus_poll_queue_take(&queue);
	for (struct modbus_batch *b = list; b; b = b->next) {
		const struct modbus_device *d = &c->devs[b->device].d;
		counts_add(&b->counts);
		for (char *l = b->note, *nl; *l; l = nl + 1) {
			nl = strchr(l, '\n');
			if (!nl) {	/* cut at the note's size */
				diag_warn("%s", l);
				break;
			}
			*nl = 0;
			diag_warn("%s", l);
		}
		if (c->wide)
			write_wide(run, d, b);
		else
			write_points(run, d, b);
		if (b->last)
			active--;
	}
	modbus_poll_queue_give(&queue, list);
	out_flush(&run->out);
}

static void on_queue(struct evloop_fd *f, short revents, int64_t now)
{
	(void)revents;
	(void)now;
	write_batches(f->ctx);
}

static void pollers_start(const struct conf *c)
{
	char err[200];
	pollers = xmalloc(c->ndevs * sizeof *pollers);
	npollers = active = c->ndevs;
	for (size_t i = 0; i < c->ndevs; i++)
		if (modbus_poll_start(&pollers[i], &c->devs[i].d, i, &queue,
				      c->count, err, sizeof err))
			diag_fatal(EXIT_RUNTIME, "%s: %s", c->devs[i].d.name, err);
}

/* Stops every poller, then writes what they had read. */
static void pollers_stop(struct prog_run *run)
{
	modbus_poll_queue_closing(&queue, true);	/* none waits for room */
	for (size_t i = 0; i < npollers; i++)
		modbus_poll_stop(&pollers[i]);
	write_batches(run);
	modbus_poll_queue_closing(&queue, false);
	free(pollers);
	pollers = NULL;
	npollers = active = 0;
}

/* A reload: the polls of the old configuration end (a read under way
 * first), their records go out, the new devices and maps start polling. */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	struct conf *nc = nconf;
	pollers_stop(run);
	pollers_start(nc);
	size_t points = 0;
	for (size_t i = 0; i < nc->ndevs; i++)
		points += nc->devs[i].d.map.n;
	snprintf(said, n, "%zu devices, %zu points", nc->ndevs, points);
	return true;
}

static void run_loop(struct prog_run *run)
{
	struct evloop ev;
	if (modbus_poll_queue_init(&queue))
		diag_fatal(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	srandom((unsigned)time_now_us());
	evloop_init(&ev);
	evloop_add_fd(&ev, queue.pipe[0], POLLIN, on_queue, run);
	writer_set_format(run->w, run->o.out_fmt ? run->o.out_fmt : FMT_NDJSON);
	pollers_start(run->conf);
	while (!loop_stop && active) {
		if (prog_reload(run))
			continue;
		if (evloop_run_once(&ev, -1) < 0)
			diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
	}
	pollers_stop(run);
	modbus_poll_queue_free(&queue);
}

const struct prog program = {
	.name = "es-modbus",
	.synopsis = "--tcp HOST[:PORT] | --rtu DEVICE [OPTION]...",
	.about = "Poll Modbus devices (TCP, or RTU on a serial line) and write a record\n"
		 "per point and poll: {\"ts\":...,\"device\":...,\"name\":...,\"value\":...},\n"
		 "ts the time of the response. Each device has its own schedule: a slow\n"
		 "or dead device does not delay the others. Faults are said once and\n"
		 "counted; connections are made again with back-off. Reads no input.",
	.groups = groups,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) ends the polls under\n"
		       "way and applies the new devices, maps and points from the next poll.",
	.notes = "\n--stats adds polls, requests, values, failed (points not read),\n"
		 "exceptions, timeouts, disconnects, reconnects, overruns (polls skipped\n"
		 "because the last ran past their time) and skipped (polls while not\n"
		 "connected); in counts readings, dropped those not written.\n"
		 "\nExamples:\n"
		 "  es-modbus --tcp 10.0.3.7 --unit 3 --name meter-3 --map sdm630.csv --every 5s\n"
		 "  es-modbus --rtu /dev/ttyUSB0 --baud 9600 --parity N --unit 2 \\\n"
		 "    --point 'voltage_l1=ir:0:float32' --point 'energy=hr:20:uint32*0.01'\n",
	PROG_CONF_HOOKS,
	.run = run_loop,
	.reload = conf_reload,
	.stats = stats_extra,
};
