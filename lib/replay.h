/* replay.h - es-replay's engine: a request read, its slice in chunks
 *
 * A request is a JSON object: {"from":T1,"to":T2,"where":EXPR,
 * "key_is":{"F":"V",...},"reply":TOPIC}, every member but reply optional
 * (from, to: RFC 3339 or epoch, as es-archive's --from and --to take).
 * Its slice is es-archive's query of the same (lib/archive_query.c):
 * counted first, within one snapshot of the archive, and refused when it
 * holds more than the limit; then read out in chunks of NDJSON lines,
 * and a final message {"done":true,"records":N,"messages":M,"skipped":K}.
 * Every message is whole lines (each ends in a newline), so that the
 * messages in a row are one NDJSON stream.
 * The engine knows no MQTT: the caller sends what it makes.
 */
#ifndef ES_REPLAY_H
#define ES_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "archive_query.h"
#include "out.h"

struct replay_req {
	char *reply;		/* the reply topic (not checked as a topic) */
	int64_t from, to;	/* [from, to) */
	char *where;		/* NULL: every record */
	char **key_is;		/* "F=V" */
	int nkey_is;
};

/* Reads a request payload into r: 0; 1 when it is to be refused (r->reply
 * is set: the refusal can be sent there), -1 when it cannot be answered
 * (no usable reply), both with why (size n). Free r either way. */
int replay_parse(const char *p, size_t len, struct replay_req *r, char *why,
		 size_t n);
void replay_req_free(struct replay_req *r);

struct replay {
	struct archive *arc;
	struct fieldset *fs;
	struct expr *where;
	struct outbuf key, msg;	/* the key bytes; the message made */
	struct archive_slice sl;
	bool open, ended;
	uint64_t records, messages, skipped;	/* this slice's */
	long chunk;		/* records a message */
};

/* Opens req's slice in dir's archive and counts it: 0, or -1 with why
 * (size n), the refusal's text (no archive, a bad where or key_is, more
 * than max records); close r either way. */
int replay_open(struct replay *r, const char *dir, const struct replay_req *req,
		uint64_t max, long chunk, char *why, size_t n);
/* The next message into r->msg: 1, a chunk (up to chunk NDJSON lines,
 * each ended by a newline); 0, the final message (done); -1 when the
 * archive cannot be read (why: the error message to send, made final). */
int replay_next(struct replay *r, char *why, size_t n);
void replay_close(struct replay *r);

/* {"error":WHY} and a newline (and, with r, the records and messages sent before it)
 * into o. */
void replay_error(struct outbuf *o, const char *why, const struct replay *r);

#endif
