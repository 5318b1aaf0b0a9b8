/* scan.c - the SIMD path of the NDJSON scanner: the walk, and the choice
 *
 * What SIMD does best here (after Langdale and Lemire, "Parsing Gigabytes
 * of JSON per Second") is the inside of strings, where most bytes are: the
 * kernel of the instruction set (scan_*.c) classifies each 64-byte block
 * into bit masks of quotes, backslashes, control and non-ASCII bytes, and
 * the bit logic here, the same for every kernel, drops the escaped quotes
 * (checking each escape) and, when a block has a control byte, finds by a
 * prefix XOR of the quotes whether it is inside a string (an error there).
 * A line with any byte >= 0x80 has its UTF-8 validated in bulk at the end.
 *
 * The walk then reads the grammar byte by byte outside strings (where
 * NDJSON has few bytes: punctuation, numbers, literals, little
 * whitespace), and jumps over each string to its closing quote, the next
 * one in the masks. The blocks are classified as the walk reaches them,
 * so a 16 MiB line needs no more memory than a short one. Values are filed
 * as json.c's scanner files them (jsonslot.h); a member nobody wants is
 * checked by the same walk, never decoded.
 */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jsonslot.h"
#include "scan.h"
#include "swar.h"
#include "utf8.h"

/* ---- the choice of path ---- */

static const char *const names[SCAN_NPATHS] = {
	"scalar", "sse2", "avx2", "neon"
};

const char *scan_path_name(enum scan_path p)
{
	return p < SCAN_NPATHS ? names[p] : "?";
}

bool scan_path_available(enum scan_path p)
{
	switch (p) {
	case SCAN_SCALAR:
		return true;
#if defined(__x86_64__)
	case SCAN_SSE2:
		return true;
	case SCAN_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
#endif
#if defined(__aarch64__)
	case SCAN_NEON:
		return true;
#endif
	default:
		return false;
	}
}

static enum scan_path best(void)
{
	for (int p = SCAN_NPATHS - 1; p > SCAN_SCALAR; p--)
		if (scan_path_available((enum scan_path)p))
			return (enum scan_path)p;
	return SCAN_SCALAR;
}

/* ES_SIMD, else the best path; a path this CPU lacks is said once and
 * the best one taken instead. */
static enum scan_path choose(void)
{
	const char *want = getenv("ES_SIMD");
	if (!want || !*want)
		return best();
	for (int p = 0; p < SCAN_NPATHS; p++)
		if (!strcmp(want, names[p])) {
			if (scan_path_available((enum scan_path)p))
				return (enum scan_path)p;
			diag_warn("ES_SIMD=%s: not on this machine, scanning "
				  "with %s", want, names[best()]);
			return best();
		}
	diag_warn("ES_SIMD=%s: not one of scalar, sse2, avx2, neon; "
		  "scanning with %s", want, names[best()]);
	return best();
}

enum scan_path scan_path(void)
{
	static int chosen = -1;
	if (chosen < 0)
		chosen = (int)choose();
	return (enum scan_path)chosen;
}

static const struct scan_kernel *kernel_of(enum scan_path p)
{
	switch (p) {
#if defined(__x86_64__)
	case SCAN_SSE2:
		return &scan_sse2;
	case SCAN_AVX2:
		return &scan_avx2;
#endif
#if defined(__aarch64__)
	case SCAN_NEON:
		return &scan_neon;
#endif
	default:
		return NULL;
	}
}

bool scan_utf8_valid(enum scan_path p, const char *s, size_t n)
{
	const struct scan_kernel *k = kernel_of(p);
	return k ? k->utf8_valid((const unsigned char *)s, n)
		 : utf8_valid(s, n);
}

/* ---- stage 1: the quotes that end strings ---- */

/* The state carried from block to block. */
struct iter {
	const unsigned char *line;
	size_t n;
	size_t base;		/* offset of the current block */
	uint64_t quote;		/* its unescaped quotes */
	uint64_t parity;	/* all ones if it starts inside a string */
	uint64_t esc_carry;	/* 1 if its first byte is escaped */
	uint64_t bad;		/* nonzero: a control byte in a string, a bad
				   escape */
	uint64_t high;		/* nonzero: a byte >= 0x80 so far */
	bool bslash;		/* a backslash so far */
	void (*classify)(const unsigned char *block, struct scan_masks *m);
};

/* Bit i of the result: the XOR of bits 0..i of x. */
static inline uint64_t prefix_xor(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	x ^= x << 32;
	return x;
}

static inline bool is_hex(unsigned c)
{
	return (c - '0' < 10) || ((c | 0x20) - 'a' < 6);
}

/* The escape at line[i] (a backslash that escapes) is valid. */
static bool escape_ok(const struct iter *it, size_t i)
{
	const unsigned char *p = it->line + i;
	size_t left = it->n - i;
	if (left < 2)
		return false;
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
	case 't':
		return true;
	case 'u':
		return left >= 6 && is_hex(p[2]) && is_hex(p[3]) &&
		       is_hex(p[4]) && is_hex(p[5]);
	default:
		return false;
	}
}

/* The bytes of the block that a backslash escapes; each escaping backslash
 * is checked. Runs only on blocks with a backslash (rare), a bit at a time:
 * a backslash escaped by the one before it escapes nothing. */
static uint64_t escapes(struct iter *it, uint64_t bs)
{
	uint64_t escaped = it->esc_carry;
	bs &= ~escaped;
	it->esc_carry = 0;
	while (bs) {
		uint64_t b = bs & -bs;
		if (!escape_ok(it, it->base + (size_t)__builtin_ctzll(b)))
			it->bad = 1;
		uint64_t next = b << 1;
		if (!next)
			it->esc_carry = 1;
		escaped |= next;
		bs &= ~(b | next);
	}
	return escaped;
}

/* Classifies the block at it->base: its unescaped quotes, and what is
 * wrong inside its strings (outside strings the walk looks at every byte itself). The
 * bytes after the line count as spaces. */
static void load(struct iter *it)
{
	struct scan_masks m;
	size_t left = it->n - it->base;
	if (left >= 64) {
		it->classify(it->line + it->base, &m);
	} else if (it->n >= 64) {
		/* The last 64 bytes of the line, shifted: no copy (whose
		 * stores the vector loads would wait for). */
		it->classify(it->line + it->n - 64, &m);
		unsigned drop = (unsigned)(64 - left);
		m.quote >>= drop;
		m.bslash >>= drop;
		m.ctrl >>= drop;
		m.high >>= drop;
	} else {
		unsigned char pad[64];
		memset(pad, ' ', sizeof pad);
		memcpy(pad, it->line + it->base, left);
		it->classify(pad, &m);
	}
	uint64_t quote = m.quote;
	if (m.bslash | it->esc_carry) {
		it->bslash = true;
		quote &= ~escapes(it, m.bslash);
	}
	if (m.ctrl) {
		/* From an opening quote (included) to its closing one. */
		uint64_t in = prefix_xor(quote) ^ it->parity;
		it->bad |= m.ctrl & in;
	}
	it->high |= m.high;
	it->parity ^= -(uint64_t)(__builtin_popcountll(quote) & 1);
	it->quote = quote;
}

/* The first unescaped quote at or after line[i], or n. The walk asks in
 * order: blocks are classified one after the other as it goes. */
static inline size_t quote_from(struct iter *it, size_t i)
{
	for (;;) {
		if (i - it->base < 64) {
			uint64_t q = it->quote & (~0ull << (i - it->base));
			if (q)
				return it->base + (size_t)__builtin_ctzll(q);
		}
		if (it->n - it->base <= 64)
			return it->n;
		it->base += 64;
		load(it);
		if (i < it->base)
			i = it->base;
	}
}

/* ---- stage 2: the walk ---- */

/* JSON whitespace, and what may follow a number or a literal (whitespace,
 * ',' or a closing bracket: anything else right after it would be part of
 * it). Tested by a compare and a bit, not looked up in a table: the walk's
 * next step waits on these tests, and a table's load took longer on that
 * path than the byte's own load. */
#define WS_BITS (1ull << ' ' | 1ull << '\t' | 1ull << '\n' | 1ull << '\r')

static inline bool is_ws(unsigned c)
{
	return c <= ' ' && (WS_BITS >> c & 1);
}

static inline bool ends_scalar(unsigned c)
{
	return (c <= ',' && ((WS_BITS | 1ull << ',') >> c & 1)) ||
	       (c | 0x20) == '}';	/* '}' or ']' */
}

static inline bool digit(unsigned c)
{
	return c - '0' < 10;
}

/* The bytes of a word that are not digits. A digit's byte XOR '0' is
 * below 10: adding 0x76 to the low seven bits leaves the top bit clear
 * only then (no carry crosses a byte). */
static inline uint64_t nondigits(uint64_t x)
{
	uint64_t t = x ^ (SWAR_ONES * '0');
	return (((t & SWAR_ONES * 0x7F) + SWAR_ONES * 0x76) | t) & SWAR_HIGHS;
}

/* The first byte at p that is not a digit, eight bytes at a time. */
static inline const unsigned char *digits(const unsigned char *p,
					  const unsigned char *end)
{
	return swar_skip(p, end, nondigits, digit);
}

/* The end of the number at p (RFC 8259's grammar), or NULL. */
static const unsigned char *number_end(const unsigned char *p,
				       const unsigned char *end)
{
	if (*p == '-')
		p++;
	if (p == end || !digit(*p))
		return NULL;
	if (*p == '0')
		p++;
	else
		p = digits(p, end);
	if (p < end && *p == '.') {
		p++;
		if (p == end || !digit(*p))
			return NULL;
		p = digits(p, end);
	}
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !digit(*p))
			return NULL;
		p = digits(p, end);
	}
	return p;
}

/*
 * The end of a short number at p (an integer or a decimal of at most
 * seven bytes: "36.557", "42"), and that the byte after it may follow a
 * number, all from one word's masks; NULL when the word does not settle
 * it (longer, a sign, an exponent, a leading zero, anything odd), and
 * number_end then reads the bytes. Byte by byte, each test waited for a
 * load whose address came from the test before.
 */
static inline const unsigned char *short_number(const unsigned char *p,
						const unsigned char *end)
{
	if (end - p < 8)
		return NULL;
	uint64_t x = swar_load_le(p);
	uint64_t nd = nondigits(x);
	if (!nd || (x & 0xFF) == '0')
		return NULL;	/* 8 digits on, or "0", "0.5", "01" */
	unsigned a = (unsigned)__builtin_ctzll(nd) >> 3;
	if (a == 0)
		return NULL;
	unsigned t = a;		/* where the number ends */
	if ((x >> (8 * a) & 0xFF) == '.') {
		uint64_t rest = nd >> (8 * a) >> 8;	/* flags after the dot */
		if (!rest)
			return NULL;
		unsigned frac = (unsigned)__builtin_ctzll(rest) >> 3;
		if (frac == 0)
			return NULL;	/* "1." */
		t = a + 1 + frac;
	}
	unsigned c = (unsigned)(x >> (8 * t) & 0xFF);
	if (!ends_scalar(c))
		return NULL;	/* an exponent, or what may not follow */
	return p + t;
}

/* The number or literal at p: its kind and *end, or SPAN_MISSING. */
static inline enum span_kind scalar_at(const unsigned char *p,
				       const unsigned char *e,
				       const unsigned char **end)
{
	const unsigned char *q;
	enum span_kind kind;
	switch (*p) {
	case 't':
		q = e - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
		kind = SPAN_JTRUE;
		break;
	case 'f':
		q = e - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
		kind = SPAN_JFALSE;
		break;
	case 'n':
		q = e - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
		kind = SPAN_JNULL;
		break;
	default:
		if ((q = short_number(p, e))) {
			*end = q;
			return SPAN_JNUMBER;
		}
		if (*p != '-' && !digit(*p))
			return SPAN_MISSING;
		q = number_end(p, e);
		kind = SPAN_JNUMBER;
	}
	if (!q || (q < e && !ends_scalar(*q)))
		return SPAN_MISSING;
	*end = q;
	return kind;
}

/* The string at p (on its opening quote): its span, and p past it; false
 * if it does not end on the line. */
static inline bool string_at(struct iter *it, const unsigned char **p,
			     struct span *sp)
{
	size_t i = (size_t)(*p - it->line);
	size_t j = quote_from(it, i + 1);
	if (j == it->n)
		return false;
	*sp = (struct span){ (const char *)*p, j + 1 - i, SPAN_JSTRING,
			     it->bslash && memchr(*p + 1, '\\', j - i - 1) };
	*p = it->line + j + 1;
	return true;
}

#define SKIP_WS(p) while (p < end && is_ws(*p)) p++
#define BYTE(p) (p < end ? *p : 0)

static int walk(struct iter *it, const struct fieldset *fs,
		struct json_scan *sc)
{
	const unsigned char *p = it->line, *end = p + it->n, *q;
	SKIP_WS(p);
	if (BYTE(p) != '{')
		return -1;
	int depth = 0;
	struct frame *t = jsonslot_stack;
	*t = (struct frame){ '{', &fs->root, 0, NULL, NULL, { 0 } };
	struct span sp;
	unsigned c;
open:	/* t was opened at p */
	p++;
	SKIP_WS(p);
	c = BYTE(p);
	if (c == (t->type == '{' ? '}' : ']'))
		goto closed;
	if (t->type == '[') {
		t->vnode = jsonslot_index(t->node, 0);
		goto value;
	}
key:	/* p should open a key */
	if (c != '"' || !string_at(it, &p, &t->key))
		return -1;
	t->vnode = jsonslot_key(t->node, &t->key);
	jsonslot_forget(sc, t->vnode);
	if (BYTE(p) != ':') {
		SKIP_WS(p);
		if (BYTE(p) != ':')
			return -1;
	}
	p++;
	c = BYTE(p);
	if (is_ws(c)) {
		SKIP_WS(p);
		c = BYTE(p);
	}
value:	/* a value starts at p = c */
	if (c == '"') {
		if (!string_at(it, &p, &sp))
			return -1;
	} else if (c == '{' || c == '[') {
		if (depth + 1 == JSON_MAX_DEPTH)
			return -1;
		t->vstart = (const char *)p;
		t = &jsonslot_stack[++depth];
		*t = (struct frame){ (char)c, jsonslot_stack[depth - 1].vnode, 0,
				     NULL, NULL, { 0 } };
		goto open;
	} else {
		if (p == end)
			return -1;
		enum span_kind kind = scalar_at(p, end, &q);
		if (kind == SPAN_MISSING)
			return -1;
		sp = (struct span){ (const char *)p, (size_t)(q - p), kind,
				    false };
		p = q;
	}
	jsonslot_file(sc, fs, t, &sp);
after:	/* a value of t ended before p */
	c = BYTE(p);
	if (is_ws(c)) {
		SKIP_WS(p);
		c = BYTE(p);
	}
	if (c == ',') {
		p++;
		c = BYTE(p);
		if (is_ws(c)) {
			SKIP_WS(p);
			c = BYTE(p);
		}
		if (t->type == '{')
			goto key;
		t->index++;
		t->vnode = jsonslot_index(t->node, t->index);
		goto value;
	}
	if (c != (t->type == '{' ? '}' : ']'))
		return -1;
closed:	/* t closed at p */
	p++;
	if (depth == 0) {
		SKIP_WS(p);
		return p == end ? 0 : -1;
	}
	enum span_kind kind = t->type == '{' ? SPAN_JOBJECT : SPAN_JARRAY;
	t = &jsonslot_stack[--depth];
	sp = (struct span){ t->vstart, (size_t)((const char *)p - t->vstart),
			    kind, false };
	jsonslot_file(sc, fs, t, &sp);
	goto after;
}

int scan_line(enum scan_path p, const char *line, size_t n,
	      const struct fieldset *fs, struct json_scan *sc)
{
	const struct scan_kernel *k = kernel_of(p);
	if (!k)
		return -1;
	for (int s = 0; s < fs->npaths; s++)
		sc->slots[s].kind = SPAN_MISSING;
	sc->nmembers = 0;
	struct iter it = { 0 };
	it.line = (const unsigned char *)line;
	it.n = n;
	it.classify = k->classify;
	load(&it);
	if (walk(&it, fs, sc) < 0 || it.bad)
		return -1;
	if (it.high && !k->utf8_valid(it.line, n))
		return -1;
	return 0;
}
