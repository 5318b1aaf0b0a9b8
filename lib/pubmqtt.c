/* pubmqtt.c - the MQTT transport of the publishers' loop */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "mem.h"
#include "pubmqtt.h"

#define MIDS 65536		/* libmosquitto's message ids are 16 bits */

void pubmqtt_init(struct pubmqtt *m, struct publoop *pl)
{
	memset(m, 0, sizeof *m);
	m->pl = pl;
	m->midmap = xmalloc(MIDS * sizeof *m->midmap);
	memset(m->midmap, 0, MIDS * sizeof *m->midmap);
}

/* A template that can make no valid topic is a usage error at start, not
 * a refusal of every record: its literal parts, with each field as one
 * character, must be a topic MQTT takes. */
static const char *pubmqtt_topic_check(const struct pubtmpl *t)
{
	if (!t->n)
		return "empty topic";
	size_t n;
	char *s = pubtmpl_sample(t, &n);
	bool ok = n <= PUBMQTT_MAX_TOPIC && utf8_valid(s, n) &&
		  mosquitto_pub_topic_check2(s, n) == MOSQ_ERR_SUCCESS;
	free(s);
	if (n > PUBMQTT_MAX_TOPIC)
		return "longer than 65535 bytes";
	return ok ? NULL : "not a topic MQTT can publish to (UTF-8, no NUL)";
}

bool pubmqtt_topic(struct pubtmpl *t, const char *topic, struct fieldset *fs,
		   char *why, size_t n)
{
	if (!pubtmpl_compile(t, topic, "topic", fs, why, n))
		return false;
	const char *err = NULL;
	if (strpbrk(topic, "+#"))
		err = "wildcards (+, #) cannot be published to";
	else
		err = pubmqtt_topic_check(t);
	if (err)
		snprintf(why, n, "%s", err);
	return !err;
}

/* One level of the topic from a field: nothing that would change the
 * topic's levels. */
static const char *pubmqtt_level(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '/' || p[i] == '+' || p[i] == '#' || !p[i])
			return "holds '/', '+', '#' or NUL, which would change "
			       "the topic";
	return NULL;
}

bool pubmqtt_head(void *ctx, const struct record *rec, struct scratch *sc,
		  struct outbuf *msg, const char **err)
{
	struct pubmqtt *m = ctx;
	out_put(msg, "\0\0", 2);
	if (!pubtmpl_fill(&m->topic, rec, sc, msg, pubmqtt_level, m->err,
			  sizeof m->err)) {
		*err = m->err;
		return false;
	}
	size_t tl = msg->len - 2;
	if (tl > PUBMQTT_MAX_TOPIC || !utf8_valid(msg->buf + 2, tl)) {
		*err = "the topic is too long or not UTF-8";
		return false;
	}
	msg->buf[0] = (char)(tl >> 8);
	msg->buf[1] = (char)(tl & 0xFF);
	return true;
}

/* ---- acknowledgements: libmosquitto's message ids to spool ids ---- */

static void pubmqtt_on_publish(void *ctx, int mid)
{
	struct pubmqtt *m = ctx;
	uint64_t id = m->midmap[mid & 0xFFFF];
	if (!id) {
		/* QoS 0 is written (and acked) before mosquitto_publish
		 * returns the mid: note it for pubmqtt_one. */
		m->early_mid = mid;
		return;
	}
	m->midmap[mid & 0xFFFF] = 0;
	publoop_ack(m->pl, id - 1);
}

/* What was handed on and not acknowledged is read again. */
static void pubmqtt_requeue(struct pubmqtt *m)
{
	memset(m->midmap, 0, MIDS * sizeof *m->midmap);
	spool_rewind(m->pl->q);
}

/* The connection dropped: QoS 1 and 2 messages in flight stay with
 * libmosquitto, which sends them again after the reconnect; QoS 0 ones
 * that were not written yet are gone, so they are read again. */
static void pubmqtt_on_down(void *ctx)
{
	struct pubmqtt *m = ctx;
	m->pl->retried += spool_unacked_read(m->pl->q);
	if (m->conn.o->qos == 0)
		pubmqtt_requeue(m);
}

int pubmqtt_open(struct pubmqtt *m, const struct mqtt_opts *o, char *why,
		 size_t n)
{
	struct mqtt_hooks h = {
		.on_down = pubmqtt_on_down, .on_publish = pubmqtt_on_publish,
		.max_inflight = PUBMQTT_WINDOW, .ctx = m,
	};
	int rc = mqtt_open(&m->conn, o, &h, why, n);
	if (!rc)
		mqtt_attach(&m->conn, &m->pl->ev);
	return rc;
}

int pubmqtt_reopen(struct pubmqtt *m, const struct mqtt_opts *o, char *why,
		   size_t n)
{
	mqtt_close(&m->conn);
	m->pl->retried += spool_unacked_read(m->pl->q);
	pubmqtt_requeue(m);
	return mqtt_reopen(&m->conn, o, why, n);
}

bool pubmqtt_failed(void *ctx)
{
	return ((struct pubmqtt *)ctx)->conn.refused;
}

void pubmqtt_free(struct pubmqtt *m)
{
	mqtt_close(&m->conn);
	pubtmpl_free(&m->topic);
	free(m->midmap);
}

/* ---- sending ---- */

/* A message libmosquitto refuses for good: said, dead-lettered, counted,
 * and the others go on. */
static bool pubmqtt_refused(int rc)
{
	return rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_INVAL ||
	       rc == MOSQ_ERR_MALFORMED_UTF8 || rc == MOSQ_ERR_OVERSIZE_PACKET;
}

/* Hands one queued message to libmosquitto; false when there is none or
 * the connection failed. */
static bool pubmqtt_one(struct pubmqtt *m)
{
	struct publoop *pl = m->pl;
	uint64_t id;
	const void *p;
	size_t n;
	if (!spool_next(pl->q, &id, &p, &n))
		return false;
	const unsigned char *b = p;
	size_t tl = (size_t)b[0] << 8 | b[1];
	char topic[PUBMQTT_MAX_TOPIC + 1];
	memcpy(topic, b + 2, tl);
	topic[tl] = 0;
	int mid = 0, qos = m->conn.o->qos;
	m->early_mid = -1;
	int rc = mosquitto_publish(m->conn.m, &mid, topic, (int)(n - 2 - tl),
				   b + 2 + tl, qos, m->retain);
	if (mid && m->early_mid == mid)
		publoop_ack(pl, id);
	else if (mid)
		m->midmap[mid & 0xFFFF] = id + 1;
	if (rc == MOSQ_ERR_SUCCESS) {
		pl->published++;
		return true;
	}
	if (pubmqtt_refused(rc)) {
		char what[80];
		snprintf(what, sizeof what, " to '%.60s%s'", topic,
			 tl > 60 ? "..." : "");
		publoop_refuse(pl, id, what, mosquitto_strerror(rc), b + 2 + tl,
			       n - 2 - tl);
		return true;
	}
	pl->published += qos > 0;	/* libmosquitto has it queued */
	return false;
}

void pubmqtt_send(void *ctx, int64_t now)
{
	struct pubmqtt *m = ctx;
	(void)now;
	/* Not while the socket is backed up: each publish would only try a
	 * write that fails (EAGAIN) and wait in libmosquitto's queue. */
	while (m->conn.state == MQTT_UP &&
	       spool_unacked_read(m->pl->q) < PUBMQTT_WINDOW &&
	       !mosquitto_want_write(m->conn.m))
		if (!pubmqtt_one(m))
			break;
	mqtt_flush(&m->conn);
}
