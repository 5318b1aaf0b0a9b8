/* pubhttp.h - the HTTP transport of the publishers' loop (lib/publoop.h)
 *
 * A queued message is the URL filled from the record (empty when the URL
 * has no {field}: the running one is used), the CSV header of its payload
 * (empty but for -o csv), each after a 4-byte big-endian length, then the
 * payload. Messages are sent in batches, one request at a time so that
 * the server gets them in order: up to --batch messages with the same URL
 * and header, as soon as a request can go (--linger 0) or once the batch
 * is full or its first message has waited the linger. A batch is
 * acknowledged as a whole: 2xx takes its messages off the queue; 408,
 * 429, 5xx and network errors send the same body again after an
 * exponential back-off with jitter (or the server's Retry-After); any
 * other status refuses it: its messages go to the dead letter, said once
 * with the status and the first line of the answer, and the stream goes
 * on.
 *
 * libcurl's multi interface does the requests without a thread and
 * without blocking: its sockets are watched by an epoll descriptor of our
 * own, which is one descriptor of the loop's poll() however many sockets
 * curl opens, and its timeout is a timer of the loop.
 */
#ifndef ES_PUBHTTP_H
#define ES_PUBHTTP_H

#include <stdbool.h>
#include <stdint.h>
#include "publoop.h"
#include "pubtmpl.h"

enum pubhttp_body { BODY_LINES = 0, BODY_ARRAY, BODY_CSV };

/* What the options say; the program owns it (a reload replaces it). */
struct pubhttp_conf {
	const char *url;		/* as given, {field}s and all */
	bool url_fields;		/* it has {field}s */
	const char *method;		/* "POST" or "PUT" */
	struct curl_slist *headers;	/* -H, --header-file, --token-file,
					   and the default Content-Type */
	long batch;			/* records a request, at most */
	int64_t linger_ms;
	enum pubhttp_body body;
	bool gzip, insecure;
	const char *cacert, *cert, *key, *proxy;
	int64_t timeout_ms, connect_timeout_ms;
};

struct pubhttp_batch;

struct pubhttp {
	struct publoop *pl;
	const struct pubhttp_conf *c;	/* the running one */
	struct pubtmpl url;		/* the running URL's template */
	void *multi, *easy;		/* CURLM, CURL */
	int epfd;			/* curl's sockets */
	struct evloop_timer *curl_timer, *wake;
	struct pubhttp_batch *b;
	bool failed;			/* for good: the loop ends */
	bool down;			/* the last request failed (said) */
	char err[300];			/* why the last record has no URL */
	char curl_err[256];		/* CURLOPT_ERRORBUFFER */
	unsigned long long requests, dead;
	long last_status;
};

/* The header list of -H lines, --header-file FILE (a "Name: value" a
 * line) and --token-file FILE ("Authorization: Bearer" and its first
 * line), with a Content-Type for body unless one was given; NULL with
 * why when a file cannot be read or a line is not a header. */
struct curl_slist *pubhttp_headers(char **h, int nh, const char *header_file,
				   const char *token_file, const char *ctype,
				   char *why, size_t n);
void pubhttp_headers_free(struct curl_slist *l);
/* Compiles the URL template into t (its fields into fs); false with why. */
bool pubhttp_url(struct pubtmpl *t, const char *url, struct fieldset *fs,
		 char *why, size_t n);

void pubhttp_init(struct pubhttp *h, struct publoop *pl,
		  const struct pubhttp_conf *c);
/* Curl set up and driven from pl's loop; false with why (curl could not
 * start). */
bool pubhttp_open(struct pubhttp *h, char *why, size_t n);
/* Whether a new configuration can be taken: no request in flight and no
 * batch in hand (a message read for the next batch is just queued). */
bool pubhttp_idle(const struct pubhttp *h);
/* The running configuration is now c (a reload, when pubhttp_idle). */
void pubhttp_set_conf(struct pubhttp *h, const struct pubhttp_conf *c);
void pubhttp_free(struct pubhttp *h);

/* The transport's hooks (lib/publoop.h); ctx is the struct pubhttp. */
bool pubhttp_head(void *ctx, const struct record *rec, struct scratch *sc,
		  struct outbuf *msg, const char **err);
void pubhttp_send(void *ctx, int64_t now);
bool pubhttp_failed(void *ctx);
void pubhttp_stop(void *ctx);

#endif
