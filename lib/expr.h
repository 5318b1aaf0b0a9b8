/* expr.h - the expression language: compile once, evaluate per record */
#ifndef ES_EXPR_H
#define ES_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include "value.h"
#include "json.h"

struct expr;

/*
 * Compiles text. Every field path it names is added to fs; the slot numbers
 * are kept inside the compiled form. On a syntax error returns NULL, writes
 * a one-line message (without program name or column) to errbuf and the
 * 0-based byte column of the problem to *col.
 */
struct expr *expr_compile(const char *text, struct fieldset *fs,
			  char *errbuf, size_t errlen, size_t *col);

/*
 * Evaluates against a record's slots (as filled for the same fs). Strings
 * made on the way live in sc (reset by the caller per record). Returns 0 with
 * the result in *out, or -1 when the record's data does not fit the
 * expression (e.g. a string where a number is needed), with a one-line
 * message in errbuf naming the field. Allocates nothing once sc has grown.
 */
int expr_eval(const struct expr *e, const struct span *slots,
	      struct scratch *sc, struct value *out, char *errbuf,
	      size_t errlen);

/* expr_eval's answer as expr_truthy has it. */
int expr_test(const struct expr *e, const struct span *slots,
	      struct scratch *sc, bool *truth, char *errbuf, size_t errlen);

/* Truthiness, as jq: false, null and missing are false, all else true. */
bool expr_truthy(const struct value *v);

void expr_free(struct expr *e);

#endif
