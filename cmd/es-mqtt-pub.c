/* es-mqtt-pub - publish each record as an MQTT message, store-and-forward
 *
 * The publishers' loop (lib/publoop.h) with the MQTT transport
 * (lib/pubmqtt.h): each record read becomes a queued message (topic and
 * payload) in a spool, on disk with --spool, else a bounded queue in
 * memory; a message leaves the queue only when acknowledged (QoS 1 and 2:
 * by the broker; QoS 0: once written to the socket). This file holds the
 * options, their reload and the start.
 */
#include <errno.h>
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

static struct prog_run *run;
static struct conf *cfg;	/* the running configuration (run->conf) */
static struct conf *next;	/* a reload staged */
static char dest[300];		/* the spool's destination: mqtt://host:port */
static struct publoop pl;
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

static void dest_of(const struct mqtt_opts *mo)
{
	snprintf(dest, sizeof dest, "mqtt://%s:%d", mo->host, mo->port);
}

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"published\":%llu,\"acknowledged\":%llu,"
		 "\"retried\":%llu,\"spooled\":%llu,\"reconnects\":%lu",
		 pl.published, pl.acked, pl.retried, pl.spooled,
		 mq.conn.reconnects);
}

/* The running topic from -t, its fields in fs. */
static void topic_compile(const char *topic, struct fieldset *fs)
{
	char why[300];
	if (!pubmqtt_topic(&mq.topic, topic, fs, why, sizeof why))
		diag_usage("-t/--topic: %s", why);
}

/* ---- options ---- */

static void conf_init(void *conf)
{
	struct conf *c = conf;
	pub_opts_init(&c->pub, 1000);
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
	const char *copt = mqtt_opts_differ(&cfg->mo, &next->mo);
	bool per_message = next->mo.qos != cfg->mo.qos ||
			   next->retain != cfg->retain;
	return !(copt || per_message) || !spool_pending(pl.q) ||
	       (copt && mq.conn.state != MQTT_UP);
}

static void reload_apply(void *ctx)
{
	(void)ctx;
	const char *copt = mqtt_opts_differ(&cfg->mo, &next->mo);
	pubtmpl_free(&mq.topic);
	topic_compile(next->topic, pl.fs);
	if (copt)
		mqtt_close(&mq.conn);
	prog_conf_replace(run, next);
	cfg = next;
	next = NULL;
	pl.po = &cfg->pub;
	mq.retain = cfg->retain;
	publoop_fields(&pl);
	if (copt) {
		char why[MQTT_WHY];
		prog_check(pubmqtt_reopen(&mq, &cfg->mo, why, sizeof why), why);
		/* the queued messages (if any) go there now */
		dest_of(&cfg->mo);
		spool_set_owner(pl.q, dest);
	} else {
		mq.conn.o = &cfg->mo;
	}
	char said[800];
	int n = snprintf(said, sizeof said, "-t %s", cfg->topic);
	if (cfg->pub.payload_field)
		n += snprintf(said + n, sizeof said - (size_t)n,
			      " --payload-field %s", cfg->pub.payload_field);
	snprintf(said + n, sizeof said - (size_t)n, " -q %d%s", cfg->mo.qos,
		 cfg->retain ? " --retain" : "");
	mqttprog_said(said, sizeof said, copt, &mq.conn);
	reload_said(said);
}

static void conf_reload(void *ctx)
{
	char **av;
	(void)ctx;
	struct conf *nc = prog_reload_conf(&av);
	if (!nc)
		return;
	const char *opt = pub_opts_restart(&cfg->pub, &nc->pub);
	char why[600];
	if (opt)
		snprintf(why, sizeof why, "changing %s needs a restart", opt);
	const char *copt;
	if (!mqttprog_reload_ok(&cfg->mo, &nc->mo, opt ? why : NULL, &copt)) {
		prog_conf_drop(nc);
		reload_free(av);
		return;
	}
	if (next)
		prog_conf_drop(next);	/* a newer file replaces a staged one */
	next = nc;
	publoop_stage(&pl, av);
}

static const struct pub_transport transport = {
	.head = pubmqtt_head, .send = pubmqtt_send, .failed = pubmqtt_failed,
	.reload = conf_reload, .ready = reload_ready, .apply = reload_apply,
	.say_full = true,
};

/* ---- the run ---- */

static void setup(struct prog_run *r)
{
	run = r;
	cfg = r->conf;
	pubmqtt_init(&mq, &pl);
	topic_compile(cfg->topic, r->fs);
	mq.retain = cfg->retain;
	publoop_init(&pl, &transport, &mq, &cfg->pub, r->fs);
	dest_of(&cfg->mo);
	int rc = r->o.check ? pub_spool_check(&cfg->pub, dest) : 0;
	if (rc)
		prog_exit(rc);	/* said; --check: no spool, no connection */
}

static void run_loop(struct prog_run *r)
{
	char why[MQTT_WHY];
	int rc = publoop_open(&pl, dest, r->argv, r->argc, r->o.in_fmt,
			      r->o.out_fmt == FMT_CSV);
	if (rc)
		prog_exit(rc);	/* the spool said why */
	prog_check(pubmqtt_open(&mq, &cfg->mo, why, sizeof why), why);
	rc = publoop_run(&pl);
	if (rc < 0)
		diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
	if (rc || mq.conn.refused)
		prog_exit(rc ? rc : EXIT_RUNTIME);	/* said */
	if (publoop_finish(&pl))
		diag_status = EXIT_RUNTIME;
}

static void cleanup(struct prog_run *r)
{
	(void)r;
	pubmqtt_free(&mq);
	publoop_free(&pl);
	if (next)
		prog_conf_drop(next);
}

static const struct prog es_mqtt_pub = {
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
	.conf_size = sizeof(struct conf),
	.conf_init = conf_init,
	.option = option,
	.check = check,
	.setup = setup,
	.run = run_loop,
	.stats = stats_extra,
	.cleanup = cleanup,
};

int main(int argc, char **argv)
{
	pub_opts_words("acknowledged", 1000, "\nacknowledgements");
	return prog_main(&es_mqtt_pub, argc, argv);
}
