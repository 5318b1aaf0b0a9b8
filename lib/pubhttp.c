/* pubhttp.c - the HTTP transport of the publishers' loop (libcurl) */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "dead.h"
#include "diag.h"
#include "loop.h"
#include "mem.h"
#include "pubhttp.h"
#include "stats.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000
#define RETRY_AFTER_MAX_MS 3600000	/* an hour: a longer one is capped */
#define FIRST_LINE 160			/* of an answer, for messages */

struct pubhttp_batch {
	/* the messages: spool ids, and where each payload is in body */
	uint64_t *ids;
	size_t *off, *len;
	size_t n, cap;
	char *url;		/* the batch's, NUL-terminated */
	char *hdr;		/* its CSV header (no newline), or "" */
	size_t hdrlen;
	struct outbuf body;
	char *gz;		/* body gzipped (--gzip) */
	size_t gzlen, gzcap;
	bool closed;		/* body complete (JSON array: its ']') */
	int64_t first_ms;	/* when its first message joined */
	bool in_flight;
	int attempt;		/* failed sends so far */
	int64_t retry_at;
	/* a message read that starts the next batch (another URL) */
	struct outbuf carry;
	uint64_t carry_id;
	bool has_carry;
	/* the answer */
	char line[FIRST_LINE + 1];
	size_t linelen;
	bool line_done;
	int64_t retry_after_ms;	/* -1: none given */
	long said;		/* the failure said last: an HTTP status, or
				   minus a curl error code; 0: none */
	/* -o csv: the payloads' header, from a CSV writer of our own */
	struct writer *hw;
	struct outbuf hbuf;
	char *csvhdr;
	size_t csvhdrlen;
	struct curl_slist *gz_headers;	/* the conf's + Content-Encoding */
};

/* ---- headers and the URL ---- */

/* "Name: value": a token, a colon; no line breaks. */
static bool pubhttp_header_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || strpbrk(s, "\r\n"))
		return false;
	for (const char *p = s; p < colon; p++)
		if (*p <= ' ' || *p >= 127)
			return false;
	return true;
}

static bool pubhttp_add(struct curl_slist **l, const char *line, const char *from,
			char *why, size_t n)
{
	if (!pubhttp_header_ok(line)) {
		snprintf(why, n, "%s: '%.80s' is not a header (Name: value)",
			 from, line);
		return false;
	}
	*l = curl_slist_append(*l, line);
	return true;
}

/* Lines of a file (a secret: never said in a message), without their
 * line ends; blank lines skipped. NULL with why. */
static char *pubhttp_read_file(const char *path, const char *opt, char *why,
			       size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, n, "%s %s: %s", opt, path, strerror(errno));
		return NULL;
	}
	size_t cap = 256, len = 0;
	char *s = xmalloc(cap);
	int c;
	while ((c = getc(f)) != EOF) {
		if (len + 2 > cap)
			s = xrealloc(s, cap *= 2);
		s[len++] = (char)c;
	}
	s[len] = 0;
	fclose(f);
	return s;
}

/* --header-file's text s: a header a line. */
static bool pubhttp_header_lines(struct curl_slist **l, char *s,
				 const char *path, char *why, size_t n)
{
	bool ok = true;
	char from[300];
	snprintf(from, sizeof from, "--header-file %s", path);
	for (char *line = strtok(s, "\r\n"); ok && line; line = strtok(NULL, "\r\n"))
		ok = pubhttp_add(l, line, from, why, n);
	return ok;
}

/* --token-file's text s: a bearer token on its first line. */
static bool pubhttp_bearer(struct curl_slist **l, char *s, const char *path,
			   char *why, size_t n)
{
	s[strcspn(s, "\r\n")] = 0;
	if (!*s) {
		snprintf(why, n, "--token-file %s: no token on its first line",
			 path);
		return false;
	}
	size_t hn = strlen(s) + 40;
	char *h = xmalloc(hn);
	snprintf(h, hn, "Authorization: Bearer %s", s);
	*l = curl_slist_append(*l, h);
	free(h);
	return true;
}

/* The headers of a file option (opt: --header-file or --token-file),
 * made by its reader from the file's text. */
static bool pubhttp_header_file(struct curl_slist **l, const char *opt,
				const char *path,
				bool (*make)(struct curl_slist **, char *,
					     const char *, char *, size_t),
				char *why, size_t n)
{
	char *s = pubhttp_read_file(path, opt, why, n);
	if (!s)
		return false;
	bool ok = make(l, s, path, why, n);
	free(s);
	return ok;
}

static bool pubhttp_has(const struct curl_slist *l, const char *name)
{
	size_t n = strlen(name);
	for (; l; l = l->next)
		if (!strncasecmp(l->data, name, n) && l->data[n] == ':')
			return true;
	return false;
}

struct curl_slist *pubhttp_headers(char **h, int nh, const char *header_file,
				   const char *token_file, const char *ctype,
				   char *why, size_t n)
{
	struct curl_slist *l = NULL;
	bool ok = true;
	for (int i = 0; ok && i < nh; i++)
		ok = pubhttp_add(&l, h[i], "-H/--header", why, n);
	if (ok && header_file)
		ok = pubhttp_header_file(&l, "--header-file", header_file,
					 pubhttp_header_lines, why, n);
	if (ok && token_file)
		ok = pubhttp_header_file(&l, "--token-file", token_file,
					 pubhttp_bearer, why, n);
	if (!ok) {
		curl_slist_free_all(l);
		return NULL;
	}
	if (!pubhttp_has(l, "Content-Type")) {
		char ct[100];
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		l = curl_slist_append(l, ct);
	}
	/* No "Expect: 100-continue" wait before a large body. */
	if (!pubhttp_has(l, "Expect"))
		l = curl_slist_append(l, "Expect:");
	return l;
}

void pubhttp_headers_free(struct curl_slist *l)
{
	curl_slist_free_all(l);
}

bool pubhttp_url(struct pubtmpl *t, const char *url, struct fieldset *fs,
		 char *why, size_t n)
{
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		snprintf(why, n, "'%s' is not an http:// or https:// URL", url);
		return false;
	}
	return pubtmpl_compile(t, url, "URL", fs, why, n);
}

/* A field's value in the URL: only what needs no escaping there. */
static const char *pubhttp_url_safe(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && !strchr("-._~", c))
			return "holds a character a URL would need escaped "
			       "(only A-Z a-z 0-9 - . _ ~)";
	}
	return NULL;
}

/* ---- the message: URL, CSV header, payload ---- */

static void pubhttp_put_len(struct outbuf *msg, size_t at)
{
	size_t n = msg->len - at - 4;
	for (int i = 0; i < 4; i++)
		msg->buf[at + (size_t)i] = (char)(n >> (24 - 8 * i));
}

static size_t pubhttp_get_len(const unsigned char *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

/* -o csv: the header the payloads' writer puts before the first row, got
 * once by writing the first record twice with a writer of our own (the
 * writer only has a header after its first record). */
static bool pubhttp_csv_header(struct pubhttp *h, const struct record *rec,
			       const char **err)
{
	struct pubhttp_batch *b = h->b;
	if (b->csvhdr)
		return true;
	uint64_t out = stats.out;	/* not output: the server's taking is */
	b->hbuf.len = 0;
	bool ok = writer_put(b->hw, rec, err) == 0;
	size_t both = b->hbuf.len;
	char *first = xmalloc(both + 1);
	memcpy(first, b->hbuf.buf, both);
	b->hbuf.len = 0;
	ok = ok && writer_put(b->hw, rec, err) == 0;
	stats.out = out;
	if (!ok) {
		free(first);
		return false;
	}
	b->csvhdrlen = both - b->hbuf.len - 1;
	first[b->csvhdrlen] = 0;
	b->csvhdr = first;
	return true;
}

bool pubhttp_head(void *ctx, const struct record *rec, struct scratch *sc,
		  struct outbuf *msg, const char **err)
{
	struct pubhttp *h = ctx;
	size_t at = msg->len;
	out_put(msg, "\0\0\0\0", 4);
	if (h->c->url_fields &&
	    !pubtmpl_fill(&h->url, rec, sc, msg, pubhttp_url_safe, h->err,
			  sizeof h->err)) {
		*err = h->err;
		return false;
	}
	pubhttp_put_len(msg, at);
	at = msg->len;
	out_put(msg, "\0\0\0\0", 4);
	if (h->c->body == BODY_CSV) {
		if (!pubhttp_csv_header(h, rec, err))
			return false;
		out_put(msg, h->b->csvhdr, h->b->csvhdrlen);
	}
	pubhttp_put_len(msg, at);
	return true;
}

struct pubhttp_msg {
	const char *url, *hdr, *payload;
	size_t urllen, hdrlen, n;
};

static void pubhttp_parse(const void *p, size_t n, struct pubhttp_msg *m)
{
	const unsigned char *b = p;
	m->urllen = pubhttp_get_len(b);
	m->url = (const char *)b + 4;
	m->hdrlen = pubhttp_get_len(b + 4 + m->urllen);
	m->hdr = m->url + m->urllen + 4;
	m->payload = m->hdr + m->hdrlen;
	m->n = n - 8 - m->urllen - m->hdrlen;
}

/* ---- the batch ---- */

static void pubhttp_batch_reset(struct pubhttp_batch *b)
{
	b->n = 0;
	b->body.len = 0;
	b->closed = false;
	b->attempt = 0;
	b->said = 0;
}

/* The body's opening for the batch's first message. */
static void pubhttp_body_open(struct pubhttp *h)
{
	struct pubhttp_batch *b = h->b;
	if (h->c->body == BODY_ARRAY)
		out_putc(&b->body, '[');
	else if (h->c->body == BODY_CSV) {
		out_put(&b->body, b->hdr, b->hdrlen);
		out_putc(&b->body, '\n');
	}
}

/* Into *dst (reallocated), n bytes of p and a NUL. */
static void pubhttp_copy(char **dst, const char *p, size_t n)
{
	*dst = xrealloc(*dst, n + 1);
	memcpy(*dst, p, n);
	(*dst)[n] = 0;
}

/* Adds message m (id) to the batch; false when it cannot join (another
 * URL or CSV header): it starts the next one. */
static bool pubhttp_join(struct pubhttp *h, uint64_t id,
			 const struct pubhttp_msg *m, int64_t now)
{
	struct pubhttp_batch *b = h->b;
	const char *url = m->urllen ? m->url : h->c->url;
	size_t ul = m->urllen ? m->urllen : strlen(h->c->url);
	if (b->n && (strlen(b->url) != ul || memcmp(b->url, url, ul) ||
		     b->hdrlen != m->hdrlen || memcmp(b->hdr, m->hdr, m->hdrlen)))
		return false;
	if (!b->n) {
		pubhttp_copy(&b->url, url, ul);
		pubhttp_copy(&b->hdr, m->hdr, m->hdrlen);
		b->hdrlen = m->hdrlen;
		b->first_ms = now;
		pubhttp_body_open(h);
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->ids = xrealloc(b->ids, b->cap * sizeof *b->ids);
		b->off = xrealloc(b->off, b->cap * sizeof *b->off);
		b->len = xrealloc(b->len, b->cap * sizeof *b->len);
	}
	if (b->n && h->c->body == BODY_ARRAY)
		out_putc(&b->body, ',');
	b->ids[b->n] = id;
	b->off[b->n] = b->body.len;
	b->len[b->n] = m->n;
	b->n++;
	out_put(&b->body, m->payload, m->n);
	if (h->c->body != BODY_ARRAY)
		out_putc(&b->body, '\n');
	return true;
}

/* Messages from the queue into the batch, up to --batch or another URL. */
static void pubhttp_fill(struct pubhttp *h, int64_t now)
{
	struct pubhttp_batch *b = h->b;
	struct pubhttp_msg m;
	if (b->has_carry) {
		pubhttp_parse(b->carry.buf, b->carry.len, &m);
		pubhttp_join(h, b->carry_id, &m, now);
		b->has_carry = false;
	}
	uint64_t id;
	const void *p;
	size_t n;
	while ((long)b->n < h->c->batch && spool_next(h->pl->q, &id, &p, &n)) {
		pubhttp_parse(p, n, &m);
		if (!pubhttp_join(h, id, &m, now)) {
			b->carry.len = 0;
			out_put(&b->carry, p, n);
			b->carry_id = id;
			b->has_carry = true;
			return;
		}
	}
}

/* The body gzipped into b->gz; NULL, or what failed (zlib could not
 * get its memory: the caller ends the transport as on a fatal error). */
static const char *pubhttp_gzip(struct pubhttp_batch *b)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return "zlib: cannot start gzip";
	size_t bound = deflateBound(&z, b->body.len);
	if (bound > b->gzcap) {
		b->gzcap = bound;
		b->gz = xrealloc(b->gz, bound);
	}
	z.next_in = (unsigned char *)b->body.buf;
	z.avail_in = (uInt)b->body.len;
	z.next_out = (unsigned char *)b->gz;
	z.avail_out = (uInt)bound;
	/* The output has deflateBound's room: one call ends the stream. */
	int rc = deflate(&z, Z_FINISH);
	b->gzlen = bound - z.avail_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? NULL : "zlib: gzip failed";
}

/* ---- requests ---- */

/* The batch's body made complete, once: the array's ']', gzipped with
 * --gzip. False if gzip failed: the library does not exit; the transport
 * fails (said), the loop ends and the records stay queued (exit 1). */
static bool pubhttp_close(struct pubhttp *h)
{
	struct pubhttp_batch *b = h->b;
	if (b->closed)
		return true;
	if (h->c->body == BODY_ARRAY)
		out_putc(&b->body, ']');
	const char *err = h->c->gzip ? pubhttp_gzip(b) : NULL;
	if (err) {
		diag_warn("%s", err);
		h->failed = true;
		return false;
	}
	b->closed = true;
	h->pl->published += b->n;
	return true;
}

static void pubhttp_start(struct pubhttp *h)
{
	struct pubhttp_batch *b = h->b;
	CURL *e = h->easy;
	if (!pubhttp_close(h))
		return;
	curl_easy_setopt(e, CURLOPT_URL, b->url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->c->gzip ? b->gz : b->body.buf);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)(h->c->gzip ? b->gzlen : b->body.len));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER,
			 h->c->gzip ? b->gz_headers : h->c->headers);
	b->linelen = 0;
	b->line_done = false;
	b->retry_after_ms = -1;
	h->curl_err[0] = 0;
	b->in_flight = true;
	h->requests++;
	curl_multi_add_handle(h->multi, e);
}

/* A failure worth a line on stderr: said when it is another one than the
 * last said for this batch (key: the status, or minus curl's code), so
 * that a server down for an hour is one line. */
static void pubhttp_say(struct pubhttp *h, long key, const char *why)
{
	struct pubhttp_batch *b = h->b;
	if (b->said == key)
		return;
	b->said = key;
	diag_warn("%s %s: %s; sending again (%zu record%s stay%s queued)",
		  h->c->method, b->url, why, b->n, b->n == 1 ? "" : "s",
		  b->n == 1 ? "s" : "");
}

static void pubhttp_retry(struct pubhttp *h, long key, const char *why,
			  int64_t now)
{
	struct pubhttp_batch *b = h->b;
	int64_t d;
	if (b->retry_after_ms >= 0) {
		d = b->retry_after_ms;
	} else {
		int shift = b->attempt < 6 ? b->attempt : 6;
		int64_t full = (int64_t)BACKOFF_FIRST_MS << shift;
		if (full > BACKOFF_MAX_MS)
			full = BACKOFF_MAX_MS;
		/* jitter: from half to all of it, so that gateways cut off
		 * together do not come back together */
		d = full / 2 + (int64_t)(random() % (full / 2 + 1));
	}
	b->attempt++;
	b->retry_at = now + d;
	h->wake->at = b->retry_at;
	h->pl->retried += b->n;
	h->down = true;
	pubhttp_say(h, key, why);
}

static void pubhttp_ack(struct pubhttp *h)
{
	struct pubhttp_batch *b = h->b;
	for (size_t i = 0; i < b->n; i++)
		publoop_ack(h->pl, b->ids[i]);
	if (h->down)
		diag_warn("%s %s: delivered again", h->c->method, b->url);
	h->down = false;
	pubhttp_batch_reset(b);
}

/* Any other status: the records' fault. Said once for the batch; each to
 * the dead letter (under its CSV header), counted as bad. */
static void pubhttp_refuse(struct pubhttp *h, long st)
{
	struct pubhttp_batch *b = h->b;
	diag_warn("%s %s: HTTP %ld%s%.*s: %zu record%s refused (to --dead-letter)",
		  h->c->method, b->url, st, b->linelen ? ": " : "",
		  (int)b->linelen, b->line, b->n, b->n == 1 ? "" : "s");
	if (b->hdrlen)
		dead_header(b->hdr, b->hdrlen);
	for (size_t i = 0; i < b->n; i++)
		publoop_drop(h->pl, b->ids[i], b->body.buf + b->off[i], b->len[i]);
	h->dead += b->n;
	h->down = false;
	pubhttp_batch_reset(b);
}

/* curl errors that no retry mends: the loop ends (exit 1). */
static bool pubhttp_fatal(CURLcode rc)
{
	return rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT ||
	       rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM ||
	       rc == CURLE_BAD_FUNCTION_ARGUMENT || rc == CURLE_OUT_OF_MEMORY;
}

static void pubhttp_done(struct pubhttp *h, CURLcode rc)
{
	struct pubhttp_batch *b = h->b;
	char why[FIRST_LINE + 100];
	long st = 0;
	curl_multi_remove_handle(h->multi, h->easy);
	b->in_flight = false;
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &st);
	int64_t now = loop_now_ms();
	if (rc != CURLE_OK) {
		snprintf(why, sizeof why, "%s",
			 h->curl_err[0] ? h->curl_err : curl_easy_strerror(rc));
		if (pubhttp_fatal(rc)) {
			diag_warn("%s %s: %s", h->c->method, b->url, why);
			h->failed = true;
			return;
		}
		pubhttp_retry(h, -(long)rc, why, now);
		return;
	}
	h->last_status = st;
	if (st >= 200 && st < 300) {
		pubhttp_ack(h);
	} else if (st == 408 || st == 429 || st >= 500) {
		snprintf(why, sizeof why, "HTTP %ld%s%.*s", st,
			 b->linelen ? ": " : "", (int)b->linelen, b->line);
		pubhttp_retry(h, st, why, now);
	} else {
		pubhttp_refuse(h, st);
	}
}

static void pubhttp_check_done(struct pubhttp *h)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(h->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			pubhttp_done(h, m->data.result);
}

void pubhttp_send(void *ctx, int64_t now)
{
	struct pubhttp *h = ctx;
	struct pubhttp_batch *b = h->b;
	if (b->in_flight || h->failed)
		return;
	if (b->n && b->attempt) {
		if (now >= b->retry_at)
			pubhttp_start(h);
		else
			h->wake->at = b->retry_at;
		return;
	}
	pubhttp_fill(h, now);
	if (!b->n)
		return;
	bool full = (long)b->n >= h->c->batch || b->has_carry;
	if (full || h->pl->in_eof || now >= b->first_ms + h->c->linger_ms)
		pubhttp_start(h);
	else
		h->wake->at = b->first_ms + h->c->linger_ms;
}

bool pubhttp_failed(void *ctx)
{
	return ((struct pubhttp *)ctx)->failed;
}

bool pubhttp_idle(const struct pubhttp *h)
{
	return !h->b->in_flight && !h->b->n;
}

/* The end: a request still out is given up (its records stay queued). */
void pubhttp_stop(void *ctx)
{
	struct pubhttp *h = ctx;
	if (h->b->in_flight)
		curl_multi_remove_handle(h->multi, h->easy);
	h->b->in_flight = false;
}

/* ---- libcurl's callbacks ---- */

/* The first line of the answer's body, for messages. */
static size_t pubhttp_on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct pubhttp_batch *b = ctx;
	size_t n = size * nmemb;
	for (size_t i = 0; i < n && !b->line_done; i++) {
		if (p[i] == '\n' || p[i] == '\r' || b->linelen == FIRST_LINE)
			b->line_done = true;
		else
			b->line[b->linelen++] = p[i] >= ' ' ? p[i] : ' ';
	}
	return n;
}

/* Retry-After: seconds, or an HTTP date. */
static size_t pubhttp_on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct pubhttp_batch *b = ctx;
	size_t n = size * nmemb;
	static const char name[] = "Retry-After:";
	if (n <= sizeof name - 1 || strncasecmp(p, name, sizeof name - 1))
		return n;
	char v[100];
	size_t vl = n - (sizeof name - 1);
	if (vl >= sizeof v)
		vl = sizeof v - 1;
	memcpy(v, p + sizeof name - 1, vl);
	v[vl] = 0;
	char *end;
	long s = strtol(v, &end, 10);
	if (end != v && strspn(end, " \t\r\n") == strlen(end)) {
		b->retry_after_ms = s < 0 ? 0 : s * 1000LL;
	} else {
		time_t t = curl_getdate(v, NULL);
		if (t >= 0)
			b->retry_after_ms = t > time(NULL)
					    ? (int64_t)(t - time(NULL)) * 1000 : 0;
	}
	if (b->retry_after_ms > RETRY_AFTER_MAX_MS)
		b->retry_after_ms = RETRY_AFTER_MAX_MS;
	return n;
}

static int pubhttp_on_socket(CURL *e, curl_socket_t s, int what, void *ctx,
			     void *sockp)
{
	struct pubhttp *h = ctx;
	(void)e;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	struct epoll_event ev = {
		.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
			  (what & CURL_POLL_OUT ? EPOLLOUT : 0),
		.data.fd = s,
	};
	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, s, &ev) < 0 && errno == ENOENT)
		epoll_ctl(h->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int pubhttp_on_timer(CURLM *m, long ms, void *ctx)
{
	struct pubhttp *h = ctx;
	(void)m;
	h->curl_timer->at = ms < 0 ? EVLOOP_NEVER : loop_now_ms() + ms;
	return 0;
}

static void pubhttp_timer_fired(struct evloop_timer *t, int64_t now)
{
	struct pubhttp *h = t->ctx;
	int running;
	(void)now;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	pubhttp_check_done(h);
}

static void pubhttp_sockets_ready(struct evloop_fd *f, short revents,
				  int64_t now)
{
	struct pubhttp *h = f->ctx;
	struct epoll_event ev[8];
	int running;
	(void)revents;
	(void)now;
	int n = epoll_wait(h->epfd, ev, 8, 0);
	for (int i = 0; i < n; i++) {
		int mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			   (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			   (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(h->multi, ev[i].data.fd, mask, &running);
	}
	pubhttp_check_done(h);
}

/* ---- set-up ---- */

void pubhttp_init(struct pubhttp *h, struct publoop *pl,
		  const struct pubhttp_conf *c)
{
	memset(h, 0, sizeof *h);
	h->pl = pl;
	h->c = c;
	h->epfd = -1;
	h->b = xmalloc(sizeof *h->b);
	memset(h->b, 0, sizeof *h->b);
	out_init(&h->b->body, -1, "request");
	out_init(&h->b->carry, -1, "message");
	out_init(&h->b->hbuf, -1, "header");
	h->b->hw = writer_open(&h->b->hbuf, FMT_CSV);
}

/* What each request of configuration c shares. */
static void pubhttp_easy_conf(struct pubhttp *h)
{
	const struct pubhttp_conf *c = h->c;
	CURL *e = h->easy;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "es-http-pub (edgestream)");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, pubhttp_on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h->b);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, pubhttp_on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h->b);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	if (strcmp(c->method, "POST"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	if (c->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert);
	if (c->cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
	if (c->key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->proxy)
		curl_easy_setopt(e, CURLOPT_PROXY, c->proxy);
	curl_slist_free_all(h->b->gz_headers);
	h->b->gz_headers = NULL;
	for (const struct curl_slist *l = c->headers; l; l = l->next)
		h->b->gz_headers = curl_slist_append(h->b->gz_headers, l->data);
	h->b->gz_headers = curl_slist_append(h->b->gz_headers,
					     "Content-Encoding: gzip");
}

bool pubhttp_open(struct pubhttp *h, char *why, size_t n)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(h->multi = curl_multi_init()) || !(h->easy = curl_easy_init())) {
		snprintf(why, n, "libcurl cannot start");
		return false;
	}
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0) {
		snprintf(why, n, "epoll: %s", strerror(errno));
		return false;
	}
	srandom((unsigned)(time(NULL) ^ getpid()));
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, pubhttp_on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, pubhttp_on_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	struct evloop *ev = &h->pl->ev;
	h->curl_timer = evloop_add_timer(ev, pubhttp_timer_fired, h);
	h->wake = evloop_add_timer(ev, NULL, NULL);
	if (!h->curl_timer || !h->wake ||
	    !evloop_add_fd(ev, h->epfd, POLLIN, pubhttp_sockets_ready, h)) {
		snprintf(why, n, "the event loop has no room");
		return false;
	}
	pubhttp_easy_conf(h);
	return true;
}

void pubhttp_set_conf(struct pubhttp *h, const struct pubhttp_conf *c)
{
	h->c = c;
	pubhttp_easy_conf(h);
}

void pubhttp_free(struct pubhttp *h)
{
	struct pubhttp_batch *b = h->b;
	if (h->multi) {
		if (b->in_flight)
			curl_multi_remove_handle(h->multi, h->easy);
		curl_easy_cleanup(h->easy);
		curl_multi_cleanup(h->multi);
		curl_global_cleanup();
	}
	if (h->epfd >= 0)
		close(h->epfd);
	pubtmpl_free(&h->url);
	free(b->ids);
	free(b->off);
	free(b->len);
	free(b->url);
	free(b->hdr);
	free(b->gz);
	free(b->csvhdr);
	out_free(&b->body);
	out_free(&b->carry);
	writer_close(b->hw);
	out_free(&b->hbuf);
	curl_slist_free_all(b->gz_headers);
	free(b);
}
