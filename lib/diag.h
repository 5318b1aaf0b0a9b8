/* diag.h - diagnostics, dead letters, --stats */
#ifndef ES_DIAG_H
#define ES_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of DESIGN.md */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_BADINPUT = 3 };

extern const char *diag_prog;

struct stats {
	uint64_t in, out, bad, late, dropped;
	int64_t event_us;	/* the event time of the last record that had one */
	bool has_event;
};
extern struct stats stats;

/* Programs with event time note each record's (for --stats-file). */
static inline void stats_event(int64_t us)
{
	stats.event_us = us;
	stats.has_event = true;
}

/* The exit status a program ends with: 1 once a runtime error that does
 * not stop it (e.g. a file that cannot be opened) was reported. */
extern int diag_status;

void diag_init(const char *prog);

/* Allocation that cannot fail: out of memory is a runtime failure (exit 1,
 * after flushing what was done). Zero bytes gives a valid pointer. */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* "prog: message" on stderr. */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn, format(printf, 2, 3)))
void diag_fatal(int status, const char *fmt, ...);
/* "prog: message\nTry 'prog --help' for more information." and exit 2. */
__attribute__((noreturn, format(printf, 1, 2)))
void diag_usage(const char *fmt, ...);

/* Where bad lines go (--dead-letter), and whether the first is fatal. */
void diag_set_dead_letter(const char *path);
void diag_set_strict(bool strict);
/*
 * A bad input line: "prog: SRC:LINE: MESSAGE" on stderr, the raw bytes and a
 * newline to the dead-letter file, stats.bad++; under --strict exit 3.
 * header: for CSV, the header line of the input the row came from, written
 * once at the top of the dead-letter file so that it can be read back as CSV
 * (NULL for NDJSON).
 */
void diag_bad(const char *src, uint64_t line, const char *msg,
	      const char *raw, size_t n, const char *header, size_t hn);
/* Streaming form for a line too long to hold: the CSV header (if any) once,
 * then the pieces in order. */
void diag_dead_header(const char *header, size_t hn);
void diag_dead_piece(const char *p, size_t n, bool last);
/* --late FILE: events behind the watermark are written there raw (for CSV
 * under their header), and counted in stats.late either way. The first
 * late event of a run is said on stderr (src:line, its time t, the
 * watermark wm it is behind), and diag_finish says how many there were
 * and how far behind the watermark they were at most. */
void diag_set_late(const char *path);
void diag_late(const char *src, uint64_t line, int64_t t, int64_t wm,
	       const char *raw, size_t n, const char *header, size_t hn);

/* Writes out the buffered dead letters (when input idles). */
void diag_flush(void);
/* Reopens the dead-letter file (SIGHUP). */
void diag_reopen(void);

/* --stats: one JSON line on stderr; a program adds its own counters as
 * ",\"k\":v" text from the callback, on every way out. */
void diag_set_stats(bool on);
void diag_set_stats_extra(void (*fn)(char *buf, size_t n));
void diag_stats_print(void);
/* --stats-file: the counters, with pid, start, last event and last output
 * times, rewritten atomically (write, rename) into path every every_ms of
 * wall clock (on the loop's tick) and at exit. */
void diag_set_stats_file(const char *path, int64_t every_ms);
/* The program's main output, flushed before any exit diag makes (--strict),
 * so that the good records before a bad one are not lost. */
struct outbuf;
void diag_set_output(struct outbuf *o);
/* Flushes the dead-letter file and prints stats if asked; call at exit. */
void diag_finish(void);

#endif
