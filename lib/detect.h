/* detect.h - online anomaly detection per key, in one pass
 *
 * Each record gets two fields: anomaly (true or false) and score (how far
 * the value is from what its key's recent values lead to expect, or null
 * while that is not known). Methods:
 *
 *   zscore K, window N|D  score = (x - mean) / sd over the key's last N
 *                         points (or those of the last D of event time)
 *                         before this one; sd is the sample deviation
 *   ewma A, threshold K   score = (x - m) / sqrt(v), m and v the
 *                         exponentially weighted mean and variance of the
 *                         points before (weight A for the newest)
 *   mad K, window N|D     score = (x - median) / (1.4826 * MAD) over the
 *                         window: robust to the spikes themselves
 *   above X / below X     thresholds with hysteresis: one anomaly when the
 *     [clear Y]           value crosses X, none more until it is back past Y
 *
 * A point is an anomaly when |score| > K. Every point enters the statistics
 * of its key, anomalies too, so that a lasting change of level becomes the
 * new normal within a window instead of alarming for ever. No anomaly is
 * said during the warm-up (warmup points of the key's history). When the
 * spread is 0 (a constant series), a value off the centre is an anomaly and
 * its score is null. The record is written with the two fields.
 */
#ifndef ES_DETECT_H
#define ES_DETECT_H

#include <stdbool.h>
#include <stdint.h>
#include "series.h"

#define DETECT_MAX_WINDOW 100000	/* points a count window may hold */
#define DETECT_TIME_WINDOW_MAX 10000	/* points a time window holds per key */
#define DETECT_DEFAULT_WARMUP 10	/* time windows and --ewma */

enum detect_method {
	DETECT_NONE, DETECT_ZSCORE, DETECT_EWMA, DETECT_MAD, DETECT_THRESHOLD
};

/* What the options say; the strings point into the command line's words. */
struct detect_conf {
	enum detect_method method;
	double k, alpha;
	bool has_threshold;
	long window;		/* count window: points */
	int64_t span;		/* time window: us */
	long warmup;		/* -1: the default */
	bool above, below, only;
	double above_x, above_clear, below_x, below_clear;
	int last_level;		/* the option --clear is for */
	struct series_conf s;	/* -k, -f, the event time, the caps */
};

struct detect {
	struct detect_conf *cfg;	/* in force */
	struct series s;
	int aslot, sslot;	/* anomaly and score, if present already */
	struct writer *w;
	struct outbuf *out;
	enum format ofmt;	/* -o, else the first record's format */
	/* the records rebuilt */
	struct ofield *of;
	size_t ofcap;
	struct fieldset *mfs;
	struct json_scan js;
	bool warned;		/* a time window full */
	unsigned long long anomalies, trimmed;
	/* Records read well that --only-anomalies did not write. */
	unsigned long long filtered;
};

/* Under c (which d keeps), the fields in fs. Returns 0, or -1 with why
 * in err (a bad field path). */
int detect_init(struct detect *d, struct detect_conf *c, struct fieldset *fs,
		char *err, size_t n);
/* The state for a run: records go to w (NDJSON spliced into out); ofmt
 * the output format (FMT_AUTO: the first record's). */
void detect_start(struct detect *d, struct writer *w, struct outbuf *out,
		  enum format ofmt, int nslots);
void detect_record(struct detect *d, const struct record *rec);
/* Input is quiet: returns the poll timeout (ms, -1: none). */
int detect_idle(struct detect *d);
/* A reload between two records: if the series are the same (keys, value,
 * method, window, time read the same way) every key keeps its statistics
 * and the guessed time unit stays; else every key starts again. nc (with
 * its fields added to fs) is in force after; what was done goes to said. */
void detect_reconf(struct detect *d, struct detect_conf *nc,
		   struct fieldset *fs, char *said, size_t n);
void detect_finish(struct detect *d);
/* --stats: ",\"filtered\":..." */
void detect_stats(const struct detect *d, char *buf, size_t n);
void detect_free(struct detect *d);

#endif
