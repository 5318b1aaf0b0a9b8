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
};

/* The setup hook's part: the loop on transport t (ctx) for run r. */
void pubprog_init(struct pubprog *pp, const struct pubprog_hooks *h,
		  struct prog_run *r, const struct pub_transport *t,
		  void *ctx);
/* The run hook's work: the spool for dest, the transport, the loop until
 * the end; a failure ends the program (lib/prog.h), and records not
 * delivered make the exit status 1. */
void pubprog_run(struct pubprog *pp, const char *dest);
/* For the apply hook (pub_transport's): the staged reload becomes the
 * running configuration (run->conf, pp->cfg; the old one is freed). */
void pubprog_take(struct pubprog *pp);
/* The cleanup hook's work. */
void pubprog_cleanup(struct pubprog *pp);
/* The running configuration's struct pub_opts. */
struct pub_opts *pubprog_opts(const struct pubprog *pp, void *conf);

#endif
