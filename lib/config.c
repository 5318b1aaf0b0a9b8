/* config.c - --config FILE: options from a file, appended to argv */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "mem.h"

const char *config_path(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	return path;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = 0;
	return s;
}

/* One line as a word, or NULL with why (a blank or comment line gives
 * an empty word). */
static char *line_word(char *line, const char **why)
{
	char *s = trim(line);
	if (!*s || *s == '#')
		return xstrdup("");
	char *eq = strchr(s, '=');
	char *name = s, *value = NULL;
	if (eq) {
		*eq = 0;
		name = trim(s);
		value = trim(eq + 1);
	}
	size_t n = strlen(name);
	if (!n || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n ||
	    name[0] == '-') {
		*why = "expected 'name = value' or 'name', with an option's long name";
		return NULL;
	}
	if (!strcmp(name, "config")) {
		*why = "a config file cannot name another";
		return NULL;
	}
	char *w = xmalloc(n + (value ? strlen(value) : 0) + 4);
	if (value)
		sprintf(w, "--%s=%s", name, value);
	else
		sprintf(w, "--%s", name);
	return w;
}

char **config_expand(int *argc, char **argv, char *err, size_t errn)
{
	const char *path = config_path(*argc, argv);
	if (!path)
		return argv;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errn, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char **out = xmalloc((size_t)(*argc + 1) * sizeof *out);
	memcpy(out, argv, (size_t)*argc * sizeof *out);
	int n = *argc, cap = *argc + 1;
	char *line = NULL;
	size_t lcap = 0;
	unsigned long lineno = 0;
	while (getline(&line, &lcap, f) >= 0) {
		const char *why = NULL;
		lineno++;
		char *w = line_word(line, &why);
		if (!w) {
			snprintf(err, errn, "%s:%lu: %s", path, lineno, why);
			free(line);
			fclose(f);
			out[n] = NULL;
			config_free(out, argv);
			return NULL;
		}
		if (!*w) {
			free(w);
			continue;
		}
		if (n + 1 >= cap) {
			cap *= 2;
			out = xrealloc(out, (size_t)cap * sizeof *out);
		}
		out[n++] = w;
	}
	free(line);
	fclose(f);
	out[n] = NULL;
	*argc = n;
	return out;
}

/* Frees the words config_expand added (those not in orig) and the array. */
void config_free(char **argv, char **orig)
{
	if (!argv || argv == orig)
		return;
	int i = 0;
	while (orig[i] && argv[i] == orig[i])
		i++;
	for (; argv[i]; i++)
		free(argv[i]);
	free(argv);
}
