/* modbus_decode.h - a point's value from the registers or bits read
 *
 * Pure: the registers of a point (as the protocol carries them, 16 bits
 * each) and its type, word and byte order, scale and offset give a value.
 */
#ifndef ES_MODBUS_DECODE_H
#define ES_MODBUS_DECODE_H

#include <stdint.h>

#include "modbus_map.h"
#include "value.h"

/*
 * The value of pt from regs (its pt->count registers) or, for coils and
 * discrete inputs, bits (one byte per bit, 0 or 1). V_BOOL, V_INT (an
 * integer type without scale or offset), V_DOUBLE, V_STRING (bytes in
 * str, which needs 2 * MB_STRING_MAX bytes; trailing NULs and spaces cut)
 * or V_NULL (a float that is NaN or infinite: JSON has no such number).
 */
void modbus_decode(const struct mb_point *pt, const uint16_t *regs,
		   const uint8_t *bits, struct value *v, char *str);
/* A float32 as the double nearest its shortest decimal text (231.4f is
 * 231.4, not 231.39999389648438): what the meter meant. */
double modbus_decode_float(float f);

#endif
