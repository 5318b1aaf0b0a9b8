/* input.h - block input split into lines */
#ifndef ES_INPUT_H
#define ES_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_MAX_BYTES (16u << 20)	/* longer lines are bad input */

enum line_status {
	LINE_OK,		/* a line: *p, *n (no "\n", no "\r" before it) */
	LINE_TOOLONG,		/* a line over LINE_MAX_BYTES was skipped; its bytes
				   went to in->spill */
	LINE_EOF,
	LINE_TIMEOUT,		/* in->timeout_ms passed without input */
	LINE_STOP,		/* SIGINT/SIGTERM */
	LINE_ERROR,		/* read(2) failed: errno in in->err */
};

struct input {
	int fd;
	const char *name;	/* for diagnostics: the file name, or "stdin" */
	char *buf;
	size_t start, end, cap;
	uint64_t lineno;	/* number of the line last returned, from 1 */
	size_t last_len;	/* its length (how the next end is looked for) */
	bool vectors;		/* simd16_on(): short lines' ends by vectors */
	bool eof, bom_checked, skipping;
	bool eol_known;		/* eol is decided (at the first line break) */
	char eol;		/* '\n', or '\r' for CR-only line ends */
	/* Called before blocking for input: flush output there. */
	void (*idle)(void *ctx);
	void *ctx;
	/* Receives an over-long line in pieces, last=true at its end. */
	void (*spill)(void *spill_ctx, const char *p, size_t n, bool last);
	void *spill_ctx;
	int timeout_ms;		/* for LINE_TIMEOUT; -1 waits for ever */
	int err;		/* the errno of LINE_ERROR */
};
/* Opens path ("-" is stdin). Returns -1 with errno set. */
int input_open(struct input *in, const char *path);
void input_close(struct input *in);
/* Next line. A UTF-8 BOM at the start of the input is dropped (one later
 * on is data: bad NDJSON, said). Lines end in
 * "\n" or "\r\n", or in "\r" when the input's first line break is a lone
 * "\r". */
enum line_status input_line(struct input *in, const char **p, size_t *n);

#endif
