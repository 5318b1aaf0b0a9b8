/* mqttprog.c - what the MQTT programs share above the connection */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "mem.h"
#include "mqttprog.h"
#include "reload.h"

int mqttprog_open(struct mqtt_conn *c, const struct mqtt_opts *mo,
		  const struct mqtt_hooks *hooks, struct evloop *ev, char *why,
		  size_t n)
{
	int rc = mqtt_open(c, mo, hooks, why, n);
	if (!rc)
		mqtt_attach(c, ev);
	return rc;
}

bool mqttprog_reload_ok(const struct mqtt_opts *cur,
			const struct mqtt_opts *next, const char *why,
			const char **copt)
{
	char files[600];
	*copt = mqtt_opts_differ(cur, next);
	if (!why && mqtt_opts_files_ok(next, files, sizeof files))
		return true;
	reload_refuse(why ? why : files);
	return false;
}

void mqttprog_said(char *said, size_t n, const char *copt,
		   const struct mqtt_conn *c)
{
	size_t k = strlen(said);
	if (copt && k < n)
		snprintf(said + k, n - k, "; %s changed: connecting to %s", copt,
			 mqtt_where(c));
}

const struct opts_entry mqttprog_gateway_id[] = {
	{"id", required_argument, OPT_MQTT_ID, "ID",
	 "the gateway's name (needed); not the MQTT\n"
	 "client id, which is --client-id's"},
	{0}
};

int mqttprog_gateway_opt(struct mqtt_opts *mo, const char **id, int ch,
			 const char *arg, char *why, size_t n)
{
	if (ch != OPT_MQTT_ID)
		return mqtt_opt(mo, ch, arg, why, n);
	*id = arg;	/* the gateway's; --client-id is MQTT's */
	return 1;
}

int mqttprog_use(struct mqtt_conn *c, const struct mqtt_opts *mo,
		 const char *copt, char *why, size_t n)
{
	c->o = mo;
	return copt ? mqtt_reopen(c, mo, why, n) : 0;
}

bool mqttprog_gateway_check(const char *id, int argc, char **argv, char *why,
			    size_t n)
{
	if (id && *id)
		return mqttprog_no_operands(argc, argv, why, n);
	snprintf(why, n, "--id is needed: the gateway's name");
	return false;
}

bool mqttprog_gateway_conn(struct mqtt_opts *mo, const char *tmpl,
			   const char *id, char **client_id, char *why,
			   size_t n)
{
	/* Not the gateway id itself: es-heartbeat and es-ctl of the same
	 * gateway would take the same client id, and the broker lets one of
	 * the two in at a time (each kicking the other off, and a will
	 * saying offline). */
	*client_id = mo->id ? xstrdup(mo->id) : mqttprog_fill_id(tmpl, id);
	mo->id = *client_id;
	return mqtt_opts_check(mo, why, n);
}

bool mqttprog_no_operands(int argc, char **argv, char *why, size_t n)
{
	if (optind >= argc)
		return true;
	snprintf(why, n, "unexpected argument '%s'", argv[optind]);
	return false;
}

char *mqttprog_fill_id(const char *tmpl, const char *id)
{
	size_t n = strlen(tmpl) + 1, il = strlen(id);
	for (const char *p = strstr(tmpl, "{id}"); p; p = strstr(p + 4, "{id}"))
		n += il;
	char *t = xmalloc(n), *w = t;
	for (const char *p = tmpl; *p;) {
		if (!strncmp(p, "{id}", 4)) {
			memcpy(w, id, il);
			w += il;
			p += 4;
		} else {
			*w++ = *p++;
		}
	}
	*w = 0;
	return t;
}
