/* diag.c - diagnostics, dead letters, late events, --stats */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "loop.h"
#include "out.h"
#include "time.h"

const char *diag_prog = "edgestream";
struct stats stats;
int diag_status;

static bool strict, stats_on;
static struct outbuf *main_out;
static void (*stats_extra)(char *buf, size_t n);

/* A side file: where bad lines (dead letter) or late events are set aside.
 * Opened at start so that a bad path is a start-up error, appended to, and
 * reopened on SIGHUP (log rotation). */
struct side {
	const char *path, *what;
	struct outbuf o;
	bool open;
	char *header;		/* CSV header last written there */
	size_t hn;
	/* A write that fails (disk full) is said once and counted, and the
	 * program ends with status 1; the main stream goes on. */
	uint64_t pending;	/* records in o not yet written */
	uint64_t lost;		/* records that could not be written */
	bool failed;
};
static struct side dead = { NULL, "dead-letter", { 0 }, false, NULL, 0, 0, 0,
			    false };
static struct side late = { NULL, "late-events", { 0 }, false, NULL, 0, 0, 0,
			    false };

void diag_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');
	diag_prog = slash ? slash + 1 : prog;
}

void *xmalloc(size_t n)
{
	return xrealloc(NULL, n);
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		diag_fatal(EXIT_RUNTIME, "out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

static void vwarn(const char *fmt, va_list ap)
{
	/* One write per line, so that lines of several programs sharing a
	 * terminal do not interleave mid-line. */
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "%s: ", diag_prog);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	ssize_t w = write(2, buf, (size_t)n);
	(void)w;
}

void diag_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void diag_fatal(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	/* What was already done is kept: flush it before leaving. */
	diag_finish();
	exit(status);
}

void diag_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", diag_prog);
	exit(EXIT_USAGE);
}

static void side_open(struct side *sd)
{
	if (sd->open || !sd->path)
		return;
	int fd = open(sd->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		diag_fatal(EXIT_RUNTIME, "cannot open %s file %s: %s", sd->what,
			   sd->path, strerror(errno));
	out_init(&sd->o, fd, sd->path);
	sd->open = true;
}

/* Writes what sd holds; a failure drops it, counted, and is said once. */
static void side_flush(struct side *sd)
{
	size_t off = 0;
	while (off < sd->o.len) {
		ssize_t w = write(sd->o.fd, sd->o.buf + off, sd->o.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!sd->failed)
				diag_warn("cannot write the %s file %s: %s (the "
					  "stream goes on; what cannot be "
					  "written there is counted)", sd->what,
					  sd->path, strerror(errno));
			sd->failed = true;
			sd->lost += sd->pending;
			diag_status = EXIT_RUNTIME;
			break;
		}
		off += (size_t)w;
	}
	sd->o.len = 0;
	sd->pending = 0;
}

/* Appends to sd's buffer, writing it out when full (never out_flush,
 * which makes a write error fatal). */
static void side_write(struct side *sd, const void *p, size_t n)
{
	if (sd->o.cap - sd->o.len < n)
		side_flush(sd);
	while (n > sd->o.cap) {
		/* A piece larger than the buffer: through it in parts. */
		memcpy(sd->o.buf, p, sd->o.cap);
		sd->o.len = sd->o.cap;
		side_flush(sd);
		p = (const char *)p + sd->o.cap;
		n -= sd->o.cap;
	}
	memcpy(sd->o.buf + sd->o.len, p, n);
	sd->o.len += n;
}

static void side_close(struct side *sd)
{
	if (!sd->open)
		return;
	sd->open = false;
	side_flush(sd);
	if (sd->lost)
		diag_warn("%llu record%s could not be written to the %s file %s",
			  (unsigned long long)sd->lost, sd->lost == 1 ? "" : "s",
			  sd->what, sd->path);
	sd->lost = 0;		/* a reopened file starts its own count */
	sd->failed = false;
	close(sd->o.fd);
	out_free(&sd->o);
	free(sd->header);
	sd->header = NULL;
}

/* Writes a CSV header line unless it is the one last written there. */
static void side_header(struct side *sd, const char *header, size_t hn)
{
	if (!sd->open || !header ||
	    (sd->header && sd->hn == hn && !memcmp(sd->header, header, hn)))
		return;
	side_write(sd, header, hn);
	side_write(sd, "\n", 1);
	free(sd->header);
	sd->header = malloc(hn ? hn : 1);
	if (sd->header)
		memcpy(sd->header, header, hn);
	sd->hn = sd->header ? hn : 0;
}

static void side_put(struct side *sd, const char *raw, size_t n,
		     const char *header, size_t hn)
{
	if (!sd->open || !raw)
		return;
	side_header(sd, header, hn);
	side_write(sd, raw, n);
	side_write(sd, "\n", 1);
	sd->pending++;
}

void diag_set_dead_letter(const char *path)
{
	dead.path = path;
	side_open(&dead);
}

void diag_set_late(const char *path)
{
	/* A copy: a reload frees the words it came from, and diag_finish
	 * names the file. */
	static char *copy;
	if (path != copy) {
		free(copy);
		copy = path ? xstrdup(path) : NULL;
	}
	late.path = copy;
	side_open(&late);
}

void diag_set_strict(bool on)
{
	strict = on;
}

void diag_set_stats(bool on)
{
	stats_on = on;
}

void diag_set_output(struct outbuf *o)
{
	main_out = o;
}

void diag_set_stats_extra(void (*fn)(char *buf, size_t n))
{
	stats_extra = fn;
}

void diag_bad(const char *src, uint64_t line, const char *msg,
	      const char *raw, size_t n, const char *header, size_t hn)
{
	stats.bad++;
	diag_warn("%s:%llu: %s", src, (unsigned long long)line, msg);
	side_put(&dead, raw, n, header, hn);
	if (strict) {
		diag_finish();
		exit(EXIT_BADINPUT);
	}
}

void diag_dead_header(const char *header, size_t hn)
{
	side_header(&dead, header, hn);
}

void diag_dead_piece(const char *p, size_t n, bool last)
{
	if (!dead.open)
		return;
	if (n)
		side_write(&dead, p, n);
	if (last) {
		side_write(&dead, "\n", 1);
		dead.pending++;
	}
}

/* The late events of the run: the first is said, the count at exit. */
static int64_t late_behind;	/* the most behind the watermark, us */

void diag_late(const char *src, uint64_t line, int64_t t, int64_t wm,
	       const char *raw, size_t n, const char *header, size_t hn)
{
	if (!stats.late) {
		char tt[40], wt[40];
		rfc3339_format(t, tt);
		rfc3339_format(wm, wt);
		diag_warn("%s:%llu: event time %s is behind the watermark %s: "
			  "%s (further late events are counted; --lateness to "
			  "wait longer%s)", src, (unsigned long long)line, tt,
			  wt, late.path ? "written to the --late file" :
			  "dropped as late", late.path ? "" :
			  ", --late FILE to keep them");
	}
	if (wm - t > late_behind)
		late_behind = wm - t;
	stats.late++;
	side_put(&late, raw, n, header, hn);
}

/* At exit: how many late events there were, and where they went. */
static void late_said(void)
{
	char by[32];
	if (!stats.late)
		return;
	duration_format(late_behind, by, sizeof by);
	if (late.path)
		diag_warn("%llu late event%s written to %s (behind the "
			  "watermark by up to %s; --lateness)",
			  (unsigned long long)stats.late,
			  stats.late == 1 ? "" : "s", late.path, by);
	else
		diag_warn("%llu late event%s dropped (behind the watermark by "
			  "up to %s; --lateness, --late FILE)",
			  (unsigned long long)stats.late,
			  stats.late == 1 ? "" : "s", by);
}

void diag_flush(void)
{
	if (dead.open)
		side_flush(&dead);
	if (late.open)
		side_flush(&late);
}

void diag_reopen(void)
{
	side_close(&dead);
	side_open(&dead);
	side_close(&late);
	side_open(&late);
}

void diag_stats_print(void)
{
	char buf[512], extra[256] = "";
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

static const char *stats_path;
static char *stats_tmp;
static int64_t started_us;

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

/* Writes the counters to a temporary file beside the target and renames
 * it over the target, so a reader sees the old object or the new one,
 * never half of one. A failure is said once; the program goes on. */
static void stats_file_write(void)
{
	static bool warned;
	char buf[1024], extra[256] = "", t0[48], now[48], ev[48], outt[48];
	if (stats_extra)
		stats_extra(extra, sizeof extra);
	json_time(t0, true, started_us);
	json_time(now, true, time_now_us());
	json_time(ev, stats.has_event, stats.event_us);
	json_time(outt, out_wall_us != 0, out_wall_us);
	int n = snprintf(buf, sizeof buf,
			 "{\"program\":\"%s\",\"pid\":%ld,\"started\":%s,\"updated\":%s,"
			 "\"in\":%llu,\"out\":%llu,\"bad\":%llu,\"late\":%llu,"
			 "\"dropped\":%llu%s,\"last_event_time\":%s,\"last_output\":%s}\n",
			 diag_prog, (long)getpid(), t0, now,
			 (unsigned long long)stats.in, (unsigned long long)stats.out,
			 (unsigned long long)stats.bad, (unsigned long long)stats.late,
			 (unsigned long long)stats.dropped, extra, ev, outt);
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
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

void diag_set_stats_file(const char *path, int64_t every_ms)
{
	stats_path = path;
	stats_tmp = xmalloc(strlen(path) + 32);
	sprintf(stats_tmp, "%s.tmp.%ld", path, (long)getpid());
	started_us = time_now_us();
	stats_file_write();
	out_note_wall = true;
	loop_set_tick(every_ms, stats_file_write);
}

void diag_finish(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	if (main_out)
		out_flush(main_out);
	side_close(&dead);
	side_close(&late);
	late_said();
	if (stats_on)
		diag_stats_print();
	if (stats_path) {
		stats_file_write();
		free(stats_tmp);
		stats_path = NULL;
	}
}
