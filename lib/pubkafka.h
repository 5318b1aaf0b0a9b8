/* pubkafka.h - the Kafka transport of the publishers' loop (lib/publoop.h)
 *
 * A queued message is a magic byte, the key's length (u32 little-endian,
 * 0xFFFFFFFF for none), the key and the payload. Messages go to
 * librdkafka's producer, at most PUBKAFKA_WINDOW waiting for their
 * delivery report at a time; one leaves the queue on a successful report.
 * The producer's main queue (reports, errors) wakes the loop through a
 * pipe. A failed delivery is sent again from a copy after a second,
 * oldest first, so that a key's records keep their order; an error no
 * retry can cure refuses the message (lib/publoop.h).
 */
#ifndef ES_PUBKAFKA_H
#define ES_PUBKAFKA_H

#include <stdbool.h>
#include <stdint.h>
#include "publoop.h"

#define PUBKAFKA_WINDOW 10000	/* messages handed on, unreported; below
				   librdkafka's queue.buffering.max.messages */

/* What makes a producer. */
struct pubkafka_opts {
	const char *brokers, *topic, *partitioner, *username, *password_file;
	char **props;		/* -X PROP=VALUE, in order */
	int nprops;
};

struct pubkafka_held;
struct rd_kafka_s;
struct rd_kafka_topic_s;
struct rd_kafka_queue_s;

struct pubkafka {
	struct publoop *pl;
	struct rd_kafka_s *rk;
	struct rd_kafka_topic_s *rkt;
	struct rd_kafka_queue_s *mainq;
	int evpipe[2];		/* librdkafka writes when it has reports */
	int key_slot;		/* the message key's field, or -1 */
	uint64_t inflight;	/* produced, no delivery report yet */
	bool fatal;
	unsigned long long failed;	/* delivery reports of failure */
	/* Messages to send again (failed, or librdkafka's queue was full):
	 * held[hpos..hn), sent before anything new, oldest first. */
	struct pubkafka_held **held;
	size_t hpos, hn, hcap;
	bool held_sorted;
	int64_t held_until;	/* they wait until then */
	struct evloop_timer *held_timer;
	int said[16], nsaid;	/* errors said since a message got through */
	struct outbuf frame;	/* a failed message's copy, reused */
};

/* Errors below: 0, or the exit status (EXIT_USAGE: properties that do
 * not agree) with the message in err. */

/* A producer made only to see that the properties agree (--check): given
 * no broker, it connects to nothing. */
int pubkafka_check(const struct pubkafka_opts *o, char *err, size_t n);
/* Ready to produce into pl's loop (a pipe; -1 with errno if not). */
int pubkafka_init(struct pubkafka *k, struct publoop *pl);
/* The producer on o: our defaults (idempotence, no Nagle delay, retry
 * until delivered), then -X in order, which can undo them. */
int pubkafka_start(struct pubkafka *k, const struct pubkafka_opts *o,
		   char *err, size_t n);
/* A reload changed what makes the producer: a new one on o (nothing is
 * in flight: pubkafka_idle). */
int pubkafka_restart(struct pubkafka *k, const struct pubkafka_opts *o,
		     char *err, size_t n);
/* Nothing in flight or held: a new producer may take over. */
bool pubkafka_idle(const struct pubkafka *k);
void pubkafka_free(struct pubkafka *k);
/* The option that needs a new producer ("-b/--brokers"), or NULL. */
const char *pubkafka_opts_differ(const struct pubkafka_opts *a,
				 const struct pubkafka_opts *b);

/* The transport's hooks (lib/publoop.h); ctx is the struct pubkafka. */
bool pubkafka_head(void *ctx, const struct record *rec, struct scratch *sc,
		   struct outbuf *msg, const char **err);
void pubkafka_send(void *ctx, int64_t now);
bool pubkafka_failed(void *ctx);
/* At the end: a fatal error said, what librdkafka has purged (it stays
 * queued). */
void pubkafka_end(void *ctx);

#endif
