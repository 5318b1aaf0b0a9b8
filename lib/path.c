/* path.c - field paths: value, meta.sensor.id, readings[0], "odd key"
 *
 * Grammar (the same on the command line and inside expressions):
 *
 *     path  = ['.'] step ('.' step | '[' digits ']')*
 *     step  = name | '"' quoted '"'
 *     name  = [A-Za-z_$][A-Za-z0-9_$]*
 *
 * A name has no '-': inside an expression "a-b" must stay a subtraction, and
 * a path means the same thing wherever it is written, so any other key is
 * quoted: "gw-id", "odd key". Quoted keys take the JSON escapes (\" \\ \/
 * \b \f \n \r \t \uXXXX) and are matched against the decoded JSON key.
 * An optional leading '.' (jq style) lets an expression start a path with a
 * quoted key, where a bare "..." would be a string literal: ."odd key".
 * An index is 1 to 9 decimal digits. The text kept for messages is the path
 * as written, without the leading '.'.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "mem.h"
#include "path.h"

#define INDEX_MAX_DIGITS 9


static bool name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$';
}

static bool name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* Parses a quoted key at *q (on the opening quote) into a new string. */
static int quoted_key(const char **q, struct path_step *st, const char **err)
{
	const char *open = *q, *s = open + 1;
	while (*s && *s != '"')
		s += s[0] == '\\' && s[1] ? 2 : 1;
	if (!*s) {
		*err = "unterminated quoted key";
		return -1;	/* *q stays on the opening quote */
	}
	char *key = xmalloc((size_t)(s - open)), *o = key;
	for (s = open + 1; *s != '"';) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		const char *esc = s;
		char c = json_escape_char(s[1]);
		size_t k = c ? 1 : s[1] == 'u' ? utf8_unescape(&s, o) : 0;
		if (!k) {
			free(key);
			*q = esc;
			*err = "invalid escape in quoted key";
			return -1;
		}
		if (c) {
			*o = c;
			s += 2;
		}
		o += k;
	}
	*o = 0;
	st->key = key;
	st->keylen = (size_t)(o - key);
	*q = s + 1;
	return 0;
}

static int key_step(const char **q, struct path_step *st, const char **err)
{
	const char *s = *q;
	if (*s == '"')
		return quoted_key(q, st, err);
	if (!name_start((unsigned char)*s)) {
		*err = "expected a field name or a quoted key";
		return -1;
	}
	while (name_char((unsigned char)*s))
		s++;
	char *key = xmalloc((size_t)(s - *q) + 1);
	memcpy(key, *q, (size_t)(s - *q));
	key[s - *q] = 0;
	st->key = key;
	st->keylen = (size_t)(s - *q);
	*q = s;
	return 0;
}

/* Parses "[digits]" at *q (on the '['). */
static int index_step(const char **q, struct path_step *st, const char **err)
{
	const char *s = *q + 1;
	long v = 0;
	int nd = 0;
	for (; *s >= '0' && *s <= '9'; s++, nd++) {
		if (nd == INDEX_MAX_DIGITS) {
			*q = *q + 1;
			*err = "array index too large";
			return -1;
		}
		v = v * 10 + (*s - '0');
	}
	if (!nd) {
		*q = s;
		*err = "expected an array index";
		return -1;
	}
	if (*s != ']') {
		*q = s;
		*err = "expected ']'";
		return -1;
	}
	st->key = NULL;
	st->keylen = 0;
	st->index = v;
	*q = s + 1;
	return 0;
}

int path_parse(const char **s, struct path *p, const char **err)
{
	const char *q = *s;
	p->n = 0;
	p->text = NULL;
	if (*q == '.')
		q++;
	const char *start = q;
	int rc = key_step(&q, &p->step[0], err);
	if (rc == 0)
		p->n = 1;
	while (rc == 0 && (*q == '.' || *q == '[')) {
		if (p->n == PATH_MAX_DEPTH) {
			*err = "path too deep (at most 32 steps)";
			rc = -1;
			break;
		}
		struct path_step *st = &p->step[p->n];
		if (*q == '.') {
			q++;
			rc = key_step(&q, st, err);
		} else {
			rc = index_step(&q, st, err);
		}
		if (rc == 0)
			p->n++;
	}
	if (rc < 0) {
		path_free(p);
		*s = q;
		return -1;
	}
	size_t n = (size_t)(q - start);
	p->text = xmalloc(n + 1);
	memcpy(p->text, start, n);
	p->text[n] = 0;
	*s = q;
	return 0;
}

int path_parse_all(const char *s, struct path *p, const char **err)
{
	const char *q = s;
	if (path_parse(&q, p, err) < 0)
		return -1;
	if (*q) {
		path_free(p);
		*err = "unexpected characters after the path";
		return -1;
	}
	return 0;
}

int path_parse_list(const char *text, struct path **paths, int *n,
		    const char **err)
{
	const char *s = text;
	while (*s) {
		*paths = xrealloc(*paths, (size_t)(*n + 1) * sizeof **paths);
		if (path_parse(&s, &(*paths)[*n], err))
			return (int)(s - text) + 1;
		++*n;
		if (*s == ',' && s[1]) {
			s++;
		} else if (*s) {
			*err = "expected ','";
			return (int)(s - text) + 1;
		}
	}
	return 0;
}

void path_free(struct path *p)
{
	for (int i = 0; i < p->n; i++)
		free((char *)p->step[i].key);
	p->n = 0;
	free(p->text);
	p->text = NULL;
}

bool path_related(const struct path *a, const struct path *b)
{
	int n = a->n < b->n ? a->n : b->n;
	for (int i = 0; i < n; i++) {
		const struct path_step *x = &a->step[i], *y = &b->step[i];
		if (!x->key != !y->key)
			return false;
		if (x->key ? x->keylen != y->keylen ||
			     memcmp(x->key, y->key, x->keylen)
			   : x->index != y->index)
			return false;
	}
	return true;
}
