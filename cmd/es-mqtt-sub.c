/* es-mqtt-sub - write one record per MQTT message received
 *
 * A payload that is a JSON object is the record, written as it came (line
 * breaks between its tokens become spaces, so that it stays one line), with
 * the topic and the arrival time added if asked. Any other payload is
 * wrapped: {"topic":...,"payload":"..."}; bytes that are not UTF-8 are
 * written as \udc80-\udcff (Python's "surrogateescape"), so that the exact
 * bytes can be had back. Output is flushed after each read from the broker.
 */
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "mqtt.h"
#include "opts.h"
#include "path.h"
#include "record.h"
#include "reload.h"
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
static struct writer *wr;
static bool csv;
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

/* ---- payloads as JSON text ---- */

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; }
	else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; }
	else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; }
	else return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3F >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* A JSON string of any bytes: valid UTF-8 as text, other bytes as
 * \udcXX (XX the byte, 80-FF). */
static void write_bytes_string(struct outbuf *o, const char *s, size_t n)
{
	if (utf8_valid(s, n)) {
		json_write_string(o, s, n);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	out_putc(o, '"');
	size_t i = 0;
	while (i < n) {
		size_t len = utf8_seq(p + i, n - i);
		if (len) {
			/* json_write_string quotes: write its inside only */
			size_t at = o->len;
			json_write_string(o, s + i, len);
			memmove(o->buf + at, o->buf + at + 1, o->len - at - 2);
			o->len -= 2;
			i += len;
		} else {
			char esc[8];
			snprintf(esc, sizeof esc, "\\udc%02x", p[i]);
			out_put(o, esc, 6);
			i++;
		}
	}
	out_putc(o, '"');
}

static void arrival_text(char *buf)
{
	rfc3339_format(time_now_us(), buf);
}

/* ---- one message, one record ---- */

static struct fieldset *fs;
static struct json_scan js;
static struct scratch sc;
static struct ofield *of;
static int nof;
static char **names;

/* NDJSON, a JSON object: as it came, one line, the asked-for fields added
 * before its closing brace. */
static void put_object(const char *topic, const char *p, size_t n)
{
	size_t end = n;
	while (end > 0 && p[end - 1] != '}')
		end--;
	size_t start = 0;
	while (p[start] != '{')
		start++;
	bool empty = true;
	for (size_t i = start + 1; i + 1 < end && empty; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			empty = false;
	for (size_t i = start; i + 1 < end; i++)
		out_putc(&out, p[i] == '\n' || p[i] == '\r' ? ' ' : p[i]);
	if (cfg.topic_field) {
		if (!empty)
			out_putc(&out, ',');
		json_write_string(&out, cfg.topic_field, strlen(cfg.topic_field));
		out_putc(&out, ':');
		json_write_string(&out, topic, strlen(topic));
		empty = false;
	}
	if (cfg.arrival_field) {
		char t[40];
		arrival_text(t);
		if (!empty)
			out_putc(&out, ',');
		json_write_string(&out, cfg.arrival_field, strlen(cfg.arrival_field));
		out_putc(&out, ':');
		json_write_string(&out, t, strlen(t));
	}
	out_put(&out, "}\n", 2);
}

static void put_wrapped(const char *topic, const char *p, size_t n)
{
	const char *tf = cfg.topic_field ? cfg.topic_field : "topic";
	out_putc(&out, '{');
	json_write_string(&out, tf, strlen(tf));
	out_putc(&out, ':');
	json_write_string(&out, topic, strlen(topic));
	out_put(&out, ",\"payload\":", 11);
	write_bytes_string(&out, p, n);
	if (cfg.arrival_field) {
		char t[40];
		arrival_text(t);
		out_putc(&out, ',');
		json_write_string(&out, cfg.arrival_field, strlen(cfg.arrival_field));
		out_putc(&out, ':');
		json_write_string(&out, t, strlen(t));
	}
	out_put(&out, "}\n", 2);
}

/* CSV: the --fields columns, from the payload's fields or the message. */
static void put_csv(const char *topic, const char *p, size_t n, bool object)
{
	static char t[40];
	scratch_reset(&sc);
	for (int i = 0; i < nof; i++) {
		struct value *v = &of[i].v;
		const char *name = names[i];
		v->t = V_NULL;
		if ((cfg.topic_field && !strcmp(name, cfg.topic_field)) ||
		    (!object && !strcmp(name, "topic"))) {
			v->t = V_STRING;
			v->s = topic;
			v->n = strlen(topic);
		} else if (cfg.arrival_field && !strcmp(name, cfg.arrival_field)) {
			arrival_text(t);
			v->t = V_STRING;
			v->s = t;
			v->n = strlen(t);
		} else if (!object && !strcmp(name, "payload")) {
			v->t = V_STRING;
			v->s = p;
			v->n = n;
		} else if (object) {
			value_load(&js.slots[i], v, &sc);
		}
	}
	const char *err;
	if (writer_put_fields(wr, of, (size_t)nof, &err) < 0) {
		diag_warn("message on '%s' not written: %s", topic, err);
		stats.bad++;	/* (the writer counts what it writes) */
	}
}

static void on_message(struct mosquitto *m, void *obj,
		       const struct mosquitto_message *msg)
{
	(void)m;
	(void)obj;
	stats.in++;
	if (cfg.count && (long long)received >= cfg.count) {
		/* Past -C in the same read: taken from the broker (and, at
		 * QoS 1 and 2, acknowledged), so counted and said at exit. */
		stats.dropped++;
		return;
	}
	received++;
	last_msg = loop_now_ms();
	const char *p = msg->payload ? msg->payload : "";
	size_t n = (size_t)msg->payloadlen;
	const char *err;
	size_t col;
	bool object = n > 0 && memchr(p, 0, n) == NULL &&
		json_scan_line(p, n, fs, &js, &err, &col) == 0;
	if (csv)
		put_csv(msg->topic, p, n, object);
	else if (object)
		put_object(msg->topic, p, n);
	else
		put_wrapped(msg->topic, p, n);
	if (!csv)
		stats.out++;
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

static void set_fields(void)
{
	if (!cfg.fields)
		diag_usage("-o csv needs --fields");
	char *list = xstrdup(cfg.fields);
	names = xmalloc((strlen(list) / 2 + 2) * sizeof *names);
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
		names[nof++] = tok;
	if (!nof)
		diag_usage("--fields: no field names");
	of = xmalloc((size_t)nof * sizeof *of);
	memset(of, 0, (size_t)nof * sizeof *of);
	for (int i = 0; i < nof; i++) {
		struct path path;
		const char *err;
		if (path_parse_all(names[i], &path, &err) < 0)
			diag_usage("--fields: '%s': %s", names[i], err);
		if (fieldset_add(fs, &path) != i)
			diag_usage("--fields: '%s' given twice", names[i]);
		path_free(&path);
		of[i].name = names[i];
		of[i].namelen = strlen(names[i]);
	}
}

static bool in_reload;	/* parsing a reloaded file: no --help there */

/* Parses argv into c (from its defaults); checks the options together. */
static void parse_args(int argc, char **argv, struct es_opts *o, struct conf *c)
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
	if (o->help && !in_reload)
		usage();
	if (o->version && !in_reload)
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

static void open_conn(void)
{
	mqtt_open(&conn, &cfg.mo, on_up, NULL, NULL);
	mosquitto_message_callback_set(conn.m, on_message);
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

static void conf_reload(void)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return;
	struct es_opts no;
	struct conf nc;
	opts_init(&no);
	in_reload = true;
	parse_args(ac, av, &no, &nc);
	in_reload = false;
	char why[600];
	bool ok = true;
	if (csv && !same(cfg.fields, nc.fields)) {
		snprintf(why, sizeof why, "changing --fields needs a restart "
			 "(the CSV header is written)");
		ok = false;
	} else {
		ok = mqtt_opts_files_ok(&nc.mo, why, sizeof why);
	}
	if (!ok) {
		reload_refuse(why);
		reload_free(av);
		return;
	}
	const char *copt = mqtt_opts_differ(&cfg.mo, &nc.mo);
	struct conf old = cfg;
	unsigned long reconnects = conn.reconnects + conn.ever_up;
	if (copt)
		mqtt_close(&conn);
	cfg = nc;	/* conn.o points to cfg.mo */
	if (copt) {
		forget_stale();	/* a new session */
		open_conn();
		conn.reconnects = reconnects;
	} else {
		resubscribe(&old);
	}
	char said[1200];
	size_t n = 0;
	for (int i = 0; i < cfg.nfilters && n < sizeof said; i++)
		n += (size_t)snprintf(said + n, sizeof said - n, "-t %s ",
				      cfg.filters[i]);
	if (n < sizeof said)
		n += (size_t)snprintf(said + n, sizeof said - n, "-q %d",
				      cfg.mo.qos);
	if (copt && n < sizeof said)
		snprintf(said + n, sizeof said - n, "; %s changed: connecting "
			 "to %s", copt, mqtt_where(&conn));
	reload_said(said);
	reload_free(conf_words);	/* old's words: no longer used */
	conf_words = av;
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
	parse_args(argc, argv, &o, &cfg);
	opts_apply(&o);
	diag_set_stats_extra(stats_extra);
	fs = fieldset_new();
	csv = o.out_fmt == FMT_CSV;
	if (csv)
		set_fields();
	js.slots = xmalloc(((size_t)fieldset_count(fs) + 1) * sizeof *js.slots);
	opts_check_done(&o);	/* --check: no connection */
	loop_signals();
	reload_init(&o);

	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	wr = writer_open(&out, csv ? FMT_CSV : FMT_NDJSON);
	open_conn();
	last_msg = loop_now_ms();
	for (;;) {
		int64_t now = loop_now_ms();
		if (done(now))
			break;
		if (reload_due())
			conf_reload();
		struct pollfd pf;
		int n = mqtt_pollfd(&conn, &pf) ? 1 : 0;
		int t = mqtt_timeout(&conn, now);
		if (cfg.idle_ms && last_msg + cfg.idle_ms - now < t)
			t = (int)(last_msg + cfg.idle_ms - now);
		int r = poll(&pf, (nfds_t)n, loop_timeout(reload_timeout(t < 0 ? 0 : t)));
		if (r < 0 && errno != EINTR)
			diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
		mqtt_service(&conn, r > 0 && n ? pf.revents : 0, loop_now_ms());
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
	writer_close(wr);
	fieldset_free(fs);
	free(js.slots);
	free(js.members);
	free(of);
	if (names)
		free(names[0]);
	free(names);
	scratch_free(&sc);
	forget_stale();
	reload_free(conf_words);
	diag_finish();
	out_free(&out);
	return diag_status;
}
