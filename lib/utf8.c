/* utf8.c - UTF-8: validating, encoding, \uXXXX escapes */
#include "utf8.h"

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	for (size_t l; p < end; p += l)
		if (!(l = utf8_step(p, end)))
			return false;
	return true;
}

size_t utf8_encode(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int hexval(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	c |= 0x20;
	if (c - 'a' < 6)
		return (int)(c - 'a' + 10);
	return -1;
}

int utf8_hex4(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hexval(p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

size_t utf8_unescape(const char **s, char *o)
{
	const char *q = *s;
	int hi = utf8_hex4(q + 2);
	uint32_t cp = (uint32_t)hi;
	q += 6;
	if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
		return 0;
	if (hi >= 0xD800 && hi <= 0xDBFF) {
		int lo = q[0] == '\\' && q[1] == 'u' ? utf8_hex4(q + 2) : -1;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return 0;
		cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) +
		     ((uint32_t)lo - 0xDC00);
		q += 6;
	}
	*s = q;
	return utf8_encode(o, cp);
}
