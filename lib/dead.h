/* dead.h - the dead-letter file (bad input) and the late events (--late) */
#ifndef ES_DEAD_H
#define ES_DEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where bad lines go (--dead-letter), and whether the first is fatal.
 * Returns 0, or -1 with why in err (the file cannot be opened). */
int dead_set_dead_letter(const char *path, char *err, size_t n);
void dead_set_strict(bool strict);
/*
 * A bad input line: "prog: SRC:LINE: MESSAGE" on stderr, the raw bytes and a
 * newline to the dead-letter file, stats.bad++; returns 0. Under --strict
 * the run ends with status 3 (diag_end) and it returns -1.
 * header: for CSV, the header line of the input the row came from, written
 * once at the top of the dead-letter file so that it can be read back as CSV
 * (NULL for NDJSON).
 */
int dead_bad(const char *src, uint64_t line, const char *msg,
	     const char *raw, size_t n, const char *header, size_t hn);
/* Streaming form for a line too long to hold: the CSV header (if any) once,
 * then the pieces in order. */
void dead_header(const char *header, size_t hn);
void dead_piece(const char *p, size_t n, bool last);
/* --late FILE: events behind the watermark are written there raw (for CSV
 * under their header), and counted in stats.late either way. The first
 * late event of a run is said on stderr (src:line, its time t, the
 * watermark wm it is behind), and dead_finish says how many there were
 * and how far behind the watermark they were at most. */
int dead_set_late(const char *path, char *err, size_t n);
void dead_late(const char *src, uint64_t line, int64_t t, int64_t wm,
	       const char *raw, size_t n, const char *header, size_t hn);

/* Writes out the buffered dead letters (when input idles). */
void dead_flush(void);
/* Reopens the dead-letter and late files (SIGHUP): 0, or -1 when one
 * cannot be; that is said and ends the run with status 1 (diag_end). */
int dead_reopen(void);
/* Closes both files and says how many late events there were; run at
 * exit by diag_finish (a hook registered on first use), once. */
void dead_finish(void);

#endif
