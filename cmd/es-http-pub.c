/* es-http-pub - send records over HTTP, store-and-forward
 *
 * The publishers' loop (lib/publoop.h) with the HTTP transport
 * (lib/pubhttp.h): each record read becomes a queued message (its URL and
 * payload) in a spool, on disk with --spool, else a bounded queue in
 * memory; messages go in batches of --batch, one request at a time, and
 * leave the queue when the server answers 2xx. This file holds the
 * options, their reload and the start.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "loop.h"
#include "opts.h"
#include "prog.h"
#include "publish.h"
#include "publoop.h"
#include "pubprog.h"
#include "pubhttp.h"
#include "record.h"
#include "reload.h"
#include "stats.h"

enum {
	OPT_HEADER_FILE = OPT_PROGRAM, OPT_TOKEN_FILE, OPT_BATCH, OPT_LINGER,
	OPT_JSON_ARRAY, OPT_GZIP, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_INSECURE,
	OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_PROXY, OPT_URL,
};

#define MAX_HEADERS 64

/* What the options say (parsed at start and again on a reload). */
struct conf {
	char *headers[MAX_HEADERS];	/* -H, in order */
	int nheaders;
	const char *header_file, *token_file;
	bool json_array;
	struct pub_opts pub;	/* --payload-field, the spool */
	struct pubhttp_conf hc;
};

static struct pubprog pp;	/* the loop, the running conf, a reload staged */
static struct pubhttp hp;

static const struct opts_entry opts[] = {
	{"url", required_argument, OPT_URL, "URL",
	 "the URL, instead of the operand (so that a\n"
	 "--config file can give it, and a reload change it)"},
	{"method", required_argument, 'X', "M",
	 "POST (default) or PUT"},
	{"header", required_argument, 'H', "'N: V'",
	 "a request header (repeatable)"},
	{"header-file", required_argument, OPT_HEADER_FILE, "FILE",
	 "more headers, one 'Name: value' a line (secrets)"},
	{"token-file", required_argument, OPT_TOKEN_FILE, "FILE",
	 "'Authorization: Bearer' the first line of FILE"},
	{"batch", required_argument, OPT_BATCH, "N",
	 "up to N records a request (default 1)"},
	{"linger", required_argument, OPT_LINGER, "D",
	 "wait up to D for a batch to fill (default 0:\n"
	 "send what is queued as soon as a request can go)"},
	{"json-array", no_argument, OPT_JSON_ARRAY, NULL,
	 "the body is a JSON array of the records (default:\n"
	 "a record a line: NDJSON, CSV rows under their\n"
	 "header, line protocol)"},
	{"gzip", no_argument, OPT_GZIP, NULL,
	 "compress the body (Content-Encoding: gzip)"},
	{"timeout", required_argument, OPT_TIMEOUT, "D",
	 "a request's time limit (default 30s)"},
	{"connect-timeout", required_argument, OPT_CONNECT_TIMEOUT, "D",
	 "the connection's time limit (default 10s)"},
	{"proxy", required_argument, OPT_PROXY, "URL",
	 "through this proxy (default: curl's http_proxy,\n"
	 "https_proxy and no_proxy variables)"},
	{"cacert", required_argument, OPT_CACERT, "FILE",
	 "CA certificates to check the server's with"},
	{"cert", required_argument, OPT_CERT, "FILE",
	 "client certificate (PEM)"},
	{"key", required_argument, OPT_KEY, "FILE",
	 "its private key (PEM)"},
	{"insecure", no_argument, OPT_INSECURE, NULL,
	 "do not check the server's certificate (tests only)"},
	{0}
};

static const struct prog_group groups[] = {
	{ PROG_CONT, pub_opts_table },
	{ "A reload of --config (SIGHUP, --watch-config) applies the headers,\n"
	  "the batching and the connection options once the request in flight\n"
	  "is answered; the spool options need a restart.", NULL },
	{ 0 }
};

static void stats_extra(char *buf, size_t n)
{
	char queued[80];
	publoop_stats_queued(&pp.pl, queued, sizeof queued);
	snprintf(buf, n, ",\"requests\":%llu,\"sent\":%llu,\"acknowledged\":%llu,"
		 "\"retried\":%llu,\"dead_lettered\":%llu%s,\"spooled\":%llu,"
		 "\"last_status\":%ld",
		 hp.requests, pp.pl.published, pp.pl.acked, pp.pl.retried,
		 hp.dead, queued, pp.pl.spooled, hp.last_status);
}

/* ---- options ---- */

/* The words of the publishing options' help (lib/publish.h). */
static const struct pub_words words = {
	.done = "acknowledged", .queue = 10000,
	.reports = " the server's\nacknowledgements",
};

static void conf_init(void *conf)
{
	struct conf *c = conf;
	pub_opts_init(&c->pub, &words);
	c->hc = (struct pubhttp_conf){ .method = "POST", .batch = 1,
				       .timeout_ms = 30000,
				       .connect_timeout_ms = 10000 };
}

static void conf_option(struct conf *c, int ch, const char *arg)
{
	struct pubhttp_conf *h = &c->hc;
	switch (ch) {
	case 'X':
		if (strcmp(arg, "POST") && strcmp(arg, "PUT"))
			diag_usage("invalid argument '%s' for -X/--method: "
				   "expected POST or PUT", arg);
		h->method = arg;
		break;
	case 'H':
		if (c->nheaders == MAX_HEADERS)
			diag_usage("-H/--header: more than %d headers", MAX_HEADERS);
		c->headers[c->nheaders++] = (char *)arg;
		break;
	case OPT_HEADER_FILE: c->header_file = arg; break;
	case OPT_TOKEN_FILE: c->token_file = arg; break;
	case OPT_BATCH: h->batch = opts_count("--batch", arg); break;
	case OPT_LINGER:
		h->linger_ms = opts_duration("--linger", arg, true) / 1000;
		break;
	case OPT_JSON_ARRAY: c->json_array = true; break;
	case OPT_GZIP: h->gzip = true; break;
	case OPT_CACERT: h->cacert = arg; break;
	case OPT_CERT: h->cert = arg; break;
	case OPT_KEY: h->key = arg; break;
	case OPT_INSECURE: h->insecure = true; break;
	case OPT_TIMEOUT:
		h->timeout_ms = opts_duration("--timeout", arg, false) / 1000;
		break;
	case OPT_CONNECT_TIMEOUT:
		h->connect_timeout_ms =
			opts_duration("--connect-timeout", arg, false) / 1000;
		break;
	case OPT_PROXY: h->proxy = arg; break;
	case OPT_URL: h->url = arg; break;
	}
}

static void option(void *conf, int ch, const char *arg)
{
	struct conf *c = conf;
	char why[300];
	if (!prog_took(pub_opt(&c->pub, ch, arg, why, sizeof why), why))
		conf_option(c, ch, arg);
}

/* The body and its Content-Type, from -o and --payload-field. */
static const char *conf_body(struct conf *c, enum format out_fmt)
{
	struct pubhttp_conf *h = &c->hc;
	bool field = c->pub.payload_field != NULL;
	if (c->json_array && (field || out_fmt == FMT_CSV || out_fmt == FMT_INFLUX))
		diag_usage("--json-array goes with NDJSON records (not with -o %s "
			   "or --payload-field)", out_fmt == FMT_CSV ? "csv"
			   : out_fmt == FMT_INFLUX ? "influx" : "ndjson");
	h->body = c->json_array ? BODY_ARRAY
		  : out_fmt == FMT_CSV && !field ? BODY_CSV : BODY_LINES;
	if (field)
		return "application/octet-stream";
	return c->json_array ? "application/json"
	       : out_fmt == FMT_CSV ? "text/csv"
	       : out_fmt == FMT_INFLUX ? "text/plain; charset=utf-8"
	       : "application/x-ndjson";
}

/* After the options: the URL operand, the body, the headers (their files
 * read now: a file that cannot be read is a usage error). */
static void conf_finish(struct conf *c, enum format out_fmt, int argc,
			char **argv)
{
	char why[600];
	if (!c->hc.url && optind >= argc)
		diag_usage("missing URL");
	if (!c->hc.url)
		c->hc.url = argv[optind++];
	c->hc.url_fields = strchr(c->hc.url, '{') != NULL;
	const char *ctype = conf_body(c, out_fmt);
	c->hc.headers = pubhttp_headers(c->headers, c->nheaders, c->header_file,
					c->token_file, ctype, why, sizeof why);
	if (!c->hc.headers)
		diag_usage("%s", why);
	if ((c->hc.cert == NULL) != (c->hc.key == NULL))
		diag_usage("--cert and --key go together");
}

/* After the options (at start, and for a reload: -o is the start's). */
static void check(struct prog_run *r, void *conf, int argc, char **argv)
{
	conf_finish(conf, r->o.out_fmt, argc, argv);
}

static void conf_free(void *conf)
{
	pubhttp_headers_free(((struct conf *)conf)->hc.headers);
}

static void url_compile(const char *url, struct fieldset *fs)
{
	char why[400];
	if (!pubhttp_url(&hp.url, url, fs, why, sizeof why))
		diag_usage("URL: %s", why);
}

/* ---- reloading ---- */

static bool reload_ready(void *ctx)
{
	(void)ctx;
	return pubhttp_idle(&hp);
}

static void reload_apply(void *ctx)
{
	(void)ctx;
	struct conf *old = pp.cfg, *c = pp.next;
	bool moved = strcmp(old->hc.url, c->hc.url) != 0;
	pubprog_take(&pp);
	pubhttp_set_conf(&hp, &c->hc);
	/* the template points into the command line in use: compiled again
	 * from the new one (the old is freed after this) */
	pubtmpl_free(&hp.url);
	url_compile(c->hc.url, pp.pl.fs);
	if (moved)
		pubprog_move(&pp, c->hc.url);
	publoop_fields(&pp.pl);
	char said[700];
	snprintf(said, sizeof said, "%s %s, --batch %ld", c->hc.method,
		 c->hc.url, c->hc.batch);
	reload_said(said);
}

static const struct pub_transport transport = {
	.head = pubhttp_head, .send = pubhttp_send, .failed = pubhttp_failed,
	.ready = reload_ready, .apply = reload_apply, .stop = pubhttp_stop,
	.say_full = true,
};

/* ---- the run ---- */

static int http_open(void *ctx, char *why, size_t n)
{
	return pubhttp_open(ctx, why, n) ? 0 : EXIT_RUNTIME;
}

static void http_free(void *ctx)
{
	pubhttp_free(ctx);
}

static const struct pubprog_hooks hooks = {
	.pub_at = offsetof(struct conf, pub), .open = http_open,
	.free = http_free,
};

static void setup(struct prog_run *r)
{
	struct conf *c = r->conf;
	pubhttp_init(&hp, &pp.pl, &c->hc);
	url_compile(c->hc.url, r->fs);
	pubprog_setup(&pp, &hooks, r, &transport, &hp, c->hc.url);
}

const struct prog program = {
	.name = "es-http-pub",
	.synopsis = "[OPTION]... URL [FILE]...",
	.about = "Send the records of FILEs (or standard input) to URL over HTTP, one a\n"
		 "request or in batches. URL may hold {field} parts filled from each\n"
		 "record ('https://ingest.example/v1/{site}'). 2xx acknowledges a\n"
		 "request's records; 408, 429, 5xx and network errors send it again\n"
		 "after a back-off (or Retry-After); any other status sends its records\n"
		 "to --dead-letter and the stream goes on.",
	.opts = opts,
	.groups = groups,
	.notes = "\n--stats adds requests, sent, acknowledged, retried, dead_lettered,\n"
		 "queued (records not yet acknowledged), queued_bytes (their\n"
		 "bytes), spooled and last_status.\n"
		 "Exit status 1 also when records were not delivered at the end, or\n"
		 "were refused by the server (said, counted as bad, to --dead-letter).\n"
		 "Exit status 2 when --spool is another program's or holds records for\n"
		 "another URL.\n"
		 "\nExamples:\n"
		 "  es-http-pub --batch 5000 --linger 1s -o influx --measurement env \\\n"
		 "    --tags site --precision ms --spool /var/spool/es-influx \\\n"
		 "    'http://influx:8086/write?db=edge&precision=ms'\n"
		 "  es-filter 'temp > 38' | es-http-pub --token-file /etc/es/token \\\n"
		 "    'https://alerts.example/hook/{gate}'\n",
	.conf_free = conf_free,
	PUBPROG_HOOKS,
};
