/* mqttrec.h - MQTT messages as records (es-mqtt-sub's engine)
 *
 * A payload that is a JSON object is the record, written as it came (line
 * breaks between its tokens become spaces, so that it stays one line),
 * with the topic and the arrival time added if asked. Any other payload is
 * wrapped: {"topic":...,"payload":"..."}; bytes that are not UTF-8 are
 * written as \udc80-\udcff (Python's "surrogateescape"), so that the exact
 * bytes can be had back. Under -o csv a record is the row of the --fields
 * columns: payload fields, the topic and arrival fields, and topic and
 * payload for a wrapped message.
 */
#ifndef ES_MQTTREC_H
#define ES_MQTTREC_H

#include <stdbool.h>
#include <stddef.h>
#include "json.h"
#include "record.h"

struct mqttrec {
	/* The fields added, as the running configuration says (NULL: not
	 * added); the caller sets them. */
	const char *topic_field, *arrival_field;
	bool csv;
	struct writer *wr;
	struct outbuf *out;
	struct fieldset *fs;
	struct json_scan js;
	struct scratch sc;
	struct ofield *of;	/* the CSV columns */
	int nof;
	char *list;		/* --fields, cut into names */
	char **names;
	char arrival[40];
};

/* NDJSON output (fields NULL), or CSV with the columns of the comma-
 * separated fields; false with why ("--fields: ...") if they are not a
 * list of field paths. */
bool mqttrec_init(struct mqttrec *r, const char *fields, char *why, size_t n);
/* Records from now on go to out. */
void mqttrec_open(struct mqttrec *r, struct outbuf *out);
/* One message, one record (one that cannot be written is said and
 * counted as bad). */
void mqttrec_put(struct mqttrec *r, const char *topic, const char *payload,
		 size_t n);
void mqttrec_free(struct mqttrec *r);

#endif
