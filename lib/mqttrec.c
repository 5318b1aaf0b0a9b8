/* mqttrec.c - MQTT messages as records (es-mqtt-sub's engine) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "influx.h"
#include "mem.h"
#include "mqttrec.h"
#include "path.h"
#include "stats.h"
#include "time.h"

/* ---- payloads as JSON text ---- */

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t mqttrec_utf8(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; }
	else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; }
	else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; }
	else return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3F >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* A JSON string of any bytes: valid UTF-8 as text, other bytes as
 * \udcXX (XX the byte, 80-FF). */
static void mqttrec_bytes(struct outbuf *o, const char *s, size_t n)
{
	if (utf8_valid(s, n)) {
		json_write_string(o, s, n);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	out_putc(o, '"');
	size_t i = 0;
	while (i < n) {
		size_t len = mqttrec_utf8(p + i, n - i);
		if (len) {
			/* json_write_string quotes: write its inside only */
			size_t at = o->len;
			json_write_string(o, s + i, len);
			memmove(o->buf + at, o->buf + at + 1, o->len - at - 2);
			o->len -= 2;
			i += len;
		} else {
			char esc[8];
			snprintf(esc, sizeof esc, "\\udc%02x", p[i]);
			out_put(o, esc, 6);
			i++;
		}
	}
	out_putc(o, '"');
}

/* "name":"value", after a comma unless first. */
static void mqttrec_member(struct outbuf *o, bool first, const char *name,
			   const char *value)
{
	if (!first)
		out_putc(o, ',');
	json_write_string(o, name, strlen(name));
	out_putc(o, ':');
	json_write_string(o, value, strlen(value));
}

static const char *mqttrec_arrival(struct mqttrec *r)
{
	rfc3339_format(time_now_us(), r->arrival);
	return r->arrival;
}

/* ---- one message, one record ---- */

/* NDJSON, a JSON object: as it came, one line, the asked-for fields added
 * before its closing brace. */
static void mqttrec_object(struct mqttrec *r, const char *topic,
			   const char *p, size_t n)
{
	struct outbuf *o = r->out;
	size_t end = n;
	while (end > 0 && p[end - 1] != '}')
		end--;
	size_t start = 0;
	while (p[start] != '{')
		start++;
	bool empty = true;
	for (size_t i = start + 1; i + 1 < end && empty; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			empty = false;
	for (size_t i = start; i + 1 < end; i++)
		out_putc(o, p[i] == '\n' || p[i] == '\r' ? ' ' : p[i]);
	if (r->topic_field) {
		mqttrec_member(o, empty, r->topic_field, topic);
		empty = false;
	}
	if (r->arrival_field)
		mqttrec_member(o, empty, r->arrival_field, mqttrec_arrival(r));
	out_put(o, "}\n", 2);
}

static void mqttrec_wrapped(struct mqttrec *r, const char *topic,
			    const char *p, size_t n)
{
	struct outbuf *o = r->out;
	out_putc(o, '{');
	mqttrec_member(o, true, r->topic_field ? r->topic_field : "topic",
		       topic);
	out_put(o, ",\"payload\":", 11);
	mqttrec_bytes(o, p, n);
	if (r->arrival_field)
		mqttrec_member(o, false, r->arrival_field, mqttrec_arrival(r));
	out_put(o, "}\n", 2);
}

static void mqttrec_text(struct value *v, const char *s, size_t n)
{
	v->t = V_STRING;
	v->s = s;
	v->n = n;
}

/* CSV: the --fields columns, from the payload's fields or the message. */
static void mqttrec_row(struct mqttrec *r, const char *topic, const char *p,
			size_t n, bool object)
{
	scratch_reset(&r->sc);
	for (int i = 0; i < r->nof; i++) {
		struct value *v = &r->of[i].v;
		const char *name = r->names[i];
		v->t = V_NULL;
		if ((r->topic_field && !strcmp(name, r->topic_field)) ||
		    (!object && !strcmp(name, "topic")))
			mqttrec_text(v, topic, strlen(topic));
		else if (r->arrival_field && !strcmp(name, r->arrival_field))
			mqttrec_text(v, mqttrec_arrival(r), strlen(r->arrival));
		else if (!object && !strcmp(name, "payload"))
			mqttrec_text(v, p, n);
		else if (object)
			value_load(&r->js.slots[i], v, &r->sc);
	}
	const char *err;
	if (writer_put_fields(r->wr, r->of, (size_t)r->nof, &err) < 0) {
		diag_warn("message on '%s' not written: %s", topic, err);
		stats.bad++;	/* (the writer counts what it writes) */
	}
}

void mqttrec_put(struct mqttrec *r, const char *topic, const char *p,
		 size_t n)
{
	const char *err;
	size_t col;
	bool object = n > 0 && memchr(p, 0, n) == NULL &&
		json_scan_line(p, n, r->fs, &r->js, &err, &col) == 0;
	if (r->csv)
		mqttrec_row(r, topic, p, n, object);
	else if (object)
		mqttrec_object(r, topic, p, n);
	else
		mqttrec_wrapped(r, topic, p, n);
	if (!r->csv)
		stats.out++;
}

/* ---- the columns ---- */

static bool mqttrec_columns(struct mqttrec *r, const char *fields, char *why,
			    size_t n)
{
	r->list = xstrdup(fields);
	r->names = xmalloc((strlen(fields) / 2 + 2) * sizeof *r->names);
	for (char *tok = strtok(r->list, ","); tok; tok = strtok(NULL, ","))
		r->names[r->nof++] = tok;
	if (!r->nof) {
		snprintf(why, n, "--fields: no field names");
		return false;
	}
	r->of = xmalloc((size_t)r->nof * sizeof *r->of);
	memset(r->of, 0, (size_t)r->nof * sizeof *r->of);
	for (int i = 0; i < r->nof; i++) {
		struct path path;
		const char *err;
		if (path_parse_all(r->names[i], &path, &err) < 0) {
			snprintf(why, n, "--fields: '%s': %s", r->names[i], err);
			return false;
		}
		int slot = fieldset_add(r->fs, &path);
		path_free(&path);
		if (slot != i) {
			snprintf(why, n, "--fields: '%s' given twice", r->names[i]);
			return false;
		}
		r->of[i].name = r->names[i];
		r->of[i].namelen = strlen(r->names[i]);
	}
	return true;
}

bool mqttrec_init(struct mqttrec *r, const char *fields, char *why, size_t n)
{
	memset(r, 0, sizeof *r);
	r->fs = fieldset_new();
	r->csv = fields != NULL;
	if (r->csv && !mqttrec_columns(r, fields, why, n))
		return false;
	size_t slots = (size_t)fieldset_count(r->fs) + 1;
	r->js.slots = xmalloc(slots * sizeof *r->js.slots);
	return true;
}

void mqttrec_open(struct mqttrec *r, struct outbuf *out)
{
	r->out = out;
	r->wr = writer_open(out, r->csv ? FMT_CSV
				 : influx_ready() ? FMT_INFLUX : FMT_NDJSON);
}

void mqttrec_free(struct mqttrec *r)
{
	if (r->wr)
		writer_close(r->wr);
	fieldset_free(r->fs);
	free(r->js.slots);
	free(r->js.members);
	free(r->of);
	free(r->names);
	free(r->list);
	scratch_free(&r->sc);
}
