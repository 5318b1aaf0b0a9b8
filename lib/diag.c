/* diag.c - diagnostics and exit statuses */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "loop.h"
#include "out.h"

const char *diag_prog = "edgestream";
int diag_status;
int diag_end_status = -1;

static struct outbuf *main_out;
/* What diag_finish runs after flushing the main output (diag_at_finish). */
static void (*finish_hooks[4])(void);
static int nfinish_hooks;
static void (*before_flush)(void);

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

void diag_end(int status)
{
	if (diag_end_status >= 0)
		return;
	diag_end_status = status;
	diag_finish();
	loop_stop = 1;
}

void diag_set_output(struct outbuf *o)
{
	main_out = o;
}

void diag_at_finish(void (*fn)(void))
{
	if (nfinish_hooks == (int)(sizeof finish_hooks / sizeof *finish_hooks))
		abort();
	finish_hooks[nfinish_hooks++] = fn;
}

void diag_before_flush(void (*fn)(void))
{
	before_flush = fn;
}

void diag_finish(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	if (before_flush)
		before_flush();
	if (main_out) {
		out_flush(main_out);
		main_out->ended = true;	/* what comes later has no place */
	}
	for (int i = 0; i < nfinish_hooks; i++)
		finish_hooks[i]();
}
