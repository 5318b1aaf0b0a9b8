/* path.h - field paths: value, meta.sensor.id, readings[0], "odd key" */
#ifndef ES_PATH_H
#define ES_PATH_H

#include <stddef.h>

#define PATH_MAX_DEPTH 32

struct path_step {
	const char *key;	/* NULL for an array index; else a NUL-terminated
				   decoded key (owned by the path) */
	size_t keylen;
	long index;		/* when key == NULL */
};

struct path {
	int n;
	struct path_step step[PATH_MAX_DEPTH];
	char *text;		/* the path as written, for messages */
};

/*
 * Grammar: ['.'] step ('.' step | '[' digits ']')*, step = name | quoted.
 * name = [A-Za-z_$][A-Za-z0-9_$]* (no '-': in an expression a-b is a
 * subtraction, so other keys are quoted: "gw-id"); quoted keys take the
 * JSON escapes. text is kept without a leading '.'.
 * Parses from *s and advances *s past the path (so the expression parser can
 * call it in the middle of a text). Returns 0, or -1 with *err set to a
 * static message and *s left at the offending byte.
 */
int path_parse(const char **s, struct path *p, const char **err);
/* Parses a whole string (trailing bytes are an error). */
int path_parse_all(const char *s, struct path *p, const char **err);
/* Parses a comma-separated list of paths (--key a,b) onto *paths (*n of
 * them; appended). Returns 0, or the column (from 1) of the error with
 * *err set to a static message; a trailing comma is an error. */
int path_parse_list(const char *text, struct path **paths, int *n,
		    const char **err);
void path_free(struct path *p);

/* True if one path is the other or lies inside it (a change to one
 * changes what the other reads). */
bool path_related(const struct path *a, const struct path *b);

#endif
