/* gateway.h - what a gateway's own MQTT programs share: es-ctl,
 * es-heartbeat, es-replay
 *
 * Each takes the gateway's --id, a topic with {id} in it (-t), -C (stop
 * after N) and the MQTT connection's options; each runs one connection on
 * the run's event loop, ends when the broker refuses it for good or after
 * -C, and applies a reload's new connection option by reconnecting. The
 * two that subscribe to their topic (es-ctl, es-replay) also share the
 * subscription and its change on a reload. Each program puts a struct
 * gateway_conf first in its own struct conf and keeps its own options,
 * messages and what a reload does besides.
 */
#ifndef ES_GATEWAY_H
#define ES_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "evloop.h"
#include "mqtt.h"
#include "mqttprog.h"

struct gateway_conf {
	const char *id, *topic_tmpl;
	char *topic;		/* topic_tmpl with {id} filled in (owned) */
	char *client_id;	/* --client-id, or ID-NAME (owned) */
	long long count;	/* -C: stop after N (0: never) */
	struct mqtt_opts mo;
};

/* The run's one connection. */
extern struct mqtt_conn gateway_conn;

void gateway_conf_init(struct gateway_conf *g, const char *topic_tmpl);
/* --id, -t, -C and the connection's options: true if ch was one. */
bool gateway_option(struct gateway_conf *g, int ch, const char *arg);
/* At check, first: the --id given, no operands, the topic filled in. */
void gateway_check_id(struct gateway_conf *g, int argc, char **argv);
/* At check, last: the client id (--client-id, or client_tmpl such as
 * "{id}-ctl" filled in) and the connection's options. */
void gateway_check_conn(struct gateway_conf *g, const char *client_tmpl);
/* At check: -t's topic one to publish to, or a filter to subscribe to
 * (a usage error if not). */
void gateway_check_topic(const struct gateway_conf *g, bool publish);
/* The conf_free hook of a program whose conf owns nothing else (its
 * struct gateway_conf first); else the program's hook calls it. */
void gateway_conf_free(void *conf);

/* At start: the connection opened on ev with hooks. */
void gateway_start(struct gateway_conf *g, const struct mqtt_hooks *hooks,
		   struct evloop *ev);
/* The done hook's answer: refused for good, or n reached -C. */
bool gateway_done(const struct gateway_conf *g, unsigned long long n);
/* For the finish hook, first: a refused connection ends the run (said). */
void gateway_finish(void);
/* The finish hook of a program whose last messages may be on their way:
 * gateway_finish, then up to a second for them to go. */
void gateway_finish_linger(struct evloop *ev);

/* The program's topic filter subscribed (its on_up hook's work). */
void gateway_subscribe(const struct gateway_conf *g);

/* A reload: false (said) if the connection cannot take nw; else *copt is
 * the connection option that changed (NULL: none), to be applied with
 * gateway_use once nw is the program's conf. */
bool gateway_reload_ok(const struct gateway_conf *old,
		       const struct gateway_conf *nw, const char **copt);
void gateway_use(struct gateway_conf *nw, const char *copt);
/* The reload of a program subscribed to its topic: gateway_reload_ok,
 * then the connection takes nw (gateway_use), and a new -t or -q while
 * connected (no reconnect) unsubscribes old's filter and subscribes nw's.
 * said holds what the program's options now say; what the connection did
 * is added to it (gateway_said). The program makes nw its conf once this
 * returns true; false: refused (said), the old conf stays. */
bool gateway_reload_subscribed(const struct gateway_conf *old,
			       struct gateway_conf *nw, char *said, size_t n);
/* The reload hook's end: what the connection did added to said; true. */
bool gateway_said(char *said, size_t n, const char *copt);

/* The --help groups that end a gateway program's: the connection's
 * options, --client-id among them with its default named (a string:
 * "ID-ctl"). */
#define GATEWAY_GROUPS(client_id_default) \
	{ "Connection:", mqtt_opts_head }, \
	{ PROG_CONT, (const struct opts_entry[]){ \
		{ "client-id", required_argument, OPT_MQTT_CLIENT_ID, "CID", \
		  "MQTT client id, unique on the broker\n(default " \
		  client_id_default ")" }, \
		{ 0 } } }, \
	{ PROG_CONT, mqtt_opts_table }, { 0 }
/* In the struct prog: the hooks a gateway program names alike (its
 * conf_free beside: its own, or gateway_conf_free). */
#define GATEWAY_HOOKS \
	.ready_when_connected = true, .opts = mqttprog_gateway_id, \
	.groups = groups, .conf_size = sizeof(struct conf), \
	.conf_init = conf_init, .option = option, .check = check, \
	.start = start, .done = done, .reload = reload, \
	.stats = stats_extra, .finish = finish, .cleanup = cleanup

#endif
