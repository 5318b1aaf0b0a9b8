/* es-http-pub - send records over HTTP, store-and-forward
 *
 * The publishers' loop (lib/publoop.h) with the HTTP transport
 * (lib/pubhttp.h): each record read becomes a queued message (its URL and
 * payload) in a spool, on disk with --spool, else a bounded queue in
 * memory; messages go in batches of --batch, one request at a time, and
 * leave the queue when the server answers 2xx. This file holds the
 * options, their reload and the start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "loop.h"
#include "opts.h"
#include "publish.h"
#include "publoop.h"
#include "pubhttp.h"
#include "record.h"
#include "reload.h"
#include "stats.h"

enum {
	OPT_HEADER_FILE = OPT_PROGRAM, OPT_TOKEN_FILE, OPT_BATCH, OPT_LINGER,
	OPT_JSON_ARRAY, OPT_GZIP, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_INSECURE,
	OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_PROXY,
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

static struct conf cfg;		/* the running configuration */
static struct conf next;	/* a reload staged */
static struct publoop pl;
static struct pubhttp hp;
static enum format out_fmt;	/* -o, kept from the start */
static long long queued_at_end = -1;	/* once the spool is closed */

static const struct opts_entry opts[] = {
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
	/* said by pub_opts_help */
	{"payload-field", required_argument, OPT_PUB_PAYLOAD_FIELD, "F", ""},
	{"queue", required_argument, OPT_PUB_QUEUE, "N", ""},
	{"spool", required_argument, OPT_PUB_SPOOL, "DIR", ""},
	{"spool-max", required_argument, OPT_PUB_SPOOL_MAX, "SIZE", ""},
	{"spool-full", required_argument, OPT_PUB_SPOOL_FULL, "P", ""},
	{"fsync", required_argument, OPT_PUB_FSYNC, "WHEN", ""},
	{"drain-timeout", required_argument, OPT_PUB_DRAIN_TIMEOUT, "D",
	 "at end of input, wait up to D for the server's\n"
	 "acknowledgements (default 10s)"},
	{0}
};

static void usage(void)
{
	printf("Usage: es-http-pub [OPTION]... URL [FILE]...\n"
	       "Send the records of FILEs (or standard input) to URL over HTTP, one a\n"
	       "request or in batches. URL may hold {field} parts filled from each\n"
	       "record ('https://ingest.example/v1/{site}'). 2xx acknowledges a\n"
	       "request's records; 408, 429, 5xx and network errors send it again\n"
	       "after a back-off (or Retry-After); any other status sends its records\n"
	       "to --dead-letter and the stream goes on.\n"
	       "\n");
	opts_table_help(stdout, opts);
	pub_opts_help(stdout, "acknowledged", 10000);
	printf("\n"
	       "A reload of --config (SIGHUP, --watch-config) applies the headers,\n"
	       "the batching and the connection options once the request in flight\n"
	       "is answered; the spool options need a restart.\n"
	       "\n");
	opts_common_help(stdout);
	printf("\n--stats adds requests, sent, acknowledged, retried, dead_lettered,\n"
	       "queued (records not yet acknowledged) and last_status.\n"
	       "Exit status 1 also when records were not delivered at the end, or\n"
	       "were refused by the server (said, counted as bad, to --dead-letter).\n"
	       "Exit status 2 when --spool is another program's or holds records for\n"
	       "another URL.\n"
	       "\nExamples:\n"
	       "  es-http-pub --batch 5000 --linger 1s -o influx --measurement env \\\n"
	       "    --tags site --precision ms --spool /var/spool/es-influx \\\n"
	       "    'http://influx:8086/write?db=edge&precision=ms'\n"
	       "  es-filter 'temp > 38' | es-http-pub --token-file /etc/es/token \\\n"
	       "    'https://alerts.example/hook/{gate}'\n");
	exit(EXIT_OK);
}

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"requests\":%llu,\"sent\":%llu,\"acknowledged\":%llu,"
		 "\"retried\":%llu,\"dead_lettered\":%llu,\"queued\":%llu,"
		 "\"spooled\":%llu,\"last_status\":%ld",
		 hp.requests, pl.published, pl.acked, pl.retried, hp.dead,
		 queued_at_end >= 0 ? (unsigned long long)queued_at_end
		 : pl.q ? (unsigned long long)spool_pending(pl.q) : 0ULL,
		 pl.spooled, hp.last_status);
}

/* ---- options ---- */

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
	default:
		opts_bad_option();
	}
}

/* The body and its Content-Type, from -o and --payload-field. */
static const char *conf_body(struct conf *c)
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
static void conf_finish(struct conf *c, int argc, char **argv)
{
	char why[600];
	if (optind >= argc)
		diag_usage("missing URL");
	c->hc.url = argv[optind++];
	c->hc.url_fields = strchr(c->hc.url, '{') != NULL;
	const char *ctype = conf_body(c);
	c->hc.headers = pubhttp_headers(c->headers, c->nheaders, c->header_file,
					c->token_file, ctype, why, sizeof why);
	if (!c->hc.headers)
		diag_usage("%s", why);
	if ((c->hc.cert == NULL) != (c->hc.key == NULL))
		diag_usage("--cert and --key go together");
}

static void parse_args(int argc, char **argv, struct es_opts *o,
		       struct conf *c, bool reload)
{
	static struct option *longopts;
	static char *shortopts;
	if (!longopts)
		opts_table_getopt(opts, &longopts, &shortopts);
	*c = (struct conf){ 0 };
	pub_opts_init(&c->pub, 10000);
	c->hc = (struct pubhttp_conf){ .method = "POST", .batch = 1,
				       .timeout_ms = 30000,
				       .connect_timeout_ms = 10000 };
	int ch;
	optind = 0;	/* a reload parses again from the start */
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (ch == '?')
			opts_bad_option();
		if (!opts_common(o, ch, optarg) && !pub_opt(&c->pub, ch, optarg))
			conf_option(c, ch, optarg);
	}
	if (o->help && !reload)
		usage();
	if (o->version && !reload)
		opts_apply(o);	/* prints it and exits */
	if (!reload)
		out_fmt = o->out_fmt;
	conf_finish(c, argc, argv);
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
	pubhttp_headers_free(cfg.hc.headers);
	cfg = next;
	pubhttp_set_conf(&hp, &cfg.hc);
	publoop_fields(&pl);
	char said[700];
	snprintf(said, sizeof said, "%s %s, --batch %ld", cfg.hc.method,
		 cfg.hc.url, cfg.hc.batch);
	reload_said(said);
}

static void conf_reload(void *ctx)
{
	struct conf nc;
	struct es_opts no;
	(void)ctx;
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return;
	opts_init(&no);
	parse_args(ac, av, &no, &nc, true);
	const char *opt = pub_opts_restart(&cfg.pub, &nc.pub);
	if (opt) {
		char why[200];
		snprintf(why, sizeof why, "changing %s needs a restart", opt);
		reload_refuse(why);
		pubhttp_headers_free(nc.hc.headers);
		reload_free(av);
		return;
	}
	if (pl.waits)
		pubhttp_headers_free(next.hc.headers);	/* replaced unapplied */
	next = nc;
	publoop_stage(&pl, av);
}

static const struct pub_transport transport = {
	.head = pubhttp_head, .send = pubhttp_send, .failed = pubhttp_failed,
	.reload = conf_reload, .ready = reload_ready, .apply = reload_apply,
	.stop = pubhttp_stop, .say_full = true,
};

int main(int argc, char **argv)
{
	struct es_opts o;
	char why[300];
	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o, &cfg, false);
	opts_apply(&o);
	stats_set_extra(stats_extra);

	struct fieldset *fs = fieldset_new();
	pubhttp_init(&hp, &pl, &cfg.hc);
	url_compile(cfg.hc.url, fs);
	publoop_init(&pl, &transport, &hp, &cfg.pub, fs);
	if (o.check)
		pub_spool_check(&cfg.pub, cfg.hc.url);
	opts_check_done(&o);	/* --check: no spool, no request */
	loop_signals();
	reload_init(&o);

	publoop_open(&pl, cfg.hc.url, argv + optind, argc - optind, o.in_fmt,
		     out_fmt == FMT_CSV);
	if (!pubhttp_open(&hp, why, sizeof why))
		diag_fatal(EXIT_RUNTIME, "%s", why);
	if (publoop_run(&pl) < 0)
		diag_fatal(EXIT_RUNTIME, "poll: %s", strerror(errno));
	if (publoop_finish(&pl) || pubhttp_failed(&hp))
		diag_status = EXIT_RUNTIME;
	queued_at_end = (long long)spool_pending(pl.q);	/* for --stats */
	pubhttp_free(&hp);
	pubhttp_headers_free(cfg.hc.headers);
	publoop_free(&pl);
	fieldset_free(fs);
	diag_finish();
	return diag_status;
}
