/* es-mqtt-pub - publish each record as an MQTT message, store-and-forward
 *
 * One poll() loop over the input and the broker's socket. Each record read
 * becomes a queued message (topic and payload) in a spool: on disk with
 * --spool, else a bounded queue in memory. Messages go from the queue to
 * libmosquitto while the connection is up, at most WINDOW unacknowledged at
 * a time; a message leaves the queue only when acknowledged (QoS 1 and 2:
 * by the broker; QoS 0: once written to the socket). A full queue stops
 * the reading of input (back-pressure) instead of losing records.
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
#include "publish.h"
#include "record.h"
#include "reload.h"
#include "spool.h"
#include "time.h"

enum { OPT_RETAIN = OPT_PROGRAM };

#define WINDOW 1000		/* messages handed to libmosquitto, unacked */
#define BATCH 256		/* records read per turn of the loop */
#define MAX_TOPIC 65535		/* MQTT's limit on a topic's length */

/* What the options say (parsed at start and again on a reload). */
struct conf {
	const char *topic;
	bool retain;
	struct pub_opts pub;	/* --payload-field, the spool */
	int64_t drain_ms;
	struct mqtt_opts mo;
};

static struct conf cfg;		/* the running configuration */
static struct mqtt_conn conn;
static char dest[300];		/* the spool's destination: mqtt://host:port */

static void dest_of(const struct mqtt_opts *mo)
{
	snprintf(dest, sizeof dest, "mqtt://%s:%d", mo->host, mo->port);
}
static struct spool *q;
static unsigned long long published, acknowledged, retried, spooled;

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
		 published, acknowledged, retried, spooled, conn.reconnects);
}

/* ---- the topic template ---- */

struct tpart {
	const char *lit;	/* literal text, or NULL for a field */
	size_t litlen;
	int slot;
	const char *name;
};
struct tmpl {
	struct tpart *parts;
	int n;
};
static struct tmpl tt;		/* the running topic */

/* A template that can make no valid topic is a usage error at start, not
 * a refusal of every record: its literal parts, with each field as one
 * character, must be a topic MQTT takes. */
static void template_check(const struct tmpl *t)
{
	if (!t->n)
		diag_usage("-t/--topic: empty topic");
	size_t n = 0;
	for (int i = 0; i < t->n; i++)
		n += t->parts[i].lit ? t->parts[i].litlen : 1;
	if (n > MAX_TOPIC)
		diag_usage("-t/--topic: longer than %d bytes", MAX_TOPIC);
	char *s = xmalloc(n + 1), *w = s;
	for (int i = 0; i < t->n; i++) {
		if (t->parts[i].lit) {
			memcpy(w, t->parts[i].lit, t->parts[i].litlen);
			w += t->parts[i].litlen;
		} else {
			*w++ = 'x';
		}
	}
	*w = 0;
	bool ok = utf8_valid(s, n) &&
		  mosquitto_pub_topic_check2(s, n) == MOSQ_ERR_SUCCESS;
	free(s);
	if (!ok)
		diag_usage("-t/--topic: not a topic MQTT can publish to (UTF-8, "
			   "no NUL)");
}

static void template_compile(const char *topic, struct fieldset *fs,
			     struct tmpl *out)
{
	const char *t = topic;
	size_t n = (strlen(t) + 1) * sizeof *out->parts;
	out->parts = memset(xmalloc(n), 0, n);
	out->n = 0;
	while (*t) {
		struct tpart *p = &out->parts[out->n++];
		const char *open = strchr(t, '{');
		if (open != t) {
			p->lit = t;
			p->litlen = open ? (size_t)(open - t) : strlen(t);
			t += p->litlen;
			continue;
		}
		const char *close = strchr(t, '}');
		if (!close)
			diag_usage("-t/--topic: '{' without '}'");
		char *name = xmalloc((size_t)(close - t));
		memcpy(name, t + 1, (size_t)(close - t - 1));
		name[close - t - 1] = 0;
		struct path path;
		const char *err;
		if (path_parse_all(name, &path, &err) < 0)
			diag_usage("-t/--topic: field '%s': %s", name, err);
		p->slot = fieldset_add(fs, &path);
		p->name = name;
		path_free(&path);
		t = close + 1;
	}
	for (const char *c = topic; *c; c++)
		if (*c == '+' || *c == '#')
			diag_usage("-t/--topic: wildcards (+, #) cannot be published to");
	template_check(out);
}

static void template_free(struct tmpl *t)
{
	for (int i = 0; i < t->n; i++)
		free((char *)t->parts[i].name);
	free(t->parts);
	t->parts = NULL;
	t->n = 0;
}

/* One level of the topic from a field; NULL with *why if it cannot be. */
static bool topic_value(const struct span *sp, struct scratch *sc,
			const char **p, size_t *n, const char **why)
{
	struct value v;
	value_load(sp, &v, sc);
	switch (v.t) {
	case V_MISSING: *why = "is missing"; return false;
	case V_NULL: *why = "is null"; return false;
	case V_RAW: *why = "is an object or array"; return false;
	case V_BOOL:
		*p = v.u.b ? "true" : "false";
		*n = strlen(*p);
		return true;
	case V_INT: case V_DOUBLE:
		if (!v.s) {
			*why = "is not a plain number";
			return false;
		}
		__attribute__((fallthrough));	/* the number as written */
	case V_STRING:
		*p = v.s;
		*n = v.n;
		if (!*n) {
			*why = "is empty";
			return false;
		}
		for (size_t i = 0; i < *n; i++)
			if ((*p)[i] == '/' || (*p)[i] == '+' || (*p)[i] == '#' ||
			    !(*p)[i]) {
				*why = "holds '/', '+', '#' or NUL, which would "
				       "change the topic";
				return false;
			}
		return true;
	}
	*why = "cannot be used";
	return false;
}

/* ---- building a message: topic length (2 bytes), topic, payload ---- */

static struct outbuf msg;	/* the queued form, reused per record */
static struct payload payload = { .slot = -1 };

static bool build_topic(const struct record *rec, struct scratch *sc,
			char *err, size_t errn)
{
	msg.len = 0;
	out_put(&msg, "\0\0", 2);
	for (int i = 0; i < tt.n; i++) {
		const struct tpart *tp = &tt.parts[i];
		if (tp->lit) {
			out_put(&msg, tp->lit, tp->litlen);
			continue;
		}
		const char *p, *why;
		size_t n;
		if (!topic_value(&rec->slots[tp->slot], sc, &p, &n, &why)) {
			snprintf(err, errn, "field '%s' for the topic %s", tp->name,
				 why);
			return false;
		}
		out_put(&msg, p, n);
	}
	size_t tl = msg.len - 2;
	if (tl > MAX_TOPIC || !utf8_valid(msg.buf + 2, tl)) {
		snprintf(err, errn, "the topic is too long or not UTF-8");
		return false;
	}
	msg.buf[0] = (char)(tl >> 8);
	msg.buf[1] = (char)(tl & 0xFF);
	return true;
}

/* ---- acknowledgements: libmosquitto's message ids to spool ids ---- */

static uint64_t *midmap;	/* by mid: spool id + 1, or 0 */
static int early_mid;		/* a QoS 0 ack seen inside mosquitto_publish */

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
	(void)m;
	(void)obj;
	uint64_t id = midmap[mid & 0xFFFF];
	if (!id) {
		/* QoS 0 is written (and acked) before mosquitto_publish
		 * returns the mid: note it for publish_one. */
		early_mid = mid;
		return;
	}
	midmap[mid & 0xFFFF] = 0;
	spool_ack(q, id - 1);
	stats.out = ++acknowledged;
}

static void on_up(void *ctx, bool session_present)
{
	(void)ctx;
	(void)session_present;
}

/* The connection dropped: QoS 1 and 2 messages in flight stay with
 * libmosquitto, which sends them again after the reconnect; QoS 0 ones
 * that were not written yet are gone, so they are read again. */
static void on_down(void *ctx)
{
	(void)ctx;
	retried += spool_unacked_read(q);
	if (cfg.mo.qos == 0) {
		memset(midmap, 0, 65536 * sizeof *midmap);
		spool_rewind(q);
	}
}

/* Hands one queued message to libmosquitto; false when there is none or
 * the connection failed. */
static bool publish_one(void)
{
	uint64_t id;
	const void *p;
	size_t n;
	if (!spool_next(q, &id, &p, &n))
		return false;
	const unsigned char *b = p;
	size_t tl = (size_t)b[0] << 8 | b[1];
	char topic[MAX_TOPIC + 1];
	memcpy(topic, b + 2, tl);
	topic[tl] = 0;
	int mid = 0;
	early_mid = -1;
	int rc = mosquitto_publish(conn.m, &mid, topic, (int)(n - 2 - tl),
				   b + 2 + tl, cfg.mo.qos, cfg.retain);
	if (mid && early_mid == mid) {
		spool_ack(q, id);
		stats.out = ++acknowledged;
	} else if (mid) {
		midmap[mid & 0xFFFF] = id + 1;
	}
	if (rc == MOSQ_ERR_SUCCESS) {
		published++;
		return true;
	}
	if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_INVAL ||
	    rc == MOSQ_ERR_MALFORMED_UTF8 || rc == MOSQ_ERR_OVERSIZE_PACKET) {
		/* This one can never go: said, dead-lettered, counted, and
		 * the others go on. */
		char what[80];
		snprintf(what, sizeof what, " to '%.60s%s'", topic,
			 tl > 60 ? "..." : "");
		pub_refuse(id, what, mosquitto_strerror(rc), b + 2 + tl,
			   n - 2 - tl);
		spool_ack(q, id);
		return true;
	}
	published += cfg.mo.qos > 0;	/* libmosquitto has it queued */
	return false;
}

static void pump(void)
{
	/* Not while the socket is backed up: each publish would only try a
	 * write that fails (EAGAIN) and wait in libmosquitto's queue. */
	while (conn.state == MQTT_UP && spool_unacked_read(q) < WINDOW &&
	       !mosquitto_want_write(conn.m))
		if (!publish_one())
			break;
	mqtt_flush(&conn);
}

/* ---- input ---- */

static struct reader *rd;
static struct fieldset *fs;
static bool in_eof;
static bool in_more;	/* the last batch stopped with input still there */
static bool reload_waits;	/* a reload waits for the queue to drain */
static void conf_reload(void);

/* The queue's bound reached: said once (DESIGN.md: state is bounded and
 * says so), since a slow broker can make it the normal state. */
static void say_full(void)
{
	static bool said_full, said_drop;
	if (!said_full && spool_is_full(q, 0)) {
		said_full = true;
		if (cfg.pub.spool_dir)
			diag_warn("spool %s is full (--spool-max): reading waits for "
				  "acknowledgements", cfg.pub.spool_dir);
		else
			diag_warn("queue is full (--queue %llu): reading waits for "
				  "acknowledgements", (unsigned long long)cfg.pub.queue);
	}
	if (!said_drop && spool_dropped(q)) {
		said_drop = true;
		diag_warn("spool %s is full (--spool-max): dropping the oldest "
			  "records", cfg.pub.spool_dir);
	}
}

/* Reads up to BATCH records while the queue has room; each becomes a
 * queued message, or bad input. A reload is looked for before each
 * record, so that it falls between two. */
static void read_batch(struct scratch *sc)
{
	struct record rec;
	char err[256];
	in_more = true;
	for (int i = 0; i < BATCH && !spool_is_full(q, 0); i++) {
		if (reload_due())
			conf_reload();
		if (reload_waits)
			return;
		if (!pub_read(rd, &rec, &in_eof, &in_more))
			return;
		scratch_reset(sc);
		const char *perr;
		if (!build_topic(&rec, sc, err, sizeof err)) {
			record_bad(&rec, err);
			continue;
		}
		if (!payload_put(&payload, &rec, sc, &msg, &perr)) {
			record_bad(&rec, perr);
			continue;
		}
		spool_append(q, msg.buf, msg.len);
		spooled += cfg.pub.spool_dir != NULL;
	}
	say_full();
}

/* ---- options ---- */

static int64_t parse_duration(const char *opt, const char *arg)
{
	int64_t us;
	const char *err;
	if (duration_parse(arg, false, &us, &err) < 0)
		diag_usage("invalid argument '%s' for %s: %s", arg, opt, err);
	return us / 1000;
}

static bool in_reload;	/* parsing a reloaded file: no --help there */

/* Parses argv into c (from its defaults); checks the options together. */
static void parse_args(int argc, char **argv, struct es_opts *o, struct conf *c)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		MQTT_LONGOPTS,
		{"topic", required_argument, 0, 't'},
		{"retain", no_argument, 0, OPT_RETAIN},
		PUB_LONGOPTS,
		{0, 0, 0, 0}
	};
	*c = (struct conf){ .drain_ms = 10000 };
	pub_opts_init(&c->pub, 1000);
	mqtt_opts_init(&c->mo);
	int ch;
	optind = 0;	/* a reload parses again from the start */
	while ((ch = getopt_long(argc, argv, OPTS_COMMON_SHORT MQTT_SHORT "t:",
				 longopts, NULL)) != -1) {
		if (opts_common(o, ch, optarg) || mqtt_opt(&c->mo, ch, optarg) ||
		    pub_opt(&c->pub, ch, optarg))
			continue;
		switch (ch) {
		case 't': c->topic = optarg; break;
		case OPT_RETAIN: c->retain = true; break;
		case OPT_PUB_DRAIN_TIMEOUT:
			c->drain_ms = parse_duration("--drain-timeout", optarg);
			break;
		default:
			opts_bad_option();
		}
	}
	if (o->help && !in_reload)
		usage();
	if (o->version && !in_reload)
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
static char **conf_words;	/* the reloaded command line in use */
static struct conf next;	/* a reload waiting to be applied */
static char **next_words;

static void open_conn(void)
{
	mqtt_open(&conn, &cfg.mo, on_up, on_down, NULL);
	mosquitto_publish_callback_set(conn.m, on_publish);
	mosquitto_max_inflight_messages_set(conn.m, WINDOW);
}

/* After mqtt_close(): a client on the new options. What was handed to the
 * old one and not acknowledged is queued again for it; the reconnects
 * count on. */
static void reopen(unsigned long reconnects)
{
	retried += spool_unacked_read(q);
	memset(midmap, 0, 65536 * sizeof *midmap);
	spool_rewind(q);
	open_conn();
	conn.reconnects = reconnects;
}

/* Applies the waiting reload when it can be (see above). */
static void try_apply(void)
{
	if (!reload_waits)
		return;
	const char *copt = mqtt_opts_differ(&cfg.mo, &next.mo);
	bool per_message = next.mo.qos != cfg.mo.qos || next.retain != cfg.retain;
	if ((copt || per_message) && spool_pending(q) &&
	    !(copt && conn.state != MQTT_UP))
		return;
	template_free(&tt);
	template_compile(next.topic, fs, &tt);
	payload.slot = field_slot(fs, "--payload-field", next.pub.payload_field);
	reader_fields_changed(rd);
	unsigned long reconnects = conn.reconnects + conn.ever_up;
	if (copt)
		mqtt_close(&conn);
	cfg = next;		/* conn.o points to cfg.mo */
	if (copt) {
		reopen(reconnects);
		/* the queued messages (if any) go there now */
		dest_of(&cfg.mo);
		spool_set_owner(q, dest);
	}
	char said[600];
	int n = snprintf(said, sizeof said, "-t %s", cfg.topic);
	if (cfg.pub.payload_field)
		n += snprintf(said + n, sizeof said - (size_t)n,
			      " --payload-field %s", cfg.pub.payload_field);
	n += snprintf(said + n, sizeof said - (size_t)n, " -q %d%s",
		      cfg.mo.qos, cfg.retain ? " --retain" : "");
	if (copt)
		snprintf(said + n, sizeof said - (size_t)n,
			 "; %s changed: connecting to %s", copt, mqtt_where(&conn));
	reload_said(said);
	reload_free(conf_words);
	conf_words = next_words;
	next_words = NULL;
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
	char why[600];
	const char *opt = pub_opts_restart(&cfg.pub, &nc.pub);
	if (opt)
		snprintf(why, sizeof why, "changing %s needs a restart", opt);
	if (opt || !mqtt_opts_files_ok(&nc.mo, why, sizeof why)) {
		reload_refuse(why);
		reload_free(av);
		return;
	}
	reload_free(next_words);	/* a newer file replaces a waiting one */
	next = nc;
	next_words = av;
	reload_waits = true;
	try_apply();
}

/* ---- the loop ---- */

static int poll_timeout(int64_t now, int64_t drain_at, bool reading)
{
	int t = mqtt_timeout(&conn, now);
	if (in_eof) {
		int64_t d = drain_at - now;
		if (d < t)
			t = d < 0 ? 0 : (int)d;
	}
	if (t > 200)
		t = 200;	/* the spool's ack file and fsync timers */
	if (reading && (in_more || reader_fd(rd) < 0))
		t = 0;		/* lines already read wait, or the next input
				   is not open yet: poll() would not say */
	return t;
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
		pump();
		spool_tick(q, now);
		if (in_eof && (!spool_pending(q) || now >= drain_at))
			break;
		reading = !in_eof && !spool_is_full(q, 0) && !reload_waits;
		struct pollfd pf[2];
		int n = 0, in_at = -1, mq_at = -1;
		if (reading && reader_fd(rd) >= 0) {
			pf[n].fd = reader_fd(rd);
			pf[n].events = POLLIN;
			in_at = n++;
		}
		if (mqtt_pollfd(&conn, &pf[n]))
			mq_at = n++;
		int t = reload_timeout(poll_timeout(now, drain_at, reading));
		int r = poll(pf, (nfds_t)n, loop_timeout(t));
		if (r < 0 && errno != EINTR)
			diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
		(void)in_at;
		mqtt_service(&conn, r > 0 && mq_at >= 0 ? pf[mq_at].revents : 0,
			     loop_now_ms());
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
	template_compile(cfg.topic, fs, &tt);
	payload.slot = field_slot(fs, "--payload-field", cfg.pub.payload_field);
	dest_of(&cfg.mo);
	if (o.check)
		pub_spool_check(&cfg.pub, dest);
	opts_check_done(&o);	/* --check: no spool, no connection */
	loop_signals();
	reload_init(&o);

	out_init(&msg, -1, "message");
	payload_init(&payload, o.out_fmt == FMT_CSV);
	q = pub_spool_open(&cfg.pub, dest);
	midmap = xmalloc(65536 * sizeof *midmap);
	memset(midmap, 0, 65536 * sizeof *midmap);

	rd = reader_open(argv + optind, argc - optind, o.in_fmt, fs, NULL, NULL);
	reader_set_timeout(rd, 0);
	open_conn();
	run();

	stats.dropped = spool_dropped(q);
	uint64_t left = pub_spool_left(q, &cfg.pub);
	if (left)
		diag_status = EXIT_RUNTIME;
	mqtt_close(&conn);
	spool_close(q);
	reader_close(rd);
	payload_free(&payload);
	fieldset_free(fs);
	template_free(&tt);
	free(midmap);
	out_free(&msg);
	reload_free(next_words);
	reload_free(conf_words);
	diag_finish();
	return diag_status;
}
