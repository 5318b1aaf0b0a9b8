/* es-replay - answer requests for a slice of the archive over MQTT
 *
 * A request on fleet/ID/replay is a JSON object naming a span of event
 * time (and optionally a where expression and a key) and a reply topic;
 * the slice es-archive's query mode would give (lib/archive_query.c) is
 * published there with QoS 1, in chunks of NDJSON lines, then a final
 * message saying how many records and messages went (lib/replay.c). A
 * slice over --max-records, a bad expression or a bad time is refused
 * with an error message on the reply topic; a request that names no
 * usable reply topic is bad input (said, counted, dead-lettered).
 *
 * es-archive writes the archive while es-replay reads it (SQLite's WAL):
 * each request is served from one snapshot, opened for it. Requests are
 * served one at a time in their order of arrival; the chunks go out with
 * at most WINDOW unacknowledged, the next sent as PUBACKs come, so that
 * a large slice is never queued whole in memory.
 */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "evloop.h"
#include "gateway.h"
#include "json.h"
#include "mem.h"
#include "mqtt.h"
#include "mqttprog.h"
#include "opts.h"
#include "prog.h"
#include "replay.h"
#include "stats.h"

enum { OPT_DIR = OPT_PROGRAM, OPT_MAX_RECORDS, OPT_CHUNK };

#define DEFAULT_MAX_RECORDS 100000
#define DEFAULT_CHUNK 100
#define WINDOW 16		/* messages in flight (unacknowledged) */
#define QUEUE 64		/* requests waiting to be served */

struct conf {
	struct gateway_conf g;	/* --id, -t, -C, the connection */
	const char *dir;
	long long max_records, chunk;
};

static struct conf *cfg;	/* the running configuration (run->conf) */
static struct outbuf *out, reply;
/* A request waiting: to be served, or refused (why set) in its turn, so
 * that answers go out in the order the requests came. */
struct waiting {
	struct replay_req r;
	char *why;
};

static struct waiting queue[QUEUE];	/* a ring */
static int qhead, qlen;
static struct replay_req cur;	/* the request served (cur.reply: one is) */
static struct replay rp;
static int inflight;
static unsigned long long served, refused, records, messages;

static const struct opts_entry opts[] = {
	{"dir", required_argument, OPT_DIR, "DIR",
	 "the archive's directory (es-archive --dir;\nneeded)"},
	{"topic", required_argument, 't', "T",
	 "the request topic; {id} is replaced (default\nfleet/{id}/replay)"},
	{"max-records", required_argument, OPT_MAX_RECORDS, "N",
	 "refuse a slice of more than N records\n(default 100000)"},
	{"chunk", required_argument, OPT_CHUNK, "N",
	 "records a message (default 100)"},
	{"count", required_argument, 'C', "N", "stop after N requests"},
	{0}
};

static const struct prog_group groups[] = {
	{ PROG_CONT, opts },
	{ "A reload of --config (SIGHUP, --watch-config) applies --dir,\n"
	  "--max-records, --chunk and -C from the next request, a new -t by\n"
	  "unsubscribing and subscribing, a new --id or connection option by\n"
	  "reconnecting.", NULL },
	GATEWAY_GROUPS("ID-replay")
};

/* ---- sending ---- */

/* Replies go with QoS 1 at least (--qos 2: 2). */
static void publish(const char *topic, const struct outbuf *m)
{
	int qos = cfg->g.mo.qos < 1 ? 1 : cfg->g.mo.qos;
	int rc = mosquitto_publish(gateway_conn.m, NULL, topic, (int)m->len,
				   m->buf, qos, false);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		diag_warn("publish to %s: %s", topic, mosquitto_strerror(rc));
	else
		inflight++;	/* queued: its PUBACK comes, after a reconnect if
				   need be */
}

/* The line on standard output that says how a request was answered. */
static void said(const char *topic, const char *error)
{
	char b[96];
	out_puts(out, "{\"reply\":");
	json_write_string(out, topic, strlen(topic));
	if (error) {
		out_puts(out, ",\"error\":");
		json_write_string(out, error, strlen(error));
	} else {
		snprintf(b, sizeof b, ",\"records\":%llu,\"messages\":%llu",
			 (unsigned long long)rp.records,
			 (unsigned long long)rp.messages);
		out_puts(out, b);
	}
	out_puts(out, "}\n");
	stats.out++;
}

static void refuse(const char *topic, const char *why, const struct replay *r)
{
	replay_error(&reply, why, r);
	publish(topic, &reply);
	said(topic, why);
	refused++;
}

/* The request served is answered: its slice closed. */
static void end_request(void)
{
	replay_close(&rp);
	replay_req_free(&cur);
}

/* Starts the next request of the queue: its slice opened and counted,
 * or it is refused. */
static void next_request(void)
{
	char why[1024];
	struct waiting *w = &queue[qhead];
	cur = w->r;
	qhead = (qhead + 1) % QUEUE;
	qlen--;
	if (w->why) {
		refuse(cur.reply, w->why, NULL);
		free(w->why);
		w->why = NULL;
		end_request();
	} else if (replay_open(&rp, cfg->dir, &cur, (uint64_t)cfg->max_records,
			(long)cfg->chunk, why, sizeof why)) {
		refuse(cur.reply, why, NULL);
		end_request();
	}
}

/* As many messages as the window takes; true if more can go at once. */
static bool pump(void)
{
	char why[1024];
	bool sent = false;
	while (gateway_conn.state == MQTT_UP && inflight < WINDOW) {
		if (!cur.reply && !qlen)
			break;
		if (!cur.reply) {
			next_request();
			sent = true;
			continue;
		}
		uint64_t before = rp.records;
		int rc = replay_next(&rp, why, sizeof why);
		publish(cur.reply, &rp.msg);
		sent = true;
		records += rp.records - before;	/* counted as they go */
		if (rc > 0) {
			messages++;
			continue;
		}
		if (rc < 0) {
			said(cur.reply, why);
			refused++;
		} else {
			said(cur.reply, NULL);
			served++;
		}
		end_request();
	}
	if (sent)
		mqtt_flush(&gateway_conn);
	return gateway_conn.state == MQTT_UP && inflight < WINDOW &&
	       (cur.reply || qlen);
}

/* ---- requests ---- */

/* A request that cannot be answered: bad input, as a line of a stream. */
static void unanswerable(const struct mosquitto_message *msg, const char *why)
{
	struct record rec = { .src = msg->topic, .line = stats.in,
			      .raw = msg->payload ? msg->payload : "",
			      .rawlen = (size_t)msg->payloadlen };
	record_bad(&rec, why);
}

static void on_message(void *ctx, const struct mosquitto_message *msg)
{
	(void)ctx;
	struct replay_req r;
	char why[1024];
	stats.in++;
	int rc = replay_parse(msg->payload ? msg->payload : "",
			      (size_t)msg->payloadlen, &r, why, sizeof why);
	if (rc >= 0 && (strlen(r.reply) > 65535 ||
			mosquitto_pub_topic_check(r.reply) != MOSQ_ERR_SUCCESS)) {
		snprintf(why, sizeof why, "the reply topic is not one to "
			 "publish to (wildcards, or too long)");
		rc = -1;
	}
	if (rc < 0)
		unanswerable(msg, why);
	else if (qlen == QUEUE)	/* cannot wait its turn: refused at once */
		refuse(r.reply, "busy: 64 requests are waiting; ask again later",
		       NULL);
	else {
		queue[(qhead + qlen++) % QUEUE] = (struct waiting){
			.r = r, .why = rc > 0 ? xstrdup(why) : NULL};
		return;
	}
	replay_req_free(&r);
}

static void on_up(void *ctx, bool session_present)
{
	(void)ctx;
	(void)session_present;
	gateway_subscribe(&cfg->g);
}

static void on_publish(void *ctx, int mid)
{
	(void)ctx;
	(void)mid;
	if (inflight > 0)
		inflight--;
}

/* ---- options ---- */

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"served\":%llu,\"refused\":%llu,\"records\":%llu,"
		 "\"messages\":%llu,\"reconnects\":%lu", served, refused,
		 records, messages, gateway_conn.reconnects);
}

static void conf_init(void *conf)
{
	struct conf *c = conf;
	gateway_conf_init(&c->g, "fleet/{id}/replay");
	c->max_records = DEFAULT_MAX_RECORDS;
	c->chunk = DEFAULT_CHUNK;
}

static void option(void *conf, int ch, const char *arg)
{
	struct conf *c = conf;
	if (gateway_option(&c->g, ch, arg))
		return;
	switch (ch) {
	case OPT_DIR: c->dir = arg; break;
	case OPT_MAX_RECORDS:
		c->max_records = opts_count("--max-records", arg);
		break;
	case OPT_CHUNK: c->chunk = opts_count("--chunk", arg); break;
	}
}

static void check(struct prog_run *run, void *conf, int argc, char **argv)
{
	struct conf *c = conf;
	(void)run;
	gateway_check_id(&c->g, argc, argv);
	if (!c->dir)
		diag_usage("--dir is needed: the archive's directory");
	gateway_check_topic(&c->g, false);
	gateway_check_conn(&c->g, "{id}-replay");
}

/* ---- reloading ---- */

/*
 * On SIGHUP, or with --watch-config, between two turns of the loop:
 * --dir, --max-records, --chunk and -C apply from the next request (the
 * one being served keeps its own); a new -t unsubscribes the old filter
 * and subscribes the new one; a new --id or connection option reconnects.
 */
static bool reload(struct prog_run *run, void *nconf, char *said, size_t n)
{
	struct conf *nc = nconf;
	(void)run;
	snprintf(said, n, "--dir %s -t %s --max-records %lld --chunk %lld",
		 nc->dir, nc->g.topic, nc->max_records, nc->chunk);
	if (!gateway_reload_subscribed(&cfg->g, &nc->g, said, n))
		return false;
	cfg = nc;
	return true;
}

/* ---- the run ---- */

static void start(struct prog_run *run)
{
	cfg = run->conf;
	out = &run->out;
	out_init(&reply, -1, "reply");
	struct mqtt_hooks hooks = { .on_up = on_up, .on_message = on_message,
				    .on_publish = on_publish,
				    .max_inflight = WINDOW };
	gateway_start(&cfg->g, &hooks, &run->ev);
}

/* Between two turns: the messages that may go now; no wait while more
 * may. */
static int timeout(struct prog_run *run)
{
	(void)run;
	return pump() ? 0 : -1;
}

/* -C: done once N requests were answered, their messages acknowledged. */
static bool done(struct prog_run *run)
{
	(void)run;
	bool idle = !cur.reply && !qlen && !inflight;
	return gateway_done(&cfg->g, idle ? stats.in : 0);
}

static void finish(struct prog_run *run)
{
	gateway_finish_linger(&run->ev);
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	mqtt_close(&gateway_conn);
	if (cur.reply)
		end_request();
	for (; qlen; qlen--, qhead = (qhead + 1) % QUEUE) {
		replay_req_free(&queue[qhead].r);
		free(queue[qhead].why);
	}
	out_free(&reply);
}

const struct prog program = {
	.name = "es-replay",
	.synopsis = "--id ID --dir DIR [OPTION]...",
	.about = "Answer requests for a slice of es-archive's archive in DIR over MQTT:\n"
		 "a request on fleet/ID/replay, {\"from\":T1,\"to\":T2,\"where\":EXPR,\n"
		 "\"key_is\":{\"F\":\"V\"},\"reply\":TOPIC}, gets the records es-archive --from\n"
		 "T1 --to T2 --where EXPR --key-is F=V gives, on TOPIC with QoS 1, in\n"
		 "messages of --chunk NDJSON lines, then {\"done\":true,\"records\":N,\n"
		 "\"messages\":M,\"skipped\":K}; or {\"error\":WHY}. Each answer is said on\n"
		 "standard output.",
	.notes = "\n--stats: in (requests), out (answered), bad (not answerable: not JSON,\n"
		 "no reply topic), and served, refused, records and messages sent,\n"
		 "reconnects.\n"
		 "\nExample:\n"
		 "  es-replay --id gw-17 -h broker --dir /var/lib/edgestream/raw\n"
		 "  mosquitto_pub -t fleet/gw-17/replay -m '{\"from\":\"2027-01-01T06:00:00Z\",\n"
		 "    \"to\":\"2027-01-01T06:05:00Z\",\"reply\":\"ops/replay/1\"}'\n",
	.timeout = timeout,
	.conf_free = gateway_conf_free,
	GATEWAY_HOOKS,
};
