/* gateway.c - what a gateway's own MQTT programs share: es-ctl,
 * es-heartbeat, es-replay */
#include <mosquitto.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "gateway.h"
#include "opts.h"
#include "prog.h"

struct mqtt_conn gateway_conn;

void gateway_conf_init(struct gateway_conf *g, const char *topic_tmpl)
{
	g->topic_tmpl = topic_tmpl;
	mqtt_opts_init(&g->mo);
}

bool gateway_option(struct gateway_conf *g, int ch, const char *arg)
{
	char why[MQTT_WHY];
	if (prog_took(mqttprog_gateway_opt(&g->mo, &g->id, ch, arg, why,
					   sizeof why), why))
		return true;
	if (ch == 't')
		g->topic_tmpl = arg;
	else if (ch == 'C')
		g->count = opts_count("-C/--count", arg);
	else
		return false;
	return true;
}

void gateway_check_id(struct gateway_conf *g, int argc, char **argv)
{
	char why[MQTT_WHY];
	prog_usage_unless(mqttprog_gateway_check(g->id, argc, argv, why,
						 sizeof why), why);
	g->topic = mqttprog_fill_id(g->topic_tmpl, g->id);
}

void gateway_check_conn(struct gateway_conf *g, const char *client_tmpl)
{
	char why[MQTT_WHY];
	prog_usage_unless(mqttprog_gateway_conn(&g->mo, client_tmpl, g->id,
						&g->client_id, why, sizeof why),
			  why);
}

void gateway_check_topic(const struct gateway_conf *g, bool publish)
{
	int rc = publish ? mosquitto_pub_topic_check(g->topic)
			 : mosquitto_sub_topic_check(g->topic);
	if (rc != MOSQ_ERR_SUCCESS)
		diag_usage("invalid topic '%s' for -t/--topic", g->topic);
}

void gateway_conf_free(void *conf)
{
	struct gateway_conf *g = conf;
	free(g->topic);
	free(g->client_id);
}

void gateway_start(struct gateway_conf *g, const struct mqtt_hooks *hooks,
		   struct evloop *ev)
{
	char why[MQTT_WHY];
	prog_check(mqttprog_open(&gateway_conn, &g->mo, hooks, ev, why,
				 sizeof why), why);
}

bool gateway_done(const struct gateway_conf *g, unsigned long long n)
{
	return gateway_conn.refused || (g->count && n >= (unsigned long long)g->count);
}

void gateway_finish(void)
{
	if (gateway_conn.refused)
		prog_exit(EXIT_RUNTIME);	/* said */
}

void gateway_finish_linger(struct evloop *ev)
{
	gateway_finish();
	mqtt_linger(&gateway_conn, ev, 1000, true);
}

void gateway_subscribe(const struct gateway_conf *g)
{
	int rc = mosquitto_subscribe(gateway_conn.m, NULL, g->topic, g->mo.qos);
	if (rc)
		diag_warn("subscribe: %s", mosquitto_strerror(rc));
}

bool gateway_reload_ok(const struct gateway_conf *old,
		       const struct gateway_conf *nw, const char **copt)
{
	return mqttprog_reload_ok(&old->mo, &nw->mo, NULL, copt);
}

void gateway_use(struct gateway_conf *nw, const char *copt)
{
	char why[MQTT_WHY];
	prog_check(mqttprog_use(&gateway_conn, &nw->mo, copt, why, sizeof why),
		   why);
}

bool gateway_reload_subscribed(const struct gateway_conf *old,
			       struct gateway_conf *nw, char *said, size_t n)
{
	const char *copt;
	if (!gateway_reload_ok(old, nw, &copt))
		return false;
	/* A reconnect subscribes anew (the program's on_up); else a new
	 * filter or QoS takes the old one's place here. */
	bool resub = !copt && gateway_conn.state == MQTT_UP &&
		     (strcmp(old->topic, nw->topic) || old->mo.qos != nw->mo.qos);
	if (resub) {
		int rc = mosquitto_unsubscribe(gateway_conn.m, NULL, old->topic);
		if (rc)
			diag_warn("unsubscribe: %s", mosquitto_strerror(rc));
	}
	gateway_use(nw, copt);
	if (resub) {
		gateway_subscribe(nw);
		mqtt_flush(&gateway_conn);
	}
	return gateway_said(said, n, copt);
}

bool gateway_said(char *said, size_t n, const char *copt)
{
	mqttprog_said(said, n, copt, &gateway_conn);
	return true;
}
