/* es-mqtt-pub - publish each record as an MQTT message, store-and-forward
 *
 * The publishers' loop (lib/publoop.h) with the MQTT transport
 * (lib/pubmqtt.h): each record read becomes a queued message (topic and
 * payload) in a spool, on disk with --spool, else a bounded queue in
 * memory; a message leaves the queue only when acknowledged (QoS 1 and 2:
 * by the broker; QoS 0: once written to the socket). This file holds the
 * options, their reload and the start.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "loop.h"
#include "mqtt.h"
#include "mqttprog.h"
#include "opts.h"
#include "prog.h"
#include "publish.h"
#include "publoop.h"
#include "pubprog.h"
#include "pubmqtt.h"
#include "record.h"
#include "reload.h"
#include "stats.h"

enum { OPT_RETAIN = OPT_PROGRAM };

/* What the options say (parsed at start and again on a reload). */
struct conf {
	const char *topic;
	bool retain;
	struct pub_opts pub;	/* --payload-field, the spool */
	struct mqtt_opts mo;
};

static struct pubprog pp;	/* the loop, the running conf, a reload staged */
static struct pubmqtt mq;

static const struct opts_entry opts[] = {
	{"topic", required_argument, 't', "TOPIC",
	 "topic, e.g. plant/alerts or\n'plant/{site}/{device}/temp'"},
	{"retain", no_argument, OPT_RETAIN, NULL, "publish with the retain flag"},
	{0}
};

static const struct prog_group groups[] = {
	{ PROG_CONT, pub_opts_table },
	{ "A reload of --config (SIGHUP, --watch-config) applies the topic,\n"
	  "--payload-field and --drain-timeout from the next record; a new --qos,\n"
	  "--retain or connection option once the messages queued before it are\n"
	  "acknowledged (reading waits). The spool options need a restart.",
	  NULL },
	{ "Connection:", mqtt_opts_head },
	{ PROG_CONT, mqtt_opts_id },
	{ PROG_CONT, mqtt_opts_table },
	{ 0 }
};

/* The spool's destination: mqtt://host:port (a static buffer). */
static const char *dest_of(const struct mqtt_opts *mo)
{
	static char dest[300];
	snprintf(dest, sizeof dest, "mqtt://%s:%d", mo->host, mo->port);
	return dest;
}

static void stats_extra(char *buf, size_t n)
{
	char queued[80];
	publoop_stats_queued(&pp.pl, queued, sizeof queued);
	snprintf(buf, n, ",\"published\":%llu,\"acknowledged\":%llu,"
		 "\"retried\":%llu%s,\"spooled\":%llu,\"reconnects\":%lu",
		 pp.pl.published, pp.pl.acked, pp.pl.retried, queued,
		 pp.pl.spooled, mq.conn.reconnects);
}

/* The running topic from -t, its fields in fs. */
static void topic_compile(const char *topic, struct fieldset *fs)
{
	char why[300];
	if (!pubmqtt_topic(&mq.topic, topic, fs, why, sizeof why))
		diag_usage("-t/--topic: %s", why);
}

/* ---- options ---- */

/* The words of the publishing options' help (lib/publish.h). */
static const struct pub_words words = {
	.done = "acknowledged", .queue = 1000,
	.reports = "\nacknowledgements",
};

static void conf_init(void *conf)
{
	struct conf *c = conf;
	pub_opts_init(&c->pub, &words);
	mqtt_opts_init(&c->mo);
}

static void option(void *conf, int ch, const char *arg)
{
	struct conf *c = conf;
	char why[MQTT_WHY];
	if (prog_took(mqtt_opt(&c->mo, ch, arg, why, sizeof why), why) ||
	    prog_took(pub_opt(&c->pub, ch, arg, why, sizeof why), why))
		return;
	if (ch == 't')
		c->topic = arg;
	else if (ch == OPT_RETAIN)
		c->retain = true;
}

static void check(struct prog_run *r, void *conf, int argc, char **argv)
{
	struct conf *c = conf;
	char why[MQTT_WHY];
	(void)r, (void)argc, (void)argv;
	if (!c->topic)
		diag_usage("missing -t/--topic");
	prog_usage_unless(mqtt_opts_check(&c->mo, why, sizeof why), why);
}

/* ---- reloading ---- */

/*
 * On SIGHUP, or with --watch-config when the file changed. The topic,
 * --payload-field and --drain-timeout shape each record as it is read:
 * they apply from the next one. --qos and --retain are applied as a
 * message is handed to the broker, and a connection option needs a new
 * client: so a reload that changes them waits, not reading, until every
 * message queued before it is acknowledged, then applies everything (and
 * reconnects if needed). A new connection while the broker cannot be
 * reached is made at once: the messages still queued go to it. The spool
 * options need a restart; such a file is refused.
 */
static bool reload_ready(void *ctx)
{
	(void)ctx;
	struct conf *c = pp.cfg, *n = pp.next;
	const char *copt = mqtt_opts_differ(&c->mo, &n->mo);
	bool per_message = n->mo.qos != c->mo.qos || n->retain != c->retain;
	return !(copt || per_message) || !spool_pending(pp.pl.q) ||
	       (copt && mq.conn.state != MQTT_UP);
}

static void reload_apply(void *ctx)
{
	(void)ctx;
	struct conf *c = pp.next;
	const char *copt = mqtt_opts_differ(&((struct conf *)pp.cfg)->mo, &c->mo);
	pubtmpl_free(&mq.topic);
	topic_compile(c->topic, pp.pl.fs);
	if (copt)
		mqtt_close(&mq.conn);	/* before its options are freed */
	pubprog_take(&pp);
	mq.retain = c->retain;
	publoop_fields(&pp.pl);
	if (copt) {
		char why[MQTT_WHY];
		prog_check(pubmqtt_reopen(&mq, &c->mo, why, sizeof why), why);
		/* the queued messages (if any) go there now */
		pubprog_move(&pp, dest_of(&c->mo));
	} else {
		mq.conn.o = &c->mo;
	}
	char said[800];
	int k = snprintf(said, sizeof said, "-t %s", c->topic);
	if (c->pub.payload_field)
		k += snprintf(said + k, sizeof said - (size_t)k,
			      " --payload-field %s", c->pub.payload_field);
	snprintf(said + k, sizeof said - (size_t)k, " -q %d%s", c->mo.qos,
		 c->retain ? " --retain" : "");
	mqttprog_said(said, sizeof said, copt, &mq.conn);
	reload_said(said);
}

/* The files a new connection would need, looked at now. */
static bool reload_accept(void *cur, void *nconf)
{
	const char *copt;
	return mqttprog_reload_ok(&((struct conf *)cur)->mo,
				  &((struct conf *)nconf)->mo, NULL, &copt);
}

static const struct pub_transport transport = {
	.head = pubmqtt_head, .send = pubmqtt_send, .failed = pubmqtt_failed,
	.ready = reload_ready, .apply = reload_apply, .say_full = true,
};

/* ---- the run ---- */

static int mqtt_start(void *ctx, char *why, size_t n)
{
	return pubmqtt_open(ctx, &((struct conf *)pp.cfg)->mo, why, n);
}

static void mqtt_free(void *ctx)
{
	pubmqtt_free(ctx);
}

static const struct pubprog_hooks hooks = {
	.pub_at = offsetof(struct conf, pub), .open = mqtt_start,
	.accept = reload_accept, .free = mqtt_free,
	.failed_exits = true,	/* the broker refused us: said */
};

static void setup(struct prog_run *r)
{
	struct conf *c = r->conf;
	pubmqtt_init(&mq, &pp.pl);
	topic_compile(c->topic, r->fs);
	mq.retain = c->retain;
	pubprog_setup(&pp, &hooks, r, &transport, &mq, dest_of(&c->mo));
}

const struct prog program = {
	.name = "es-mqtt-pub",
	.synopsis = "[OPTION]... -t TOPIC [FILE]...",
	.about = "Publish each record of FILEs (or standard input) as one MQTT\n"
		 "message. TOPIC may hold {field} parts filled from the record.",
	.opts = opts,
	.groups = groups,
	.notes = PUB_EXIT_NOTE
		 "\nExamples:\n"
		 "  es-mqtt-pub -h broker -t 'alerts/{gate}' -q 1 --spool /var/spool/es\n"
		 "  es-cat -o csv data.ndjson | es-mqtt-pub -o csv -t plant/rows\n",
	PUBPROG_HOOKS,
};
