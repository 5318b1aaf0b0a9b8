/* mqttprog.h - what the MQTT programs share above the connection
 *
 * Their reload of --config (lib/prog.h's reload hook): the files their
 * connection options name looked at, a refusal or the outcome said the
 * same way ("; --host changed: connecting to HOST:PORT"), the connection
 * moved onto the new options. And what es-ctl and es-heartbeat share: an
 * --id that is the gateway's name, and topics and client ids named after
 * it.
 */
#ifndef ES_MQTTPROG_H
#define ES_MQTTPROG_H

#include <stdbool.h>
#include <stddef.h>
#include "mqtt.h"
#include "opts.h"

/* Opens c on mo (mqtt_open) and drives it from ev (mqtt_attach); 0, or
 * as mqtt_open. */
int mqttprog_open(struct mqtt_conn *c, const struct mqtt_opts *mo,
		  const struct mqtt_hooks *hooks, struct evloop *ev, char *why,
		  size_t n);
/* A reload hook's word on a parsed reload whose connection options are
 * next (cur running): false, said ("keeping the running configuration"),
 * when why (the program's own objection) is given or the files next names
 * cannot be read; else true with *copt, the connection option that
 * changed (NULL: none, mqtt_opts_differ). */
bool mqttprog_reload_ok(const struct mqtt_opts *cur,
			const struct mqtt_opts *next, const char *why,
			const char **copt);
/* Appends to a reload's said (size n) "; COPT changed: connecting to
 * HOST:PORT" (c's new place) when a connection option copt changed. */
void mqttprog_said(char *said, size_t n, const char *copt,
		   const struct mqtt_conn *c);
/* The running options are mo from a reload on: a connection option
 * copt changed, so c reconnects on them, or none did (NULL). 0, or as
 * mqtt_reopen (an exit status with why). */
int mqttprog_use(struct mqtt_conn *c, const struct mqtt_opts *mo,
		 const char *copt, char *why, size_t n);
/* Operands after the options (argv from optind): false with why (a
 * usage error). */
bool mqttprog_no_operands(int argc, char **argv, char *why, size_t n);

/* A program whose --id is the gateway's (es-heartbeat, es-ctl): that
 * --id as its options' first entry; mqttprog_gateway_opt() takes it into
 * *id and the connection options into mo, as mqtt_opt() (1, 0 if ch is
 * neither, -1 with why). */
extern const struct opts_entry mqttprog_gateway_id[];
int mqttprog_gateway_opt(struct mqtt_opts *mo, const char **id, int ch,
			 const char *arg, char *why, size_t n);
/* Their options checked: the --id given, no operands (argv from optind);
 * then, once the program's own are, the client id (--client-id, or tmpl
 * with {id} filled: "{id}-ctl") into mo and *client_id (to be freed with
 * the options) and the connection options (mqtt_opts_check). False with
 * why: a usage error. */
bool mqttprog_gateway_check(const char *id, int argc, char **argv, char *why,
			    size_t n);
bool mqttprog_gateway_conn(struct mqtt_opts *mo, const char *tmpl,
			   const char *id, char **client_id, char *why,
			   size_t n);
/* tmpl with each {id} replaced by id (malloc'ed). */
char *mqttprog_fill_id(const char *tmpl, const char *id);

#endif
