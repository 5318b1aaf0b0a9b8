/* modbus_decode.c - a point's value from the registers or bits read */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbus_decode.h"

/* The point's bytes in big-endian order (A B C D ...), from registers in
 * its word and byte order. */
static void bytes_of(const struct mb_point *pt, const uint16_t *regs,
		     uint8_t *b)
{
	unsigned n = pt->count;
	bool words_reversed = pt->order == MB_CDAB || pt->order == MB_DCBA;
	bool bytes_swapped = pt->order == MB_BADC || pt->order == MB_DCBA;
	for (unsigned i = 0; i < n; i++) {
		uint16_t r = regs[words_reversed ? n - 1 - i : i];
		uint8_t hi = (uint8_t)(r >> 8), lo = (uint8_t)r;
		b[2 * i] = bytes_swapped ? lo : hi;
		b[2 * i + 1] = bytes_swapped ? hi : lo;
	}
}

static uint64_t big_endian(const uint8_t *b, unsigned n)
{
	uint64_t x = 0;
	for (unsigned i = 0; i < n; i++)
		x = x << 8 | b[i];
	return x;
}

double modbus_decode_float(float f)
{
	char buf[32];
	for (int prec = 1; prec <= 9; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
		if (strtof(buf, NULL) == f)
			return strtod(buf, NULL);
	}
	return (double)f;
}

/* raw * scale + offset. A scale of 0.1 or 0.01 is not exact in binary:
 * dividing by 10 or 100 gives 231.5 where multiplying gives
 * 231.50000000000003, so a scale whose inverse is a whole number divides. */
static double scaled(const struct mb_point *pt, double raw)
{
	double inv = 1 / pt->scale, whole = round(inv);
	double x = whole > 1 && fabs(inv - whole) < 1e-9 * whole ? raw / whole
								   : raw * pt->scale;
	return x + pt->offset;
}

static void number(const struct mb_point *pt, const uint8_t *b,
		   struct value *v)
{
	uint64_t x = big_endian(b, 2 * pt->count);
	int64_t i = 0;
	double d = 0;
	bool is_int = true;
	switch (pt->type) {
	case MB_INT16: i = (int16_t)x; break;
	case MB_UINT16: i = (uint16_t)x; break;
	case MB_INT32: i = (int32_t)x; break;
	case MB_UINT32: i = (uint32_t)x; break;
	case MB_INT64: i = (int64_t)x; break;
	case MB_FLOAT32: {
		uint32_t u = (uint32_t)x;
		float f;
		memcpy(&f, &u, sizeof f);
		d = isfinite(f) ? modbus_decode_float(f) : (double)f;
		is_int = false;
		break;
	}
	case MB_FLOAT64:
		memcpy(&d, &x, sizeof d);
		is_int = false;
		break;
	default: break;
	}
	if (is_int && !pt->scaled) {
		*v = (struct value){ .t = V_INT, .u.i = i };
		return;
	}
	d = scaled(pt, is_int ? (double)i : d);
	if (!isfinite(d))
		*v = (struct value){ .t = V_NULL };
	else
		*v = (struct value){ .t = V_DOUBLE, .u.d = d };
}

/* The bytes as text: trailing NULs and spaces (padding) cut. */
static void string(const struct mb_point *pt, const uint8_t *b,
		   struct value *v, char *str)
{
	size_t n = 2 * pt->count;
	memcpy(str, b, n);
	while (n && (str[n - 1] == 0 || str[n - 1] == ' '))
		n--;
	*v = (struct value){ .t = V_STRING, .s = str, .n = n };
}

void modbus_decode(const struct mb_point *pt, const uint16_t *regs,
		   const uint8_t *bits, struct value *v, char *str)
{
	uint8_t b[2 * MB_STRING_MAX];
	if (pt->table == MB_COIL || pt->table == MB_DI) {
		*v = (struct value){ .t = V_BOOL, .u.b = bits[0] != 0 };
		return;
	}
	if (pt->type == MB_BOOL) {
		*v = (struct value){ .t = V_BOOL, .u.b = regs[0] != 0 };
		return;
	}
	bytes_of(pt, regs, b);
	if (pt->type == MB_STRING)
		string(pt, b, v, str);
	else
		number(pt, b, v);
}
