/* publoop.h - the loop every store-and-forward publisher runs
 *
 * Records are read while the queue (lib/spool.h) has room, each becoming a
 * queued message: the transport's head (MQTT: the topic; Kafka: the key)
 * and the payload (lib/publish.h). Queued messages are handed to the
 * transport while it takes them, and leave the queue when it says they
 * are acknowledged (publoop_ack) or refused for good (publoop_refuse). A
 * full queue stops the reading of input (back-pressure) instead of losing
 * records. At the end of input, or on SIGINT/SIGTERM, the loop waits up
 * to the drain timeout for the rest. One event loop (lib/evloop.h) waits
 * on the input and on whatever the transport adds to pl->ev.
 *
 * A reload of --config is looked for before each record: the program
 * (lib/pubprog.h) parses and checks it (pl->reload) and stages it
 * (publoop_stage);
 * it is applied (the apply hook) between two records once the transport
 * can take it (the ready hook: a new connection waits for the messages
 * queued before it), and the input is not read meanwhile.
 */
#ifndef ES_PUBLOOP_H
#define ES_PUBLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "evloop.h"
#include "publish.h"

/* A transport's part; each hook gets the ctx given to publoop_init. */
struct pub_transport {
	/* The head of rec's message into msg (empty), before the payload;
	 * false with *err if rec cannot have one (bad input). */
	bool (*head)(void *ctx, const struct record *rec, struct scratch *sc,
		     struct outbuf *msg, const char **err);
	/* Hands queued messages on (spool_next on pl->q) while it takes
	 * them; called every turn of the loop. */
	void (*send)(void *ctx, int64_t now);
	/* NULL, or true once it failed for good: the loop ends. */
	bool (*failed)(void *ctx);
	/* NULL, or whether the staged reload can be applied now. */
	bool (*ready)(void *ctx);
	/* Applies the staged reload (then publoop_fields() if fields moved). */
	void (*apply)(void *ctx);
	/* NULL, or at the end before the messages left are counted: what
	 * it still holds stays queued. */
	void (*stop)(void *ctx);
	/* Say when the queue is full, once each way (blocked, dropping). */
	bool say_full;
};

struct publoop {
	const struct pub_transport *t;
	void *ctx;
	/* A reload is due: parse and check it, then publoop_stage() it. */
	void (*reload)(struct publoop *pl);
	const struct pub_opts *po;	/* the running payload and spool options */
	int64_t drain_ms;		/* --drain-timeout */
	struct fieldset *fs;
	struct reader *rd;
	struct spool *q;
	struct pub_payload payload;
	struct outbuf msg;		/* a queued message, reused per record */
	struct evloop ev;
	struct evloop_fd *input;
	struct evloop_timer *drain;
	int64_t drain_at;		/* 0 until the end of input */
	bool in_eof;
	bool in_more;	/* the last batch stopped with input still there */
	bool waits;	/* a staged reload waits to be applied */
	bool said_full, said_drop;
	char **words, **staged;	/* reloaded command lines: in use, staged */
	unsigned long long published, acked, retried, spooled, refused;
	uint64_t left, left_bytes;	/* queued when the spool closed */
};

/* Ready to be given a transport's descriptors and timers (pl->ev); po is
 * the program's running configuration's (a reload's apply hook that
 * makes a new configuration the running one points pl->po at its
 * options); --payload-field is looked up in fs. */
void publoop_init(struct publoop *pl, const struct pub_transport *t,
		  void *ctx, const struct pub_opts *po, struct fieldset *fs);
/* Opens the spool for dest (lib/publish.h's pub_spool_open) and the
 * reader on files (none: standard input); csv: payloads as CSV rows. 0,
 * or the spool's exit status (it said why: lib/spool.h); the program
 * ends with it. */
int publoop_open(struct publoop *pl, const char *dest, char **files,
		 int nfiles, enum format in_fmt, bool csv);
/* Reads, queues and sends until the end (see above); 0, -1 with errno
 * when waiting failed (poll), or the spool's exit status when it failed
 * (said), for the program to end with. */
int publoop_run(struct publoop *pl);
/* After the run: the messages not delivered, said (and where they
 * remain), and the refused ones; the program exits 1 if it is not 0. */
uint64_t publoop_finish(struct publoop *pl);
/* Closes the spool (what is queued is kept in left and left_bytes). */
void publoop_free(struct publoop *pl);
/* --stats's ",\"queued\":N,\"queued_bytes\":B" into buf (size n): the
 * messages not yet acknowledged and their bytes (lib/spool.h's
 * spool_pending_bytes), at the end what was left. */
void publoop_stats_queued(const struct publoop *pl, char *buf, size_t n);

/* The transport's word on a queued message: acknowledged (counted as
 * output), or refused for good (said, its payload to the dead letter,
 * counted as bad; what: " to 'TOPIC'" or ""). Either takes it off. */
void publoop_ack(struct publoop *pl, uint64_t id);
void publoop_refuse(struct publoop *pl, uint64_t id, const char *what,
		    const char *why, const void *payload, size_t n);
/* publoop_refuse without the message: for a transport that said why once
 * for many (es-http-pub's batch). */
void publoop_drop(struct publoop *pl, uint64_t id, const void *payload,
		  size_t n);
/* A parsed and checked reload, its command line av (a newer one replaces
 * one still staged); applied at once if it can be. */
void publoop_stage(struct publoop *pl, char **av);
/* After a reload moved fields: --payload-field again, and the reader
 * told. */
void publoop_fields(struct publoop *pl);

#endif
