/* mqtt.h - connection options and reconnects shared by every MQTT program
 *
 * A program parses the connection, TLS, credential and will options through
 * mqtt_opt(), then drives one connection from its event loop (mqtt_attach,
 * lib/evloop.h), which does the reading, writing, keepalive and
 * reconnecting.
 * Reconnects back off exponentially with jitter; a broker that refuses the
 * credentials is said and the connection marked refused, with no more
 * retries (retrying cannot help): the program ends, with exit status 1.
 * Errors are returned with why; the program decides to exit.
 */
#ifndef ES_MQTT_H
#define ES_MQTT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "opts.h"

/* Room for why an MQTT call or option failed: a message and a path. */
#define MQTT_WHY 4400

struct evloop;
struct mosquitto;
struct mosquitto_message;

/* Option codes from OPT_PROGRAM + 100 up, clear of a program's own. */
enum {
	OPT_MQTT_ID = 400, OPT_MQTT_KEEPALIVE, OPT_MQTT_CLEAN,
	OPT_MQTT_PERSISTENT, OPT_MQTT_WILL_TOPIC, OPT_MQTT_WILL_PAYLOAD,
	OPT_MQTT_WILL_QOS, OPT_MQTT_WILL_RETAIN, OPT_MQTT_CAFILE,
	OPT_MQTT_CERT, OPT_MQTT_KEY, OPT_MQTT_TLS_VERSION, OPT_MQTT_INSECURE,
	OPT_MQTT_PASSWORD_FILE, OPT_MQTT_RECONNECT_MIN, OPT_MQTT_RECONNECT_MAX,
	OPT_MQTT_CLIENT_ID,
};

/* The connection options as data (lib/opts.h), --help's "Connection:"
 * group in three parts: mqtt_opts_head (-h, -p), mqtt_opts_id (--id, the
 * client id) and mqtt_opts_table (the rest). A program whose --id is the
 * gateway's (es-heartbeat, es-ctl) has its own --client-id entry
 * (OPT_MQTT_CLIENT_ID) in place of mqtt_opts_id, which mqtt_opt() takes
 * as the client id too; mqtt_opt() takes them all. */
extern const struct opts_entry mqtt_opts_head[], mqtt_opts_id[],
	mqtt_opts_table[];

struct mqtt_opts {
	const char *host;
	int port;		/* 0: 1883, or 8883 with TLS */
	const char *id;		/* the client id; NULL: the program's name and
				   pid (es-heartbeat, es-ctl: GATEWAY-heartbeat,
				   GATEWAY-ctl) */
	int keepalive;		/* seconds */
	int version;		/* 3 (3.1.1) or 5 */
	int qos;
	bool persistent;
	const char *will_topic, *will_payload;
	int will_qos;
	bool will_retain;
	const char *cafile, *cert, *key, *tls_version;
	bool insecure;
	const char *username, *password_file;
	int64_t reconnect_min_ms, reconnect_max_ms;
};

void mqtt_opts_init(struct mqtt_opts *o);
/* Takes a connection option: 1, 0 if c is not one, -1 with why (size n)
 * for a bad argument (a usage error naming the option). */
int mqtt_opt(struct mqtt_opts *o, int c, const char *arg, char *why,
	     size_t n);
/* Checks the options together (e.g. --key needs --cert, --password-file
 * needs -u) and that the files they name can be read; false with why
 * naming the option and the file if not (so that --check finds them). */
bool mqtt_opts_check(struct mqtt_opts *o, char *why, size_t n);
/* For a reload: the first connection option that differs between a and b,
 * as its name ("--host"), or NULL when both connect alike (--qos is not
 * one: it is per message). */
const char *mqtt_opts_differ(const struct mqtt_opts *a, const struct mqtt_opts *b);
/* Whether the files the options name (--password-file, --cafile, --cert,
 * --key) can be read, so that mqtt_open() will not fail on them; false
 * with why ("--cafile FILE: No such file or directory") if not. */
bool mqtt_opts_files_ok(const struct mqtt_opts *o, char *why, size_t n);

enum mqtt_state { MQTT_DOWN, MQTT_CONNECTING, MQTT_UP };

/* What the program is told, with its ctx (each may be NULL). */
struct mqtt_hooks {
	void (*on_up)(void *ctx, bool session_present);
	/* The connection dropped (not on mqtt_close). */
	void (*on_down)(void *ctx);
	void (*on_message)(void *ctx, const struct mosquitto_message *msg);
	/* A message is acknowledged (QoS 0: written), by its mid. */
	void (*on_publish)(void *ctx, int mid);
	int max_inflight;	/* QoS 1 and 2 messages in flight; 0: 20 */
	void *ctx;
};

struct mqtt_conn {
	struct mosquitto *m;
	const struct mqtt_opts *o;
	struct mqtt_hooks hooks;
	enum mqtt_state state;
	int64_t retry_at;	/* MQTT_DOWN: when to try again */
	int64_t backoff_ms;	/* the next wait before a retry */
	int64_t connect_by;	/* MQTT_CONNECTING: give up at */
	int64_t misc_at;	/* keepalive work due (mqtt_service) */
	unsigned long reconnects;	/* successful connects after the first */
	bool started, ever_up, said_down;
	bool refused;		/* the broker refused the credentials (said):
				   no more tries */
	char *password;
};

/*
 * Creates the client and starts the first connection attempt. A broker
 * that cannot be reached is not fatal: the connection is retried.
 * Errors in the options themselves (a TLS file that cannot be read):
 * the exit status (1, or 2 for a will libmosquitto refuses) with why
 * (size n). The hooks are copied.
 */
int mqtt_open(struct mqtt_conn *c, const struct mqtt_opts *o,
	      const struct mqtt_hooks *hooks, char *why, size_t n);
/* A reload changed a connection option: the client closed (DISCONNECT,
 * so no will; the caller may have done it already, to act between the
 * two) and one made on o, with the same hooks; the reconnects count on.
 * 0, or as mqtt_open. */
int mqtt_reopen(struct mqtt_conn *c, const struct mqtt_opts *o, char *why,
		size_t n);
/* Drives the connection from ev (lib/evloop.h): its socket and its
 * timers (keepalive, connect timeout, reconnect backoff). Once; a
 * reopened client stays in. */
void mqtt_attach(struct mqtt_conn *c, struct evloop *ev);
/* Runs ev for up to ms while the connection is up: until every byte
 * queued is written (sent), or the whole time (for acknowledgements). */
void mqtt_linger(struct mqtt_conn *c, struct evloop *ev, int ms, bool sent);
/* Sends what libmosquitto has queued now (after publishing). */
void mqtt_flush(struct mqtt_conn *c);
/* Sends DISCONNECT (so no will is published) and frees the client; the
 * hooks and counters stay, for mqtt_reopen. Once is enough. */
void mqtt_close(struct mqtt_conn *c);
/* "host:port" for messages. */
const char *mqtt_where(const struct mqtt_conn *c);

#endif
