/* modbus_dev.c - one Modbus device over TCP or RTU (libmodbus) */
#include <errno.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mem.h"
#include "modbus_dev.h"

struct modbus_dev {
	modbus_t *ctx;
	bool tcp, connected;
};

static void set_timeout(modbus_t *ctx, int64_t us,
			int (*set)(modbus_t *, uint32_t, uint32_t))
{
	set(ctx, (uint32_t)(us / 1000000), (uint32_t)(us % 1000000));
}

struct modbus_dev *modbus_dev_new(const struct modbus_dev_opts *o, char *err,
				  size_t n)
{
	modbus_t *ctx;
	if (o->host) {
		char port[16];
		snprintf(port, sizeof port, "%d", o->port);
		ctx = modbus_new_tcp_pi(o->host, port);
	} else {
		ctx = modbus_new_rtu(o->serial, o->baud, o->parity, o->data_bits,
				     o->stop_bits);
	}
	if (!ctx) {
		snprintf(err, n, "%s", modbus_strerror(errno));
		return NULL;
	}
	set_timeout(ctx, o->response_us, modbus_set_response_timeout);
	set_timeout(ctx, o->byte_us, modbus_set_byte_timeout);
	struct modbus_dev *d = xmalloc(sizeof *d);
	d->ctx = ctx;
	d->tcp = o->host != NULL;
	d->connected = false;
	return d;
}

int modbus_dev_connect(struct modbus_dev *d, char *err, size_t n)
{
	if (modbus_connect(d->ctx) < 0) {
		snprintf(err, n, "%s", modbus_strerror(errno));
		return -1;
	}
	d->connected = true;
	if (d->tcp) {	/* DESIGN.md: no Nagle delay on any hop */
		int one = 1;
		setsockopt(modbus_get_socket(d->ctx), IPPROTO_TCP, TCP_NODELAY,
			   &one, sizeof one);
	}
	return 0;
}

void modbus_dev_close(struct modbus_dev *d)
{
	if (d->connected)
		modbus_close(d->ctx);
	d->connected = false;
}

static enum modbus_dev_fault fault_of(int e)
{
	if (e >= EMBXILFUN && e <= EMBXGTAR)
		return MB_EXCEPTION;
	return e == ETIMEDOUT ? MB_TIMEOUT : MB_BROKEN;
}

enum modbus_dev_fault modbus_dev_read(struct modbus_dev *d,
				      const struct mb_req *r, uint16_t *regs,
				      uint8_t *bits, char *err, size_t n)
{
	int got;
	modbus_set_slave(d->ctx, r->unit);
	switch (r->table) {
	case MB_HR: got = modbus_read_registers(d->ctx, (int)r->start, (int)r->count, regs); break;
	case MB_IR: got = modbus_read_input_registers(d->ctx, (int)r->start, (int)r->count, regs); break;
	case MB_COIL: got = modbus_read_bits(d->ctx, (int)r->start, (int)r->count, bits); break;
	default: got = modbus_read_input_bits(d->ctx, (int)r->start, (int)r->count, bits); break;
	}
	if (got == (int)r->count)
		return MB_OK;
	int e = got < 0 ? errno : EMBBADDATA;
	snprintf(err, n, "%s", modbus_strerror(e));
	enum modbus_dev_fault f = fault_of(e);
	/* A late answer over TCP would come as the next request's: the
	 * connection is started again. On a serial line the bus stays. */
	if (f == MB_TIMEOUT && !d->tcp)
		modbus_flush(d->ctx);
	return f;
}

void modbus_dev_free(struct modbus_dev *d)
{
	if (!d)
		return;
	modbus_dev_close(d);
	modbus_free(d->ctx);
	free(d);
}
