/* es-mqtt-sub - write one record per MQTT message received
 *
 * Messages become records as lib/mqttrec.h says: a JSON object as it came,
 * anything else wrapped. Output is flushed after each read from the
 * broker. This file holds the options, the subscriptions and their
 * reload; prog_main() turns the event loop the connection is in.
 */
#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "evloop.h"
#include "loop.h"
#include "mem.h"
#include "mqtt.h"
#include "mqttprog.h"
#include "mqttrec.h"
#include "opts.h"
#include "prog.h"
#include "record.h"
#include "reload.h"
#include "stats.h"
#include "time.h"

enum {
	OPT_TOPIC_FIELD = OPT_PROGRAM, OPT_ARRIVAL_FIELD, OPT_FIELDS,
};

#define MAX_FILTERS 64

/* What the options say (parsed at start and again on a reload). */
struct conf {
	const char *filters[MAX_FILTERS];
	int nfilters;
	long long count;	/* -C: 0 = no limit */
	int64_t idle_ms;	/* -W: 0 = no limit */
	const char *topic_field, *arrival_field, *fields;
	struct mqtt_opts mo;
};

static struct conf *cfg;	/* the running configuration (run->conf) */
static struct mqtt_conn conn;
static unsigned long long received;
static int64_t last_msg;

static const struct opts_entry opts[] = {
	{"topic", required_argument, 't', "FILTER",
	 "topic filter (+ and # wildcards); repeat\nfor more (up to 64)"},
	{"count", required_argument, 'C', "N", "exit after N messages"},
	{"timeout", required_argument, 'W', "D",
	 "exit after D without a message (e.g. 5s)"},
	{"topic-field", required_argument, OPT_TOPIC_FIELD, "NAME",
	 "add the topic as field NAME to JSON objects\n"
	 "(and use NAME instead of \"topic\" when wrapping)"},
	{"arrival-field", required_argument, OPT_ARRIVAL_FIELD, "NAME",
	 "add the arrival time (RFC 3339, UTC) as NAME"},
	{"fields", required_argument, OPT_FIELDS, "LIST",
	 "-o csv: the columns, comma-separated: payload\n"
	 "fields, the topic/arrival field names, and\n"
	 "topic and payload for wrapped messages"},
	{0}
};

static const struct prog_group groups[] = {
	{ "A reload of --config (SIGHUP, --watch-config) applies the output\n"
	  "options, -C and -W from the next message, new filters or --qos by\n"
	  "unsubscribing and subscribing, a connection option by reconnecting.",
	  NULL },
	{ "Connection:", mqtt_opts_head },
	{ PROG_CONT, mqtt_opts_id },
	{ PROG_CONT, mqtt_opts_table },
	{ 0 }
};

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"received\":%llu,\"reconnects\":%lu", received,
		 conn.reconnects);
}

/* ---- one message, one record ---- */

static struct mqttrec rec;	/* how messages become records */

static void on_message(void *ctx, const struct mosquitto_message *msg)
{
	(void)ctx;
	stats.in++;
	if (cfg->count && (long long)received >= cfg->count) {
		/* Past -C in the same read: taken from the broker (and, at
		 * QoS 1 and 2, acknowledged), so counted and said at exit. */
		stats.dropped++;
		return;
	}
	received++;
	last_msg = loop_now_ms();
	mqttrec_put(&rec, msg->topic, msg->payload ? msg->payload : "",
		    (size_t)msg->payloadlen);
}

/* Filters a reload dropped while the connection was down: a persistent
 * session still has them at the broker. */
static char *stale[MAX_FILTERS];
static int nstale;

static void forget_stale(void)
{
	for (int i = 0; i < nstale; i++)
		free(stale[i]);
	nstale = 0;
}

static void on_up(void *ctx, bool session_present)
{
	(void)ctx;
	(void)session_present;
	if (nstale) {
		int rc = mosquitto_unsubscribe_multiple(conn.m, NULL, nstale,
							stale, NULL);
		if (rc)
			diag_warn("unsubscribe: %s", mosquitto_strerror(rc));
		forget_stale();
	}
	/* Subscribing again on a resumed session is harmless and covers a
	 * broker that lost it. */
	int rc = mosquitto_subscribe_multiple(conn.m, NULL, cfg->nfilters,
					      (char *const *)cfg->filters,
					      cfg->mo.qos, 0, NULL);
	if (rc)
		diag_warn("subscribe: %s", mosquitto_strerror(rc));
}

/* ---- options ---- */

/* The records' form: NDJSON, or the --fields columns under -o csv. */
static void setup(struct prog_run *run)
{
	char why[600];
	bool csv = run->o.out_fmt == FMT_CSV;
	cfg = run->conf;
	if (csv && !cfg->fields)
		diag_usage("-o csv needs --fields");
	if (!mqttrec_init(&rec, csv ? cfg->fields : NULL, why, sizeof why))
		diag_usage("%s", why);
}

/* What a reload may change of the records: the fields they get. */
static void set_added(void)
{
	rec.topic_field = cfg->topic_field;
	rec.arrival_field = cfg->arrival_field;
}

static void conf_init(void *conf)
{
	struct conf *c = conf;
	mqtt_opts_init(&c->mo);
}

static void option(void *conf, int ch, const char *arg)
{
	struct conf *c = conf;
	char *end;
	int64_t us;
	const char *err;
	char why[MQTT_WHY];
	if (prog_took(mqtt_opt(&c->mo, ch, arg, why, sizeof why), why))
		return;
	switch (ch) {
	case 't':
		if (c->nfilters == MAX_FILTERS)
			diag_usage("more than %d -t/--topic filters", MAX_FILTERS);
		if (mosquitto_sub_topic_check(arg) != MOSQ_ERR_SUCCESS)
			diag_usage("invalid topic filter '%s' for -t/--topic", arg);
		c->filters[c->nfilters++] = arg;
		break;
	case 'C':
		errno = 0;
		c->count = strtoll(arg, &end, 10);
		if (errno || *end || end == arg || c->count < 1)
			diag_usage("invalid argument '%s' for -C/--count: "
				   "expected a positive number", arg);
		break;
	case 'W':
		if (duration_parse(arg, false, &us, &err) < 0 || us < 1000)
			diag_usage("invalid argument '%s' for -W/--timeout: %s",
				   arg, us < 1000 ? "at least 1ms" : err);
		c->idle_ms = us / 1000;
		break;
	case OPT_TOPIC_FIELD: c->topic_field = arg; break;
	case OPT_ARRIVAL_FIELD: c->arrival_field = arg; break;
	case OPT_FIELDS: c->fields = arg; break;
	}
}

/* The options checked together. */
static void check(struct prog_run *run, void *conf, int argc, char **argv)
{
	struct conf *c = conf;
	char why[MQTT_WHY];
	(void)run;
	if (!c->nfilters)
		diag_usage("missing -t/--topic");
	prog_usage_unless(mqttprog_no_operands(argc, argv, why, sizeof why), why);
	prog_usage_unless(mqtt_opts_check(&c->mo, why, sizeof why), why);
}

/* ---- reloading ---- */

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * reads from the broker: the output options, -C and -W apply from the next
 * message; filters no longer wanted are unsubscribed and new ones (all of
 * them on a new --qos) subscribed, in that order and in one write; a
 * connection option closes the connection and opens one with the new
 * options. --fields cannot change under -o csv: the header is written.
 */
static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool has_filter(const struct conf *c, const char *f)
{
	for (int i = 0; i < c->nfilters; i++)
		if (!strcmp(c->filters[i], f))
			return true;
	return false;
}

/* The subscriptions of old changed to those of cfg. */
static void resubscribe(const struct conf *old)
{
	char *gone[MAX_FILTERS], *added[MAX_FILTERS];
	int ng = 0, na = 0;
	for (int i = 0; i < old->nfilters; i++)
		if (!has_filter(cfg, old->filters[i]))
			gone[ng++] = (char *)old->filters[i];
	for (int i = 0; i < cfg->nfilters; i++)
		if (cfg->mo.qos != old->mo.qos || !has_filter(old, cfg->filters[i]))
			added[na++] = (char *)cfg->filters[i];
	if (conn.state != MQTT_UP) {
		/* on_up subscribes to cfg's; a persistent session keeps the
		 * old ones at the broker until they are unsubscribed */
		for (int i = 0; i < ng && cfg->mo.persistent; i++)
			if (nstale < MAX_FILTERS)
				stale[nstale++] = xstrdup(gone[i]);
		return;
	}
	int rc = 0;
	if (ng)
		rc = mosquitto_unsubscribe_multiple(conn.m, NULL, ng, gone, NULL);
	if (!rc && na)
		rc = mosquitto_subscribe_multiple(conn.m, NULL, na, added,
						  cfg->mo.qos, 0, NULL);
	if (rc)
		diag_warn("subscribe: %s", mosquitto_strerror(rc));
	mqtt_flush(&conn);
}

static bool reload(struct prog_run *run, void *nconf, char *said, size_t n)
{
	struct conf *nc = nconf, *old = cfg;
	(void)run;
	bool header = rec.csv && !same(cfg->fields, nc->fields);
	const char *copt;
	if (!mqttprog_reload_ok(&cfg->mo, &nc->mo, header ? "changing --fields "
				"needs a restart (the CSV header is written)"
				: NULL, &copt))
		return false;
	cfg = nc;
	set_added();
	char why[MQTT_WHY];
	prog_check(mqttprog_use(&conn, &cfg->mo, copt, why, sizeof why), why);
	if (copt)
		forget_stale();	/* a new session */
	else
		resubscribe(old);
	size_t k = 0;
	for (int i = 0; i < cfg->nfilters && k < n; i++)
		k += (size_t)snprintf(said + k, n - k, "-t %s ", cfg->filters[i]);
	if (k < n)
		snprintf(said + k, n - k, "-q %d", cfg->mo.qos);
	mqttprog_said(said, n, copt, &conn);
	return true;
}

/* ---- the run ---- */

static void start(struct prog_run *run)
{
	set_added();
	mqttrec_open(&rec, &run->out);
	struct mqtt_hooks hooks = { .on_up = on_up, .on_message = on_message };
	char why[MQTT_WHY];
	prog_check(mqttprog_open(&conn, &cfg->mo, &hooks, &run->ev, why, sizeof why),
		   why);
	last_msg = loop_now_ms();
}

static bool done(struct prog_run *run)
{
	(void)run;
	if (conn.refused || (cfg->count && (long long)received >= cfg->count))
		return true;
	return cfg->idle_ms && loop_now_ms() - last_msg >= cfg->idle_ms;
}

/* The wait until -W's time is up. */
static int timeout(struct prog_run *run)
{
	(void)run;
	if (!cfg->idle_ms)
		return -1;
	int64_t left = last_msg + cfg->idle_ms - loop_now_ms();
	return left < 0 ? 0 : (int)left;
}

/* Every way out says what did not become a record. */
static void finish(struct prog_run *run)
{
	(void)run;
	if (conn.refused)
		prog_exit(EXIT_RUNTIME);	/* said */
	if (stats.dropped)
		diag_warn("%llu messages received after -C %lld were not written",
			  (unsigned long long)stats.dropped, cfg->count);
	if (!conn.ever_up) {
		/* A subscriber that never reached its broker received nothing
		 * because of it: a failure, not an idle topic. */
		diag_warn("never connected to the broker %s: nothing received",
			  mqtt_where(&conn));
		diag_status = EXIT_RUNTIME;
	}
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	mqtt_close(&conn);
	mqttrec_free(&rec);
	forget_stale();
}

const struct prog program = {
	.ready_when_connected = true,
	.name = "es-mqtt-sub",
	.synopsis = "[OPTION]... -t FILTER [-t FILTER]...",
	.about = "Subscribe to topic FILTERs and write one record per message.\n"
		 "A JSON object payload is written as it came; any other payload\n"
		 "as {\"topic\":...,\"payload\":\"...\"} (bytes that are not UTF-8 as\n"
		 "\\udc80-\\udcff escapes).",
	.opts = opts,
	.groups = groups,
	.notes = "\nExamples:\n"
		 "  es-mqtt-sub -h broker -t 'plant/+/thermal' | es-filter 'value > 37.5'\n"
		 "  es-mqtt-sub -t 'sensors/#' --persistent --id gw1-in -q 1 \\\n"
		 "      -o csv --fields device,value,topic --topic-field topic\n",
	.conf_size = sizeof(struct conf),
	.conf_init = conf_init,
	.option = option,
	.check = check,
	.setup = setup,
	.start = start,
	.done = done,
	.timeout = timeout,
	.reload = reload,
	.stats = stats_extra,
	.finish = finish,
	.cleanup = cleanup,
};
