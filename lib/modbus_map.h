/* modbus_map.h - Modbus points: the register map file and --point
 *
 * A point is one value read from a device: a name, the table it sits in
 * (coils, discrete inputs, holding or input registers), a 0-based address,
 * a type, the word and byte order of multi-register types, a scale and an
 * offset, and tags copied into its records. Parsing only: no I/O but the
 * map file's reading, no device.
 */
#ifndef ES_MODBUS_MAP_H
#define ES_MODBUS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mb_table { MB_COIL, MB_DI, MB_HR, MB_IR };
enum mb_type {
	MB_BOOL, MB_INT16, MB_UINT16, MB_INT32, MB_UINT32, MB_INT64,
	MB_FLOAT32, MB_FLOAT64, MB_STRING
};
/* The bytes of a value big-endian are A B C D (...): the order they come
 * in, as registers. abcd: high word first, high byte first (the protocol's
 * own); cdab: low word first; badc: bytes swapped in each word; dcba: both. */
enum mb_order { MB_ABCD, MB_CDAB, MB_BADC, MB_DCBA };

#define MB_STRING_MAX 64	/* registers of a string point, at most */
#define MB_NAME_MAX 128		/* bytes of a point's or a tag's name */

struct mb_tag {
	char *name, *value;
};

struct mb_point {
	char *name;
	int unit;		/* the unit (slave) id; -1: the device's --unit */
	enum mb_table table;
	unsigned address;	/* 0-based, 0..65535 */
	enum mb_type type;
	unsigned count;		/* registers (or bits) it spans */
	enum mb_order order;
	double scale, offset;
	bool scaled;		/* a scale or offset was given */
	int64_t every_us;	/* its own poll interval; 0: the device's */
	struct mb_tag *tags;
	size_t ntags;
};

struct mb_map {
	struct mb_point *p;
	size_t n, cap;
};

/* "NAME=TABLE:ADDRESS:TYPE[:ORDER][*SCALE][+OFFSET][@EVERY]" (--point)
 * into *pt.
 * 0, or -1 with why in err. */
int modbus_map_point(const char *spec, struct mb_point *pt, char *err,
		     size_t errn);
/* A bad line of a map file: its path, line number, why, raw text, and the
 * header line (for a dead-letter file read back as CSV). */
typedef void (*modbus_map_bad_fn)(const char *path, uint64_t line,
				  const char *msg, const char *raw, size_t n,
				  const char *header, size_t hn);
/* Appends the points of a map file (CSV, see es-modbus(1)) to m. A line
 * that is not a point goes to bad() and is skipped. 0, or -1 with why in
 * err when the file cannot be read or its header is not a map's. */
int modbus_map_load(struct mb_map *m, const char *path, modbus_map_bad_fn bad,
		    char *err, size_t errn);
/* Appends pt (taken over: its strings are m's now). */
void modbus_map_add(struct mb_map *m, struct mb_point *pt);
/* A deep copy of src appended to m. */
void modbus_map_copy(struct mb_map *m, const struct mb_map *src);
void modbus_map_free(struct mb_map *m);
/* The names a map file and --point use. */
const char *modbus_map_table_name(enum mb_table t);

#endif
