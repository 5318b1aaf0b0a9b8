/* es-kafka-pub - publish each record as a Kafka message, store-and-forward
 *
 * The publishers' loop (lib/publoop.h) with the Kafka transport
 * (lib/pubkafka.h): each record read becomes a queued message (key and
 * payload) in a spool, on disk with --spool, else a bounded queue in
 * memory; a message leaves the queue only on a successful delivery report.
 * This file holds the options, their reload and the start.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "loop.h"
#include "mem.h"
#include "opts.h"
#include "prog.h"
#include "publish.h"
#include "pubkafka.h"
#include "publoop.h"
#include "pubprog.h"
#include "record.h"
#include "reload.h"
#include "stats.h"

enum { OPT_PARTITIONER = OPT_PROGRAM, OPT_PASSWORD_FILE, OPT_MESSAGE_KEY };

/* What the options say (parsed at start and again on a reload). */
struct conf {
	struct pubkafka_opts kafka;	/* what makes the producer */
	const char *key_field;
	const char *key_opt;	/* as given: --message-key, or --key */
	struct pub_opts pub;	/* --payload-field, the spool */
};

static struct pubprog pp;	/* the loop, the running conf, a reload staged */
static struct pubkafka kafka;

static const struct opts_entry opts[] = {
	{"brokers", required_argument, 'b', "LIST",
	 "bootstrap brokers, host:port[,host:port...]"},
	{"topic", required_argument, 't', "TOPIC", "the topic to produce to"},
	{"message-key", required_argument, OPT_MESSAGE_KEY, "FIELD",
	 "message key: the value of FIELD (a record\n"
	 "without it is bad input); default: no key"},
	{"key", required_argument, 'k', "FIELD",
	 "the same as --message-key (its old name,\n"
	 "kept for existing scripts)"},
	{"partitioner", required_argument, OPT_PARTITIONER, "P",
	 "random, consistent, consistent_random (the\n"
	 "default), murmur2, murmur2_random (as the\n"
	 "Java client), fnv1a or fnv1a_random"},
	{"property", required_argument, 'X', "PROP=VAL",
	 "any librdkafka property (repeatable), e.g.\n"
	 "compression.type=lz4, linger.ms=20,\n"
	 "security.protocol=sasl_ssl; set before them:\n"
	 "enable.idempotence=true, message.timeout.ms=0\n"
	 "(retry until delivered), socket.nagle.disable=true"},
	{"username", required_argument, 'u', "NAME",
	 "SASL user name (sasl.username); the password\n"
	 "comes from --password-file or ES_KAFKA_PASSWORD"},
	{"password-file", required_argument, OPT_PASSWORD_FILE, "FILE",
	 "read the SASL password from FILE's first line"},
	{0}
};

static const struct prog_group groups[] = {
	{ PROG_CONT, pub_opts_table },
	{ 0 }
};

/* The spool's destination: kafka://brokers/topic (the caller frees it). */
static char *dest_of(const struct conf *c)
{
	char *dest = xmalloc(strlen(c->kafka.brokers) +
			     strlen(c->kafka.topic) + 10);
	sprintf(dest, "kafka://%s/%s", c->kafka.brokers, c->kafka.topic);
	return dest;
}

static void stats_extra(char *buf, size_t n)
{
	char queued[80];
	publoop_stats_queued(&pp.pl, queued, sizeof queued);
	snprintf(buf, n, ",\"published\":%llu,\"delivered\":%llu,\"failed\":%llu,"
		 "\"retried\":%llu%s,\"spooled\":%llu",
		 pp.pl.published, pp.pl.acked, kafka.failed, pp.pl.retried,
		 queued, pp.pl.spooled);
}

/* ---- options ---- */

static const char *const partitioners[] = {
	"random", "consistent", "consistent_random", "murmur2",
	"murmur2_random", "fnv1a", "fnv1a_random", NULL
};

static void parse_property(struct pubkafka_opts *k, const char *arg)
{
	if (!strchr(arg, '=') || arg[0] == '=')
		diag_usage("invalid argument '%s' for -X/--property: "
			   "expected PROP=VALUE", arg);
	/* The queue is emptied by the reports of success. */
	if (!strncmp(arg, "delivery.report.only.error=", 27))
		diag_usage("-X delivery.report.only.error: es-kafka-pub needs "
			   "every delivery report");
	k->props = xrealloc(k->props, (size_t)(k->nprops + 1) * sizeof *k->props);
	k->props[k->nprops++] = (char *)arg;
}

static const char *parse_partitioner(const char *arg)
{
	int i = 0;
	while (partitioners[i] && strcmp(partitioners[i], arg))
		i++;
	if (!partitioners[i])
		diag_usage("invalid argument '%s' for --partitioner: expected "
			   "random, consistent, consistent_random, murmur2, "
			   "murmur2_random, fnv1a or fnv1a_random", arg);
	return arg;
}

/* Checks the options together, after parsing. */
static void check_args(const struct conf *c)
{
	const char *topic = c->kafka.topic;
	if (!c->kafka.brokers)
		diag_usage("missing -b/--brokers");
	if (!topic)
		diag_usage("missing -t/--topic");
	if (!*topic)
		diag_usage("-t/--topic: empty topic");
	/* Kafka's rule for topic names: a bad one would only fail each
	 * delivery, over and over. */
	size_t tl = strlen(topic);
	if (tl > 249 || strspn(topic, "abcdefghijklmnopqrstuvwxyz"
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != tl ||
	    !strcmp(topic, ".") || !strcmp(topic, ".."))
		diag_usage("invalid topic '%s' for -t/--topic: 1 to 249 of "
			   "a-z A-Z 0-9 . _ -", topic);
	/* SASL sends a password only with a user name. */
	if (c->kafka.password_file && !c->kafka.username)
		diag_usage("--password-file needs -u/--username: SASL sends a "
			   "password only with a user name");
}

/* The words of the publishing options' help (lib/publish.h). */
static const struct pub_words words = {
	.done = "delivered", .queue = 10000,
	.reports = " delivery\nreports",
};

static void conf_init(void *conf)
{
	struct conf *c = conf;
	c->key_opt = "--message-key";
	pub_opts_init(&c->pub, &words);
}

static void option(void *conf, int ch, const char *arg)
{
	struct conf *c = conf;
	char why[300];
	if (prog_took(pub_opt(&c->pub, ch, arg, why, sizeof why), why))
		return;
	switch (ch) {
	case 'b': c->kafka.brokers = arg; break;
	case 't': c->kafka.topic = arg; break;
	case 'k': case OPT_MESSAGE_KEY:
		c->key_field = arg;
		c->key_opt = ch == 'k' ? "--key" : "--message-key";
		break;
	case 'u': c->kafka.username = arg; break;
	case OPT_PASSWORD_FILE: c->kafka.password_file = arg; break;
	case 'X': parse_property(&c->kafka, arg); break;
	case OPT_PARTITIONER: c->kafka.partitioner = parse_partitioner(arg); break;
	}
}

static void check(struct prog_run *r, void *conf, int argc, char **argv)
{
	(void)r, (void)argc, (void)argv;
	check_args(conf);
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	free(c->kafka.props);
}

/* ---- reloading ---- */

/*
 * On SIGHUP, or with --watch-config when the file changed. --message-key,
 * --payload-field and --drain-timeout shape each record as it is read:
 * they apply from the next one. The brokers, topic, partitioner, -X
 * properties and SASL credentials belong to the producer, and a queued
 * message does not say its topic: a reload that changes them waits, not
 * reading, until every message queued before it is delivered, then
 * applies everything with a new producer. The spool options need a
 * restart; such a file is refused.
 */
static bool reload_ready(void *ctx)
{
	(void)ctx;
	struct conf *c = pp.cfg, *n = pp.next;
	return !pubkafka_opts_differ(&c->kafka, &n->kafka) ||
	       (!spool_pending(pp.pl.q) && pubkafka_idle(&kafka));
}

static void reload_said_what(const struct conf *c, const char *popt)
{
	char what[600];
	int n = snprintf(what, sizeof what, "-t %s", c->kafka.topic);
	if (c->key_field)
		n += snprintf(what + n, sizeof what - (size_t)n, " %s %s",
			      c->key_opt, c->key_field);
	if (c->pub.payload_field)
		n += snprintf(what + n, sizeof what - (size_t)n,
			      " --payload-field %s", c->pub.payload_field);
	if (popt)
		snprintf(what + n, sizeof what - (size_t)n,
			 "; %s changed: a new producer", popt);
	reload_said(what);
}

static void reload_apply(void *ctx)
{
	(void)ctx;
	struct conf *c = pp.next;
	const char *popt = pubkafka_opts_differ(&((struct conf *)pp.cfg)->kafka,
						&c->kafka);
	pubprog_take(&pp);
	kafka.key_slot = pub_field_slot(pp.pl.fs, c->key_opt, c->key_field);
	publoop_fields(&pp.pl);
	if (popt) {
		char err[1024];
		int rc = pubkafka_restart(&kafka, &c->kafka, err, sizeof err);
		prog_check(rc, err);	/* it checked */
		char *dest = dest_of(c);
		pubprog_move(&pp, dest);	/* the spool is empty: it is
						   the new one's */
		free(dest);
	}
	reload_said_what(c, popt);
}

/* The password file a new producer would read, looked at now. */
static bool reload_accept(void *cur, void *nconf)
{
	const struct conf *nc = nconf;
	(void)cur;
	if (!nc->kafka.password_file || access(nc->kafka.password_file, R_OK) == 0)
		return true;
	char why[600];
	snprintf(why, sizeof why, "cannot read %s: %s", nc->kafka.password_file,
		 strerror(errno));
	reload_refuse(why);
	return false;
}

static const struct pub_transport transport = {
	.head = pubkafka_head, .send = pubkafka_send,
	.failed = pubkafka_failed, .stop = pubkafka_end,
	.ready = reload_ready, .apply = reload_apply,
};

/* ---- the run ---- */

/* Before the spool: a bad -X is a usage error. */
static int kafka_start(void *ctx, char *why, size_t n)
{
	int key_slot = kafka.key_slot;
	(void)ctx;
	if (pubkafka_init(&kafka, &pp.pl) < 0) {
		snprintf(why, n, "pipe: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	kafka.key_slot = key_slot;
	return pubkafka_start(&kafka, &((struct conf *)pp.cfg)->kafka, why, n);
}

static void kafka_free(void *ctx)
{
	pubkafka_free(ctx);
}

static const struct pubprog_hooks hooks = {
	.pub_at = offsetof(struct conf, pub), .start = kafka_start,
	.accept = reload_accept, .free = kafka_free,
};

/* With --check: the producer's properties, the spool's owner (prog_main
 * then exits). */
static void setup(struct prog_run *r)
{
	char err[1024];
	struct conf *c = r->conf;
	kafka.key_slot = pub_field_slot(r->fs, c->key_opt, c->key_field);
	if (r->o.check)	/* 2: properties that disagree */
		prog_check(pubkafka_check(&c->kafka, err, sizeof err), err);
	char *dest = dest_of(c);
	pubprog_setup(&pp, &hooks, r, &transport, &kafka, dest);
	free(dest);
}

const struct prog program = {
	.name = "es-kafka-pub",
	.synopsis = "[OPTION]... -b BROKERS -t TOPIC [FILE]...",
	.about = "Publish each record of FILEs (or standard input) as one Kafka\n"
		 "message with librdkafka.",
	.opts = opts,
	.groups = groups,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies --message-key,\n"
		 "--payload-field and --drain-timeout from the next record; a new -b,\n"
		 "-t, --partitioner, -X, -u or --password-file once the messages queued\n"
		 "before it are delivered (reading waits), with a new producer. The\n"
		 "spool options need a restart.",
	.notes = PUB_EXIT_NOTE
		 "\nExamples:\n"
		 "  es-kafka-pub -b kafka1:9092 -t readings --message-key device \\\n"
		 "      --spool /var/spool/es\n"
		 "  es-window --tumbling 10s --agg 'count' | es-kafka-pub -b k:9092 -t windows \\\n"
		 "      -X compression.type=zstd -X acks=all\n",
	.conf_free = conf_free,
	PUBPROG_HOOKS,
};
