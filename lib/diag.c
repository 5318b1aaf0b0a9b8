/* diag.c - diagnostics, dead letters, --stats */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "loop.h"

const char *diag_prog = "edgestream";
struct stats stats;

static struct outbuf dead;
static const char *dead_path;
static bool dead_open, strict, stats_on;
static char *dead_header;	/* CSV header last written there */
static size_t dead_hn;
static struct outbuf *main_out;

void diag_set_output(struct outbuf *o)
{
	main_out = o;
}

void diag_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');
	diag_prog = slash ? slash + 1 : prog;
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

int diag_status;

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

static void dead_ensure(void)
{
	if (dead_open || !dead_path)
		return;
	int fd = open(dead_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		diag_fatal(EXIT_RUNTIME, "cannot open dead-letter file %s: %s",
			   dead_path, strerror(errno));
	out_init(&dead, fd, dead_path);
	dead_open = true;
}

void diag_set_dead_letter(const char *path)
{
	dead_path = path;
	/* Open at once, so that a bad path is a start-up error, not a
	 * surprise at the first bad line. */
	dead_ensure();
}

void diag_set_strict(bool on)
{
	strict = on;
}

void diag_set_stats(bool on)
{
	stats_on = on;
}

/* Writes a CSV header line unless it is the one last written. */
void diag_dead_header(const char *header, size_t hn)
{
	if (!dead_open || (dead_header && dead_hn == hn &&
			   !memcmp(dead_header, header, hn)))
		return;
	out_put(&dead, header, hn);
	out_putc(&dead, '\n');
	free(dead_header);
	dead_header = malloc(hn ? hn : 1);
	if (dead_header)
		memcpy(dead_header, header, hn);
	dead_hn = hn;
}

void diag_bad(const char *src, uint64_t line, const char *msg,
	      const char *raw, size_t n, const char *header, size_t hn)
{
	stats.bad++;
	diag_warn("%s:%llu: %s", src, (unsigned long long)line, msg);
	if (dead_open && raw) {
		if (header)
			diag_dead_header(header, hn);
		out_put(&dead, raw, n);
		out_putc(&dead, '\n');
	}
	if (strict) {
		diag_finish();
		exit(EXIT_BADINPUT);
	}
}

void diag_dead_piece(const char *p, size_t n, bool last)
{
	if (!dead_open)
		return;
	if (n)
		out_put(&dead, p, n);
	if (last)
		out_putc(&dead, '\n');
}

void diag_flush(void)
{
	if (dead_open)
		out_flush(&dead);
}

void diag_reopen(void)
{
	if (!dead_open)
		return;
	out_flush(&dead);
	close(dead.fd);
	out_free(&dead);
	dead_open = false;
	free(dead_header);
	dead_header = NULL;
	dead_ensure();
}

static void (*stats_extra)(char *buf, size_t n);

void diag_set_stats_extra(void (*fn)(char *buf, size_t n))
{
	stats_extra = fn;
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

void diag_finish(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	if (main_out)
		out_flush(main_out);
	if (dead_open)
		out_flush(&dead);
	free(dead_header);
	dead_header = NULL;
	if (stats_on)
		diag_stats_print();
}
