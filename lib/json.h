/* json.h - strict, zero-copy NDJSON scanning */
#ifndef ES_JSON_H
#define ES_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fieldset.h"
#include "utf8.h"
#include "value.h"

#define JSON_MAX_DEPTH 2048	/* same bound as jansson's parser */

struct fieldset;

struct member {
	struct span key;	/* SPAN_JSTRING */
	struct span val;
};

struct json_scan {
	struct span *slots;	/* fieldset_count() entries */
	struct member *members;	/* top-level members, in order, if wanted */
	size_t nmembers, capmembers;
};

/*
 * Validates line[0..n) as one JSON object (RFC 8259, UTF-8 checked,
 * surrounding whitespace allowed) and fills sc->slots (and members).
 * Returns 0; -1 if the line is not valid JSON, -2 if it is not an object
 * (e.g. an array, a number), both with a static message in *err and the byte
 * offset of the problem in *col. The SIMD path (scan.h) reads the line
 * when the machine has one; a line it refuses is scanned again byte by
 * byte for the message, so every path says the same.
 */
int json_scan_line(const char *line, size_t n, const struct fieldset *fs,
		   struct json_scan *sc, const char **err, size_t *col);

/* The same, byte by byte (the scalar path, which json_scan_line also
 * takes to say why a line the SIMD path refused is bad). */
int json_scan_scalar(const char *line, size_t n, const struct fieldset *fs,
		     struct json_scan *sc, const char **err, size_t *col);

/* Decodes a JSON string span (with quotes) into UTF-8 bytes in out (which
 * needs at most sp->n bytes). Returns the decoded length. */
size_t json_unescape(const struct span *sp, char *out);

/* The character the escape \c stands for (c one of " \ / b f n r t),
 * or 0. */
char json_escape_char(char c);

/* Where new members go in an object's text p[0..n) (valid JSON): at
 * *cut, right after its last member (before any blank), with the text
 * from *end (its closing '}') on after them; p[*cut - 1] is '{' when the
 * object has no members. false when the text has no '}'. */
bool json_splice_at(const char *p, size_t n, size_t *cut, size_t *end);

/* Appends s[0..n) as a JSON string literal (with quotes) to out. */
struct outbuf;
void json_write_string(struct outbuf *o, const char *s, size_t n);

#endif
