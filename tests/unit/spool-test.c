/* spool-test - drives lib/spool.c from commands on stdin, for spool.bats
 *
 * Usage: spool-test DIR|- [MAXBYTES|MAXRECORDS] [block|drop-oldest]
 * ("-": in memory). Commands, one a line:
 *   append TEXT   prints the new id
 *   next          prints "ID TEXT", or "none"
 *   ack ID        marks ID acknowledged
 *   rewind        reads again from the oldest unacknowledged
 *   full          prints "full" or "room"
 *   pending       prints pending, read-unacked and dropped counts
 *   bytes         prints the bytes pending
 *   tick          the periodic work (writes the ack file)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "size.h"
#include "spool.h"

int main(int argc, char **argv)
{
	diag_init("spool-test");
	if (argc < 2)
		diag_usage("usage: spool-test DIR|- [MAX] [block|drop-oldest]");
	struct spool_cfg cfg = { 0 };
	cfg.dir = strcmp(argv[1], "-") ? argv[1] : NULL;
	cfg.max_bytes = 1 << 20;
	cfg.max_records = 4;
	if (argc > 2) {
		uint64_t v;
		if (size_parse(argv[2], &v) < 0)
			diag_usage("bad size '%s'", argv[2]);
		cfg.max_bytes = cfg.max_records = v;
	}
	if (argc > 3 && !strcmp(argv[3], "drop-oldest"))
		cfg.full = SPOOL_DROP_OLDEST;
	cfg.sync = SPOOL_SYNC_NEVER;
	struct spool *s = spool_open(&cfg);
	int status = spool_status(s);
	if (status) {
		spool_close(s);	/* said; the failed spool is freed all the same */
		return status;
	}
	char line[4096];
	int64_t now = 1000;
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		uint64_t id;
		const void *p;
		size_t n;
		if (!line[0]) {
			continue;
		} else if (!strncmp(line, "append ", 7)) {
			printf("%llu\n", (unsigned long long)spool_append(s, line + 7,
									 strlen(line + 7)));
		} else if (!strcmp(line, "next")) {
			if (spool_next(s, &id, &p, &n))
				printf("%llu %.*s\n", (unsigned long long)id, (int)n,
				       (const char *)p);
			else
				printf("none\n");
		} else if (!strncmp(line, "ack ", 4)) {
			spool_ack(s, strtoull(line + 4, NULL, 10));
		} else if (!strcmp(line, "rewind")) {
			spool_rewind(s);
		} else if (!strcmp(line, "full")) {
			printf("%s\n", spool_is_full(s, 0) ? "full" : "room");
		} else if (!strcmp(line, "pending")) {
			printf("pending %llu read %llu dropped %llu\n",
			       (unsigned long long)spool_pending(s),
			       (unsigned long long)spool_unacked_read(s),
			       (unsigned long long)spool_dropped(s));
		} else if (!strcmp(line, "bytes")) {
			printf("bytes %llu\n",
			       (unsigned long long)spool_pending_bytes(s));
		} else if (!strcmp(line, "tick")) {
			now += 1000;
			spool_tick(s, now);
		} else {
			diag_fatal(EXIT_USAGE, "unknown command '%s'", line);
		}
	}
	int rc = spool_status(s);	/* a failure on the way: said */
	spool_close(s);
	return rc;
}
