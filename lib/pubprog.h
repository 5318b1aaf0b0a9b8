/* pubprog.h - a publisher program: the publishers' loop on lib/prog.h
 *
 * es-mqtt-pub, es-kafka-pub and es-http-pub are each the loop of
 * lib/publoop.h with a transport, declared on lib/prog.h. What their
 * declarations have alike is here: the run (the transport started, the
 * spool and the input opened, the loop, the end and its exit status),
 * the cleanup, and the staging of a --config reload (parsed and checked,
 * refused when a spool option changed or the program objects, else kept
 * until the transport can take it: pub_transport's ready and apply). A
 * program keeps its options, its transport and what a reload changes in
 * it.
 */
#ifndef ES_PUBPROG_H
#define ES_PUBPROG_H

#include <stdbool.h>
#include <stddef.h>
#include "prog.h"
#include "publoop.h"

/* The program's part; ctx is the transport's (pub_transport's). */
struct pubprog_hooks {
	size_t pub_at;	/* where its conf holds its struct pub_opts */
	/* NULL, or before the spool is opened (a transport whose options
	 * can still be refused: es-kafka-pub's -X): 0, or an exit status
	 * with why. */
	int (*start)(void *ctx, char *why, size_t n);
	/* NULL, or once the spool and the input are open: 0, or an exit
	 * status with why. */
	int (*open)(void *ctx, char *why, size_t n);
	/* NULL, or the program's word on a parsed reload nconf (its spool
	 * options unchanged) against the running cur: false, after
	 * reload_refuse(), keeps the running one. */
	bool (*accept)(void *cur, void *nconf);
	/* The transport freed at the end (also when it never started). */
	void (*free)(void *ctx);
	/* A failed transport (pub_transport's failed) ends the program with
	 * status 1 at once, its failure said (es-mqtt-pub: the broker
	 * refused the connection); else what is left is said first. */
	bool failed_exits;
};

struct pubprog {
	struct publoop pl;
	const struct pubprog_hooks *h;
	struct prog_run *run;
	void *cfg;	/* the running configuration (run->conf) */
	void *next;	/* a reload staged, or NULL */
	char *dest;	/* the spool's destination (owned) */
};

/* The setup hook's work: the loop on transport t (ctx) for run r, and
 * the spool's destination dest (copied: mqtt://host:port,
 * kafka://brokers/topic, the URL). Under --check, the spool's options are
 * checked for dest (no spool opened, nothing sent): a failure ends the
 * program with its status (said). A run has one publisher: this one. */
void pubprog_setup(struct pubprog *pp, const struct pubprog_hooks *h,
		   struct prog_run *r, const struct pub_transport *t,
		   void *ctx, const char *dest);
/* For the apply hook, when a reload changed where messages go: dest is
 * the spool's owner from now on (what is queued goes there). */
void pubprog_move(struct pubprog *pp, const char *dest);
/* The run hook (the publisher pubprog_setup set up): the spool, the
 * transport, the loop until the end; a failure ends the program
 * (lib/prog.h), and records not delivered make the exit status 1. */
void pubprog_run(struct prog_run *r);
/* For the apply hook (pub_transport's): the staged reload becomes the
 * running configuration (run->conf, pp->cfg; the old one is freed). */
void pubprog_take(struct pubprog *pp);
/* The cleanup hook. */
void pubprog_cleanup(struct prog_run *r);
/* In the struct prog: the hooks a publisher program names alike (its
 * conf_free, where it has one, beside). */
#define PUBPROG_HOOKS \
	.conf_size = sizeof(struct conf), .conf_init = conf_init, \
	.option = option, .check = check, .setup = setup, \
	.run = pubprog_run, .stats = stats_extra, .cleanup = pubprog_cleanup

/* The running configuration's struct pub_opts. */
struct pub_opts *pubprog_opts(const struct pubprog *pp, void *conf);

#endif
