/* expr.c - the expression language: compile once, evaluate per record
 *
 * Syntax, loosest binding first:
 *
 *     or    = and  (('||' | 'or')  and)*
 *     and   = not  (('&&' | 'and') not)*
 *     not   = ('!' | 'not') not | cmp
 *     cmp   = sum [('==' | '!=' | '<' | '<=' | '>' | '>=') sum
 *                 | '=~' STRING | 'in' '[' [or (',' or)*] ']']
 *     sum   = prod (('+' | '-') prod)*
 *     prod  = unary (('*' | '/' | '%') unary)*
 *     unary = '-' unary | primary
 *     primary = NUMBER | STRING | 'true' | 'false' | 'null' | '(' or ')'
 *             | NAME '(' [or (',' or)*] ')' | path
 *
 * Comparisons do not chain ("a < b < c" is an error). '!' binds looser than
 * a comparison: "!a == b" is "!(a == b)"; after an operator write "(!b)".
 * Numbers are JSON numbers ('-' is the unary operator); strings are written
 * "..." or '...' with the escapes \" \' \\ \/ \b \f \n \r \t \uXXXX.
 * A path is written as in path.c: a name starts it (status, meta.id,
 * readings[0], meta."gw-id"), or a '.' does (."odd key", .in, ."in"), which
 * is how a field whose first key needs quoting, or is one of the words
 * true false null and or not in, is named: a bare "..." is a string literal.
 * A name followed by '(' is a function call.
 *
 * Null: a missing field is null to everything but exists(). == holds
 * between null and missing, and never between null and anything else; !=
 * is always the negation of ==. < <= > >= with a null side are false;
 * arithmetic with a null side is null, as are x/0, x%0 and a result that is
 * not a finite number. =~ matches bytes (POSIX ERE in the C locale).
 *
 * Compiled form: postfix code for a value stack whose depth is known at
 * compile time, so evaluation is a loop over a flat array with the stack in
 * a local array; strings made on the way go to the scratch arena. && and ||
 * jump over their right side. The names of the fields each instruction's
 * operands came from are kept beside the code, for data-error messages only.
 */
#define _GNU_SOURCE		/* memmem */
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "expr.h"
#include "mem.h"
#include "number.h"
#include "path.h"
#include "swar.h"

#define STACK_MAX 256		/* values on the evaluation stack */
#define NEST_MAX 200		/* parser recursion: parentheses, unary ops */
#define REGEX_NEST_MAX 200	/* groups in a regex (regcomp recurses) */
#define REGEX_COPIES_MAX 1000	/* see regex_affordable() */

enum op {
	OP_END, OP_LOAD, OP_CONST, OP_EXISTS,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_MATCH, OP_IN, OP_IN_CONST,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG,
	OP_NOT, OP_BOOL, OP_AND, OP_OR, OP_CALL,
	/* An OP_LOAD whose next two instructions compare the field with a
	 * constant string (== !=) or number (< <= > >=), found after
	 * compiling: it tries that comparison straight on the field's text
	 * and skips them, else it is an OP_LOAD (see fuse()). */
	OP_LOAD_EQ, OP_LOAD_ORDER,
};

static const char *const op_text[] = {
	[OP_LT] = "<", [OP_LE] = "<=", [OP_GT] = ">", [OP_GE] = ">=",
	[OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_DIV] = "/",
	[OP_MOD] = "%", [OP_NEG] = "-",
};

enum fn {
	FN_EXISTS, FN_ABS, FN_ROUND, FN_FLOOR, FN_CEIL, FN_MIN, FN_MAX, FN_LEN,
	FN_LOWER, FN_UPPER, FN_STARTS_WITH, FN_ENDS_WITH, FN_CONTAINS, FN_NUM,
	FN_STR, FN_IF, FN_REPLACE, FN_COUNT
};

static const struct {
	const char *name;
	int min, max;		/* argument count; max -1: any */
} fns[FN_COUNT] = {
	[FN_EXISTS] = {"exists", 1, 1}, [FN_ABS] = {"abs", 1, 1},
	[FN_ROUND] = {"round", 1, 1}, [FN_FLOOR] = {"floor", 1, 1},
	[FN_CEIL] = {"ceil", 1, 1}, [FN_MIN] = {"min", 1, -1},
	[FN_MAX] = {"max", 1, -1}, [FN_LEN] = {"len", 1, 1},
	[FN_LOWER] = {"lower", 1, 1}, [FN_UPPER] = {"upper", 1, 1},
	[FN_STARTS_WITH] = {"starts_with", 2, 2},
	[FN_ENDS_WITH] = {"ends_with", 2, 2},
	[FN_CONTAINS] = {"contains", 2, 2}, [FN_NUM] = {"num", 1, 1},
	[FN_STR] = {"str", 1, 1}, [FN_IF] = {"if", 3, 3},
	[FN_REPLACE] = {"replace", 3, 3},
};

struct ins {
	uint8_t op;
	uint8_t fn;		/* OP_CALL; OP_LOAD_EQ: whether a CSV cell
				   may be compared as text */
	int32_t a;		/* slot, constant, regex or jump target */
	int32_t b;		/* OP_CALL, OP_IN, OP_IN_CONST: how many values */
	int32_t src;		/* first of the operands' field names in
				   expr.src, or -1 */
};

struct expr {
	struct ins *code;
	int ncode, capcode;
	struct value *k;	/* constants */
	int nk, capk;
	regex_t **re;
	int nre;
	const char **src;	/* field name of an operand, NULL if computed */
	int nsrc, capsrc;
	char **texts;		/* path texts we own (src points into them) */
	int ntexts;
	char *pool;		/* literal bytes; never moves */
	size_t npool;
	int depth, maxdepth;	/* stack depth while compiling */
};

/* ---- small shared helpers ---- */


/* Returns arr (of *cap elements of size sz) grown to hold need elements. */
static void *grow(void *arr, int *cap, int need, size_t sz)
{
	if (need <= *cap)
		return arr;
	int nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	*cap = nc;
	return xrealloc(arr, (size_t)nc * sz);
}

static bool name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$';
}

static bool name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* ---- the lexer ---- */

enum tok_kind {
	T_END, T_NUM, T_STR, T_WORD, T_DOT, T_BAD, T_BADSTR,
	T_TRUE, T_FALSE, T_NULL, T_AND, T_OR, T_NOT, T_IN,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_MATCH,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PCT,
	T_LP, T_RP, T_LB, T_RB, T_COMMA,
};

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t n;
};

static const struct {
	const char *text;
	enum tok_kind kind;
} punct[] = {	/* two-byte ones first */
	{"==", T_EQ}, {"!=", T_NE}, {"<=", T_LE}, {">=", T_GE}, {"=~", T_MATCH},
	{"&&", T_AND}, {"||", T_OR}, {"<", T_LT}, {">", T_GT}, {"!", T_NOT},
	{"+", T_PLUS}, {"-", T_MINUS}, {"*", T_STAR}, {"/", T_SLASH},
	{"%", T_PCT}, {"(", T_LP}, {")", T_RP}, {"[", T_LB}, {"]", T_RB},
	{",", T_COMMA}, {".", T_DOT},
};

static const struct {
	const char *text;
	enum tok_kind kind;
} keywords[] = {
	{"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL}, {"and", T_AND},
	{"or", T_OR}, {"not", T_NOT}, {"in", T_IN},
};

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static void lex_word(struct tok *t)
{
	const char *s = t->s;
	while (name_char((unsigned char)*s))
		s++;
	t->n = (size_t)(s - t->s);
	t->kind = T_WORD;
	for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
		if (strlen(keywords[i].text) == t->n &&
		    !memcmp(keywords[i].text, t->s, t->n))
			t->kind = keywords[i].kind;
}

/* A number token runs over everything that could belong to it, so that
 * "01", "1.5.2" or "3abc" is one invalid number, not two tokens. */
static void lex_number(struct tok *t)
{
	const char *s = t->s;
	for (;;) {
		if (name_char((unsigned char)*s) || *s == '.')
			s++;
		else if ((*s == '+' || *s == '-') && (s[-1] == 'e' || s[-1] == 'E'))
			s++;
		else
			break;
	}
	t->n = (size_t)(s - t->s);
	t->kind = T_NUM;
}

static void lex_string(struct tok *t)
{
	char q = *t->s;
	const char *s = t->s + 1;
	while (*s && *s != q)
		s += s[0] == '\\' && s[1] ? 2 : 1;
	if (!*s) {
		t->kind = T_BADSTR;
		t->n = (size_t)(s - t->s);
		return;
	}
	t->kind = T_STR;
	t->n = (size_t)(s + 1 - t->s);
}

/* Reads the token at s (after white space) without consuming it. */
static void lex(const char *s, struct tok *t)
{
	s = skip_space(s);
	t->s = s;
	t->n = 1;
	unsigned char c = (unsigned char)*s;
	if (!c) {
		t->kind = T_END;
		t->n = 0;
	} else if (name_start(c)) {
		lex_word(t);
	} else if (is_digit(c)) {
		lex_number(t);
	} else if (c == '"' || c == '\'') {
		lex_string(t);
	} else {
		t->kind = T_BAD;
		for (size_t i = 0; i < sizeof punct / sizeof *punct; i++) {
			size_t n = strlen(punct[i].text);
			if (!strncmp(s, punct[i].text, n)) {
				t->kind = punct[i].kind;
				t->n = n;
				break;
			}
		}
	}
}

/* ---- the parser and code generator ---- */

struct parser {
	const char *text, *p;	/* p: where the next token starts */
	struct expr *e;
	struct fieldset *fs;
	char *err;
	size_t errlen, *col;
	bool failed;
	int nest;
};

/* What the parser knows about an operand it has emitted. */
struct opnd {
	const char *field;	/* exactly a field load: its path text */
	bool isbool;		/* always yields a bool */
	bool isconst;		/* exactly one OP_CONST */
};

__attribute__((format(printf, 3, 4)))
static bool fail(struct parser *ps, const char *at, const char *fmt, ...)
{
	if (ps->failed)
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err, ps->errlen, fmt, ap);
	va_end(ap);
	*ps->col = (size_t)(at - ps->text);
	ps->failed = true;
	return false;
}

static bool unexpected(struct parser *ps, const struct tok *t)
{
	switch (t->kind) {
	case T_END:
		return fail(ps, t->s, "unexpected end of expression");
	case T_BADSTR:
		return fail(ps, t->s, "unterminated string");
	default:
		break;
	}
	if (t->kind == T_BAD && (*t->s == '=' || *t->s == '&' || *t->s == '|'))
		return fail(ps, t->s, "unexpected '%c' (use '%c%c')", *t->s,
			    *t->s, *t->s);
	int n = t->n > 40 ? 40 : (int)t->n;
	if (t->kind == T_BAD)	/* a whole UTF-8 sequence, not a byte of it */
		while (((unsigned char)t->s[n] & 0xC0) == 0x80)
			n++;
	return fail(ps, t->s, "unexpected '%.*s%s'", n, t->s,
		    (size_t)n < t->n ? "..." : "");
}

static void next(struct parser *ps, struct tok *t)
{
	lex(ps->p, t);
}

static void take(struct parser *ps, const struct tok *t)
{
	ps->p = t->s + t->n;
}

/* Consumes a token of the given kind, or fails with msg. */
static bool expect(struct parser *ps, enum tok_kind kind, const char *msg)
{
	struct tok t;
	next(ps, &t);
	if (t.kind != kind) {
		if (t.kind == T_BADSTR)
			return unexpected(ps, &t);
		return fail(ps, t.s, "%s", msg);
	}
	take(ps, &t);
	return true;
}

/* Appends an instruction whose stack effect is delta; returns its index. */
static int emit(struct parser *ps, enum op op, int delta, int32_t a, int32_t b)
{
	struct expr *e = ps->e;
	e->code = grow(e->code, &e->capcode, e->ncode + 1, sizeof *e->code);
	e->code[e->ncode] = (struct ins){ .op = (uint8_t)op, .a = a, .b = b,
					  .src = -1 };
	e->depth += delta;
	if (e->depth > e->maxdepth)
		e->maxdepth = e->depth;
	if (e->depth > STACK_MAX)
		fail(ps, ps->p, "expression too complex");
	return e->ncode++;
}

/* Records the field names of instruction pc's n operands. */
static void set_src(struct parser *ps, int pc, const char *const *names, int n)
{
	struct expr *e = ps->e;
	e->src = grow(e->src, &e->capsrc, e->nsrc + n, sizeof *e->src);
	memcpy(e->src + e->nsrc, names, (size_t)n * sizeof *names);
	e->code[pc].src = e->nsrc;
	e->nsrc += n;
}

static int add_const(struct parser *ps, const struct value *v)
{
	struct expr *e = ps->e;
	e->k = grow(e->k, &e->capk, e->nk + 1, sizeof *e->k);
	e->k[e->nk] = *v;
	return e->nk++;
}

static void emit_const(struct parser *ps, const struct value *v, struct opnd *o)
{
	emit(ps, OP_CONST, 1, add_const(ps, v), 0);
	*o = (struct opnd){ .isconst = true, .isbool = v->t == V_BOOL };
}

/* Literal bytes go to the pool, which was sized for the whole text (a
 * decoded literal is never longer than its source) so it never moves. */
static char *pool_put(struct parser *ps, const char *s, size_t n)
{
	char *p = ps->e->pool + ps->e->npool;
	memcpy(p, s, n);
	ps->e->npool += n;
	return p;
}

static bool parse_or(struct parser *ps, struct opnd *o);

static bool number_lit(struct parser *ps, const char *s, size_t n,
		       struct opnd *o)
{
	struct value v;
	if (!number_parse(s, n, &v)) {
		int m = n > 40 ? 40 : (int)n;
		return fail(ps, s, "invalid number '%.*s'", m, s);
	}
	v.s = pool_put(ps, s, n);
	v.n = n;
	emit_const(ps, &v, o);
	return true;
}

static char simple_escape(char c)
{
	return c == '\'' ? c : json_escape_char(c);
}

/* Decodes the string token t into the pool. */
static bool string_lit(struct parser *ps, const struct tok *t, struct value *v)
{
	const char *s = t->s + 1, *end = t->s + t->n - 1;
	char *start = ps->e->pool + ps->e->npool, *o = start;
	while (s < end) {
		if (*s != '\\') {
			*o++ = *s++;
		} else if (s[1] == 'u') {
			size_t k = utf8_unescape(&s, o);
			if (!k)
				return fail(ps, s, "invalid \\u escape in string");
			o += k;
		} else if (simple_escape(s[1])) {
			*o++ = simple_escape(s[1]);
			s += 2;
		} else {
			return fail(ps, s, "invalid escape '\\%c' in string",
				    s[1]);
		}
	}
	ps->e->npool += (size_t)(o - start);
	*v = (struct value){ .t = V_STRING, .s = start, .n = (size_t)(o - start) };
	return true;
}

static bool string_const(struct parser *ps, const struct tok *t,
			 struct opnd *o)
{
	struct value v;
	if (!string_lit(ps, t, &v))
		return false;
	emit_const(ps, &v, o);
	return true;
}

/* A path at ps->p: loads the field (op OP_LOAD) or tests it (OP_EXISTS). */
static bool parse_path(struct parser *ps, enum op op, struct opnd *o)
{
	const char *q = skip_space(ps->p), *err;
	struct path p;
	if (path_parse(&q, &p, &err) < 0)
		return fail(ps, q, "%s", err);
	/* exists(x) asks whether there is an x: no warning if none. */
	int slot = op == OP_EXISTS ? fieldset_add_optional(ps->fs, &p)
				   : fieldset_add(ps->fs, &p);
	struct expr *e = ps->e;
	e->texts = xrealloc(e->texts, (size_t)(e->ntexts + 1) * sizeof *e->texts);
	const char *name = e->texts[e->ntexts++] = p.text;
	p.text = NULL;		/* kept for messages */
	path_free(&p);
	ps->p = q;
	set_src(ps, emit(ps, op, 1, slot, 0), &name, 1);
	*o = (struct opnd){ .field = op == OP_LOAD ? name : NULL,
			    .isbool = op == OP_EXISTS };
	return true;
}

static int find_fn(const struct tok *t)
{
	for (int i = 0; i < FN_COUNT; i++)
		if (strlen(fns[i].name) == t->n && !memcmp(fns[i].name, t->s, t->n))
			return i;
	return -1;
}

static bool check_arity(struct parser *ps, const struct tok *name, int fn,
			int argc)
{
	int lo = fns[fn].min, hi = fns[fn].max;
	if (argc >= lo && (hi < 0 || argc <= hi))
		return true;
	return fail(ps, name->s, "function '%s' takes %s%d argument%s",
		    fns[fn].name, hi < 0 ? "at least " : "", lo,
		    lo == 1 ? "" : "s");
}

/* Arguments up to and including ')'; their field names go to *names. */
static bool parse_args(struct parser *ps, const char ***names, int *argc)
{
	struct tok t;
	int cap = 0;
	next(ps, &t);
	if (t.kind == T_RP) {
		take(ps, &t);
		return true;
	}
	for (;;) {
		struct opnd a;
		if (!parse_or(ps, &a))
			return false;
		*names = grow(*names, &cap, *argc + 1, sizeof **names);
		(*names)[(*argc)++] = a.field;
		next(ps, &t);
		if (t.kind == T_RP)
			break;
		if (t.kind != T_COMMA)
			return t.kind == T_BADSTR ? unexpected(ps, &t)
			       : fail(ps, t.s, "expected ',' or ')'");
		take(ps, &t);
	}
	take(ps, &t);
	return true;
}

static bool parse_call(struct parser *ps, const struct tok *name,
		       struct opnd *o)
{
	int fn = find_fn(name);
	if (fn < 0)
		return fail(ps, name->s, "unknown function '%.*s'",
			    (int)name->n, name->s);
	struct tok t;
	next(ps, &t);		/* the '(' */
	take(ps, &t);
	if (fn == FN_EXISTS) {
		next(ps, &t);
		if (t.kind != T_WORD && t.kind != T_DOT)
			return fail(ps, t.s, "function 'exists' takes a field path");
		return parse_path(ps, OP_EXISTS, o) &&
		       expect(ps, T_RP, "expected ')'");
	}
	const char **names = NULL;
	int argc = 0;
	bool ok = parse_args(ps, &names, &argc) &&
		  check_arity(ps, name, fn, argc);
	if (ok) {
		int pc = emit(ps, OP_CALL, 1 - argc, 0, argc);
		ps->e->code[pc].fn = (uint8_t)fn;
		set_src(ps, pc, names, argc);
		*o = (struct opnd){ 0 };	/* null in, null out */
	}
	free(names);
	return ok;
}

static bool parse_primary(struct parser *ps, struct opnd *o)
{
	struct tok t;
	next(ps, &t);
	switch (t.kind) {
	case T_NUM:
		take(ps, &t);
		return number_lit(ps, t.s, t.n, o);
	case T_STR:
		take(ps, &t);
		return string_const(ps, &t, o);
	case T_TRUE:
	case T_FALSE:
	case T_NULL:
		take(ps, &t);
		struct value v = { .t = t.kind == T_NULL ? V_NULL : V_BOOL,
				   .u.b = t.kind == T_TRUE };
		emit_const(ps, &v, o);
		return true;
	case T_LP:
		take(ps, &t);
		return parse_or(ps, o) && expect(ps, T_RP, "expected ')'");
	case T_WORD:
		if (*skip_space(t.s + t.n) == '(') {
			take(ps, &t);
			return parse_call(ps, &t, o);
		}
		/* fall through */
	case T_DOT:
		return parse_path(ps, OP_LOAD, o);
	default:
		return unexpected(ps, &t);
	}
}

static bool enter(struct parser *ps)
{
	if (++ps->nest > NEST_MAX)
		return fail(ps, ps->p, "expression nested too deeply");
	return true;
}

static bool parse_unary(struct parser *ps, struct opnd *o)
{
	struct tok t, n;
	next(ps, &t);
	if (t.kind != T_MINUS)
		return parse_primary(ps, o);
	take(ps, &t);
	next(ps, &n);
	/* "-5" is one literal, so that -9223372036854775808 is an int. */
	if (n.kind == T_NUM && n.s == t.s + 1) {
		take(ps, &n);
		return number_lit(ps, t.s, n.n + 1, o);
	}
	struct opnd r;
	if (!enter(ps) || !parse_unary(ps, &r))
		return false;
	ps->nest--;
	set_src(ps, emit(ps, OP_NEG, 0, 0, 0), &r.field, 1);
	*o = (struct opnd){ 0 };
	return true;
}

static enum op binary_op(enum tok_kind k)
{
	switch (k) {
	case T_PLUS: return OP_ADD;
	case T_MINUS: return OP_SUB;
	case T_STAR: return OP_MUL;
	case T_SLASH: return OP_DIV;
	case T_PCT: return OP_MOD;
	case T_EQ: return OP_EQ;
	case T_NE: return OP_NE;
	case T_LT: return OP_LT;
	case T_LE: return OP_LE;
	case T_GT: return OP_GT;
	case T_GE: return OP_GE;
	default: return OP_END;
	}
}

/* Emits the binary instruction for the operands l and r. */
static void emit_binary(struct parser *ps, enum op op, const struct opnd *l,
			const struct opnd *r, struct opnd *o)
{
	const char *names[2] = { l->field, r->field };
	set_src(ps, emit(ps, op, -1, 0, 0), names, 2);
	*o = (struct opnd){ .isbool = op >= OP_EQ && op <= OP_GE };
}

static bool parse_prod(struct parser *ps, struct opnd *o)
{
	if (!parse_unary(ps, o))
		return false;
	for (;;) {
		struct tok t;
		next(ps, &t);
		if (t.kind != T_STAR && t.kind != T_SLASH && t.kind != T_PCT)
			return true;
		take(ps, &t);
		struct opnd r;
		if (!parse_unary(ps, &r))
			return false;
		emit_binary(ps, binary_op(t.kind), o, &r, o);
	}
}

static bool parse_sum(struct parser *ps, struct opnd *o)
{
	if (!parse_prod(ps, o))
		return false;
	for (;;) {
		struct tok t;
		next(ps, &t);
		if (t.kind != T_PLUS && t.kind != T_MINUS)
			return true;
		take(ps, &t);
		struct opnd r;
		if (!parse_prod(ps, &r))
			return false;
		emit_binary(ps, binary_op(t.kind), o, &r, o);
	}
}

/* Past a bracket expression that opens at p[i] ('['): the index after its
 * ']' (or n). A ']' first, after an optional '^', is a member; so are the
 * ']' inside [:class:], [.coll.] and [=equiv=]. */
static size_t bracket_end(const char *p, size_t n, size_t i)
{
	i++;
	if (i < n && p[i] == '^')
		i++;
	if (i < n && p[i] == ']')
		i++;
	for (; i < n && p[i] != ']'; i++) {
		if (p[i] == '[' && i + 1 < n &&
		    (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
			char close = p[i + 1];
			for (i += 2; i + 1 < n && !(p[i] == close && p[i + 1] == ']');
			     i++)
				;
			i++;
		}
	}
	return i < n ? i + 1 : n;
}

/* Past a regex atom at p[i] that is not a repetition: an escaped byte, a
 * bracket expression, or one byte. */
static size_t atom_end(const char *p, size_t n, size_t i)
{
	if (p[i] == '\\')
		return i + 2 < n ? i + 2 : n;
	if (p[i] == '[')
		return bracket_end(p, n, i);
	return i + 1;
}

/* The decimal count at p[*i], *i moved past it. It stops growing once
 * over REGEX_COPIES_MAX, so that it cannot overflow (it is refused). */
static long count_at(const char *p, size_t n, size_t *i)
{
	long v = 0;
	for (; *i < n && p[*i] >= '0' && p[*i] <= '9'; ++*i)
		v = v > REGEX_COPIES_MAX ? v : v * 10 + (p[*i] - '0');
	return v;
}

/*
 * The repetition that starts at p[i]: the index after it, and in *copies
 * how many copies of the repeated element glibc's regcomp makes for it
 * (parse_dup_op): "*" and "?" one, "+" two (x x*), "{m}" m, "{m,n}" n,
 * "{m,}" m + 1, at least one. 0 if none starts there. glibc reads "{,n}"
 * as "{0,n}", so '{' then ',' is an interval as '{' then a digit is (any
 * other '{' is an error in regcomp).
 */
static size_t repetition_end(const char *p, size_t n, size_t i, long *copies)
{
	*copies = 1;
	if (p[i] == '*' || p[i] == '?')
		return i + 1;
	if (p[i] == '+') {
		*copies = 2;
		return i + 1;
	}
	if (p[i] != '{' || i + 1 >= n ||
	    !(p[i + 1] == ',' || (p[i + 1] >= '0' && p[i + 1] <= '9')))
		return 0;
	i++;
	long m = count_at(p, n, &i), most = m;
	if (i < n && p[i] == ',') {
		i++;
		most = i < n && p[i] == '}' ? m + 1 : count_at(p, n, &i);
	}
	*copies = most > 1 ? most : 1;
	while (i < n && p[i] != '}')
		i++;
	return i < n ? i + 1 : n;
}

/*
 * A repetition right after another ("a**", "a*+", "a{1,2}{1,2}") is
 * undefined in POSIX ERE, and glibc's regcomp takes time that grows as a
 * power of their number (40 stars: 4 s; 30 stacked {1,2}: minutes; 12
 * stacked {,3}: a crash), a hang the expression fuzzer found. It is
 * refused: the offset of the second one, or -1.
 */
static long stacked_repetition(const char *p, size_t n)
{
	bool after_rep = false;
	for (size_t i = 0; i < n;) {
		long copies;
		size_t end = repetition_end(p, n, i, &copies);
		if (end) {
			if (after_rep)
				return (long)i;
			after_rep = true;
			i = end;
			continue;
		}
		after_rep = false;
		i = atom_end(p, n, i);
	}
	return -1;
}

/*
 * Whether regcomp can take p, else a syntax error at `at`. glibc copies a
 * repeated element once per count and copies of copies through nested
 * groups, so the counts multiply: each level of "(...){1,9}" costs ten
 * times the one inside (measured: 3 levels 0.13 ms, 4 levels 1 ms, 5
 * levels 11 ms, 6 levels 0.12 s, 7 levels 3.5 s). REGEX_COPIES_MAX copies
 * of one byte compile in 0.4 ms ("a{1,1000}"; of '.', 3 ms), and time
 * grows faster than the copies past it. Not bounded here: an element that
 * can match nothing, repeated, costs far more per copy. glibc's parser
 * also recurses once per group (20000 nested groups crash it). One pass:
 * most[d] is the largest product of copies inside the group open at depth
 * d, last that of the element just read.
 */
static bool regex_affordable(struct parser *ps, const char *at,
			     const char *p, size_t n)
{
	long most[REGEX_NEST_MAX + 1], last = 1;
	int depth = 0;
	most[0] = 1;
	for (size_t i = 0; i < n;) {
		long copies;
		size_t end = repetition_end(p, n, i, &copies);
		if (end) {
			last *= copies;
			i = end;
		} else if (p[i] == '(') {
			if (depth == REGEX_NEST_MAX)
				return fail(ps, at, "invalid regex: groups "
					    "nested more than %d deep",
					    REGEX_NEST_MAX);
			most[++depth] = 1;
			last = 1;
			i++;
		} else if (p[i] == ')' && depth > 0) {
			last = most[depth--];
			i++;
		} else {
			last = 1;
			i = atom_end(p, n, i);
		}
		if (last > REGEX_COPIES_MAX)
			return fail(ps, at, "invalid regex: a repetition "
				    "count times those of the groups around "
				    "it is over %d (compiling it would be "
				    "slow)", REGEX_COPIES_MAX);
		if (last > most[depth])
			most[depth] = last;
	}
	return true;
}

/* "=~" STRING: the regex is compiled now, once. */
static bool parse_match(struct parser *ps, const struct opnd *l)
{
	struct tok t;
	struct value v;
	next(ps, &t);
	if (t.kind == T_BADSTR)
		return unexpected(ps, &t);
	if (t.kind != T_STR)
		return fail(ps, t.s, "'=~' needs a string literal on its right");
	take(ps, &t);
	if (!string_lit(ps, &t, &v))
		return false;
	if (memchr(v.s, 0, v.n))
		return fail(ps, t.s, "invalid regex: NUL byte in pattern");
	long at = stacked_repetition(v.s, v.n);
	if (at >= 0)
		return fail(ps, t.s, "invalid regex: '%c' right after a "
			    "repetition (undefined in POSIX ERE; group it: "
			    "(x*)*)", v.s[at]);
	if (!regex_affordable(ps, t.s, v.s, v.n))
		return false;
	char *pat = xrealloc(NULL, v.n + 1);
	memcpy(pat, v.s, v.n);
	pat[v.n] = 0;
	regex_t *re = xrealloc(NULL, sizeof *re);
	int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
	free(pat);
	if (rc) {
		char msg[128];
		regerror(rc, re, msg, sizeof msg);
		free(re);
		return fail(ps, t.s, "invalid regex: %s", msg);
	}
	struct expr *e = ps->e;
	e->re = xrealloc(e->re, (size_t)(e->nre + 1) * sizeof *e->re);
	e->re[e->nre] = re;
	set_src(ps, emit(ps, OP_MATCH, 0, e->nre++, 0), &l->field, 1);
	return true;
}

/* "in" [ ... ]: constants go to a table (so a long list costs no stack);
 * once an element is not a constant, every element is evaluated onto the
 * stack (order does not matter: membership is tested by ==). */
static bool parse_in(struct parser *ps, const struct opnd *l)
{
	struct expr *e = ps->e;
	struct tok t;
	int *ks = NULL, nk = 0, capk = 0, n = 0;
	bool mixed = false, ok = expect(ps, T_LB, "expected '[' after 'in'");
	next(ps, &t);
	while (ok && t.kind != T_RB) {
		struct opnd x;
		if (!(ok = parse_or(ps, &x)))
			break;
		n++;
		if (!mixed && x.isconst) {
			ks = grow(ks, &capk, nk + 1, sizeof *ks);
			ks[nk++] = e->code[--e->ncode].a;
			e->depth--;
		} else if (!mixed) {
			mixed = true;
			for (int i = 0; i < nk; i++)
				emit(ps, OP_CONST, 1, ks[i], 0);
		}
		next(ps, &t);
		if (t.kind == T_COMMA) {
			take(ps, &t);
			next(ps, &t);
			if (t.kind == T_RB)
				ok = fail(ps, t.s, "unexpected ']'");
		} else if (t.kind != T_RB) {
			ok = t.kind == T_BADSTR ? unexpected(ps, &t)
			     : fail(ps, t.s, "expected ',' or ']'");
		}
	}
	if (ok) {
		take(ps, &t);
		int pc, first = e->nk;
		if (mixed) {
			pc = emit(ps, OP_IN, -n, 0, n);
		} else {
			for (int i = 0; i < nk; i++) {
				struct value v = e->k[ks[i]];
				add_const(ps, &v);	/* may move e->k */
			}
			pc = emit(ps, OP_IN_CONST, 0, first, n);
		}
		set_src(ps, pc, &l->field, 1);
	}
	free(ks);
	return ok;
}

static bool is_comparison(enum tok_kind k)
{
	return (k >= T_EQ && k <= T_MATCH) || k == T_IN;
}

static bool parse_cmp(struct parser *ps, struct opnd *o)
{
	struct tok t;
	if (!parse_sum(ps, o))
		return false;
	next(ps, &t);
	if (!is_comparison(t.kind))
		return true;
	take(ps, &t);
	bool ok;
	if (t.kind == T_MATCH) {
		ok = parse_match(ps, o);
	} else if (t.kind == T_IN) {
		ok = parse_in(ps, o);
	} else {
		struct opnd r;
		ok = parse_sum(ps, &r);
		if (ok)
			emit_binary(ps, binary_op(t.kind), o, &r, o);
	}
	*o = (struct opnd){ .isbool = true };
	next(ps, &t);
	if (ok && is_comparison(t.kind))
		return fail(ps, t.s, "comparisons do not chain (use '&&')");
	return ok;
}

static bool parse_not(struct parser *ps, struct opnd *o)
{
	struct tok t;
	next(ps, &t);
	if (t.kind != T_NOT)
		return parse_cmp(ps, o);
	take(ps, &t);
	if (!enter(ps) || !parse_not(ps, o))
		return false;
	ps->nest--;
	emit(ps, OP_NOT, 0, 0, 0);
	*o = (struct opnd){ .isbool = true };
	return true;
}

/* && and || share this: op OP_AND or OP_OR, sub the tighter level. */
static bool parse_logic(struct parser *ps, struct opnd *o, enum op op,
			enum tok_kind kind, bool (*sub)(struct parser *,
							struct opnd *))
{
	if (!sub(ps, o))
		return false;
	for (;;) {
		struct tok t;
		next(ps, &t);
		if (t.kind != kind)
			return true;
		take(ps, &t);
		if (!o->isbool)
			emit(ps, OP_BOOL, 0, 0, 0);
		/* On the jump the left value stays; else it is popped. */
		int j = emit(ps, op, -1, 0, 0);
		struct opnd r;
		if (!sub(ps, &r))
			return false;
		if (!r.isbool)
			emit(ps, OP_BOOL, 0, 0, 0);
		ps->e->code[j].a = ps->e->ncode;
		*o = (struct opnd){ .isbool = true };
	}
}

static bool parse_and(struct parser *ps, struct opnd *o)
{
	return parse_logic(ps, o, OP_AND, T_AND, parse_not);
}

static bool parse_or(struct parser *ps, struct opnd *o)
{
	if (!enter(ps))
		return false;
	bool ok = parse_logic(ps, o, OP_OR, T_OR, parse_and);
	ps->nest--;
	return ok;
}

/*
 * "field == "text"" and "field > 37.5" are most of what filters ask, and
 * the general way (load the field, push the constant, compare two values)
 * costs a fifth of es-filter's time on NDJSON. The OP_LOAD of such a
 * comparison becomes OP_LOAD_EQ or OP_LOAD_ORDER, unless a jump lands
 * between it and the comparison. Where the fast try does not apply (an
 * escaped string, a field of another type) it is the OP_LOAD it was, and
 * the instructions after it run as before: the answers and the errors do
 * not change.
 */
static void fuse(struct expr *e)
{
	bool *target = xrealloc(NULL, (size_t)e->ncode + 1);
	memset(target, 0, (size_t)e->ncode + 1);
	for (int i = 0; i < e->ncode; i++)
		if (e->code[i].op == OP_AND || e->code[i].op == OP_OR)
			target[e->code[i].a] = true;
	for (int i = 0; i + 2 < e->ncode; i++) {
		struct ins *in = &e->code[i];
		enum op cmp = (enum op)in[2].op;
		if (in->op != OP_LOAD || in[1].op != OP_CONST || target[i + 1] ||
		    target[i + 2])
			continue;
		const struct value *k = &e->k[in[1].a];
		struct value num;
		if ((cmp == OP_EQ || cmp == OP_NE) && k->t == V_STRING) {
			in->op = OP_LOAD_EQ;
			/* A CSV cell of these bytes is this string unless they
			 * read as a number or are empty (null). */
			in->fn = k->n && !number_parse(k->s, k->n, &num);
		} else if (cmp >= OP_LT && cmp <= OP_GE && value_is_num(k)) {
			in->op = OP_LOAD_ORDER;
		}
	}
	free(target);
}

struct expr *expr_compile(const char *text, struct fieldset *fs,
			  char *errbuf, size_t errlen, size_t *col)
{
	struct expr *e = xrealloc(NULL, sizeof *e);
	*e = (struct expr){ 0 };
	e->pool = xrealloc(NULL, strlen(text) + 1);
	e->k = grow(NULL, &e->capk, 1, sizeof *e->k);	/* "in []" points here */
	struct parser ps = { .text = text, .p = text, .e = e, .fs = fs,
			     .err = errbuf, .errlen = errlen, .col = col };
	struct tok t;
	struct opnd o;
	next(&ps, &t);
	if (t.kind == T_END)
		fail(&ps, t.s, "empty expression");
	else if (parse_or(&ps, &o)) {
		next(&ps, &t);
		if (t.kind != T_END)
			unexpected(&ps, &t);
	}
	emit(&ps, OP_END, 0, 0, 0);
	if (ps.failed) {
		expr_free(e);
		return NULL;
	}
	fuse(e);
	return e;
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	for (int i = 0; i < e->nre; i++) {
		regfree(e->re[i]);
		free(e->re[i]);
	}
	for (int i = 0; i < e->ntexts; i++)
		free(e->texts[i]);
	free(e->re);
	free(e->texts);
	free(e->code);
	free(e->k);
	free(e->src);
	free(e->pool);
	free(e);
}

/* ---- evaluation ---- */

bool expr_truthy(const struct value *v)
{
	return v->t == V_BOOL ? v->u.b : v->t > V_NULL;
}

static void set_null(struct value *v)
{
	*v = (struct value){ .t = V_NULL };
}

static void set_bool(struct value *v, bool b)
{
	*v = (struct value){ .t = V_BOOL, .u.b = b };
}

static void set_int(struct value *v, int64_t i)
{
	*v = (struct value){ .t = V_INT, .u.i = i };
}

/* A computed double: not finite (overflow, 0/0) gives null, as JSON has no
 * such numbers. */
static void set_double(struct value *v, double d)
{
	if (!isfinite(d))
		set_null(v);
	else
		*v = (struct value){ .t = V_DOUBLE, .u.d = d };
}

static bool is_null(const struct value *v)
{
	return v->t <= V_NULL;
}

/* Exact comparison of an int64 with a double (no rounding of the int). */
static int int_dbl_cmp(int64_t i, double d)
{
	if (d != d)
		return 1;
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	int64_t t = (int64_t)d;		/* exact: |d| < 2^63 */
	if (i != t)
		return i < t ? -1 : 1;
	double frac = d - (double)t;
	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

static int num_cmp(const struct value *a, const struct value *b)
{
	if (a->t == V_INT && b->t == V_INT)
		return (a->u.i > b->u.i) - (a->u.i < b->u.i);
	if (a->t == V_DOUBLE && b->t == V_DOUBLE)
		return (a->u.d > b->u.d) - (a->u.d < b->u.d);
	if (a->t == V_INT)
		return int_dbl_cmp(a->u.i, b->u.d);
	return -int_dbl_cmp(b->u.i, a->u.d);
}

static int str_cmp(const struct value *a, const struct value *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	int c = n ? memcmp(a->s, b->s, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return (a->n > b->n) - (a->n < b->n);
}

/* ==: null and missing equal each other; otherwise types must agree
 * (numbers compare by value); objects and arrays by their JSON text. */
static bool values_equal(const struct value *a, const struct value *b)
{
	if (a->t == V_STRING && b->t == V_STRING)
		return swar_equal(a->s, a->n, b->s, b->n);
	if (is_null(a) || is_null(b))
		return is_null(a) && is_null(b);
	if (value_is_num(a) && value_is_num(b))
		return num_cmp(a, b) == 0;
	if (a->t != b->t)
		return false;
	if (a->t == V_BOOL)
		return a->u.b == b->u.b;
	return swar_equal(a->s, a->n, b->s, b->n);
}

/* What a data error reports: which operand, and what was wanted. */
struct bad {
	int arg;
	const char *need;
};

/* < <= > >=: 0 with *c set; 1 if an operand is null (false); -1 with *bad
 * set on a type mismatch. Strings order bytewise. */
static int order(const struct value *a, const struct value *b, int *c,
		 struct bad *bad)
{
	if (is_null(a) || is_null(b))
		return 1;
	bool an = value_is_num(a), bn = value_is_num(b);
	if (an && bn) {
		*c = num_cmp(a, b);
		return 0;
	}
	if (a->t == V_STRING && b->t == V_STRING) {
		*c = str_cmp(a, b);
		return 0;
	}
	/* Blame the operand that does not fit the other. */
	if (an || bn)
		*bad = (struct bad){ an ? 1 : 0, "a number" };
	else if (a->t == V_STRING || b->t == V_STRING)
		*bad = (struct bad){ a->t == V_STRING ? 1 : 0, "a string" };
	else
		*bad = (struct bad){ 0, "a number" };
	return -1;
}

static bool order_holds(enum op op, int c)
{
	switch (op) {
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	default: return c >= 0;
	}
}

static void int_arith(enum op op, struct value *a, int64_t x, int64_t y)
{
	int64_t r;
	bool ovf;
	switch (op) {
	case OP_ADD: ovf = __builtin_add_overflow(x, y, &r); break;
	case OP_SUB: ovf = __builtin_sub_overflow(x, y, &r); break;
	case OP_MUL: ovf = __builtin_mul_overflow(x, y, &r); break;
	case OP_DIV:
		if (y == 0)
			set_null(a);
		else
			set_double(a, (double)x / (double)y);
		return;
	default:		/* OP_MOD; INT64_MIN % -1 traps in C */
		if (y == 0)
			set_null(a);
		else
			set_int(a, y == -1 ? 0 : x % y);
		return;
	}
	if (!ovf) {
		set_int(a, r);
		return;
	}
	double dx = (double)x, dy = (double)y;
	set_double(a, op == OP_ADD ? dx + dy : op == OP_SUB ? dx - dy : dx * dy);
}

static void dbl_arith(enum op op, struct value *a, double x, double y)
{
	switch (op) {
	case OP_ADD: set_double(a, x + y); break;
	case OP_SUB: set_double(a, x - y); break;
	case OP_MUL: set_double(a, x * y); break;
	case OP_DIV:
		if (y == 0)
			set_null(a);
		else
			set_double(a, x / y);
		break;
	default:
		if (y == 0)
			set_null(a);
		else
			set_double(a, fmod(x, y));
		break;
	}
}

static void concat(struct value *a, const struct value *b, struct scratch *sc)
{
	char *p = scratch_alloc(sc, a->n + b->n);
	if (a->n)
		memcpy(p, a->s, a->n);
	if (b->n)
		memcpy(p + a->n, b->s, b->n);
	*a = (struct value){ .t = V_STRING, .s = p, .n = a->n + b->n };
}

/* + - * / %: the result replaces *a. Returns -1 with *bad on a type error. */
static int arith(enum op op, struct value *a, const struct value *b,
		 struct scratch *sc, struct bad *bad)
{
	if (is_null(a) || is_null(b)) {
		set_null(a);
		return 0;
	}
	if (a->t == V_INT && b->t == V_INT) {
		int_arith(op, a, a->u.i, b->u.i);
		return 0;
	}
	if (value_is_num(a) && value_is_num(b)) {
		dbl_arith(op, a, value_num(a), value_num(b));
		return 0;
	}
	if (op == OP_ADD && a->t == V_STRING && b->t == V_STRING) {
		concat(a, b, sc);
		return 0;
	}
	*bad = (struct bad){ value_is_num(a) ? 1 : 0, "a number" };
	return -1;
}

static int negate(struct value *v, struct bad *bad)
{
	if (is_null(v))
		set_null(v);
	else if (v->t == V_INT && v->u.i != INT64_MIN)
		set_int(v, -v->u.i);
	else if (value_is_num(v))
		set_double(v, -value_num(v));
	else {
		*bad = (struct bad){ 0, "a number" };
		return -1;
	}
	return 0;
}

/* Text of a number: as it was written if it came from input or a literal,
 * else the shortest form that reads back as the same double. */
static size_t num_text(const struct value *v, char *buf, size_t cap,
		       const char **s)
{
	if (v->s) {
		*s = v->s;
		return v->n;
	}
	int n;
	if (v->t == V_INT) {
		n = snprintf(buf, cap, "%" PRId64, v->u.i);
	} else {
		for (int prec = 15;; prec++) {
			n = snprintf(buf, cap, "%.*g", prec, v->u.d);
			if (prec == 17 || strtod(buf, NULL) == v->u.d)
				break;
		}
	}
	*s = buf;
	return (size_t)n;
}

static bool match(const regex_t *re, const struct value *v,
		  struct scratch *sc)
{
	char buf[40];
	const char *s;
	size_t n;
	if (v->t == V_STRING) {
		s = v->s;
		n = v->n;
	} else if (value_is_num(v)) {
		n = num_text(v, buf, sizeof buf, &s);
	} else {
		return false;
	}
	char *z = scratch_alloc(sc, n + 1);	/* regexec wants a C string */
	if (n)
		memcpy(z, s, n);
	z[n] = 0;
	return regexec(re, z, 0, NULL, 0) == 0;
}

static bool raw_is_object(const struct value *v)
{
	size_t i = 0;
	while (i < v->n && (v->s[i] == ' ' || v->s[i] == '\t' ||
			    v->s[i] == '\n' || v->s[i] == '\r'))
		i++;
	return i < v->n && v->s[i] == '{';
}

/* Members of an object or elements of an array, from its (valid) JSON
 * text: the commas at the top level, skipping strings and nested values. */
static int64_t raw_count(const char *s, size_t n)
{
	int depth = -1;
	int64_t commas = 0;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				i += s[i] == '\\';
			any = true;
		} else if (c == '{' || c == '[') {
			any |= depth >= 0;
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth < 0)
				break;
		} else if (c == ',') {
			commas += depth == 0;
		} else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			any = true;
		}
	}
	return any ? commas + 1 : 0;
}

static int64_t utf8_count(const char *s, size_t n)
{
	int64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

/* round, floor, ceil: an int when the result fits one. */
static void set_integral(struct value *v, double d)
{
	if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
		set_int(v, (int64_t)d);
	else
		set_double(v, d);
}

static int fn_numeric(enum fn fn, struct value *v, struct bad *bad)
{
	if (is_null(v)) {
		set_null(v);
		return 0;
	}
	if (!value_is_num(v)) {
		*bad = (struct bad){ 0, "a number" };
		return -1;
	}
	if (fn == FN_ABS) {
		if (v->t == V_INT && v->u.i < 0)
			return negate(v, bad);
		if (v->t == V_DOUBLE)
			set_double(v, fabs(v->u.d));
	} else if (v->t == V_DOUBLE) {
		double d = v->u.d;
		set_integral(v, fn == FN_ROUND ? round(d)
				: fn == FN_FLOOR ? floor(d) : ceil(d));
	}
	v->s = NULL;
	return 0;
}

/* min, max: nulls are skipped; null if every argument is null. */
static int fn_minmax(enum fn fn, struct value *arg, int argc, struct bad *bad)
{
	int best = -1;
	for (int i = 0; i < argc; i++) {
		if (is_null(&arg[i]))
			continue;
		if (!value_is_num(&arg[i])) {
			*bad = (struct bad){ i, "a number" };
			return -1;
		}
		int c = best < 0 ? 0 : num_cmp(&arg[i], &arg[best]);
		if (best < 0 || (fn == FN_MIN ? c < 0 : c > 0))
			best = i;
	}
	if (best < 0)
		set_null(&arg[0]);
	else
		arg[0] = arg[best];
	return 0;
}

static int fn_len(struct value *v, struct bad *bad)
{
	if (is_null(v))
		set_null(v);
	else if (v->t == V_STRING)
		set_int(v, utf8_count(v->s, v->n));
	else if (v->t == V_RAW)
		set_int(v, raw_count(v->s, v->n));
	else {
		*bad = (struct bad){ 0, "a string, an object or an array" };
		return -1;
	}
	return 0;
}

static int fn_case(enum fn fn, struct value *v, struct scratch *sc,
		   struct bad *bad)
{
	if (is_null(v)) {
		set_null(v);
		return 0;
	}
	if (v->t != V_STRING) {
		*bad = (struct bad){ 0, "a string" };
		return -1;
	}
	char *p = scratch_alloc(sc, v->n);
	for (size_t i = 0; i < v->n; i++) {
		char c = v->s[i];
		if (fn == FN_LOWER && c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		else if (fn == FN_UPPER && c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		p[i] = c;
	}
	v->s = p;
	return 0;
}

/* starts_with, ends_with, contains */
static int fn_substr(enum fn fn, struct value *arg, struct bad *bad)
{
	struct value *a = &arg[0], *b = &arg[1];
	for (int i = 0; i < 2; i++)
		if (!is_null(&arg[i]) && arg[i].t != V_STRING) {
			*bad = (struct bad){ i, "a string" };
			return -1;
		}
	if (is_null(a) || is_null(b)) {
		set_null(a);
		return 0;
	}
	bool r;
	if (b->n > a->n)
		r = false;
	else if (b->n == 0)
		r = true;
	else if (fn == FN_STARTS_WITH)
		r = !memcmp(a->s, b->s, b->n);
	else if (fn == FN_ENDS_WITH)
		r = !memcmp(a->s + a->n - b->n, b->s, b->n);
	else
		r = memmem(a->s, a->n, b->s, b->n) != NULL;
	set_bool(a, r);
	return 0;
}

static void fn_num(struct value *v)
{
	if (v->t == V_STRING) {
		if (!number_parse(v->s, v->n, v))
			set_null(v);
	} else if (!value_is_num(v)) {
		set_null(v);
	}
}

static void fn_str(struct value *v, struct scratch *sc)
{
	if (value_is_num(v)) {
		char buf[40];
		const char *s;
		size_t n = num_text(v, buf, sizeof buf, &s);
		if (s == buf)
			s = memcpy(scratch_alloc(sc, n), buf, n);
		*v = (struct value){ .t = V_STRING, .s = s, .n = n };
	} else if (v->t == V_BOOL) {
		const char *s = v->u.b ? "true" : "false";
		*v = (struct value){ .t = V_STRING, .s = s, .n = strlen(s) };
	} else if (v->t == V_RAW) {
		v->t = V_STRING;
	} else if (v->t != V_STRING) {
		set_null(v);
	}
}

/* replace(s, old, new): every old in s, left to right, made new (bytes,
 * not overlapping); an empty old changes nothing. Decimal commas of
 * European exports are num(replace(x, ",", ".")). */
static int fn_replace(struct value *arg, struct scratch *sc, struct bad *bad)
{
	for (int i = 0; i < 3; i++)
		if (!is_null(&arg[i]) && arg[i].t != V_STRING) {
			*bad = (struct bad){ i, "a string" };
			return -1;
		}
	if (is_null(&arg[0]) || is_null(&arg[1]) || is_null(&arg[2])) {
		set_null(&arg[0]);
		return 0;
	}
	const struct value *a = &arg[0], *from = &arg[1], *to = &arg[2];
	if (!from->n)
		return 0;
	size_t hits = 0;
	for (const char *p = a->s, *end = a->s + a->n;
	     (p = memmem(p, (size_t)(end - p), from->s, from->n)); p += from->n)
		hits++;
	if (!hits)
		return 0;
	size_t n = a->n - hits * from->n + hits * to->n;
	char *o = scratch_alloc(sc, n ? n : 1), *w = o;
	const char *p = a->s, *end = a->s + a->n, *q;
	while ((q = memmem(p, (size_t)(end - p), from->s, from->n))) {
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		memcpy(w, to->s, to->n);
		w += to->n;
		p = q + from->n;
	}
	memcpy(w, p, (size_t)(end - p));
	arg[0] = (struct value){ .t = V_STRING, .s = o, .n = n };
	return 0;
}

/* Calls fn on arg[0..argc); the result replaces arg[0]. */
static int call(enum fn fn, struct value *arg, int argc, struct scratch *sc,
		struct bad *bad)
{
	switch (fn) {
	case FN_ABS: case FN_ROUND: case FN_FLOOR: case FN_CEIL:
		return fn_numeric(fn, arg, bad);
	case FN_MIN: case FN_MAX:
		return fn_minmax(fn, arg, argc, bad);
	case FN_LEN:
		return fn_len(arg, bad);
	case FN_LOWER: case FN_UPPER:
		return fn_case(fn, arg, sc, bad);
	case FN_STARTS_WITH: case FN_ENDS_WITH: case FN_CONTAINS:
		return fn_substr(fn, arg, bad);
	case FN_NUM:
		fn_num(arg);
		return 0;
	case FN_IF:	/* both branches were evaluated: no jumps needed */
		if (!expr_truthy(&arg[0]))
			arg[0] = arg[2];
		else
			arg[0] = arg[1];
		return 0;
	case FN_STR:
		fn_str(arg, sc);
		return 0;
	case FN_REPLACE:
		return fn_replace(arg, sc, bad);
	default:
		return 0;
	}
}

static const char *type_name(const struct value *v)
{
	switch (v->t) {
	case V_BOOL: return "a boolean";
	case V_INT: case V_DOUBLE: return "a number";
	case V_STRING: return "a string";
	case V_RAW: return raw_is_object(v) ? "an object" : "an array";
	default: return "null";
	}
}

/*
 * The message of a data error. An operand read straight from a field is
 * named by its path: "field 'value' is a string, a number is needed";
 * otherwise the operator is: "string where a number is needed in '<'".
 * Functions say "in abs()" in both forms.
 */
static int type_error(const struct expr *e, const struct ins *in,
		      const struct bad *bad, const struct value *v,
		      char *errbuf, size_t errlen)
{
	const char *field = in->src >= 0 ? e->src[in->src + bad->arg] : NULL;
	const char *tn = type_name(v);
	char where[32];
	if (in->op == OP_CALL)
		snprintf(where, sizeof where, "%s()", fns[in->fn].name);
	else
		snprintf(where, sizeof where, "'%s'", op_text[in->op]);
	if (field && in->op == OP_CALL)
		snprintf(errbuf, errlen, "field '%s' is %s, %s is needed in %s",
			 field, tn, bad->need, where);
	else if (field)
		snprintf(errbuf, errlen, "field '%s' is %s, %s is needed",
			 field, tn, bad->need);
	else
		snprintf(errbuf, errlen, "%s where %s is needed in %s",
			 strchr(tn, ' ') ? strchr(tn, ' ') + 1 : tn, bad->need,
			 where);
	return -1;
}

static bool in_list(const struct value *x, const struct value *list, int n)
{
	for (int i = 0; i < n; i++)
		if (values_equal(x, &list[i]))
			return true;
	return false;
}

/* OP_LOAD_EQ: the field (a JSON string without escapes, or a CSV cell when
 * in->fn says its text decides) equals the constant; -1 if that does not
 * apply. */
static int load_eq(const struct ins *in, const struct span *sp,
		   const struct value *k)
{
	if (sp->kind == SPAN_JSTRING && !sp->escaped)
		return swar_equal(sp->p + 1, sp->n - 2, k->s, k->n);
	if (sp->kind == SPAN_CSV && in->fn)
		return swar_equal(sp->p, sp->n, k->s, k->n);
	return -1;
}

/* OP_LOAD_ORDER: the order of the field (a number) and the constant, into
 * *c; false if the field is not a number. */
static bool load_order(const struct span *sp, const struct value *k, int *c)
{
	struct value v;
	if ((sp->kind != SPAN_JNUMBER && sp->kind != SPAN_CSV) ||
	    !number_parse(sp->p, sp->n, &v))
		return false;
	*c = num_cmp(&v, k);
	return true;
}

/* Runs e on stack; the result is *top. */
static int run(const struct expr *e, const struct span *slots,
	       struct scratch *sc, struct value *stack,
	       const struct value **top, char *errbuf, size_t errlen)
{
	struct value *sp = stack;	/* the next free entry */
	struct bad bad;
	int c, r;
	for (const struct ins *in = e->code;; in++) {
		switch ((enum op)in->op) {
		case OP_LOAD_EQ:
			r = load_eq(in, &slots[in->a], &e->k[in[1].a]);
			if (r >= 0) {
				set_bool(sp++, r == (in[2].op == OP_EQ));
				in += 2;
				break;
			}
			goto load;
		case OP_LOAD_ORDER:
			if (load_order(&slots[in->a], &e->k[in[1].a], &c)) {
				set_bool(sp++, order_holds(in[2].op, c));
				in += 2;
				break;
			}
			goto load;
		case OP_LOAD:
		load:
			if (value_load(&slots[in->a], sp++, sc) < 0) {
				snprintf(errbuf, errlen, "field '%s' is malformed",
					 e->src[in->src]);
				return -1;
			}
			break;
		case OP_CONST:
			*sp++ = e->k[in->a];
			break;
		case OP_EXISTS:
			set_bool(sp++, slots[in->a].kind != SPAN_MISSING);
			break;
		case OP_EQ:
		case OP_NE:
			sp--;
			set_bool(&sp[-1], values_equal(&sp[-1], sp) ==
					  (in->op == OP_EQ));
			break;
		case OP_LT: case OP_LE: case OP_GT: case OP_GE:
			sp--;
			r = order(&sp[-1], sp, &c, &bad);
			if (r < 0)
				return type_error(e, in, &bad, &sp[bad.arg - 1],
						  errbuf, errlen);
			set_bool(&sp[-1], r == 0 && order_holds(in->op, c));
			break;
		case OP_MATCH:
			set_bool(&sp[-1], match(e->re[in->a], &sp[-1], sc));
			break;
		case OP_IN:
			sp -= in->b;
			set_bool(&sp[-1], in_list(&sp[-1], sp, in->b));
			break;
		case OP_IN_CONST:
			set_bool(&sp[-1], in_list(&sp[-1], &e->k[in->a], in->b));
			break;
		case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD:
			sp--;
			if (arith(in->op, &sp[-1], sp, sc, &bad) < 0)
				return type_error(e, in, &bad, &sp[bad.arg - 1],
						  errbuf, errlen);
			break;
		case OP_NEG:
			if (negate(&sp[-1], &bad) < 0)
				return type_error(e, in, &bad, &sp[-1], errbuf,
						  errlen);
			break;
		case OP_NOT:
			set_bool(&sp[-1], !expr_truthy(&sp[-1]));
			break;
		case OP_BOOL:
			set_bool(&sp[-1], expr_truthy(&sp[-1]));
			break;
		case OP_AND:
		case OP_OR:
			/* Short cut: the left value (a bool) is the result. */
			if (sp[-1].u.b == (in->op == OP_OR))
				in = e->code + in->a - 1;
			else
				sp--;
			break;
		case OP_CALL:
			sp -= in->b;
			if (call(in->fn, sp, in->b, sc, &bad) < 0)
				return type_error(e, in, &bad, &sp[bad.arg],
						  errbuf, errlen);
			sp++;
			break;
		case OP_END:
			*top = &sp[-1];
			return 0;
		}
	}
}

int expr_eval(const struct expr *e, const struct span *slots,
	      struct scratch *sc, struct value *out, char *errbuf,
	      size_t errlen)
{
	struct value stack[STACK_MAX + 1];
	const struct value *top;
	int r = run(e, slots, sc, stack, &top, errbuf, errlen);
	if (r == 0)
		*out = *top;
	return r;
}

/* The result is not copied: a value just written a member at a time and
 * read back whole waits for the stores (about 3% of es-filter's time). */
int expr_test(const struct expr *e, const struct span *slots,
	      struct scratch *sc, bool *truth, char *errbuf, size_t errlen)
{
	struct value stack[STACK_MAX + 1];
	const struct value *top;
	int r = run(e, slots, sc, stack, &top, errbuf, errlen);
	if (r == 0)
		*truth = expr_truthy(top);
	return r;
}
