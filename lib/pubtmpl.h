/* pubtmpl.h - a publisher's text with {field} parts filled from each record
 *
 * es-mqtt-pub's topic ('plant/{site}/{device}/temp'), and the URL of an
 * HTTP publisher: literal text and field paths in braces, compiled once
 * (the paths into the reader's fieldset), filled per record with each
 * field's value as text: a string without its quotes, a number as
 * written, true or false. A value that cannot be text (missing, null, an
 * object or array, a number not written plainly, empty), or that the
 * user's check refuses (MQTT: a '/' would change the topic's levels),
 * makes the record bad input.
 */
#ifndef ES_PUBTMPL_H
#define ES_PUBTMPL_H

#include <stdbool.h>
#include <stddef.h>
#include "record.h"

struct pubtmpl_part {
	const char *lit;	/* literal text, or NULL for a field */
	size_t litlen;
	int slot;		/* the field's */
	char *name;		/* the field's path as written */
};

struct pubtmpl {
	struct pubtmpl_part *parts;
	int n;
	const char *what;	/* for messages: "topic" */
};

/* Compiles text (kept: the literal parts point into it); false with *err
 * ("'{' without '}'", "field 'x': ...", into errbuf) if it is not a
 * template. */
bool pubtmpl_compile(struct pubtmpl *t, const char *text, const char *what,
		     struct fieldset *fs, char *errbuf, size_t errn);
/* The text with each field as one 'x' (malloc'ed, *n its length): what a
 * check of the literal parts looks at. */
char *pubtmpl_sample(const struct pubtmpl *t, size_t *n);
/* Appends rec's filled text to out; check (NULL: none) may refuse a
 * field's value, returning why. False with the reason in err ("field
 * 'site' for the topic is missing"). */
bool pubtmpl_fill(const struct pubtmpl *t, const struct record *rec,
		  struct scratch *sc, struct outbuf *out,
		  const char *(*check)(const char *p, size_t n),
		  char *err, size_t errn);
void pubtmpl_free(struct pubtmpl *t);

#endif
