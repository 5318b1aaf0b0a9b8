/* stats.c - the counters, --stats and --stats-file */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dead.h"
#include "diag.h"
#include "loop.h"
#include "mem.h"
#include "out.h"
#include "stats.h"
#include "statsprom.h"
#include "time.h"

struct stats stats;
static bool stats_on;
static void (*stats_extra)(char *buf, size_t n);
static const char *stats_path;
static char *stats_tmp;
static bool stats_prom;		/* the file is Prometheus text (FILE.prom) */
static int64_t started_us;

static void stats_finish(void);

/* Registers stats_finish with diag_finish, once. */
static void hook(void)
{
	static bool hooked;
	if (!hooked) {
		hooked = true;
		diag_at_finish(stats_finish);
	}
}

void stats_set_print(bool on)
{
	stats_on = on;
	if (on)
		hook();
}

void stats_set_extra(void (*fn)(char *buf, size_t n))
{
	stats_extra = fn;
}

void stats_print(void)
{
	char buf[768], extra[512] = "";	/* es-http-pub's ten counters at 20 digits */
	if (stats_extra)
		stats_extra(extra, sizeof extra);
	int n = snprintf(buf, sizeof buf,
			 "{\"program\":\"%s\",\"in\":%llu,\"out\":%llu,\"bad\":%llu,"
			 "\"late\":%llu,\"dropped\":%llu%s}\n",
			 diag_prog, (unsigned long long)stats.in,
			 (unsigned long long)stats.out,
			 (unsigned long long)stats.bad,
			 (unsigned long long)stats.late,
			 (unsigned long long)stats.dropped, extra);
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
	ssize_t w = write(2, buf, (size_t)n);
	(void)w;
}

/* ---- --stats-file ---- */
/* A wall-clock time as a JSON string, or null. */
static void json_time(char *buf, bool known, int64_t us)
{
	if (!known) {
		strcpy(buf, "null");
		return;
	}
	buf[0] = '"';
	size_t n = rfc3339_format(us, buf + 1);
	buf[n + 1] = '"';
	buf[n + 2] = 0;
}

/* The counters as one JSON object, in buf; returns its length. */
static int stats_json(char *buf, size_t size, const char *extra)
{
	char t0[48], now[48], ev[48], outt[48];
	json_time(t0, true, started_us);
	json_time(now, true, time_now_us());
	json_time(ev, stats.has_event, stats.event_us);
	json_time(outt, out_wall_us != 0, out_wall_us);
	int n = snprintf(buf, size,
			 "{\"program\":\"%s\",\"pid\":%ld,\"started\":%s,\"updated\":%s,"
			 "\"in\":%llu,\"out\":%llu,\"bad\":%llu,\"late\":%llu,"
			 "\"dropped\":%llu%s,\"last_event_time\":%s,\"last_output\":%s}\n",
			 diag_prog, (long)getpid(), t0, now,
			 (unsigned long long)stats.in, (unsigned long long)stats.out,
			 (unsigned long long)stats.bad, (unsigned long long)stats.late,
			 (unsigned long long)stats.dropped, extra, ev, outt);
	return n > (int)size - 1 ? (int)size - 1 : n;
}

/* Writes the counters (JSON, or Prometheus text for FILE.prom) to a
 * temporary file beside the target and renames it over the target, so a
 * reader sees the old contents or the new, never half of them. A failure
 * is said once; the program goes on. */
static void stats_file_write(void)
{
	static bool warned;
	char buf[8192], extra[512] = "";
	if (stats_extra)
		stats_extra(extra, sizeof extra);
	int n = stats_prom ? (int)statsprom_render(buf, sizeof buf, extra,
						  started_us, out_wall_us)
			   : stats_json(buf, sizeof buf, extra);
	int fd = open(stats_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && write(fd, buf, (size_t)n) == n;
	if (fd >= 0 && close(fd))
		ok = false;
	if (ok && rename(stats_tmp, stats_path))
		ok = false;
	if (!ok && !warned) {
		warned = true;
		diag_warn("cannot write the stats file %s: %s (further failures "
			  "are not said)", stats_path, strerror(errno));
	}
	if (!ok)
		diag_status = EXIT_RUNTIME;	/* said once, and in the status */
}

void stats_set_file(const char *path, int64_t every_ms)
{
	stats_path = path;
	stats_prom = statsprom_wanted(path);
	stats_tmp = xmalloc(strlen(path) + 32);
	sprintf(stats_tmp, "%s.tmp.%ld", path, (long)getpid());
	started_us = time_now_us();
	hook();
	stats_file_write();
	out_note_wall = true;
	loop_set_tick(every_ms, stats_file_write);
}

/* At exit, after the dead letters and late events are said. */
static void stats_finish(void)
{
	dead_finish();
	if (stats_on)
		stats_print();
	if (stats_path) {
		stats_file_write();
		free(stats_tmp);
		stats_path = NULL;
	}
}
