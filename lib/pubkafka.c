/* pubkafka.c - the Kafka transport of the publishers' loop */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "loop.h"
#include "mem.h"
#include "pubkafka.h"
#include "stats.h"

#define RETRY_MS 1000		/* wait before sending a failed message again,
				   so that a failing broker is not hammered */
#define FULL_MS 10		/* librdkafka's queue full: reports make room */
#define FRAME_MAGIC 'K'		/* first byte of a queued message: tells ours
				   from another program's spool */
#define NO_KEY 0xFFFFFFFFu

/* ---- the queued form ---- */

static void pubkafka_u32(struct outbuf *o, uint32_t v)
{
	unsigned char b[4] = { v & 0xFF, v >> 8 & 0xFF, v >> 16 & 0xFF, v >> 24 };
	out_put(o, b, 4);
}

/* The key from its field as text; NULL, or why the field cannot be one. */
static const char *pubkafka_key(const struct value *v, const char **p,
				size_t *n)
{
	switch (v->t) {
	case V_MISSING: return "key field is missing";
	case V_NULL: return "key field is null or empty";
	case V_RAW: return "key field is an object or array";
	case V_BOOL:
		*p = v->u.b ? "true" : "false";
		*n = strlen(*p);
		return NULL;
	case V_INT: case V_DOUBLE:
		if (!v->s)
			return "key field is not a plain number";
		break;		/* the number as written: 7 and 7.0 differ */
	default:
		break;
	}
	*p = v->s;
	*n = v->n;
	return NULL;
}

bool pubkafka_head(void *ctx, const struct record *rec, struct scratch *sc,
		   struct outbuf *msg, const char **err)
{
	struct pubkafka *k = ctx;
	out_putc(msg, FRAME_MAGIC);
	if (k->key_slot < 0) {
		pubkafka_u32(msg, NO_KEY);
		return true;
	}
	struct value v;
	const char *p = NULL;
	size_t n = 0;
	value_load(&rec->slots[k->key_slot], &v, sc);
	*err = pubkafka_key(&v, &p, &n);
	if (*err)
		return false;
	pubkafka_u32(msg, (uint32_t)n);
	out_put(msg, p, n);
	return true;
}

/* Splits a queued message; false if it is not one of ours. */
static bool pubkafka_split(const void *p, size_t n, const void **key,
			   size_t *keylen, const void **val, size_t *vallen)
{
	const unsigned char *b = p;
	if (n < 5 || b[0] != FRAME_MAGIC)
		return false;
	uint32_t kl = (uint32_t)b[1] | (uint32_t)b[2] << 8 |
		      (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24;
	size_t off = 5;
	*key = NULL;
	*keylen = 0;
	if (kl != NO_KEY) {
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

struct pubkafka_held {
	uint64_t id;
	bool again;		/* its delivery failed (else librdkafka's queue
				   was full) */
	size_t n;
	unsigned char data[];
};

static bool pubkafka_held_any(const struct pubkafka *k)
{
	return k->hpos < k->hn;
}

/* The held messages wait until at (the loop wakes then). */
static void pubkafka_wait(struct pubkafka *k, int64_t at)
{
	k->held_until = at;
	k->held_timer->at = at;
}

/* Room for one more at the end: the room of those already sent is
 * reused before growing. */
static void pubkafka_held_room(struct pubkafka *k)
{
	if (k->hpos == k->hn)
		k->hpos = k->hn = 0;
	if (k->hn < k->hcap)
		return;
	if (k->hpos > 0) {
		memmove(k->held, k->held + k->hpos,
			(k->hn - k->hpos) * sizeof *k->held);
		k->hn -= k->hpos;
		k->hpos = 0;
	} else {
		k->hcap = k->hcap ? k->hcap * 2 : 64;
		k->held = xrealloc(k->held, k->hcap * sizeof *k->held);
	}
}

static void pubkafka_hold(struct pubkafka *k, uint64_t id, const void *p,
			  size_t n, bool again)
{
	struct pubkafka_held *h = xmalloc(sizeof *h + n);
	h->id = id;
	h->again = again;
	h->n = n;
	memcpy(h->data, p, n);
	pubkafka_held_room(k);
	if (k->hn > k->hpos && k->held[k->hn - 1]->id > id)
		k->held_sorted = false;
	k->held[k->hn++] = h;
}

static int pubkafka_by_id(const void *a, const void *b)
{
	uint64_t x = (*(struct pubkafka_held *const *)a)->id;
	uint64_t y = (*(struct pubkafka_held *const *)b)->id;
	return x < y ? -1 : x > y;
}

/* The oldest held message, taken out of the queue. */
static struct pubkafka_held *pubkafka_held_take(struct pubkafka *k)
{
	if (!k->held_sorted) {
		qsort(k->held + k->hpos, k->hn - k->hpos, sizeof *k->held,
		      pubkafka_by_id);
		k->held_sorted = true;
	}
	return k->held[k->hpos++];
}

/* ---- librdkafka's callbacks (from rd_kafka_poll, on this thread, except
 * the log) ---- */

/* Errors no retry can cure: the message goes (counted as bad). */
static bool pubkafka_permanent(rd_kafka_resp_err_t err)
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

/* A broker that is down gives the same few errors over and over: each is
 * said once until a message gets through. */
static bool pubkafka_say_once(struct pubkafka *k, int err)
{
	int max = (int)(sizeof k->said / sizeof *k->said);
	for (int i = 0; i < k->nsaid; i++)
		if (k->said[i] == err)
			return false;
	if (k->nsaid < max)
		k->said[k->nsaid++] = err;
	return true;
}

/* Sent again from a copy of what librdkafka had (the spool's reading has
 * moved on): at least once, after RETRY_MS. */
static void pubkafka_again(struct pubkafka *k, uint64_t id,
			   const rd_kafka_message_t *m)
{
	if (pubkafka_say_once(k, m->err))
		diag_warn("delivery failed, sending again: %s",
			  rd_kafka_err2str(m->err));
	k->frame.len = 0;
	out_putc(&k->frame, FRAME_MAGIC);
	pubkafka_u32(&k->frame, m->key ? (uint32_t)m->key_len : NO_KEY);
	if (m->key)
		out_put(&k->frame, m->key, m->key_len);
	out_put(&k->frame, m->payload, m->len);
	pubkafka_hold(k, id, k->frame.buf, k->frame.len, true);
	pubkafka_wait(k, loop_now_ms() + RETRY_MS);
}

static void pubkafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
				 void *opaque)
{
	struct pubkafka *k = opaque;
	uint64_t id = (uint64_t)(uintptr_t)m->_private;
	(void)rk;
	k->inflight--;
	if (!m->err) {
		publoop_ack(k->pl, id);
		k->nsaid = 0;
		return;
	}
	if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
	    m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
		return;		/* given up at the end: it stays queued */
	k->failed++;
	if (pubkafka_permanent(m->err))
		publoop_refuse(k->pl, id, "", rd_kafka_err2str(m->err),
			       m->payload, m->len);
	else
		pubkafka_again(k, id, m);
}

static void pubkafka_on_error(rd_kafka_t *rk, int err, const char *reason,
			      void *opaque)
{
	struct pubkafka *k = opaque;
	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		k->fatal = true;
		return;
	}
	if (pubkafka_say_once(k, err))
		diag_warn("kafka: %s", reason);
}

/* librdkafka's own log, from its threads: warnings and worse only, and not
 * the connection failures that on_error reports already. */
static void pubkafka_on_log(const rd_kafka_t *rk, int level, const char *fac,
			    const char *buf)
{
	(void)rk;
	if (level > 4 || !strcmp(fac, "FAIL") || !strcmp(fac, "ERROR"))
		return;
	fprintf(stderr, "%s: kafka: %s\n", diag_prog, buf);
}

static void pubkafka_quiet_log(const rd_kafka_t *rk, int level,
			       const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

/* ---- the producer ---- */

/* The first line of the password file, or ES_KAFKA_PASSWORD: never argv,
 * which every user of the machine can read in ps. NULL with err when the
 * file does not give one. */
static char *pubkafka_password(const struct pubkafka_opts *o, char *err,
			       size_t en)
{
	if (!o->password_file) {
		const char *env = getenv("ES_KAFKA_PASSWORD");
		return xstrdup(env ? env : "");
	}
	FILE *f = fopen(o->password_file, "r");
	if (!f) {
		snprintf(err, en, "cannot open %s: %s", o->password_file,
			 strerror(errno));
		return NULL;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	if (n < 0) {
		free(line);
		snprintf(err, en, "%s: no password in it", o->password_file);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	return line;
}

/* One property; false with err ("OPT: why") if librdkafka refuses it. */
static bool pubkafka_set(rd_kafka_conf_t *kc, const char *opt,
			 const char *name, const char *val, char *err, size_t n)
{
	char why[512];
	if (rd_kafka_conf_set(kc, name, val, why, sizeof why) ==
	    RD_KAFKA_CONF_OK)
		return true;
	snprintf(err, n, "%s: %s", opt, why);
	return false;
}

/* The -X properties in order; false with err at the first refused. */
static bool pubkafka_props(rd_kafka_conf_t *kc, const struct pubkafka_opts *o,
			   char *err, size_t n)
{
	for (int i = 0; i < o->nprops; i++) {
		char *eq = strchr(o->props[i], '=');
		char opt[300];
		*eq = 0;
		snprintf(opt, sizeof opt, "-X %s", o->props[i]);
		bool ok = pubkafka_set(kc, opt, o->props[i], eq + 1, err, n);
		*eq = '=';
		if (!ok)
			return false;
	}
	return true;
}

/* Our defaults, then -X, then the SASL password: 0, or EXIT_USAGE or
 * EXIT_RUNTIME with err. */
static int pubkafka_conf(rd_kafka_conf_t *kc, const struct pubkafka_opts *o,
			 char *err, size_t n)
{
	bool ok = pubkafka_set(kc, "-b/--brokers", "bootstrap.servers",
			       o->brokers, err, n) &&
		pubkafka_set(kc, "client.id", "client.id", diag_prog, err, n) &&
		/* DESIGN.md: no Nagle delay on any hop. */
		pubkafka_set(kc, "socket.nagle.disable", "socket.nagle.disable",
			     "true", err, n) &&
		/* A retry after a lost connection must neither duplicate nor
		 * reorder a key's records: the idempotent producer keeps
		 * both. */
		pubkafka_set(kc, "enable.idempotence", "enable.idempotence",
			     "true", err, n) &&
		/* Store and forward: librdkafka keeps trying, in order, until
		 * the message is delivered or the drain gives up. */
		pubkafka_set(kc, "message.timeout.ms", "message.timeout.ms", "0",
			     err, n) &&
		(!o->partitioner || pubkafka_set(kc, "--partitioner",
			"partitioner", o->partitioner, err, n)) &&
		(!o->username || pubkafka_set(kc, "-u/--username",
			"sasl.username", o->username, err, n)) &&
		pubkafka_props(kc, o, err, n);
	if (!ok)
		return EXIT_USAGE;
	if (!o->password_file && !getenv("ES_KAFKA_PASSWORD"))
		return 0;
	char *password = pubkafka_password(o, err, n);
	if (!password)
		return EXIT_RUNTIME;
	ok = pubkafka_set(kc, "--password-file", "sasl.password", password,
			  err, n);
	memset(password, 0, strlen(password));
	free(password);
	return ok ? 0 : EXIT_USAGE;
}

/* The producer on o, its callbacks given k; NULL with err and *status. */
static rd_kafka_t *pubkafka_new(struct pubkafka *k,
				const struct pubkafka_opts *o, bool check,
				char *err, size_t n, int *status)
{
	rd_kafka_conf_t *kc = rd_kafka_conf_new();
	*status = pubkafka_conf(kc, o, err, n);
	if (!*status && check)
		*status = pubkafka_set(kc, "-b/--brokers", "bootstrap.servers",
				       "", err, n) ? 0 : EXIT_USAGE;
	if (*status) {
		rd_kafka_conf_destroy(kc);
		return NULL;
	}
	rd_kafka_conf_set_opaque(kc, k);
	rd_kafka_conf_set_dr_msg_cb(kc, pubkafka_on_delivery);
	rd_kafka_conf_set_error_cb(kc, pubkafka_on_error);
	rd_kafka_conf_set_log_cb(kc, check ? pubkafka_quiet_log
					   : pubkafka_on_log);
	char why[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, why, sizeof why);
	if (!rk)
		rd_kafka_conf_destroy(kc);	/* it takes kc only on success */
	*status = rk ? 0 : EXIT_USAGE;	/* properties that do not agree */
	if (!rk && strstr(why, "idempotence"))
		snprintf(err, n, "%s (%s turns it on; -X enable.idempotence="
			 "false turns it off)", why, diag_prog);
	else if (!rk)
		snprintf(err, n, "%s", why);
	return rk;
}

int pubkafka_check(const struct pubkafka_opts *o, char *err, size_t n)
{
	struct pubkafka k = { 0 };
	int status;
	rd_kafka_t *rk = pubkafka_new(&k, o, true, err, n, &status);
	if (rk)
		rd_kafka_destroy(rk);
	return status;
}

/* The pipe only wakes the loop: the reports are polled in pubkafka_send. */
static void pubkafka_drain(struct evloop_fd *f, short revents, int64_t now)
{
	char buf[64];
	(void)revents;
	(void)now;
	while (read(f->fd, buf, sizeof buf) > 0)
		;
}

int pubkafka_init(struct pubkafka *k, struct publoop *pl)
{
	memset(k, 0, sizeof *k);
	k->pl = pl;
	k->key_slot = -1;
	k->held_sorted = true;
	out_init(&k->frame, -1, "message");
	if (pipe2(k->evpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	evloop_add_fd(&pl->ev, k->evpipe[0], POLLIN, pubkafka_drain, k);
	k->held_timer = evloop_add_timer(&pl->ev, NULL, NULL);
	return 0;
}

int pubkafka_start(struct pubkafka *k, const struct pubkafka_opts *o,
		   char *err, size_t n)
{
	int status;
	k->rk = pubkafka_new(k, o, false, err, n, &status);
	if (!k->rk)
		return status;
	k->rkt = rd_kafka_topic_new(k->rk, o->topic, NULL);
	if (!k->rkt) {
		snprintf(err, n, "topic %s: %s", o->topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		return EXIT_RUNTIME;
	}
	/* its reports wake the loop through the pipe */
	k->mainq = rd_kafka_queue_get_main(k->rk);
	rd_kafka_queue_io_event_enable(k->mainq, k->evpipe[1], "r", 1);
	k->nsaid = 0;
	return 0;
}

static void pubkafka_stop(struct pubkafka *k)
{
	if (!k->rk)
		return;
	rd_kafka_queue_io_event_enable(k->mainq, -1, NULL, 0);
	rd_kafka_queue_destroy(k->mainq);
	rd_kafka_topic_destroy(k->rkt);
	rd_kafka_destroy(k->rk);
	k->rk = NULL;
}

int pubkafka_restart(struct pubkafka *k, const struct pubkafka_opts *o,
		     char *err, size_t n)
{
	rd_kafka_poll(k->rk, 0);
	pubkafka_stop(k);
	return pubkafka_start(k, o, err, n);
}

bool pubkafka_idle(const struct pubkafka *k)
{
	return !k->inflight && !pubkafka_held_any(k);
}

void pubkafka_free(struct pubkafka *k)
{
	pubkafka_stop(k);
	close(k->evpipe[0]);
	close(k->evpipe[1]);
	while (k->hpos < k->hn)
		free(k->held[k->hpos++]);
	free(k->held);
	out_free(&k->frame);
}

const char *pubkafka_opts_differ(const struct pubkafka_opts *a,
				 const struct pubkafka_opts *b)
{
	if (!pub_same_str(a->brokers, b->brokers))
		return "-b/--brokers";
	if (!pub_same_str(a->topic, b->topic))
		return "-t/--topic";
	if (!pub_same_str(a->partitioner, b->partitioner))
		return "--partitioner";
	if (!pub_same_str(a->username, b->username))
		return "-u/--username";
	if (!pub_same_str(a->password_file, b->password_file))
		return "--password-file";
	if (a->nprops != b->nprops)
		return "-X/--property";
	for (int i = 0; i < a->nprops; i++)
		if (strcmp(a->props[i], b->props[i]))
			return "-X/--property";
	return NULL;
}

/* ---- sending ---- */

/* The next message to produce: a held one when its time came, else the
 * queue's next; false when there is none to send now. */
static bool pubkafka_next(struct pubkafka *k, int64_t now,
			  struct pubkafka_held **h, uint64_t *id,
			  const void **p, size_t *n)
{
	*h = NULL;
	if (pubkafka_held_any(k) && now >= k->held_until) {
		*h = pubkafka_held_take(k);
		*id = (*h)->id;
		*p = (*h)->data;
		*n = (*h)->n;
		k->pl->retried += (*h)->again;
		return true;
	}
	return !pubkafka_held_any(k) && spool_next(k->pl->q, id, p, n);
}

/* librdkafka did not take it (its queue is full, or a fatal state): it is
 * first in line again. */
static void pubkafka_keep(struct pubkafka *k, struct pubkafka_held *h,
			  uint64_t id, const void *p, size_t n, int64_t now)
{
	if (h) {
		k->pl->retried -= h->again;
		k->held[--k->hpos] = h;	/* its place is still free */
	} else {
		pubkafka_hold(k, id, p, n, false);	/* the newest: last in id
							   order too */
	}
	pubkafka_wait(k, now + FULL_MS);
}

/* Hands one message to librdkafka; false when the queue is empty, the
 * held messages must wait, or librdkafka's queue is full. */
static bool pubkafka_one(struct pubkafka *k, int64_t now)
{
	struct pubkafka_held *h;
	uint64_t id;
	const void *p, *key, *val;
	size_t n, keylen, vallen;
	if (!pubkafka_next(k, now, &h, &id, &p, &n))
		return false;
	if (!pubkafka_split(p, n, &key, &keylen, &val, &vallen)) {
		diag_warn("message %llu in the queue is not %s's; skipped",
			  (unsigned long long)id, diag_prog);
		stats.bad++;
		spool_ack(k->pl->q, id);
		free(h);
		return true;
	}
	rd_kafka_resp_err_t err = rd_kafka_producev(k->rk,
		RD_KAFKA_V_RKT(k->rkt),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		RD_KAFKA_V_KEY(key, keylen),
		RD_KAFKA_V_VALUE((void *)val, vallen),
		RD_KAFKA_V_OPAQUE((void *)(uintptr_t)id),
		RD_KAFKA_V_END);
	if (err && !pubkafka_permanent(err)) {
		pubkafka_keep(k, h, id, p, n, now);
		k->fatal |= err == RD_KAFKA_RESP_ERR__FATAL;
		return false;
	}
	if (err) {
		publoop_refuse(k->pl, id, "", rd_kafka_err2str(err), val, vallen);
	} else {
		k->inflight++;
		k->pl->published++;
	}
	free(h);
	return true;
}

void pubkafka_send(void *ctx, int64_t now)
{
	struct pubkafka *k = ctx;
	rd_kafka_poll(k->rk, 0);
	while (!k->fatal && k->inflight < PUBKAFKA_WINDOW && pubkafka_one(k, now))
		;
}

bool pubkafka_failed(void *ctx)
{
	return ((struct pubkafka *)ctx)->fatal;
}

void pubkafka_end(void *ctx)
{
	struct pubkafka *k = ctx;
	if (k->fatal) {
		char why[512];
		rd_kafka_fatal_error(k->rk, why, sizeof why);
		diag_warn("kafka: fatal error: %s", why);
	}
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(k->rk, 0);
}
