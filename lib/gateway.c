/* gateway.c - what a gateway's own MQTT programs share: es-ctl, es-heartbeat */
#include <stdlib.h>

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

void gateway_conf_free(struct gateway_conf *g)
{
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

bool gateway_said(char *said, size_t n, const char *copt)
{
	mqttprog_said(said, n, copt, &gateway_conn);
	return true;
}
