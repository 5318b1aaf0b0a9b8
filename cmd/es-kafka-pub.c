/* es-kafka-pub - publish each record as a Kafka message, store-and-forward
 *
 * One poll() loop over the input and a pipe librdkafka writes to when its
 * main queue (delivery reports, errors) becomes non-empty. Each record read
 * becomes a queued message (key and payload) in a spool: on disk with
 * --spool, else a bounded queue in memory. Messages go from the queue to
 * librdkafka, at most WINDOW waiting for their delivery report at a time; a
 * message leaves the queue only on a successful delivery report. A full
 * queue stops the reading of input (back-pressure) instead of losing
 * records.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "opts.h"
#include "publish.h"
#include "record.h"
#include "reload.h"
#include "spool.h"

enum { OPT_PARTITIONER = OPT_PROGRAM, OPT_PASSWORD_FILE };

#define WINDOW 10000		/* messages handed to librdkafka, unreported;
				   below its queue.buffering.max.messages */
#define BATCH 256		/* records read per turn of the loop */
#define RETRY_MS 1000		/* wait before sending a failed message again,
				   so that a failing broker is not hammered */
#define FRAME_MAGIC 'K'		/* first byte of a queued message: tells ours
				   from another program's spool */
#define NO_KEY 0xFFFFFFFFu

/* What the options say (parsed at start and again on a reload). */
struct conf {
	const char *brokers, *topic, *key_field;
	const char *partitioner, *username, *password_file;
	struct pub_opts pub;	/* --payload-field, the spool */
	int64_t drain_ms;
	char **props;		/* -X arguments, in order (the array owned) */
	int nprops;
};

static struct conf cfg;		/* the running configuration */
static char *dest;		/* the spool's: kafka://brokers/topic (owned) */

static void dest_of(const struct conf *c)
{
	free(dest);
	dest = xmalloc(strlen(c->brokers) + strlen(c->topic) + 10);
	sprintf(dest, "kafka://%s/%s", c->brokers, c->topic);
}

static rd_kafka_t *rk;
static rd_kafka_topic_t *rkt;
static struct spool *q;
static unsigned long long published, delivered, failed, retried, spooled;
static uint64_t inflight;	/* produced, no delivery report yet */
static bool fatal;

static void usage(void)
{
	printf("Usage: es-kafka-pub [OPTION]... -b BROKERS -t TOPIC [FILE]...\n"
	       "Publish each record of FILEs (or standard input) as one Kafka\n"
	       "message with librdkafka.\n"
	       "\n"
	       "  -b, --brokers LIST       bootstrap brokers, host:port[,host:port...]\n"
	       "  -t, --topic TOPIC        the topic to produce to\n"
	       "  -k, --key FIELD          message key: the value of FIELD (a record\n"
	       "                           without it is bad input); default: no key\n"
	       "      --partitioner P      random, consistent, consistent_random (the\n"
	       "                           default), murmur2, murmur2_random (as the\n"
	       "                           Java client), fnv1a or fnv1a_random\n"
	       "  -X, --property PROP=VAL  any librdkafka property (repeatable), e.g.\n"
	       "                           compression.type=lz4, linger.ms=20,\n"
	       "                           security.protocol=sasl_ssl; set before them:\n"
	       "                           enable.idempotence=true, message.timeout.ms=0\n"
	       "                           (retry until delivered), socket.nagle.disable=true\n"
	       "  -u, --username NAME      SASL user name (sasl.username); the password\n"
	       "                           comes from --password-file or ES_KAFKA_PASSWORD\n"
	       "      --password-file FILE read the SASL password from FILE's first line\n");
	pub_opts_help(stdout, "delivered", 10000);
	printf("      --drain-timeout D    at end of input, wait up to D for delivery\n"
	       "                           reports (default 10s)\n"
	       "\n"
	       "A reload of --config (SIGHUP, --watch-config) applies --key,\n"
	       "--payload-field and --drain-timeout from the next record; a new -b,\n"
	       "-t, --partitioner, -X, -u or --password-file once the messages queued\n"
	       "before it are delivered (reading waits), with a new producer. The\n"
	       "spool options need a restart.\n"
	       "\n");
	opts_common_help(stdout);
	printf("\nExit status 1 also when messages were not delivered at the end, or\n"
	       "were refused by the broker or the library (each said, counted as bad\n"
	       "and its payload written to --dead-letter). Exit status 2 when --spool\n"
	       "is another program's or holds records for another destination.\n"
	       "\nExamples:\n"
	       "  es-kafka-pub -b kafka1:9092 -t readings --key device --spool /var/spool/es\n"
	       "  es-window --tumbling 10s --agg 'count' | es-kafka-pub -b k:9092 -t windows \\\n"
	       "      -X compression.type=zstd -X acks=all\n");
	exit(EXIT_OK);
}

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"published\":%llu,\"delivered\":%llu,\"failed\":%llu,"
		 "\"retried\":%llu,\"spooled\":%llu",
		 published, delivered, failed, retried, spooled);
}

/* ---- building a message: magic, key length (u32 LE, NO_KEY for none),
 * key, payload ---- */

static struct outbuf msg;	/* the queued form, reused per record */
static struct payload payload = { .slot = -1 };
static int key_slot = -1;

static void put_u32(struct outbuf *o, uint32_t v)
{
	unsigned char b[4] = { v & 0xFF, v >> 8 & 0xFF, v >> 16 & 0xFF, v >> 24 };
	out_put(o, b, 4);
}

/* The key from its field; false with *why if the field cannot be one. */
static bool build_key(const struct record *rec, struct scratch *sc,
		      const char **why)
{
	if (key_slot < 0) {
		put_u32(&msg, NO_KEY);
		return true;
	}
	struct value v;
	value_load(&rec->slots[key_slot], &v, sc);
	const char *p;
	size_t n;
	switch (v.t) {
	case V_MISSING: *why = "key field is missing"; return false;
	case V_NULL: *why = "key field is null or empty"; return false;
	case V_RAW: *why = "key field is an object or array"; return false;
	case V_BOOL:
		p = v.u.b ? "true" : "false";
		n = strlen(p);
		break;
	case V_INT: case V_DOUBLE:
		if (!v.s) {
			*why = "key field is not a plain number";
			return false;
		}
		p = v.s;	/* the number as written: 7 and 7.0 differ */
		n = v.n;
		break;
	default:
		p = v.s;
		n = v.n;
		break;
	}
	put_u32(&msg, (uint32_t)n);
	out_put(&msg, p, n);
	return true;
}

/* Splits a queued message; false if it is not one of ours. */
static bool frame_split(const void *p, size_t n, const void **key,
			size_t *keylen, const void **val, size_t *vallen)
{
	const unsigned char *b = p;
	if (n < 5 || b[0] != FRAME_MAGIC)
		return false;
	uint32_t kl = (uint32_t)b[1] | (uint32_t)b[2] << 8 |
		      (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24;
	size_t off = 5;
	if (kl == NO_KEY) {
		*key = NULL;
		*keylen = 0;
	} else {
		if (kl > n - off)
			return false;
		*key = b + off;
		*keylen = kl;
		off += kl;
	}
	*val = b + off;
	*vallen = n - off;
	return true;
}

/* ---- messages to send again: failed deliveries, a full librdkafka queue.
 * Copies of queued messages, sent before anything new, oldest (lowest id)
 * first: failure reports do not come in the order the messages were
 * produced, and a key's records must not be reordered by their retry. ---- */

struct held {
	uint64_t id;
	bool again;		/* its delivery failed (else librdkafka's queue
				   was full) */
	size_t n;
	unsigned char data[];
};
static struct held **hq;	/* hq[hpos..hn) wait */
static size_t hpos, hn, hcap;
static bool hq_sorted = true;
static int64_t held_at;		/* not before (loop_now_ms) */

static bool held_any(void)
{
	return hpos < hn;
}

static void hold(uint64_t id, const void *p, size_t n, bool again)
{
	struct held *h = xmalloc(sizeof *h + n);
	h->id = id;
	h->again = again;
	h->n = n;
	memcpy(h->data, p, n);
	if (hpos == hn)
		hpos = hn = 0;
	if (hn == hcap) {
		/* Reuse the room of those already sent before growing. */
		if (hpos > 0) {
			memmove(hq, hq + hpos, (hn - hpos) * sizeof *hq);
			hn -= hpos;
			hpos = 0;
		} else {
			hcap = hcap ? hcap * 2 : 64;
			hq = xrealloc(hq, hcap * sizeof *hq);
		}
	}
	if (hn > hpos && hq[hn - 1]->id > id)
		hq_sorted = false;
	hq[hn++] = h;
}

static int by_id(const void *a, const void *b)
{
	uint64_t x = (*(struct held *const *)a)->id;
	uint64_t y = (*(struct held *const *)b)->id;
	return x < y ? -1 : x > y;
}

/* The oldest held message, taken out of the queue. */
static struct held *held_take(void)
{
	if (!hq_sorted) {
		qsort(hq + hpos, hn - hpos, sizeof *hq, by_id);
		hq_sorted = true;
	}
	return hq[hpos++];
}

/* Puts back the message held_take gave (its place is still free). */
static void held_unget(struct held *h)
{
	hq[--hpos] = h;
}

static void held_free(void)
{
	while (hpos < hn)
		free(hq[hpos++]);
	free(hq);
}

/* ---- librdkafka's callbacks (from rd_kafka_poll, on this thread, except
 * the log) ---- */

/* Errors no retry can cure: the message goes (counted as bad). */
static bool permanent(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR__INVALID_ARG:
	case RD_KAFKA_RESP_ERR__BAD_MSG:
		return true;
	default:
		return false;
	}
}

/* Errors said since a message last got through: a broker that is down
 * gives the same few over and over, and each is said once. */
#define MAX_SAID 16
static int said[MAX_SAID], nsaid;

static bool say_once(int err)
{
	for (int i = 0; i < nsaid; i++)
		if (said[i] == err)
			return false;
	if (nsaid < MAX_SAID)
		said[nsaid++] = err;
	return true;
}

static void on_delivery(rd_kafka_t *k, const rd_kafka_message_t *m, void *o)
{
	(void)k;
	(void)o;
	uint64_t id = (uint64_t)(uintptr_t)m->_private;
	inflight--;
	if (!m->err) {
		spool_ack(q, id);
		delivered++;
		stats.out = delivered;
		nsaid = 0;
		return;
	}
	if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
	    m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
		return;		/* given up at the end: it stays queued */
	failed++;
	if (permanent(m->err)) {
		pub_refuse(id, "", rd_kafka_err2str(m->err), m->payload, m->len);
		spool_ack(q, id);
		return;
	}
	/* Sent again from a copy of what librdkafka had (the spool's reading
	 * has moved on): at least once, after RETRY_MS. */
	if (say_once(m->err))
		diag_warn("delivery failed, sending again: %s",
			  rd_kafka_err2str(m->err));
	msg.len = 0;
	out_putc(&msg, FRAME_MAGIC);
	put_u32(&msg, m->key ? (uint32_t)m->key_len : NO_KEY);
	if (m->key)
		out_put(&msg, m->key, m->key_len);
	out_put(&msg, m->payload, m->len);
	hold(id, msg.buf, msg.len, true);
	held_at = loop_now_ms() + RETRY_MS;
}

static void on_error(rd_kafka_t *k, int err, const char *reason, void *o)
{
	(void)k;
	(void)o;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		fatal = true;
		return;
	}
	if (say_once(err))
		diag_warn("kafka: %s", reason);
}

/* librdkafka's own log, from its threads: warnings and worse only, and not
 * the connection failures that on_error reports already. */
static void on_log(const rd_kafka_t *k, int level, const char *fac,
		   const char *buf)
{
	(void)k;
	if (level > 4 || !strcmp(fac, "FAIL") || !strcmp(fac, "ERROR"))
		return;
	fprintf(stderr, "%s: kafka: %s\n", diag_prog, buf);
}

/* ---- sending ---- */

/* Hands one message to librdkafka; false when the queue is empty, the
 * held messages must wait, or librdkafka's queue is full. */
static bool produce_one(int64_t now)
{
	uint64_t id;
	const void *p;
	size_t n;
	struct held *h = NULL;
	if (held_any() && now >= held_at) {
		h = held_take();
		id = h->id;
		p = h->data;
		n = h->n;
		retried += h->again;
	} else if (held_any() || !spool_next(q, &id, &p, &n)) {
		return false;
	}
	const void *key, *val;
	size_t keylen, vallen;
	if (!frame_split(p, n, &key, &keylen, &val, &vallen)) {
		diag_warn("message %llu in the queue is not es-kafka-pub's; "
			  "skipped", (unsigned long long)id);
		stats.bad++;
		spool_ack(q, id);
		free(h);
		return true;
	}
	rd_kafka_resp_err_t err = rd_kafka_producev(rk,
		RD_KAFKA_V_RKT(rkt),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		RD_KAFKA_V_KEY(key, keylen),
		RD_KAFKA_V_VALUE((void *)val, vallen),
		RD_KAFKA_V_OPAQUE((void *)(uintptr_t)id),
		RD_KAFKA_V_END);
	if (!err) {
		inflight++;
		published++;
		free(h);
		return true;
	}
	if (permanent(err)) {
		pub_refuse(id, "", rd_kafka_err2str(err), val, vallen);
		spool_ack(q, id);
		free(h);
		return true;
	}
	/* A full queue (or a fatal state): keep it first in line. */
	if (h) {
		retried -= h->again;
		held_unget(h);
	} else {
		hold(id, p, n, false);	/* the newest: last in id order too */
	}
	held_at = now + 10;	/* delivery reports make room meanwhile */
	if (err == RD_KAFKA_RESP_ERR__FATAL)
		fatal = true;
	return false;
}

static void pump(int64_t now)
{
	while (!fatal && inflight < WINDOW && produce_one(now))
		;
}

/* ---- input ---- */

static struct reader *rd;
static struct fieldset *fs;
static bool in_eof;
static bool in_more;	/* the last batch stopped with input still there */
static bool reload_waits;	/* a reload waits for the queue to drain */
static void conf_reload(void);

/* Reads up to BATCH records while the queue has room; each becomes a
 * queued message, or bad input. A reload is looked for before each
 * record, so that it falls between two. */
static void read_batch(struct scratch *sc)
{
	struct record rec;
	in_more = true;
	for (int i = 0; i < BATCH && !spool_is_full(q, 0); i++) {
		if (reload_due())
			conf_reload();
		if (reload_waits)
			return;
		if (!pub_read(rd, &rec, &in_eof, &in_more))
			return;
		scratch_reset(sc);
		const char *err;
		msg.len = 0;
		out_putc(&msg, FRAME_MAGIC);
		if (!build_key(&rec, sc, &err) ||
		    !payload_put(&payload, &rec, sc, &msg, &err)) {
			record_bad(&rec, err);
			continue;
		}
		spool_append(q, msg.buf, msg.len);
		spooled += cfg.pub.spool_dir != NULL;
	}
}

/* ---- options ---- */

static const char *const partitioners[] = {
	"random", "consistent", "consistent_random", "murmur2",
	"murmur2_random", "fnv1a", "fnv1a_random", NULL
};

static bool in_reload;	/* parsing a reloaded file: no --help there */

/* Parses argv into c (from its defaults). */
static void parse_args(int argc, char **argv, struct es_opts *o, struct conf *c)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"brokers", required_argument, 0, 'b'},
		{"topic", required_argument, 0, 't'},
		{"key", required_argument, 0, 'k'},
		{"partitioner", required_argument, 0, OPT_PARTITIONER},
		{"property", required_argument, 0, 'X'},
		{"username", required_argument, 0, 'u'},
		{"password-file", required_argument, 0, OPT_PASSWORD_FILE},
		PUB_LONGOPTS,
		{0, 0, 0, 0}
	};
	*c = (struct conf){ .drain_ms = 10000 };
	pub_opts_init(&c->pub, 10000);
	int ch;
	c->props = xmalloc((size_t)argc * sizeof *c->props);
	optind = 0;	/* a reload parses again from the start */
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT "b:t:k:X:u:",
				 longopts, NULL)) != -1) {
		if (opts_common(o, ch, optarg) || pub_opt(&c->pub, ch, optarg))
			continue;
		switch (ch) {
		case 'b': c->brokers = optarg; break;
		case 't': c->topic = optarg; break;
		case 'k': c->key_field = optarg; break;
		case 'u': c->username = optarg; break;
		case OPT_PASSWORD_FILE: c->password_file = optarg; break;
		case 'X':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				diag_usage("invalid argument '%s' for -X/--property: "
					   "expected PROP=VALUE", optarg);
			/* The queue is emptied by the reports of success. */
			if (!strncmp(optarg, "delivery.report.only.error=", 27))
				diag_usage("-X delivery.report.only.error: "
					   "es-kafka-pub needs every delivery "
					   "report");
			c->props[c->nprops++] = optarg;
			break;
		case OPT_PARTITIONER: {
			int i = 0;
			while (partitioners[i] && strcmp(partitioners[i], optarg))
				i++;
			if (!partitioners[i])
				diag_usage("invalid argument '%s' for --partitioner: "
					   "expected random, consistent, "
					   "consistent_random, murmur2, "
					   "murmur2_random, fnv1a or fnv1a_random",
					   optarg);
			c->partitioner = optarg;
			break;
		}
		case OPT_PUB_DRAIN_TIMEOUT:
			c->drain_ms = opts_duration("--drain-timeout", optarg,
						    true) / 1000;
			break;
		default:
			opts_bad_option();
		}
	}
	if (o->help && !in_reload)
		usage();
	if (o->version && !in_reload)
		opts_apply(o);	/* prints it and exits */
	if (!c->brokers)
		diag_usage("missing -b/--brokers");
	if (!c->topic)
		diag_usage("missing -t/--topic");
	if (!*c->topic)
		diag_usage("-t/--topic: empty topic");
	/* Kafka's rule for topic names: a bad one would only fail each
	 * delivery, over and over. */
	size_t tl = strlen(c->topic);
	if (tl > 249 || strspn(c->topic, "abcdefghijklmnopqrstuvwxyz"
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != tl ||
	    !strcmp(c->topic, ".") || !strcmp(c->topic, ".."))
		diag_usage("invalid topic '%s' for -t/--topic: 1 to 249 of "
			   "a-z A-Z 0-9 . _ -", c->topic);
	/* SASL sends a password only with a user name. */
	if (c->password_file && !c->username)
		diag_usage("--password-file needs -u/--username: SASL sends a "
			   "password only with a user name");
}

/* The first line of the password file, or ES_KAFKA_PASSWORD: never argv,
 * which every user of the machine can read in ps. */
static char *read_password(void)
{
	if (!cfg.password_file) {
		const char *env = getenv("ES_KAFKA_PASSWORD");
		return env ? xstrdup(env) : NULL;
	}
	FILE *f = fopen(cfg.password_file, "r");
	if (!f)
		diag_fatal(EXIT_RUNTIME, "cannot open %s: %s", cfg.password_file,
			   strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	if (n < 0) {
		free(line);
		diag_fatal(EXIT_RUNTIME, "%s: no password in it", cfg.password_file);
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	return line;
}

static void conf_set(rd_kafka_conf_t *kc, const char *opt, const char *name,
		     const char *val)
{
	char errstr[512];
	if (rd_kafka_conf_set(kc, name, val, errstr, sizeof errstr) !=
	    RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(kc);
		diag_usage("%s: %s", opt, errstr);
	}
}

static void quiet_log(const rd_kafka_t *k, int level, const char *fac,
		      const char *buf)
{
	(void)k;
	(void)level;
	(void)fac;
	(void)buf;
}

/* The producer: our defaults, then -X in order (so -X can undo them).
 * check: only to see that the properties agree, then gone; it is given
 * no broker, so it connects to nothing. */
static void kafka_open(bool check)
{
	rd_kafka_conf_t *kc = rd_kafka_conf_new();
	char errstr[512];
	conf_set(kc, "-b/--brokers", "bootstrap.servers", cfg.brokers);
	conf_set(kc, "client.id", "client.id", "es-kafka-pub");
	/* DESIGN.md: no Nagle delay on any hop. */
	conf_set(kc, "socket.nagle.disable", "socket.nagle.disable", "true");
	/* A retry after a lost connection must neither duplicate nor reorder
	 * a key's records: librdkafka's idempotent producer keeps both. */
	conf_set(kc, "enable.idempotence", "enable.idempotence", "true");
	/* Store and forward: librdkafka keeps trying, in order, until the
	 * message is delivered or the drain at the end gives up. */
	conf_set(kc, "message.timeout.ms", "message.timeout.ms", "0");
	if (cfg.partitioner)
		conf_set(kc, "--partitioner", "partitioner", cfg.partitioner);
	if (cfg.username)
		conf_set(kc, "-u/--username", "sasl.username", cfg.username);
	for (int i = 0; i < cfg.nprops; i++) {
		char *eq = strchr(cfg.props[i], '=');
		*eq = 0;
		char opt[300];
		snprintf(opt, sizeof opt, "-X %s", cfg.props[i]);
		conf_set(kc, opt, cfg.props[i], eq + 1);
		*eq = '=';
	}
	char *password = read_password();
	if (password) {
		conf_set(kc, "--password-file", "sasl.password", password);
		memset(password, 0, strlen(password));
		free(password);
	}
	if (check)
		conf_set(kc, "-b/--brokers", "bootstrap.servers", "");
	rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
	rd_kafka_conf_set_error_cb(kc, on_error);
	rd_kafka_conf_set_log_cb(kc, check ? quiet_log : on_log);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof errstr);
	if (!rk && strstr(errstr, "idempotence"))
		diag_usage("%s (es-kafka-pub turns it on; -X "
			   "enable.idempotence=false turns it off)", errstr);
	if (!rk)
		diag_usage("%s", errstr);	/* properties that do not agree */
	if (check) {
		rd_kafka_destroy(rk);
		rk = NULL;
		return;
	}
	rkt = rd_kafka_topic_new(rk, cfg.topic, NULL);
	if (!rkt)
		diag_fatal(EXIT_RUNTIME, "topic %s: %s", cfg.topic,
			   rd_kafka_err2str(rd_kafka_last_error()));
}

/* ---- the loop ---- */

static int evpipe[2];		/* librdkafka writes when it has reports */
static rd_kafka_queue_t *mainq;

/* The producer, its reports made to wake poll() through evpipe. */
static void kafka_start(void)
{
	kafka_open(false);
	mainq = rd_kafka_queue_get_main(rk);
	rd_kafka_queue_io_event_enable(mainq, evpipe[1], "r", 1);
}

static void kafka_stop(void)
{
	rd_kafka_queue_io_event_enable(mainq, -1, NULL, 0);
	rd_kafka_queue_destroy(mainq);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
}

/* ---- reloading ---- */

/*
 * On SIGHUP, or with --watch-config when the file changed. --key,
 * --payload-field and --drain-timeout shape each record as it is read:
 * they apply from the next one. The brokers, topic, partitioner, -X
 * properties and SASL credentials belong to the producer, and a queued
 * message does not say its topic: a reload that changes them waits, not
 * reading, until every message queued before it is delivered, then
 * applies everything with a new producer. The spool options need a
 * restart; such a file is refused.
 */
static char **conf_words;	/* the reloaded command line in use */
static struct conf next;	/* a reload waiting to be applied */
static char **next_words;

/* The option that needs a new producer, or NULL. */
static const char *producer_differs(const struct conf *a, const struct conf *b)
{
	if (!same_str(a->brokers, b->brokers))
		return "-b/--brokers";
	if (!same_str(a->topic, b->topic))
		return "-t/--topic";
	if (!same_str(a->partitioner, b->partitioner))
		return "--partitioner";
	if (!same_str(a->username, b->username))
		return "-u/--username";
	if (!same_str(a->password_file, b->password_file))
		return "--password-file";
	if (a->nprops != b->nprops)
		return "-X/--property";
	for (int i = 0; i < a->nprops; i++)
		if (strcmp(a->props[i], b->props[i]))
			return "-X/--property";
	return NULL;
}

/* Applies the waiting reload when it can be (see above). */
static void try_apply(void)
{
	if (!reload_waits)
		return;
	const char *popt = producer_differs(&cfg, &next);
	if (popt && (spool_pending(q) || inflight || held_any()))
		return;
	key_slot = field_slot(fs, "--key", next.key_field);
	payload.slot = field_slot(fs, "--payload-field", next.pub.payload_field);
	reader_fields_changed(rd);
	if (popt) {
		rd_kafka_poll(rk, 0);
		kafka_stop();
	}
	free(cfg.props);
	cfg = next;
	if (popt) {
		kafka_start();
		nsaid = 0;
		dest_of(&cfg);	/* the spool is empty: it is the new one's */
		spool_set_owner(q, dest);
	}
	char what[600];
	int n = snprintf(what, sizeof what, "-t %s", cfg.topic);
	if (cfg.key_field)
		n += snprintf(what + n, sizeof what - (size_t)n, " --key %s",
			      cfg.key_field);
	if (cfg.pub.payload_field)
		n += snprintf(what + n, sizeof what - (size_t)n,
			      " --payload-field %s", cfg.pub.payload_field);
	if (popt)
		snprintf(what + n, sizeof what - (size_t)n,
			 "; %s changed: a new producer", popt);
	reload_said(what);
	reload_free(conf_words);
	conf_words = next_words;
	next_words = NULL;
	next.props = NULL;
	reload_waits = false;
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
	const char *opt = pub_opts_restart(&cfg.pub, &nc.pub);
	char why[600] = "";
	if (opt)
		snprintf(why, sizeof why, "changing %s needs a restart", opt);
	else if (nc.password_file && access(nc.password_file, R_OK) < 0)
		snprintf(why, sizeof why, "cannot read %s: %s", nc.password_file,
			 strerror(errno));
	if (*why) {
		reload_refuse(why);
		free(nc.props);
		reload_free(av);
		return;
	}
	if (reload_waits)	/* a newer file replaces a waiting one */
		free(next.props);
	reload_free(next_words);
	next = nc;
	next_words = av;
	reload_waits = true;
	try_apply();
}

static int poll_timeout(int64_t now, int64_t drain_at, bool reading)
{
	int t = 200;	/* the spool's ack file and fsync timers */
	if (in_eof && drain_at - now < t)
		t = drain_at - now < 0 ? 0 : (int)(drain_at - now);
	if (held_any() && held_at - now < t)
		t = held_at - now < 0 ? 0 : (int)(held_at - now);
	if (reading && (in_more || reader_fd(rd) < 0))
		t = 0;		/* lines already read wait, or the next input
				   is not open yet: poll() would not say */
	return loop_timeout(reload_timeout(t));
}

static void run(void)
{
	struct scratch sc = { 0 };
	int64_t drain_at = 0;
	for (;;) {
		int64_t now = loop_now_ms();
		try_apply();
		bool reading = !in_eof && !spool_is_full(q, 0) && !reload_waits;
		if (reading)
			read_batch(&sc);
		else if (!in_eof && reload_due())
			conf_reload();	/* a newer file, while reading waits */
		if (loop_stop)
			in_eof = true;	/* SIGINT/SIGTERM, even while blocked */
		if (in_eof && !drain_at)
			drain_at = now + cfg.drain_ms;
		rd_kafka_poll(rk, 0);
		pump(now);
		spool_tick(q, now);
		stats.dropped = spool_dropped(q);
		if (fatal)
			break;
		if (in_eof && (!spool_pending(q) || now >= drain_at))
			break;
		reading = !in_eof && !spool_is_full(q, 0) && !reload_waits;
		struct pollfd pf[2] = { { evpipe[0], POLLIN, 0 } };
		int n = 1;
		if (reading && reader_fd(rd) >= 0) {
			pf[n].fd = reader_fd(rd);
			pf[n].events = POLLIN;
			n++;
		}
		int r = poll(pf, (nfds_t)n, poll_timeout(now, drain_at, reading));
		if (r < 0 && errno != EINTR)
			diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
		if (r > 0 && pf[0].revents) {
			char buf[64];
			while (read(evpipe[0], buf, sizeof buf) > 0)
				;
		}
	}
	scratch_free(&sc);
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
	key_slot = field_slot(fs, "--key", cfg.key_field);
	payload.slot = field_slot(fs, "--payload-field", cfg.pub.payload_field);
	dest_of(&cfg);
	if (o.check) {
		kafka_open(true);	/* a bad -X is a usage error */
		pub_spool_check(&cfg.pub, dest);
		fieldset_free(fs);
		free(cfg.props);
		opts_check_done(&o);
	}
	if (pipe2(evpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		diag_fatal(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	kafka_start();		/* before the spool: a bad -X is a usage error */
	loop_signals();
	reload_init(&o);

	out_init(&msg, -1, "message");
	payload_init(&payload, o.out_fmt == FMT_CSV);
	q = pub_spool_open(&cfg.pub, dest);

	rd = reader_open(argv + optind, argc - optind, o.in_fmt, fs, NULL, NULL);
	reader_set_timeout(rd, 0);
	run();

	if (fatal) {
		char why[512];
		rd_kafka_fatal_error(rk, why, sizeof why);
		diag_warn("kafka: fatal error: %s", why);
	}
	/* Whatever is still with librdkafka stays in the queue (the spool). */
	rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(rk, 0);
	stats.dropped = spool_dropped(q);
	uint64_t left = pub_spool_left(q, &cfg.pub);
	if (left || fatal)
		diag_status = EXIT_RUNTIME;
	kafka_stop();
	close(evpipe[0]);
	close(evpipe[1]);
	spool_close(q);
	reader_close(rd);
	payload_free(&payload);
	fieldset_free(fs);
	held_free();
	free(cfg.props);
	if (reload_waits)
		free(next.props);
	reload_free(next_words);
	reload_free(conf_words);
	out_free(&msg);
	free(dest);
	diag_finish();
	return diag_status;
}
