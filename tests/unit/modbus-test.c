/* modbus-test.c - unit driver for lib/modbus_map.c, modbus_decode.c and
 * modbus_plan.c (tests/es-modbus.bats)
 *
 *   modbus-test point SPEC...          each --point SPEC parsed, one a line:
 *                                      its fields, or "error: why"
 *   modbus-test decode SPEC HEX...     SPEC's value from registers (hex) or
 *                                      bits (0/1), as JSON
 *   modbus-test plan GAP SPEC...       the requests for the points (unit 1)
 *   modbus-test next POLLED EVERY NOW  the next poll time and polls missed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbus_decode.h"
#include "modbus_map.h"
#include "modbus_plan.h"
#include "out.h"
#include "json.h"
#include "number.h"

static const char *const types[] = { "bool", "int16", "uint16", "int32",
	"uint32", "int64", "float32", "float64", "string" };
static const char *const orders[] = { "abcd", "cdab", "badc", "dcba" };

static int point(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		struct mb_point pt;
		char err[200];
		if (modbus_map_point(argv[i], &pt, err, sizeof err)) {
			printf("error: %s\n", err);
			continue;
		}
		printf("%s %s %u %s %u %s %.17g %.17g %lld\n", pt.name,
		       modbus_map_table_name(pt.table), pt.address, types[pt.type],
		       pt.count, orders[pt.order], pt.scale, pt.offset,
		       (long long)pt.every_us);
		struct mb_map m = { 0 };
		modbus_map_add(&m, &pt);
		modbus_map_free(&m);
	}
	return 0;
}

static int decode(int argc, char **argv)
{
	struct mb_point pt;
	char err[200], str[2 * MB_STRING_MAX];
	if (argc < 1 || modbus_map_point(argv[0], &pt, err, sizeof err)) {
		fprintf(stderr, "modbus-test: bad spec\n");
		return 2;
	}
	uint16_t regs[MB_STRING_MAX] = { 0 };
	uint8_t bits[MB_STRING_MAX] = { 0 };
	for (int i = 1; i < argc && i <= MB_STRING_MAX; i++) {
		regs[i - 1] = (uint16_t)strtoul(argv[i], NULL, 16);
		bits[i - 1] = (uint8_t)regs[i - 1];
	}
	struct value v;
	modbus_decode(&pt, regs, bits, &v, str);
	struct outbuf o;
	out_init(&o, 1, "stdout");
	char buf[40];
	switch (v.t) {
	case V_BOOL: out_puts(&o, v.u.b ? "true" : "false"); break;
	case V_INT: out_put(&o, buf, number_format_int(v.u.i, buf)); break;
	case V_DOUBLE: out_put(&o, buf, number_format(v.u.d, buf)); break;
	case V_STRING: json_write_string(&o, v.s, v.n); break;
	default: out_puts(&o, "null");
	}
	out_putc(&o, '\n');
	out_flush(&o);
	out_free(&o);
	struct mb_map m = { 0 };
	modbus_map_add(&m, &pt);
	modbus_map_free(&m);
	return 0;
}

static int plan(int argc, char **argv)
{
	struct mb_map m = { 0 };
	for (int i = 1; i < argc; i++) {
		struct mb_point pt;
		char err[200];
		if (modbus_map_point(argv[i], &pt, err, sizeof err)) {
			fprintf(stderr, "modbus-test: %s\n", err);
			return 2;
		}
		modbus_map_add(&m, &pt);
	}
	size_t *order = malloc((m.n + 1) * sizeof *order);
	struct mb_req *reqs = malloc((m.n + 1) * sizeof *reqs);
	for (size_t i = 0; i < m.n; i++)
		order[i] = i;
	size_t n = modbus_plan(m.p, m.n, 1, (unsigned)atoi(argv[0]), order, reqs);
	for (size_t r = 0; r < n; r++) {
		printf("unit %d %s %u+%u:", reqs[r].unit,
		       modbus_map_table_name(reqs[r].table), reqs[r].start,
		       reqs[r].count);
		for (size_t k = 0; k < reqs[r].n; k++)
			printf(" %s", m.p[order[reqs[r].first + k]].name);
		printf("\n");
	}
	free(order);
	free(reqs);
	modbus_map_free(&m);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "point"))
		return point(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "decode"))
		return decode(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "plan"))
		return plan(argc - 2, argv + 2);
	if (argc == 5 && !strcmp(argv[1], "next")) {
		uint64_t missed;
		long long next = (long long)modbus_plan_next(atoll(argv[2]),
			atoll(argv[3]), atoll(argv[4]), &missed);
		printf("%lld %llu\n", next, (unsigned long long)missed);
		return 0;
	}
	fprintf(stderr, "usage: modbus-test point|decode|plan|next ...\n");
	return 2;
}
