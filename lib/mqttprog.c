/* mqttprog.c - what the MQTT programs share above the connection */
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "mem.h"
#include "mqttprog.h"
#include "reload.h"

char **mqttprog_reload_parse(mqttprog_parse_fn *parse, void *conf)
{
	int ac;
	char **av = reload_argv(&ac);
	if (!av)
		return NULL;
	struct es_opts no;
	opts_init(&no);
	parse(ac, av, &no, conf, true);
	return av;
}

bool mqttprog_reload_ok(char **av, const struct mqtt_opts *mo,
			const char *why)
{
	char files[600];
	if (!why && mqtt_opts_files_ok(mo, files, sizeof files))
		return true;
	reload_refuse(why ? why : files);
	reload_free(av);
	return false;
}

void mqttprog_reloaded(const char *what, const char *copt,
		       const struct mqtt_conn *c)
{
	if (!copt) {
		reload_said(what);
		return;
	}
	char said[1600];
	snprintf(said, sizeof said, "%s; %s changed: connecting to %s", what,
		 copt, mqtt_where(c));
	reload_said(said);
}

void mqttprog_keep(char ***words, char **av)
{
	reload_free(*words);
	*words = av;
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
