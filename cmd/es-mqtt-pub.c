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

static struct conf cfg;		/* the running configuration */
static struct conf next;	/* a reload staged */
static char dest[300];		/* the spool's destination: mqtt://host:port */
static struct publoop pl;
static struct pubmqtt mq;

static void dest_of(const struct mqtt_opts *mo)
{
	snprintf(dest, sizeof dest, "mqtt://%s:%d", mo->host, mo->port);
}

static void usage(void)
{
	printf("Usage: es-mqtt-pub [OPTION]... -t TOPIC [FILE]...\n"
	       "Publish each record of FILEs (or standard input) as one MQTT\n"
	       "message. TOPIC may hold {field} parts filled from the record.\n"
	       "\n"
	       "  -t, --topic TOPIC        topic, e.g. plant/alerts or\n"
	       "                           'plant/{site}/{device}/temp'\n"
	       "      --retain             publish with the retain flag\n");
	pub_opts_help(stdout, "acknowledged", 1000);
	printf("      --drain-timeout D    at end of input, wait up to D for\n"
	       "                           acknowledgements (default 10s)\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) applies the topic,\n"
	       "--payload-field and --drain-timeout from the next record; a new --qos,\n"
	       "--retain or connection option once the messages queued before it are\n"
	       "acknowledged (reading waits). The spool options need a restart.\n"
	       "\n");
	mqtt_opts_help(stdout, NULL);
	printf("\n");
	opts_common_help(stdout);
	printf("\nExit status 1 also when messages were not delivered at the end, or\n"
	       "were refused by the broker or the library (each said, counted as bad\n"
	       "and its payload written to --dead-letter). Exit status 2 when --spool\n"
	       "is another program's or holds records for another destination.\n"
	       "\nExamples:\n"
	       "  es-mqtt-pub -h broker -t 'alerts/{gate}' -q 1 --spool /var/spool/es\n"
	       "  es-cat -o csv data.ndjson | es-mqtt-pub -o csv -t plant/rows\n");
	exit(EXIT_OK);
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

/* A mqttprog_parse_fn: argv into conf, the options checked together. */
static void parse_args(int argc, char **argv, struct es_opts *o, void *conf,
		       bool reload)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		MQTT_LONGOPTS,
		{"topic", required_argument, 0, 't'},
		{"retain", no_argument, 0, OPT_RETAIN},
		PUB_LONGOPTS,
		{0, 0, 0, 0}
	};
	struct conf *c = conf;
	*c = (struct conf){ 0 };
	pub_opts_init(&c->pub, 1000);
	mqtt_opts_init(&c->mo);
	int ch;
	optind = 0;	/* a reload parses again from the start */
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT MQTT_SHORT "t:",
				 longopts, NULL)) != -1) {
		if (opts_common(o, ch, optarg) || mqtt_opt(&c->mo, ch, optarg) ||
		    pub_opt(&c->pub, ch, optarg))
			continue;
		if (ch == 't')
			c->topic = optarg;
		else if (ch == OPT_RETAIN)
			c->retain = true;
		else
			opts_bad_option();
	}
	if (o->help && !reload)
		usage();
	if (o->version && !reload)
		opts_apply(o);	/* prints it and exits */
	if (!c->topic)
		diag_usage("missing -t/--topic");
	mqtt_opts_check(&c->mo);
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
	const char *copt = mqtt_opts_differ(&cfg.mo, &next.mo);
	bool per_message = next.mo.qos != cfg.mo.qos || next.retain != cfg.retain;
	return !(copt || per_message) || !spool_pending(pl.q) ||
	       (copt && mq.conn.state != MQTT_UP);
}

static void reload_apply(void *ctx)
{
	(void)ctx;
	const char *copt = mqtt_opts_differ(&cfg.mo, &next.mo);
	pubtmpl_free(&mq.topic);
	topic_compile(next.topic, pl.fs);
	if (copt)
		mqtt_close(&mq.conn);
	cfg = next;		/* mq.conn.o points to cfg.mo */
	mq.retain = cfg.retain;
	publoop_fields(&pl);
	if (copt) {
		pubmqtt_reopen(&mq, &cfg.mo);
		/* the queued messages (if any) go there now */
		dest_of(&cfg.mo);
		spool_set_owner(pl.q, dest);
	}
	char said[600];
	int n = snprintf(said, sizeof said, "-t %s", cfg.topic);
	if (cfg.pub.payload_field)
		n += snprintf(said + n, sizeof said - (size_t)n,
			      " --payload-field %s", cfg.pub.payload_field);
	snprintf(said + n, sizeof said - (size_t)n, " -q %d%s", cfg.mo.qos,
		 cfg.retain ? " --retain" : "");
	mqttprog_reloaded(said, copt, &mq.conn);
}

static void conf_reload(void *ctx)
{
	struct conf nc;
	(void)ctx;
	char **av = mqttprog_reload_parse(parse_args, &nc);
	if (!av)
		return;
	const char *opt = pub_opts_restart(&cfg.pub, &nc.pub);
	char why[600];
	if (opt)
		snprintf(why, sizeof why, "changing %s needs a restart", opt);
	if (!mqttprog_reload_ok(av, &nc.mo, opt ? why : NULL))
		return;
	next = nc;
	publoop_stage(&pl, av);
}

static const struct pub_transport transport = {
	.head = pubmqtt_head, .send = pubmqtt_send,
	.reload = conf_reload, .ready = reload_ready, .apply = reload_apply,
	.say_full = true,
};

int main(int argc, char **argv)
{
	struct es_opts o;
	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o, &cfg, false);
	opts_apply(&o);
	stats_set_extra(stats_extra);

	struct fieldset *fs = fieldset_new();
	pubmqtt_init(&mq, &pl);
	topic_compile(cfg.topic, fs);
	mq.retain = cfg.retain;
	publoop_init(&pl, &transport, &mq, &cfg.pub, fs);
	dest_of(&cfg.mo);
	if (o.check)
		pub_spool_check(&cfg.pub, dest);
	opts_check_done(&o);	/* --check: no spool, no connection */
	loop_signals();
	reload_init(&o);

	publoop_open(&pl, dest, argv + optind, argc - optind, o.in_fmt,
		     o.out_fmt == FMT_CSV);
	pubmqtt_open(&mq, &cfg.mo);
	if (publoop_run(&pl) < 0)
		diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
	if (publoop_finish(&pl))
		diag_status = EXIT_RUNTIME;
	pubmqtt_free(&mq);
	publoop_free(&pl);
	fieldset_free(fs);
	diag_finish();
	return diag_status;
}
