/* ijoin_read.h - the interval join over two inputs read as data arrives
 *
 * es-join --left A --right B: the engine (ijoin.h) joins the records it
 * is given; this reads them, from both inputs at once. The side behind in
 * event time is read first (ijoin_pick), so that two files are read side
 * by side in time and the state stays small; when neither side has a line
 * ready, the output is flushed and one poll() over the two waits for
 * either, for a held event to be due, or for a silent side's watermark to
 * move (--idle). The program's --config reload comes between two records,
 * through a callback. Runtime layer: it waits on input and on the reload's
 * clock, as lib/prog.c's reading loop does for one input.
 */
#ifndef ES_IJOIN_READ_H
#define ES_IJOIN_READ_H

#include <stdbool.h>
#include <stddef.h>
#include "ijoin.h"
#include "record.h"

struct ijoin_read;
/*
 * The join for c, reading left and right (files or named pipes, "-"
 * standard input) in fmt, and writing to w over out in ofmt (FMT_AUTO:
 * the first record's). A record w cannot write is counted as dropped,
 * and each limit reached is said, once.
 */
struct ijoin_read *ijoin_read_new(const struct ijoin_conf *c,
				  const char *left, const char *right,
				  enum format fmt, struct writer *w,
				  struct outbuf *out, enum format ofmt);
/* Reads until both inputs end or a signal (loop_stop), calling
 * between(ctx) between two records (a reload: ijoin_read_reconf); then
 * closes the inputs. After a signal the buffered events are not written:
 * said on stderr. */
void ijoin_read_run(struct ijoin_read *rd, void (*between)(void *ctx),
		    void *ctx);
/*
 * A reload: c in force (ijoin_reconf), reading left and right, which are
 * the inputs in use or the same two swapped (they change sides): the
 * inputs are the process's. Returns 0 with what was done in said (for
 * reload_said), or -1 with why not (for reload_refuse), nothing changed.
 */
int ijoin_read_reconf(struct ijoin_read *rd, const struct ijoin_conf *c,
		      const char *left, const char *right, char *said,
		      size_t n);
/* The engine's counters (all 0 for NULL). */
struct ijoin_counts ijoin_read_counts(const struct ijoin_read *rd);
void ijoin_read_free(struct ijoin_read *rd);

#endif
