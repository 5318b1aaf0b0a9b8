/* prog.h - what the fuzz targets of the engines (window, join) share
 *
 * join.c and window.c drive an engine of the library (lib/window.h,
 * lib/ijoin.h) with a definition parsed by the library's own parsers.
 * Such a target defines setup_once() (calling prog_setup first) and
 * run(), which makes one run of the engine from the fuzzer's bytes; this
 * file gives LLVMFuzzerTestOneInput around them, with the program's
 * diagnostics (bad lines, warnings) sent to /dev/null while a run lasts.
 * Sanitizer reports and broken invariants (PCHECK) still reach the real
 * stderr.
 */
#ifndef ES_FUZZ_PROG_H
#define ES_FUZZ_PROG_H

#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"

/* Sanitizer reports go to this descriptor (weak: absent in a plain build). */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static int real_err = -1, null_fd = -1;

/* Like FUZZ_CHECK, but says so on the real stderr. */
#define PCHECK(cond)                                                       \
	do {                                                               \
		if (!(cond)) {                                             \
			dprintf(real_err, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #cond);                \
			dup2(real_err, 2);                                 \
			abort();                                           \
		}                                                          \
	} while (0)

/* Once per process: names the program in diagnostics and keeps the real
 * stderr. False if it was done already. */
static bool prog_setup(const char *name)
{
	if (real_err >= 0)
		return false;
	diag_init(name);
	real_err = dup(2);
	FUZZ_CHECK(real_err >= 0);
	null_fd = open("/dev/null", O_WRONLY);
	FUZZ_CHECK(null_fd >= 0);
	if (__sanitizer_set_report_fd)
		__sanitizer_set_report_fd((void *)(intptr_t)real_err);
	return true;
}

/* ---- the input as bytes to take ---- */

struct bytes {
	const uint8_t *p;
	size_t n;
};

/* The next byte, 0 once they are all taken. */
static unsigned take(struct bytes *b)
{
	if (!b->n)
		return 0;
	b->n--;
	return *b->p++;
}

/* ---- a definition, as a command line ---- */

/* A command line and the words it owns; a definition's strings point into
 * it while it is in force. */
struct cmdline {
	int argc;
	char *argv[40];
	char words[40][24];
	int nwords;
};

static void arg(struct cmdline *c, const char *w)
{
	FUZZ_CHECK(c->argc < 39);
	c->argv[c->argc++] = (char *)w;
	c->argv[c->argc] = NULL;
}

/* For FUZZ_*_DEBUG: the options of a command line, quoted. */
static void dump_cmd(const char *what, const struct cmdline *c)
{
	dprintf(real_err, "%s:", what);
	for (int i = 1; i < c->argc; i++)
		dprintf(real_err, " '%s'", c->argv[i]);
	dprintf(real_err, "\n");
}

static void setup_once(void);
static void run(struct bytes *b);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	struct bytes b = { data, size };
	dup2(null_fd, 2);	/* the program's diagnostics */
	run(&b);
	dup2(real_err, 2);
	return 0;
}

#endif
