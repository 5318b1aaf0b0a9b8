/* enrich.h - the table join: each record with the row of its key
 *
 * es-join --table: the table (enrich_table.h) is loaded by the key of
 * --on; each input record is written with the fields of its key's row
 * added (NDJSON in and out: spliced before its closing brace, byte for
 * byte; otherwise built, and for CSV output under the table's columns as
 * they were when the first record was written). A record without a row
 * is written unchanged (--type left) or filtered (inner: what the join
 * means, counted, not lost). The table is loaded again on request (a
 * SIGHUP) and when its file changes; a load that fails keeps the old
 * table and says why.
 *
 * The engine writes through the program's writer and output buffer
 * itself: an emit callback would copy every spliced line once more on
 * the hot path.
 */
#ifndef ES_ENRICH_H
#define ES_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include "join.h"
#include "record.h"

#define ENRICH_CHECK_MS 1000	/* the table's file is looked at this often */

/* What the options say. The engine keeps a copy; its strings and paths
 * are the program's, to live while the conf is in force. */
struct enrich_conf {
	const char *table;	/* the file */
	const char *prefix;	/* --table-prefix, or NULL */
	struct join_pairs keys;	/* [0] the input's, [1] the table's */
	enum join_type type;	/* JOIN_INNER or JOIN_LEFT */
};

struct enrich_counts {
	unsigned long long matched, unmatched;
	unsigned long long filtered;	/* unmatched and not written (inner) */
	unsigned long long reloads;	/* tables loaded after the first */
	size_t rows;			/* of the table in use */
};

struct enrich;
/* Reads the input's fields through fs (the program's reader's, which
 * outlives it: the keys are added to it, and every member is located
 * for the splice). No table yet: enrich_apply loads one. */
struct enrich *enrich_new(struct fieldset *fs);
/* Writes to w (over out, for spliced NDJSON), in ofmt (FMT_AUTO: the
 * format of the first record); before the first record. */
void enrich_output(struct enrich *e, struct writer *w, struct outbuf *out,
		   enum format ofmt);
/*
 * Puts c in force: the first call loads the table; a later one (a
 * reload) loads it again if the file, the keys or the prefix changed (all
 * or nothing), else keeps it. Returns 0 (*loaded: a table was loaded),
 * or -1 with why in err and the running conf and table kept. The key
 * slots of the input's fieldset are set up again either way: the
 * program's reader is to be told (reader_fields_changed).
 */
int enrich_apply(struct enrich *e, const struct enrich_conf *c, bool *loaded,
		 char *err, size_t errn);
/* One input record: written with its row, written as it is, or
 * filtered; bad input (a CSV cell that is not UTF-8 for JSON output, a
 * record the CSV header cannot hold) is reported as such. */
void enrich_record(struct enrich *e, const struct record *rec);
/*
 * Between records and on quiet input (timed_out): a SIGHUP since the
 * last look (loop_hups moved; one whose --config reload loaded the table
 * already is that table's) loads the table again; otherwise, at most
 * once per ENRICH_CHECK_MS (looked at every 1024 records, or after the
 * input waited), the file's identity, size and modification time are
 * compared with the table's. A load that fails keeps the running table,
 * said on stderr.
 */
void enrich_watch(struct enrich *e, bool timed_out);
/* The input is about to wait (the reader's idle callback): the next
 * enrich_watch looks at the clock. */
void enrich_waited(struct enrich *e);
/* e's counters (all 0 for NULL: before the engine is made). */
struct enrich_counts enrich_counts(const struct enrich *e);
void enrich_free(struct enrich *e);

#endif
