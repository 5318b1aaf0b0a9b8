/* pubmqtt.h - the MQTT transport of the publishers' loop (lib/publoop.h)
 *
 * A queued message is the topic's length (2 bytes, big-endian), the topic
 * and the payload. Messages go to libmosquitto while the connection is
 * up, at most PUBMQTT_WINDOW unacknowledged at a time; one is acknowledged
 * by the broker (QoS 1 and 2) or once written to the socket (QoS 0), by
 * its libmosquitto message id. When the connection drops, QoS 1 and 2
 * messages in flight stay with libmosquitto, which sends them again after
 * the reconnect; QoS 0 ones not written yet are read again from the queue.
 */
#ifndef ES_PUBMQTT_H
#define ES_PUBMQTT_H

#include <stdbool.h>
#include <stdint.h>
#include "mqtt.h"
#include "publoop.h"
#include "pubtmpl.h"

#define PUBMQTT_WINDOW 1000	/* messages handed to libmosquitto, unacked */
#define PUBMQTT_MAX_TOPIC 65535	/* MQTT's limit on a topic's length */

struct pubmqtt {
	struct mqtt_conn conn;
	struct publoop *pl;
	struct pubtmpl topic;	/* the running -t */
	bool retain;		/* the running --retain */
	uint64_t *midmap;	/* by mid: spool id + 1, or 0 */
	int early_mid;		/* a QoS 0 ack seen inside mosquitto_publish */
	char err[256];		/* why the last record has no topic */
};

void pubmqtt_init(struct pubmqtt *m, struct publoop *pl);
/* Compiles a -t TOPIC into t, with its fields in fs; false with why (for
 * "-t/--topic: why") if it can make no topic a broker takes. */
bool pubmqtt_topic(struct pubtmpl *t, const char *topic, struct fieldset *fs,
		   char *why, size_t n);
/* Connects on o, driven from pl's loop; 0, or as mqtt_open (lib/mqtt.h). */
int pubmqtt_open(struct pubmqtt *m, const struct mqtt_opts *o, char *why,
		 size_t n);
/* A new connection on o (a reload changed a connection option): what was
 * handed to the old one and not acknowledged is queued again for it. */
int pubmqtt_reopen(struct pubmqtt *m, const struct mqtt_opts *o, char *why,
		   size_t n);
void pubmqtt_free(struct pubmqtt *m);

/* The transport's hooks (lib/publoop.h); ctx is the struct pubmqtt. */
bool pubmqtt_head(void *ctx, const struct record *rec, struct scratch *sc,
		  struct outbuf *msg, const char **err);
void pubmqtt_send(void *ctx, int64_t now);
/* The broker refused the credentials (said): the loop ends. */
bool pubmqtt_failed(void *ctx);

#endif
