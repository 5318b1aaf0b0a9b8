/* mqtt.c - connection options and reconnects shared by every MQTT program
 *
 * One libmosquitto client driven from the program's event loop (no
 * libmosquitto thread, lib/evloop.h), so that input, timers and the broker
 * are one event loop. Connects are libmosquitto's non-blocking ones, so that a broker
 * that does not answer (a dead uplink) does not stop the loop; only the
 * name lookup blocks. The TCP connect, TLS handshake and CONNACK all
 * progress through mqtt_service().
 */
#include <errno.h>
#include <getopt.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "evloop.h"
#include "loop.h"
#include "mem.h"
#include "mqtt.h"
#include "notify.h"
#include "time.h"

#define CONNECT_TIMEOUT_MS 10000	/* no CONNACK by then: try again */
#define MISC_MS 1000		/* keepalive work at least this often */

void mqtt_opts_init(struct mqtt_opts *o)
{
	memset(o, 0, sizeof *o);
	o->host = "localhost";
	o->keepalive = 60;
	o->version = 3;
	o->qos = 1;
	o->reconnect_min_ms = 100;
	o->reconnect_max_ms = 30000;
}

/* A usage error's why (size n), and false. */
__attribute__((format(printf, 3, 4)))
static bool bad(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return false;
}

static bool parse_qos(const char *opt, const char *arg, int *q, char *why,
		      size_t n)
{
	if (arg[0] >= '0' && arg[0] <= '2' && !arg[1]) {
		*q = arg[0] - '0';
		return true;
	}
	return bad(why, n, "invalid argument '%s' for %s: expected 0, 1 or 2",
		   arg, opt);
}

static bool parse_int(const char *opt, const char *arg, long lo, long hi,
		      long *v, char *why, size_t n)
{
	char *end;
	errno = 0;
	*v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || *v < lo || *v > hi)
		return bad(why, n, "invalid argument '%s' for %s: expected a "
			   "number from %ld to %ld", arg, opt, lo, hi);
	return true;
}

/* A duration (250ms, 2s) as milliseconds; a plain number is seconds. */
static bool parse_ms(const char *opt, const char *arg, int64_t *ms,
		     char *why, size_t n)
{
	int64_t us;
	long sec;
	const char *err;
	if (arg[0] && strspn(arg, "0123456789") == strlen(arg)) {
		if (!parse_int(opt, arg, 0, 86400 * 365, &sec, why, n))
			return false;
		*ms = sec * 1000LL;
		return true;
	}
	if (duration_parse(arg, false, &us, &err) < 0)
		return bad(why, n, "invalid argument '%s' for %s: %s", arg, opt,
			   err);
	*ms = us / 1000;
	return true;
}

/* The options with a value to check. */
static bool mqtt_opt_value(struct mqtt_opts *o, int c, const char *arg,
			   char *why, size_t n)
{
	long port;
	int64_t ms;
	switch (c) {
	case 'p':
		if (!parse_int("-p/--port", arg, 1, 65535, &port, why, n))
			return false;
		o->port = (int)port;
		return true;
	case 'V':
		if (!strcmp(arg, "311") || !strcmp(arg, "mqttv311"))
			o->version = 3;
		else if (!strcmp(arg, "5") || !strcmp(arg, "mqttv5"))
			o->version = 5;
		else
			return bad(why, n, "invalid argument '%s' for "
				   "-V/--protocol-version: expected 311 or 5", arg);
		return true;
	case 'q': return parse_qos("-q/--qos", arg, &o->qos, why, n);
	case OPT_MQTT_WILL_QOS:
		return parse_qos("--will-qos", arg, &o->will_qos, why, n);
	case OPT_MQTT_KEEPALIVE:
		if (!parse_ms("--keepalive", arg, &ms, why, n))
			return false;
		if (ms < 5000 || ms > 65535000)
			return bad(why, n, "invalid argument '%s' for --keepalive: "
				   "expected 5s to 65535s", arg);
		o->keepalive = (int)(ms / 1000);
		return true;
	case OPT_MQTT_TLS_VERSION:
		if (strcmp(arg, "tlsv1.2") && strcmp(arg, "tlsv1.3"))
			return bad(why, n, "invalid argument '%s' for --tls-version: "
				   "expected tlsv1.2 or tlsv1.3", arg);
		o->tls_version = arg;
		return true;
	case OPT_MQTT_RECONNECT_MIN:
		return parse_ms("--reconnect-min", arg, &o->reconnect_min_ms, why, n);
	default:	/* OPT_MQTT_RECONNECT_MAX */
		return parse_ms("--reconnect-max", arg, &o->reconnect_max_ms, why, n);
	}
}

int mqtt_opt(struct mqtt_opts *o, int c, const char *arg, char *why, size_t n)
{
	switch (c) {
	case 'h': o->host = arg; break;
	case 'u': o->username = arg; break;
	case OPT_MQTT_ID: case OPT_MQTT_CLIENT_ID: o->id = arg; break;
	case OPT_MQTT_CLEAN: o->persistent = false; break;
	case OPT_MQTT_PERSISTENT: o->persistent = true; break;
	case OPT_MQTT_WILL_TOPIC: o->will_topic = arg; break;
	case OPT_MQTT_WILL_PAYLOAD: o->will_payload = arg; break;
	case OPT_MQTT_WILL_RETAIN: o->will_retain = true; break;
	case OPT_MQTT_CAFILE: o->cafile = arg; break;
	case OPT_MQTT_CERT: o->cert = arg; break;
	case OPT_MQTT_KEY: o->key = arg; break;
	case OPT_MQTT_INSECURE: o->insecure = true; break;
	case OPT_MQTT_PASSWORD_FILE: o->password_file = arg; break;
	case 'p': case 'V': case 'q': case OPT_MQTT_WILL_QOS:
	case OPT_MQTT_KEEPALIVE: case OPT_MQTT_TLS_VERSION:
	case OPT_MQTT_RECONNECT_MIN: case OPT_MQTT_RECONNECT_MAX:
		return mqtt_opt_value(o, c, arg, why, n) ? 1 : -1;
	default:
		return 0;
	}
	return 1;
}

bool mqtt_opts_check(struct mqtt_opts *o, char *why, size_t n)
{
	if (o->persistent && !o->id)
		return bad(why, n, "--persistent needs --id: the broker keeps the "
			   "session under the client id");
	if (!!o->cert != !!o->key)
		return bad(why, n, "--cert and --key go together");
	if ((o->cert || o->tls_version || o->insecure) && !o->cafile)
		return bad(why, n, "TLS options need --cafile");
	if (o->will_payload && !o->will_topic)
		return bad(why, n, "--will-payload needs --will-topic");
	/* MQTT 3.1.1 sends a password only with a user name: one alone would
	 * be dropped without a word. */
	if (o->password_file && !o->username)
		return bad(why, n, "--password-file needs -u/--username: MQTT "
			   "sends a password only with a user name");
	if (!mqtt_opts_files_ok(o, why, n))
		return false;
	/* As mosquitto_will_set() would in mqtt_open(), so that --check (and
	 * with it a reload) says so before a connection is made. */
	if (o->will_topic &&
	    (mosquitto_pub_topic_check(o->will_topic) != MOSQ_ERR_SUCCESS ||
	     mosquitto_validate_utf8(o->will_topic, (int)strlen(o->will_topic))))
		return bad(why, n, "--will-topic '%s': %s", o->will_topic,
			   mosquitto_strerror(MOSQ_ERR_INVAL));
	if (o->reconnect_min_ms < 1)
		o->reconnect_min_ms = 1;
	if (o->reconnect_max_ms < o->reconnect_min_ms)
		return bad(why, n, "--reconnect-max is less than --reconnect-min");
	if (!o->port)
		o->port = o->cafile ? 8883 : 1883;
	return true;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

const char *mqtt_opts_differ(const struct mqtt_opts *a, const struct mqtt_opts *b)
{
	if (!same(a->host, b->host)) return "--host";
	if (a->port != b->port) return "--port";
	if (!same(a->id, b->id)) return "--id";
	if (a->keepalive != b->keepalive) return "--keepalive";
	if (a->version != b->version) return "--protocol-version";
	if (a->persistent != b->persistent) return "--persistent";
	if (!same(a->will_topic, b->will_topic)) return "--will-topic";
	if (!same(a->will_payload, b->will_payload)) return "--will-payload";
	if (a->will_qos != b->will_qos) return "--will-qos";
	if (a->will_retain != b->will_retain) return "--will-retain";
	if (!same(a->cafile, b->cafile)) return "--cafile";
	if (!same(a->cert, b->cert)) return "--cert";
	if (!same(a->key, b->key)) return "--key";
	if (!same(a->tls_version, b->tls_version)) return "--tls-version";
	if (a->insecure != b->insecure) return "--insecure";
	if (!same(a->username, b->username)) return "--username";
	if (!same(a->password_file, b->password_file)) return "--password-file";
	if (a->reconnect_min_ms != b->reconnect_min_ms) return "--reconnect-min";
	if (a->reconnect_max_ms != b->reconnect_max_ms) return "--reconnect-max";
	return NULL;
}

bool mqtt_opts_files_ok(const struct mqtt_opts *o, char *why, size_t n)
{
	const char *f[] = { o->password_file, o->cafile, o->cert, o->key };
	static const char *const opt[] = { "--password-file", "--cafile",
					   "--cert", "--key" };
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		struct stat st;
		if (!f[i])
			continue;
		if (stat(f[i], &st) == 0 && S_ISDIR(st.st_mode))
			errno = EISDIR;
		else if (access(f[i], R_OK) == 0)
			continue;
		snprintf(why, n, "%s %s: %s", opt[i], f[i], strerror(errno));
		return false;
	}
	return true;
}

/* The connection options as --help shows them, under "Connection:" in
 * three parts: a program whose --id is the gateway's puts its own
 * --client-id entry in place of mqtt_opts_id. */
const struct opts_entry mqtt_opts_head[] = {
	{"host", required_argument, 'h', "HOST", "broker host (default localhost)"},
	{"port", required_argument, 'p', "PORT",
	 "broker port (default 1883, 8883 with TLS)"},
	{0}
};

const struct opts_entry mqtt_opts_id[] = {
	{"id", required_argument, OPT_MQTT_ID, "ID",
	 "MQTT client id, unique on the broker\n(default: program name and pid)"},
	{0}
};

const struct opts_entry mqtt_opts_table[] = {
	{"keepalive", required_argument, OPT_MQTT_KEEPALIVE, "D",
	 "keepalive interval (default 60s)"},
	{"protocol-version", required_argument, 'V', "V", "311 or 5 (default 311)"},
	{"qos", required_argument, 'q', "Q", "0, 1 or 2 (default 1)"},
	{"clean", no_argument, OPT_MQTT_CLEAN, NULL, "clean session (the default)"},
	{"persistent", no_argument, OPT_MQTT_PERSISTENT, NULL,
	 "persistent session (needs a set client id)"},
	{"will-topic", required_argument, OPT_MQTT_WILL_TOPIC, "T",
	 "last will: published by the broker if the\n"
	 "connection dies without a DISCONNECT"},
	{"will-payload", required_argument, OPT_MQTT_WILL_PAYLOAD, "P",
	 "the will's payload (default empty)"},
	{"will-qos", required_argument, OPT_MQTT_WILL_QOS, "Q",
	 "the will's QoS (default 0)"},
	{"will-retain", no_argument, OPT_MQTT_WILL_RETAIN, NULL, "retain the will"},
	{"cafile", required_argument, OPT_MQTT_CAFILE, "FILE",
	 "TLS: trust the CA certificates in FILE"},
	{"cert", required_argument, OPT_MQTT_CERT, "FILE",
	 "TLS: client certificate (with --key)"},
	{"key", required_argument, OPT_MQTT_KEY, "FILE", "TLS: client private key"},
	{"tls-version", required_argument, OPT_MQTT_TLS_VERSION, "V",
	 "tlsv1.2 or tlsv1.3 (default: the newest\nboth sides speak)"},
	{"insecure", no_argument, OPT_MQTT_INSECURE, NULL,
	 "do not check the broker's host name\nagainst its certificate"},
	{"username", required_argument, 'u', "NAME",
	 "user name; the password comes from\n"
	 "--password-file or ES_MQTT_PASSWORD"},
	{"password-file", required_argument, OPT_MQTT_PASSWORD_FILE, "FILE",
	 "read the password from FILE's first line\n(needs -u)"},
	{"reconnect-min", required_argument, OPT_MQTT_RECONNECT_MIN, "D",
	 "first wait before reconnecting (default 100ms)"},
	{"reconnect-max", required_argument, OPT_MQTT_RECONNECT_MAX, "D",
	 "longest wait, doubled with jitter up to it\n(default 30s)"},
	{0}
};

/* ---- the connection ---- */

static const char *mosq_err(int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

const char *mqtt_where(const struct mqtt_conn *c)
{
	static char buf[300];
	snprintf(buf, sizeof buf, "%s:%d", c->o->host, c->o->port);
	return buf;
}

/* The password into *pw (NULL: none given); false with why if its file
 * cannot be read. */
static bool read_password(const struct mqtt_opts *o, char **pw, char *why,
			  size_t n)
{
	*pw = NULL;
	if (!o->password_file) {
		const char *env = getenv("ES_MQTT_PASSWORD");
		*pw = env ? xstrdup(env) : NULL;
		return true;
	}
	FILE *f = fopen(o->password_file, "r");
	if (!f) {
		snprintf(why, n, "cannot open %s: %s", o->password_file,
			 strerror(errno));
		return false;
	}
	char buf[1024];
	if (!fgets(buf, sizeof buf, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\r\n")] = 0;
	*pw = xstrdup(buf);
	return true;
}

/* Waits before the next attempt: doubling, with jitter in [d/2, d]. */
static void schedule_retry(struct mqtt_conn *c, int64_t now)
{
	int64_t d = c->backoff_ms;
	int64_t half = d / 2;
	c->retry_at = now + half + (half > 0 ? random() % (half + 1) : 0);
	c->backoff_ms = d * 2 > c->o->reconnect_max_ms ? c->o->reconnect_max_ms
						       : d * 2;
	c->state = MQTT_DOWN;
}

static void went_down(struct mqtt_conn *c, int64_t now, const char *why)
{
	bool was_up = c->state == MQTT_UP;
	schedule_retry(c, now);
	if (was_up || !c->said_down) {
		diag_warn("broker %s: %s; reconnecting", mqtt_where(c), why);
		c->said_down = true;
	}
	if (was_up && c->hooks.on_down)
		c->hooks.on_down(c->hooks.ctx);
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
		       const mosquitto_property *props)
{
	(void)m;
	(void)props;
	struct mqtt_conn *c = obj;
	if (rc) {
		/* Refused: wrong credentials or not authorized will not get
		 * better by retrying; other refusals (server busy) may. */
		const char *why = c->o->version == 5 ? mosquitto_reason_string(rc)
						     : mosquitto_connack_string(rc);
		if ((c->o->version == 5 && (rc == 134 || rc == 135)) ||
		    (c->o->version != 5 && (rc == 4 || rc == 5))) {
			diag_warn("broker %s refused the connection: %s",
				  mqtt_where(c), why);
			c->refused = true;	/* no retry: the program ends */
			c->state = MQTT_DOWN;
			c->retry_at = EVLOOP_NEVER;
			return;
		}
		went_down(c, loop_now_ms(), why);
		return;
	}
	if (c->ever_up)
		c->reconnects++;
	if (c->said_down)
		diag_warn("broker %s: connected", mqtt_where(c));
	c->ever_up = true;
	c->said_down = false;
	c->state = MQTT_UP;
	c->backoff_ms = c->o->reconnect_min_ms;
	notify_ready();	/* systemd: a connector is ready once connected */
	if (c->hooks.on_up)
		c->hooks.on_up(c->hooks.ctx, flags & 1);
}

/* The broker closed the session (v5 DISCONNECT) or libmosquitto saw the
 * connection fail inside a read or write. */
static void on_disconnect(struct mosquitto *m, void *obj, int rc,
			  const mosquitto_property *props)
{
	(void)m;
	(void)props;
	struct mqtt_conn *c = obj;
	if (c->state != MQTT_DOWN)
		went_down(c, loop_now_ms(), rc ? mosquitto_strerror(rc)
					       : "disconnected");
}

static void try_connect(struct mqtt_conn *c, int64_t now)
{
	/* The first call keeps host, port and keepalive in the client (even
	 * when it fails); later ones reuse them. */
	int rc = c->started ? mosquitto_reconnect_async(c->m)
		: mosquitto_connect_async(c->m, c->o->host, c->o->port,
					  c->o->keepalive);
	c->started = true;
	if (rc == MOSQ_ERR_SUCCESS) {
		c->state = MQTT_CONNECTING;
		c->connect_by = now + CONNECT_TIMEOUT_MS;
		c->misc_at = now + MISC_MS;
		return;
	}
	went_down(c, now, mosq_err(rc));
}

static bool set_tls(struct mqtt_conn *c, char *why, size_t n)
{
	const struct mqtt_opts *o = c->o;
	int rc = mosquitto_tls_set(c->m, o->cafile, NULL, o->cert, o->key, NULL);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_tls_opts_set(c->m, 1, o->tls_version, NULL);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_tls_insecure_set(c->m, o->insecure);
	if (rc != MOSQ_ERR_SUCCESS)
		snprintf(why, n, "TLS set-up: %s (check --cafile, --cert, --key)",
			 mosq_err(rc));
	return rc == MOSQ_ERR_SUCCESS;
}

static void on_message(struct mosquitto *m, void *obj,
		       const struct mosquitto_message *msg)
{
	(void)m;
	struct mqtt_conn *c = obj;
	c->hooks.on_message(c->hooks.ctx, msg);
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
	(void)m;
	struct mqtt_conn *c = obj;
	c->hooks.on_publish(c->hooks.ctx, mid);
}

static void set_hooks(struct mqtt_conn *c)
{
	mosquitto_connect_v5_callback_set(c->m, on_connect);
	mosquitto_disconnect_v5_callback_set(c->m, on_disconnect);
	if (c->hooks.on_message)
		mosquitto_message_callback_set(c->m, on_message);
	if (c->hooks.on_publish)
		mosquitto_publish_callback_set(c->m, on_publish);
	if (c->hooks.max_inflight)
		mosquitto_max_inflight_messages_set(c->m,
			(unsigned)c->hooks.max_inflight);
}

/* The client made on c->o: its options, credentials, will and TLS;
 * 0, or the exit status with why. */
static int mqtt_client(struct mqtt_conn *c, char *why, size_t n)
{
	const struct mqtt_opts *o = c->o;
	char id[64];
	if (!o->id)
		snprintf(id, sizeof id, "%s-%ld", diag_prog, (long)getpid());
	c->m = mosquitto_new(o->id ? o->id : id, !o->persistent, c);
	if (!c->m) {
		snprintf(why, n, "cannot create an MQTT client: %s",
			 strerror(errno));
		return EXIT_RUNTIME;
	}
	mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION,
			     o->version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	/* Nagle would hold small messages back for up to 40 ms (DESIGN.md). */
	mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
	set_hooks(c);
	if (o->username) {
		if (!read_password(o, &c->password, why, n))
			return EXIT_RUNTIME;
		mosquitto_username_pw_set(c->m, o->username, c->password);
	}
	if (o->will_topic) {
		const char *p = o->will_payload ? o->will_payload : "";
		int rc = mosquitto_will_set(c->m, o->will_topic, (int)strlen(p), p,
					    o->will_qos, o->will_retain);
		if (rc) {
			snprintf(why, n, "--will-topic '%s': %s", o->will_topic,
				 mosquitto_strerror(rc));
			return EXIT_USAGE;
		}
	}
	if (o->cafile && !set_tls(c, why, n))
		return EXIT_RUNTIME;
	return 0;
}

int mqtt_open(struct mqtt_conn *c, const struct mqtt_opts *o,
	      const struct mqtt_hooks *hooks, char *why, size_t n)
{
	memset(c, 0, sizeof *c);
	c->o = o;
	c->hooks = *hooks;
	c->backoff_ms = o->reconnect_min_ms;
	srandom((unsigned)(getpid() ^ loop_now_ms()));
	mosquitto_lib_init();
	int rc = mqtt_client(c, why, n);
	if (rc) {
		mqtt_close(c);
		return rc;
	}
	try_connect(c, loop_now_ms());
	return 0;
}

int mqtt_reopen(struct mqtt_conn *c, const struct mqtt_opts *o, char *why,
		size_t n)
{
	unsigned long reconnects = c->reconnects + c->ever_up;
	struct mqtt_hooks hooks = c->hooks;
	mqtt_close(c);		/* if the caller has not */
	int rc = mqtt_open(c, o, &hooks, why, n);
	c->reconnects = reconnects;
	return rc;
}

/* The socket to poll and its events; false when there is none (down). */
static bool mqtt_pollfd(struct mqtt_conn *c, struct pollfd *p)
{
	if (c->state == MQTT_DOWN || mosquitto_socket(c->m) < 0)
		return false;
	p->fd = mosquitto_socket(c->m);
	p->events = POLLIN | (mosquitto_want_write(c->m) ? POLLOUT : 0);
	p->revents = 0;
	return true;
}

/* When mqtt_service() must run even without socket events. */
static int64_t mqtt_due(const struct mqtt_conn *c)
{
	if (c->state == MQTT_DOWN)
		return c->retry_at;
	if (c->state == MQTT_CONNECTING && c->connect_by < c->misc_at)
		return c->connect_by;
	return c->misc_at;	/* keepalive: libmosquitto's misc */
}

void mqtt_flush(struct mqtt_conn *c)
{
	if (c->state != MQTT_DOWN && mosquitto_want_write(c->m)) {
		int rc = mosquitto_loop_write(c->m, 1);
		if (rc && c->state != MQTT_DOWN)
			went_down(c, loop_now_ms(), mosq_err(rc));
	}
}

/* mosquitto_loop_read() may stop after one packet (it looks at an errno
 * that can be left over), so read until the socket has no more; bounded, so
 * that input is not starved by a fast broker. */
static int read_all(struct mqtt_conn *c)
{
	for (int i = 0; i < 256 && c->state != MQTT_DOWN; i++) {
		errno = 0;
		int rc = mosquitto_loop_read(c->m, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			return rc;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
	}
	return MOSQ_ERR_SUCCESS;
}

/* Reads, writes, keepalive, reconnects; revents from poll (0 if none). */
static void mqtt_service(struct mqtt_conn *c, short revents, int64_t now)
{
	if (c->state == MQTT_DOWN) {
		if (now >= c->retry_at)
			try_connect(c, now);
		return;
	}
	int rc = MOSQ_ERR_SUCCESS;
	if (c->state == MQTT_CONNECTING && (revents & (POLLERR | POLLHUP))) {
		/* The TCP connect failed: say why, as a blocking one would. */
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(mosquitto_socket(c->m), SOL_SOCKET, SO_ERROR, &err, &len);
		went_down(c, now, err ? strerror(err) : "connection failed");
		return;
	}
	/* While connecting, writable may also mean the TLS handshake can go
	 * on, which libmosquitto does in its read step. */
	if (revents & (POLLIN | POLLHUP | POLLERR) ||
	    (c->state == MQTT_CONNECTING && (revents & POLLOUT)))
		rc = read_all(c);
	if (rc == MOSQ_ERR_SUCCESS && c->state != MQTT_DOWN &&
	    (revents & POLLOUT))
		rc = mosquitto_loop_write(c->m, 1);
	if (rc == MOSQ_ERR_SUCCESS && c->state != MQTT_DOWN) {
		rc = mosquitto_loop_misc(c->m);
		c->misc_at = now + MISC_MS;
	}
	if (c->state == MQTT_DOWN)
		return;		/* a callback already said so */
	if (rc != MOSQ_ERR_SUCCESS)
		went_down(c, now, mosq_err(rc));
	else if (c->state == MQTT_CONNECTING && now >= c->connect_by)
		went_down(c, now, "no answer to CONNECT");
}

static void mqtt_prepare(struct evloop_fd *f, int64_t now)
{
	struct mqtt_conn *c = f->ctx;
	struct pollfd p = { .fd = -1 };
	(void)now;
	f->fd = mqtt_pollfd(c, &p) ? p.fd : -1;
	f->events = p.events;
	f->due = mqtt_due(c);
}

static void mqtt_ready(struct evloop_fd *f, short revents, int64_t now)
{
	mqtt_service(f->ctx, revents, now);
}

void mqtt_attach(struct mqtt_conn *c, struct evloop *ev)
{
	struct evloop_fd *f = evloop_add_fd(ev, -1, 0, mqtt_ready, c);
	f->prepare = mqtt_prepare;
}

static bool mqtt_gone(void *ctx)
{
	return ((struct mqtt_conn *)ctx)->state != MQTT_UP;
}

static bool mqtt_sent(void *ctx)
{
	struct mqtt_conn *c = ctx;
	return c->state != MQTT_UP || !mosquitto_want_write(c->m);
}

void mqtt_linger(struct mqtt_conn *c, struct evloop *ev, int ms, bool sent)
{
	/* a poll() failure here only ends the wait early */
	evloop_run(ev, loop_now_ms() + ms, sent ? mqtt_sent : mqtt_gone, c);
}

void mqtt_close(struct mqtt_conn *c)
{
	if (!c->m)
		return;
	if (c->state == MQTT_UP) {
		c->state = MQTT_DOWN;	/* the callback must not report it */
		mosquitto_disconnect(c->m);
		mosquitto_loop_write(c->m, 1);
	}
	mosquitto_destroy(c->m);
	c->m = NULL;
	if (c->password) {
		/* Do not leave the secret lying in freed memory. */
		memset(c->password, 0, strlen(c->password));
		free(c->password);
		c->password = NULL;
	}
	mosquitto_lib_cleanup();
}
