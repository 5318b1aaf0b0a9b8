/* es-mqtt-sub - write one record per MQTT message received
 *
 * Messages become records as lib/mqttrec.h says: a JSON object as it came,
 * anything else wrapped. Output is flushed after each read from the
 * broker. This file holds the options, the subscriptions, their reload
 * and the loop.
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

static struct conf cfg;		/* the running configuration */
static struct mqtt_conn conn;
static struct outbuf out;
static unsigned long long received;
static int64_t last_msg;

static void usage(void)
{
	printf("Usage: es-mqtt-sub [OPTION]... -t FILTER [-t FILTER]...\n"
	       "Subscribe to topic FILTERs and write one record per message.\n"
	       "A JSON object payload is written as it came; any other payload\n"
	       "as {\"topic\":...,\"payload\":\"...\"} (bytes that are not UTF-8 as\n"
	       "\\udc80-\\udcff escapes).\n"
	       "\n"
	       "  -t, --topic FILTER       topic filter (+ and # wildcards); repeat\n"
	       "                           for more (up to 64)\n"
	       "  -C, --count N            exit after N messages\n"
	       "  -W, --timeout D          exit after D without a message (e.g. 5s)\n"
	       "      --topic-field NAME   add the topic as field NAME to JSON objects\n"
	       "                           (and use NAME instead of \"topic\" when wrapping)\n"
	       "      --arrival-field NAME add the arrival time (RFC 3339, UTC) as NAME\n"
	       "      --fields LIST        -o csv: the columns, comma-separated: payload\n"
	       "                           fields, the topic/arrival field names, and\n"
	       "                           topic and payload for wrapped messages\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) applies the output\n"
	       "options, -C and -W from the next message, new filters or --qos by\n"
	       "unsubscribing and subscribing, a connection option by reconnecting.\n"
	       "\n");
	mqtt_opts_help(stdout, NULL);
	printf("\n");
	opts_common_help(stdout);
	printf("\nExamples:\n"
	       "  es-mqtt-sub -h broker -t 'plant/+/thermal' | es-filter 'value > 37.5'\n"
	       "  es-mqtt-sub -t 'sensors/#' --persistent --id gw1-in -q 1 \\\n"
	       "      -o csv --fields device,value,topic --topic-field topic\n");
	exit(EXIT_OK);
}

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
	if (cfg.count && (long long)received >= cfg.count) {
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
	int rc = mosquitto_subscribe_multiple(conn.m, NULL, cfg.nfilters,
					      (char *const *)cfg.filters,
					      cfg.mo.qos, 0, NULL);
	if (rc)
		diag_warn("subscribe: %s", mosquitto_strerror(rc));
}

/* ---- options ---- */

/* The records' form: NDJSON, or the --fields columns under -o csv. */
static void set_fields(bool csv)
{
	char why[600];
	if (csv && !cfg.fields)
		diag_usage("-o csv needs --fields");
	if (!mqttrec_init(&rec, csv ? cfg.fields : NULL, why, sizeof why))
		diag_usage("%s", why);
}

/* What a reload may change of the records: the fields they get. */
static void set_added(void)
{
	rec.topic_field = cfg.topic_field;
	rec.arrival_field = cfg.arrival_field;
}

/* A mqttprog_parse_fn: argv into conf, the options checked together. */
static void parse_args(int argc, char **argv, struct es_opts *o, void *conf,
		       bool reload)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		MQTT_LONGOPTS,
		{"topic", required_argument, 0, 't'},
		{"count", required_argument, 0, 'C'},
		{"timeout", required_argument, 0, 'W'},
		{"topic-field", required_argument, 0, OPT_TOPIC_FIELD},
		{"arrival-field", required_argument, 0, OPT_ARRIVAL_FIELD},
		{"fields", required_argument, 0, OPT_FIELDS},
		{0, 0, 0, 0}
	};
	struct conf *c = conf;
	int ch;
	char *end;
	int64_t us;
	const char *err;
	memset(c, 0, sizeof *c);
	mqtt_opts_init(&c->mo);
	optind = 0;	/* a reload parses again from the start */
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT MQTT_SHORT "t:C:W:",
				 longopts, NULL)) != -1) {
		if (opts_common(o, ch, optarg) || mqtt_opt(&c->mo, ch, optarg))
			continue;
		switch (ch) {
		case 't':
			if (c->nfilters == MAX_FILTERS)
				diag_usage("more than %d -t/--topic filters",
					   MAX_FILTERS);
			if (mosquitto_sub_topic_check(optarg) != MOSQ_ERR_SUCCESS)
				diag_usage("invalid topic filter '%s' for -t/--topic",
					   optarg);
			c->filters[c->nfilters++] = optarg;
			break;
		case 'C':
			errno = 0;
			c->count = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || c->count < 1)
				diag_usage("invalid argument '%s' for -C/--count: "
					   "expected a positive number", optarg);
			break;
		case 'W':
			if (duration_parse(optarg, false, &us, &err) < 0 || us < 1000)
				diag_usage("invalid argument '%s' for -W/--timeout: %s",
					   optarg, us < 1000 ? "at least 1ms" : err);
			c->idle_ms = us / 1000;
			break;
		case OPT_TOPIC_FIELD: c->topic_field = optarg; break;
		case OPT_ARRIVAL_FIELD: c->arrival_field = optarg; break;
		case OPT_FIELDS: c->fields = optarg; break;
		default:
			opts_bad_option();
		}
	}
	if (o->help && !reload)
		usage();
	if (o->version && !reload)
		opts_apply(o);	/* prints it and exits */
	if (!c->nfilters)
		diag_usage("missing -t/--topic");
	if (optind < argc)
		diag_usage("unexpected argument '%s'", argv[optind]);
	mqtt_opts_check(&c->mo);
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
static char **conf_words;	/* the reloaded command line in use */

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
		if (!has_filter(&cfg, old->filters[i]))
			gone[ng++] = (char *)old->filters[i];
	for (int i = 0; i < cfg.nfilters; i++)
		if (cfg.mo.qos != old->mo.qos || !has_filter(old, cfg.filters[i]))
			added[na++] = (char *)cfg.filters[i];
	if (conn.state != MQTT_UP) {
		/* on_up subscribes to cfg's; a persistent session keeps the
		 * old ones at the broker until they are unsubscribed */
		for (int i = 0; i < ng && cfg.mo.persistent; i++)
			if (nstale < MAX_FILTERS)
				stale[nstale++] = xstrdup(gone[i]);
		return;
	}
	int rc = 0;
	if (ng)
		rc = mosquitto_unsubscribe_multiple(conn.m, NULL, ng, gone, NULL);
	if (!rc && na)
		rc = mosquitto_subscribe_multiple(conn.m, NULL, na, added,
						  cfg.mo.qos, 0, NULL);
	if (rc)
		diag_warn("subscribe: %s", mosquitto_strerror(rc));
	mqtt_flush(&conn);
}

/* What a reload says it applied. */
static void reload_say(const char *copt)
{
	char said[1200];
	size_t n = 0;
	for (int i = 0; i < cfg.nfilters && n < sizeof said; i++)
		n += (size_t)snprintf(said + n, sizeof said - n, "-t %s ",
				      cfg.filters[i]);
	if (n < sizeof said)
		snprintf(said + n, sizeof said - n, "-q %d", cfg.mo.qos);
	mqttprog_reloaded(said, copt, &conn);
}

static void conf_reload(void)
{
	struct conf nc;
	char **av = mqttprog_reload_parse(parse_args, &nc);
	if (!av)
		return;
	bool header = rec.csv && !same(cfg.fields, nc.fields);
	if (!mqttprog_reload_ok(av, &nc.mo, header ? "changing --fields needs a "
				"restart (the CSV header is written)" : NULL))
		return;
	const char *copt = mqtt_opts_differ(&cfg.mo, &nc.mo);
	struct conf old = cfg;
	if (copt)
		mqtt_close(&conn);
	cfg = nc;	/* conn.o points to cfg.mo */
	set_added();
	if (copt) {
		forget_stale();	/* a new session */
		mqtt_reopen(&conn, &cfg.mo);
	} else {
		resubscribe(&old);
	}
	reload_say(copt);
	mqttprog_keep(&conf_words, av);	/* old's words: no longer used */
}

static bool done(int64_t now)
{
	if (loop_stop)
		return true;
	if (cfg.count && (long long)received >= cfg.count)
		return true;
	return cfg.idle_ms && now - last_msg >= cfg.idle_ms;
}

int main(int argc, char **argv)
{
	struct es_opts o;
	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o, &cfg, false);
	opts_apply(&o);
	stats_set_extra(stats_extra);
	set_fields(o.out_fmt == FMT_CSV);
	set_added();
	opts_check_done(&o);	/* --check: no connection */
	loop_signals();
	reload_init(&o);

	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	mqttrec_open(&rec, &out);
	struct mqtt_hooks hooks = { .on_up = on_up, .on_message = on_message };
	mqtt_open(&conn, &cfg.mo, &hooks);
	struct evloop ev;
	evloop_init(&ev);
	mqtt_attach(&conn, &ev);
	struct evloop_timer *idle = evloop_add_timer(&ev, NULL, NULL);
	last_msg = loop_now_ms();
	while (!done(loop_now_ms())) {
		if (reload_due())
			conf_reload();
		idle->at = cfg.idle_ms ? last_msg + cfg.idle_ms : EVLOOP_NEVER;
		if (evloop_run_once(&ev, -1) < 0)
			diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
		/* Each message goes out at once: a live pipe sees it now. */
		if (out.len)
			out_flush(&out);
	}
	/* Every way out says what did not become a record. */
	if (stats.dropped)
		diag_warn("%llu messages received after -C %lld were not written",
			  (unsigned long long)stats.dropped, cfg.count);
	if (!conn.ever_up) {
		/* A subscriber that never reached its broker received nothing
		 * because of it: a failure, not an idle topic. */
		diag_warn("never connected to the broker %s: nothing received",
			  mqtt_where(&conn));
		diag_status = EXIT_RUNTIME;
	}
	mqtt_close(&conn);
	mqttrec_free(&rec);
	forget_stale();
	reload_free(conf_words);
	diag_finish();
	out_free(&out);
	return diag_status;
}
