/* dead.c - the dead-letter file (bad input) and the late events (--late) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dead.h"
#include "diag.h"
#include "mem.h"
#include "out.h"
#include "stats.h"
#include "time.h"

static bool strict;

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
/* Registers dead_finish with diag_finish, once. */
static void hook(void)
{
	static bool hooked;
	if (!hooked) {
		hooked = true;
		diag_at_finish(dead_finish);
	}
}

/* Returns 0, or -1 with why in err. */
static int side_open(struct side *sd, char *err, size_t n)
{
	if (sd->open || !sd->path)
		return 0;
	int fd = open(sd->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, n, "cannot open %s file %s: %s", sd->what,
			 sd->path, strerror(errno));
		return -1;
	}
	out_init(&sd->o, fd, sd->path);
	sd->open = true;
	return 0;
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

int dead_set_dead_letter(const char *path, char *err, size_t n)
{
	hook();
	dead.path = path;
	return side_open(&dead, err, n);
}

int dead_set_late(const char *path, char *err, size_t n)
{
	/* A copy: a reload frees the words it came from, and diag_finish
	 * names the file. */
	static char *copy;
	if (path != copy) {
		free(copy);
		copy = path ? xstrdup(path) : NULL;
	}
	late.path = copy;
	hook();
	return side_open(&late, err, n);
}

void dead_set_strict(bool on)
{
	strict = on;
}

int dead_bad(const char *src, uint64_t line, const char *msg,
	     const char *raw, size_t n, const char *header, size_t hn)
{
	/* Once the run ended (--strict's first bad line, a closed pipe),
	 * what its program still does on the way out says nothing more. */
	if (diag_end_status >= 0)
		return -1;
	stats.bad++;
	diag_warn("%s:%llu: %s", src, (unsigned long long)line, msg);
	side_put(&dead, raw, n, header, hn);
	if (!strict)
		return 0;
	diag_end(EXIT_BADINPUT);
	return -1;
}

void dead_header(const char *header, size_t hn)
{
	side_header(&dead, header, hn);
}

void dead_piece(const char *p, size_t n, bool last)
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

void dead_late(const char *src, uint64_t line, int64_t t, int64_t wm,
	       const char *raw, size_t n, const char *header, size_t hn)
{
	hook();
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

void dead_flush(void)
{
	if (dead.open)
		side_flush(&dead);
	if (late.open)
		side_flush(&late);
}

int dead_reopen(void)
{
	char err[512];
	side_close(&dead);
	side_close(&late);
	if (!side_open(&dead, err, sizeof err) &&
	    !side_open(&late, err, sizeof err))
		return 0;
	diag_warn("%s", err);
	diag_end(EXIT_RUNTIME);
	return -1;
}

void dead_finish(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	side_close(&dead);
	side_close(&late);
	late_said();
}
