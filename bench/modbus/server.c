/* server.c - a Modbus TCP server for bench/modbus/run: 10,000 holding
 * registers, one client at a time, answering as fast as libmodbus can
 * (the Python server of the tests would be the bottleneck, not the
 * client being measured).
 *
 *   cc -O2 -o server server.c -lmodbus && ./server PORT
 */
#include <errno.h>
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: server PORT\n");
		return 2;
	}
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
	modbus_mapping_t *map = modbus_mapping_new(0, 0, 10000, 0);
	if (!ctx || !map)
		return 1;
	for (int i = 0; i < 10000; i++)
		map->tab_registers[i] = (uint16_t)(i * 7);
	int s = modbus_tcp_listen(ctx, 4);
	if (s < 0) {
		perror("listen");
		return 1;
	}
	for (;;) {
		if (modbus_tcp_accept(ctx, &s) < 0)
			continue;
		uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
		int n;
		while ((n = modbus_receive(ctx, q)) >= 0)
			if (n > 0)
				modbus_reply(ctx, q, n, map);
		modbus_close(ctx);	/* the client went: wait for the next */
	}
}
