/* statsprom.h - the counters in Prometheus's text exposition format
 *
 * What --stats-file writes when FILE ends in .prom, the files
 * node_exporter's textfile collector reads: one metric family per counter
 * (edgestream_records_in_total...) with HELP and TYPE lines, labelled
 * program="es-filter" and, when the environment names one (the systemd
 * unit edgestream@NAME sets EDGESTREAM_PIPELINE=NAME), pipeline="NAME".
 */
#ifndef ES_STATSPROM_H
#define ES_STATSPROM_H

#include <stddef.h>
#include <stdint.h>

/* The text for the counters in `stats`, the program's own ones (extra:
 * ",\"k\":v" as --stats has them), the start time and the time of the
 * last output (0: none), in buf; returns its length (< n, or n - 1 when
 * it was cut). */
size_t statsprom_render(char *buf, size_t n, const char *extra,
			int64_t started_us, int64_t output_us);
/* True when path names a Prometheus text file (it ends in .prom). */
int statsprom_wanted(const char *path);

#endif
