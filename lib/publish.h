/* publish.h - what the store-and-forward publishers share
 *
 * es-mqtt-pub and es-kafka-pub both turn each record into a queued message
 * in a spool (lib/spool.h) and send it on. They take the same options for
 * the payload and the spool, build the payload the same way, open the
 * spool the same way: that is here, once. Their loop is lib/publoop.h;
 * how a message is framed, sent and acknowledged is each transport's.
 */
#ifndef ES_PUBLISH_H
#define ES_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "opts.h"
#include "record.h"
#include "spool.h"

/* Option ids: past OPT_PROGRAM's, clear of lib/mqtt.h's (400 on). */
enum {
	OPT_PUB_PAYLOAD_FIELD = 350, OPT_PUB_QUEUE, OPT_PUB_SPOOL,
	OPT_PUB_SPOOL_MAX, OPT_PUB_SPOOL_FULL, OPT_PUB_FSYNC,
	OPT_PUB_DRAIN_TIMEOUT,
};

/* The options as data (lib/opts.h): --payload-field, --queue, --spool,
 * --spool-max, --spool-full, --fsync and --drain-timeout, in that order
 * (getopt_long names the possibilities of an ambiguous abbreviation in
 * it). pub_opt() takes them. */
extern const struct opts_entry pub_opts_table[];

/* What the publishers' --help says of their exit status. */
#define PUB_EXIT_NOTE \
	"\nExit status 1 also when messages were not delivered at the end, or\n" \
	"were refused by the broker or the library (each said, counted as bad\n" \
	"and its payload written to --dead-letter). Exit status 2 when --spool\n" \
	"is another program's or holds records for another destination.\n"

/* What those options say. */
struct pub_opts {
	const char *payload_field;	/* NULL: the whole record */
	const char *spool_dir;		/* NULL: a queue in memory */
	uint64_t queue, spool_max;
	enum spool_full full;
	enum spool_sync sync;
	int64_t drain_ms;		/* --drain-timeout */
};

/* The program's words for its publishing options: done, what takes a
 * message off the queue ("acknowledged", "delivered"); queue, the default
 * of --queue (in memory); reports, what --drain-timeout waits for, after
 * "wait up to D for" (with a '\n' where the line breaks). */
struct pub_words {
	const char *done;
	uint64_t queue;
	const char *reports;
};
/* The defaults, and the program's words in pub_opts_table's help: the
 * conf_init hook's work, so that --help (printed once the options are
 * parsed) says the defaults the options start from. */
void pub_opts_init(struct pub_opts *p, const struct pub_words *w);
/* Takes option ch if it is one of OPT_PUB_*: 1, 0 if it is not one,
 * -1 with why (size n) for a bad argument (a usage error; --drain-timeout's
 * is still said by lib/opts.c's opts_duration). */
int pub_opt(struct pub_opts *p, int ch, const char *arg, char *why, size_t n);
/* The spool option that differs between a and b, or NULL: the spool is
 * open, so a reload cannot change them. */
const char *pub_opts_restart(const struct pub_opts *a,
			     const struct pub_opts *b);
/* Both strings NULL, or equal. */
bool pub_same_str(const char *a, const char *b);

/* The fieldset slot of a field option's path (fieldset_add_text), or -1
 * without a field. */
int pub_field_slot(struct fieldset *fs, const char *opt, const char *field);

/* The payload of a message: the raw value of --payload-field, else the
 * record as written by -o (NDJSON, or a CSV row without the header). */
struct pub_payload {
	int slot;		/* --payload-field's, or -1 */
	bool csv;
	bool header_skipped;
	struct outbuf buf;	/* the writer's output, reused */
	struct writer *w;
};
void pub_payload_init(struct pub_payload *pl, bool csv);
/* Appends rec's payload to msg; false with *err if it has none. Not
 * counted as output (stats.out): that is what the broker takes. */
bool pub_payload_put(struct pub_payload *pl, const struct record *rec,
		     struct scratch *sc, struct outbuf *msg, const char **err);
void pub_payload_free(struct pub_payload *pl);

/* Opens the spool as p says, for the program and dest (its destination:
 * "mqtt://host:port", "kafka://brokers/topic"; a spool of another owner is
 * refused: spool_status() 2, lib/spool.h); says when records left from
 * before are in it (they go first). */
struct spool *pub_spool_open(const struct pub_opts *p, const char *dest);
/* --check: what pub_spool_open would refuse, touching nothing; 0, or the
 * exit status (said). */
int pub_spool_check(const struct pub_opts *p, const char *dest);

#endif
