/* json.c - strict, zero-copy NDJSON scanning: validate a line, find fields
 *
 * One pass over the line both validates it (RFC 8259, UTF-8 included) and
 * records where the wanted fields sit. Nothing is copied or allocated: a
 * field is a span into the line, typed later only if somebody asks.
 * The nesting is tracked with an explicit stack, so hostile depth cannot
 * overflow the C stack; it is capped at JSON_MAX_DEPTH like jansson.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fieldset.h"
#include "json.h"
#include "jsonslot.h"
#include "mem.h"
#include "out.h"
#include "scan.h"
#include "swar.h"
#include "utf8.h"

/* ---- character classes ---- */

/* Bytes a string scan must stop at: quote, backslash, control, non-ASCII. */
static unsigned char str_stop[256];
static unsigned char is_ws[256];
static unsigned char is_digit[256];

__attribute__((constructor)) static void tables_init(void)
{
	for (int c = 0; c < 256; c++) {
		str_stop[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
		is_digit[c] = c >= '0' && c <= '9';
	}
	is_ws[' '] = is_ws['\t'] = is_ws['\n'] = is_ws['\r'] = 1;
}

/* ---- the scanner ---- */

struct scan {
	const unsigned char *p, *end, *line;
	const struct fieldset *fs;
	struct json_scan *out;
	const char *err;
};

static int fail(struct scan *s, const char *msg)
{
	s->err = msg;
	return -1;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && is_ws[*s->p])
		s->p++;
}

/* The bytes of a word that end a string's plain run: '"', '\\', a control
 * byte, a non-ASCII byte (the classic "has a zero byte" bit tricks). */
static inline uint64_t string_stops(uint64_t x)
{
	uint64_t q = x ^ (SWAR_ONES * '"'), b = x ^ (SWAR_ONES * '\\');
	return (((q - SWAR_ONES) & ~q) | ((b - SWAR_ONES) & ~b) |
		((x - SWAR_ONES * 0x20) & ~x) | x) & SWAR_HIGHS;
}

static inline bool string_plain(unsigned c)
{
	return !str_stop[c];
}

/* Skips the bytes of a string that need no attention, eight at a time. */
static const unsigned char *skip_plain(const unsigned char *p,
				       const unsigned char *end)
{
	return swar_skip(p, end, string_stops, string_plain);
}

/* Scans a string at s->p (on its opening quote); sets *escaped. */
static int scan_string(struct scan *s, bool *escaped)
{
	const unsigned char *p = s->p + 1, *end = s->end;
	*escaped = false;
	for (;;) {
		p = skip_plain(p, end);
		if (p == end) {
			s->p = p;
			return fail(s, "unterminated string");
		}
		unsigned c = *p;
		if (c == '"') {
			s->p = p + 1;
			return 0;
		}
		if (c == '\\') {
			*escaped = true;
			if (p + 1 == end) {
				s->p = p;
				return fail(s, "unterminated string");
			}
			unsigned e = p[1];
			if (e == 'u') {
				if (end - p < 6 ||
				    utf8_hex4((const char *)p + 2) < 0) {
					s->p = p;
					return fail(s, "invalid \\u escape");
				}
				p += 6;
			} else if (e == '"' || e == '\\' || e == '/' || e == 'b' ||
				   e == 'f' || e == 'n' || e == 'r' || e == 't') {
				p += 2;
			} else {
				s->p = p;
				return fail(s, "invalid escape");
			}
		} else if (c < 0x20) {
			s->p = p;
			return fail(s, "control character in string");
		} else {
			size_t l = utf8_seq(p, end);
			if (!l) {
				s->p = p;
				return fail(s, "invalid UTF-8");
			}
			p += l;
		}
	}
}

static int scan_number(struct scan *s)
{
	const unsigned char *p = s->p, *end = s->end;
	if (*p == '-')
		p++;
	if (p == end || !is_digit[*p])
		goto bad;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit[*p])
			p++;
	if (p < end && *p == '.') {
		p++;
		if (p == end || !is_digit[*p])
			goto bad;
		while (p < end && is_digit[*p])
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit[*p])
			goto bad;
		while (p < end && is_digit[*p])
			p++;
	}
	s->p = p;
	return 0;
bad:
	s->p = p;
	return fail(s, "invalid number");
}

static int scan_literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return fail(s, "invalid literal");
	s->p += n;
	return 0;
}

/* A value ended: file it where the enclosing container says it is wanted. */
static void value_done(struct scan *s, struct frame *f, enum span_kind kind,
		       const unsigned char *start, bool escaped)
{
	struct span sp = {
		(const char *)start, (size_t)(s->p - start), kind, escaped
	};
	jsonslot_file(s->out, s->fs, f, &sp);
}

/* Reads one value at s->p for the container on top of the stack; pushes a
 * frame for an object or array. Returns 1 if it pushed, 0 if a scalar was
 * read, -1 on error. */
static int scan_value(struct scan *s, int *depth)
{
	struct frame *f = &jsonslot_stack[*depth];
	const unsigned char *start = s->p;
	bool esc = false;
	enum span_kind kind;
	if (s->p == s->end)
		return fail(s, "unexpected end of line");
	switch (*s->p) {
	case '{':
	case '[':
		if (*depth + 1 == JSON_MAX_DEPTH)
			return fail(s, "nesting deeper than 2048 levels");
		f->vstart = (const char *)start;
		struct frame *c = &jsonslot_stack[++*depth];
		c->type = (char)*s->p;
		c->node = f->vnode;
		c->index = 0;
		c->vnode = NULL;
		s->p++;
		return 1;
	case '"':
		if (scan_string(s, &esc))
			return -1;
		kind = SPAN_JSTRING;
		break;
	case 't':
		if (scan_literal(s, "true", 4))
			return -1;
		kind = SPAN_JTRUE;
		break;
	case 'f':
		if (scan_literal(s, "false", 5))
			return -1;
		kind = SPAN_JFALSE;
		break;
	case 'n':
		if (scan_literal(s, "null", 4))
			return -1;
		kind = SPAN_JNULL;
		break;
	default:
		if (*s->p != '-' && !is_digit[*s->p])
			return fail(s, "unexpected character");
		if (scan_number(s))
			return -1;
		kind = SPAN_JNUMBER;
	}
	value_done(s, f, kind, start, esc);
	return 0;
}

/* Reads "key": in the object on top of the stack, leaving s->p at the value. */
static int scan_key(struct scan *s, struct frame *f)
{
	skip_ws(s);
	if (s->p == s->end)
		return fail(s, "unexpected end of line");
	if (*s->p != '"')
		return fail(s, "expected a string key");
	const unsigned char *k = s->p;
	bool esc;
	if (scan_string(s, &esc))
		return -1;
	f->key = (struct span){ (const char *)k, (size_t)(s->p - k),
				SPAN_JSTRING, esc };
	f->vnode = jsonslot_key(f->node, &f->key);
	jsonslot_forget(s->out, f->vnode);
	skip_ws(s);
	if (s->p == s->end || *s->p != ':')
		return fail(s, s->p == s->end ? "unexpected end of line"
					      : "expected ':' after a key");
	s->p++;
	skip_ws(s);
	return 0;
}

/* Reads the first element of a container just opened; 1 if it was empty. */
static int container_open(struct scan *s, struct frame *f)
{
	skip_ws(s);
	char close = f->type == '{' ? '}' : ']';
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 1;
	}
	if (f->type == '{')
		return scan_key(s, f);
	f->vnode = jsonslot_index(f->node, 0);
	return 0;
}

int json_scan_scalar(const char *line, size_t n, const struct fieldset *fs,
		     struct json_scan *sc, const char **err, size_t *col)
{
	struct scan s = {
		(const unsigned char *)line, (const unsigned char *)line + n,
		(const unsigned char *)line, fs, sc, NULL
	};
	int nslots = fs->npaths;
	for (int i = 0; i < nslots; i++)
		sc->slots[i].kind = SPAN_MISSING;
	sc->nmembers = 0;

	skip_ws(&s);
	if (s.p == s.end || *s.p != '{') {
		*err = "not a JSON object";
		*col = (size_t)(s.p - s.line);
		return -2;
	}
	int depth = 0;
	jsonslot_stack[0] = (struct frame){ '{', &fs->root, 0, NULL, NULL, { 0 } };
	s.p++;
	enum { NEED_VALUE, AFTER_VALUE, CLOSED } st;
	int r = container_open(&s, &jsonslot_stack[0]);
	if (r < 0)
		goto error;
	st = r == 1 ? CLOSED : NEED_VALUE;
	for (;;) {
		struct frame *t = &jsonslot_stack[depth];
		if (st == NEED_VALUE) {
			r = scan_value(&s, &depth);
			if (r < 0)
				goto error;
			st = AFTER_VALUE;
			if (r == 1) {
				r = container_open(&s, &jsonslot_stack[depth]);
				if (r < 0)
					goto error;
				st = r == 1 ? CLOSED : NEED_VALUE;
			}
		} else if (st == CLOSED) {
			/* t just closed: file it with its parent. */
			if (depth == 0)
				break;
			const unsigned char *start =
				(const unsigned char *)jsonslot_stack[depth - 1].vstart;
			enum span_kind k = t->type == '{' ? SPAN_JOBJECT : SPAN_JARRAY;
			depth--;
			value_done(&s, &jsonslot_stack[depth], k, start, false);
			st = AFTER_VALUE;
		} else {
			skip_ws(&s);
			if (s.p == s.end) {
				s.err = "unexpected end of line";
				goto error;
			}
			if (*s.p == (t->type == '{' ? '}' : ']')) {
				s.p++;
				st = CLOSED;
				continue;
			}
			if (*s.p != ',') {
				s.err = t->type == '{' ? "expected ',' or '}'"
						       : "expected ',' or ']'";
				goto error;
			}
			s.p++;
			if (t->type == '{') {
				if (scan_key(&s, t))
					goto error;
			} else {
				skip_ws(&s);
				t->index++;
				t->vnode = jsonslot_index(t->node, t->index);
			}
			st = NEED_VALUE;
		}
	}
	skip_ws(&s);
	if (s.p != s.end) {
		s.err = "trailing characters after the object";
		goto error;
	}
	return 0;
error:
	*err = s.err;
	*col = (size_t)(s.p - s.line);
	return -1;
}

/* The SIMD path says yes or no; a no is said again by the scalar scanner,
 * which names the problem and its column. */
int json_scan_line(const char *line, size_t n, const struct fieldset *fs,
		   struct json_scan *sc, const char **err, size_t *col)
{
	enum scan_path path = scan_path();
	if (path != SCAN_SCALAR && scan_line(path, line, n, fs, sc) == 0)
		return 0;
	return json_scan_scalar(line, n, fs, sc, err, col);
}

/* ---- strings in and out ---- */

char json_escape_char(char c)
{
	switch (c) {
	case '"': case '\\': case '/': return c;
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	default: return 0;
	}
}

size_t json_unescape(const struct span *sp, char *out)
{
	const unsigned char *p = (const unsigned char *)sp->p + 1;
	const unsigned char *end = (const unsigned char *)sp->p + sp->n - 1;
	char *o = out;
	while (p < end) {
		if (*p != '\\') {
			*o++ = (char)*p++;
			continue;
		}
		unsigned e = p[1];
		p += 2;
		if (e != 'u') {
			*o++ = json_escape_char((char)e);
			continue;
		}
		unsigned long cp = (unsigned long)utf8_hex4((const char *)p);
		p += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 &&
		    p[0] == '\\' && p[1] == 'u') {
			unsigned long lo =
				(unsigned long)utf8_hex4((const char *)p + 2);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
				p += 6;
			}
		}
		/* A lone surrogate has no UTF-8 form: U+FFFD. */
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xFFFD;
		o += utf8_encode(o, (uint32_t)cp);
	}
	return (size_t)(o - out);
}

/* The bytes a JSON string must escape: control bytes, '"' and '\\' (the
 * control test may flag a byte above a true one: swar_skip's rule). */
static inline uint64_t escape_bytes(uint64_t x)
{
	uint64_t ctrl = (x - SWAR_ONES * 0x20) & ~x & SWAR_HIGHS;
	return ctrl | swar_zero_bytes(x ^ SWAR_ONES * '"') |
	       swar_zero_bytes(x ^ SWAR_ONES * '\\');
}

static inline bool plain_byte(unsigned c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

void json_write_string(struct outbuf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t plain = (size_t)(swar_skip(u, u + n, escape_bytes, plain_byte) - u);
	if (plain == n && o->cap - o->len >= n + 2) {
		/* nothing to escape (field names, most values): one copy, not
		 * a test and a branch a byte */
		char *b = o->buf + o->len;
		b[0] = '"';
		memcpy(b + 1, s, n);
		b[n + 1] = '"';
		o->len += n + 2;
		return;
	}
	out_putc(o, '"');
	size_t run = 0;
	for (size_t i = plain; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (plain_byte(c))
			continue;
		out_put(o, s + run, i - run);
		run = i + 1;
		char esc[6] = { '\\', 0 };
		size_t en = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			en = 6;
		}
		out_put(o, esc, en);
	}
	out_put(o, s + run, n - run);
	out_putc(o, '"');
}

bool json_splice_at(const char *p, size_t n, size_t *cut, size_t *end)
{
	size_t e = n;
	while (e > 0 && p[e - 1] != '}')
		e--;
	if (e == 0)
		return false;
	size_t c = e - 1;
	while (c > 0 && strchr(" \t\r\n", p[c - 1]))
		c--;
	*cut = c;
	*end = e - 1;
	return true;
}
