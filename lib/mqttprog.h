/* mqttprog.h - what the MQTT programs share above the connection
 *
 * Their reload of --config (lib/reload.h): the new command line parsed by
 * the program's own parser, its connection options' files looked at, a
 * refusal or the outcome said the same way ("; --host changed: connecting
 * to HOST:PORT"). And the topics of es-ctl and es-heartbeat, named after
 * the gateway's --id.
 */
#ifndef ES_MQTTPROG_H
#define ES_MQTTPROG_H

#include <stdbool.h>
#include "mqtt.h"
#include "opts.h"

/* A program's option parser: argv into its configuration conf (from its
 * defaults), o the common options; reload: parsing a reloaded file, where
 * --help and --version are not acted on. */
typedef void mqttprog_parse_fn(int argc, char **argv, struct es_opts *o,
			       void *conf, bool reload);

/* A reload that is due: the new command line, checked (reload_argv),
 * parsed by parse into conf. NULL when there is none (said). Keep the
 * words while conf is in use (mqttprog_keep). */
char **mqttprog_reload_parse(mqttprog_parse_fn *parse, void *conf);
/* Whether the parsed reload av can go on: not when why (the program's own
 * objection) is given, or the files its connection options mo name cannot
 * be read; then it is said ("keeping the running configuration") and av
 * freed. */
bool mqttprog_reload_ok(char **av, const struct mqtt_opts *mo,
			const char *why);
/* A reload applied: "reloaded: what", and when a connection option copt
 * changed, "; copt changed: connecting to HOST:PORT" (c's new place). */
void mqttprog_reloaded(const char *what, const char *copt,
		       const struct mqtt_conn *c);
/* The words now in use are av: the previous ones in *words are freed. */
void mqttprog_keep(char ***words, char **av);

/* tmpl with each {id} replaced by id (malloc'ed). */
char *mqttprog_fill_id(const char *tmpl, const char *id);

#endif
