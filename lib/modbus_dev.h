/* modbus_dev.h - one Modbus device over TCP or RTU (libmodbus)
 *
 * The only file that calls libmodbus: es-modbus alone links -lmodbus, and
 * no other program pulls this object from the archive. Calls block (up to
 * the response timeout): each device is read from a thread of its own
 * (lib/modbus_poll.h).
 */
#ifndef ES_MODBUS_DEV_H
#define ES_MODBUS_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modbus_plan.h"

struct modbus_dev_opts {
	const char *host;	/* TCP: a host name or address, or NULL */
	int port;
	const char *serial;	/* RTU: the serial device */
	int baud, data_bits, stop_bits;
	char parity;		/* 'N', 'E' or 'O' */
	int64_t response_us, byte_us;	/* timeouts */
};

/* What a failed read was: the connection stays usable after an exception
 * (the device answered), not after a timeout or a broken connection. */
enum modbus_dev_fault { MB_OK, MB_EXCEPTION, MB_TIMEOUT, MB_BROKEN };

struct modbus_dev;
/* A device, not connected yet; NULL with why in err (bad settings). */
struct modbus_dev *modbus_dev_new(const struct modbus_dev_opts *o, char *err,
				  size_t n);
/* 0, or -1 with why in err. */
int modbus_dev_connect(struct modbus_dev *d, char *err, size_t n);
void modbus_dev_close(struct modbus_dev *d);
/* Reads r into regs (r->count registers) or bits (r->count bytes of 0 or
 * 1). MB_OK, or the fault with why in err ("Illegal data address"). */
enum modbus_dev_fault modbus_dev_read(struct modbus_dev *d,
				      const struct mb_req *r, uint16_t *regs,
				      uint8_t *bits, char *err, size_t n);
void modbus_dev_free(struct modbus_dev *d);

#endif
