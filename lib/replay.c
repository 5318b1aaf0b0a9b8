/* replay.c - es-replay's engine: a request read, its slice in chunks */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "json.h"
#include "mem.h"
#include "replay.h"

/* A time member: a string as --from/--to take it, or a number (epoch,
 * its unit from its size). 0, or -1 with why. */
static int req_time(const json_t *v, const char *name, int64_t *us,
		    char *why, size_t n)
{
	char text[64];
	const char *s = text, *err = "a string or a number is needed";
	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else if (json_is_real(v))
		snprintf(text, sizeof text, "%.17g", json_real_value(v));
	else
		s = NULL;
	if (s && archive_query_time(s, us, &err) == 0)
		return 0;
	snprintf(why, n, "invalid time for %s: %s", name, err);
	return -1;
}

/* key_is: an object of strings (or numbers, as their text), made "F=V"
 * as es-archive's --key-is takes them. */
static int req_key(const json_t *v, struct replay_req *r, char *why, size_t n)
{
	const char *f;
	const json_t *x;
	if (!json_is_object(v)) {
		snprintf(why, n, "key_is: an object of FIELD: VALUE is needed");
		return -1;
	}
	r->key_is = xmalloc((json_object_size(v) + 1) * sizeof *r->key_is);
	json_object_foreach((json_t *)v, f, x) {
		char num[64];
		const char *val = num;
		if (json_is_string(x))
			val = json_string_value(x);
		else if (json_is_integer(x))
			snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
				 json_integer_value(x));
		else {
			snprintf(why, n, "key_is: the value of '%.100s' is not a "
				 "string or an integer", f);
			return -1;
		}
		size_t fl = strlen(f), vl = strlen(val);
		char *kv = xmalloc(fl + vl + 2);
		memcpy(kv, f, fl);
		kv[fl] = '=';
		memcpy(kv + fl + 1, val, vl + 1);
		r->key_is[r->nkey_is++] = kv;
	}
	return 0;
}

/* The members but reply; 0 or -1 with why. */
static int req_members(json_t *o, struct replay_req *r, char *why, size_t n)
{
	const char *name;
	json_t *v;
	json_object_foreach(o, name, v) {
		if (!strcmp(name, "reply"))
			continue;
		if (!strcmp(name, "from") || !strcmp(name, "to")) {
			if (req_time(v, name, *name == 'f' ? &r->from : &r->to,
				     why, n))
				return -1;
		} else if (!strcmp(name, "where")) {
			if (!json_is_string(v)) {
				snprintf(why, n, "where: a string is needed");
				return -1;
			}
			r->where = xstrdup(json_string_value(v));
		} else if (!strcmp(name, "key_is")) {
			if (req_key(v, r, why, n))
				return -1;
		} else {
			snprintf(why, n, "unknown member '%.100s' (from, to, "
				 "where, key_is, reply)", name);
			return -1;
		}
	}
	if (r->from >= r->to) {
		snprintf(why, n, "from must be before to");
		return -1;
	}
	return 0;
}

int replay_parse(const char *p, size_t len, struct replay_req *r, char *why,
		 size_t n)
{
	json_error_t e;
	memset(r, 0, sizeof *r);
	r->from = INT64_MIN;
	r->to = INT64_MAX;
	json_t *o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &e);
	const json_t *reply = json_object_get(o, "reply");
	int rc = -1;
	if (!o)
		snprintf(why, n, "not JSON: %s", e.text);
	else if (!json_is_object(o))
		snprintf(why, n, "not a JSON object");
	else if (!json_is_string(reply) || !*json_string_value(reply))
		snprintf(why, n, "no reply topic (\"reply\": a string)");
	else {
		r->reply = xstrdup(json_string_value(reply));
		rc = req_members(o, r, why, n) ? 1 : 0;
	}
	json_decref(o);
	return rc;
}

void replay_req_free(struct replay_req *r)
{
	free(r->reply);
	free(r->where);
	for (int i = 0; i < r->nkey_is; i++)
		free(r->key_is[i]);
	free(r->key_is);
	memset(r, 0, sizeof *r);
}

/* The slice counted, up to max + 1 matching records: -1 with why when
 * there are more than max. */
static int count(struct replay *r, const struct replay_req *req, uint64_t max,
		 char *why, size_t n)
{
	const struct record *rec;
	enum archive_verdict v;
	const char *msg;
	uint64_t matched = 0;
	int got;
	if (archive_query_slice_open(&r->sl, r->arc, req->from, req->to,
			       req->nkey_is ? r->key.buf : NULL, r->key.len,
			       r->where, r->fs, "archive", why, n))
		return -1;
	while (matched <= max &&
	       (got = archive_query_slice_next(&r->sl, &rec, &v, &msg, why, n)) > 0)
		matched += v == ARCHIVE_MATCH;
	archive_query_slice_close(&r->sl);
	if (got < 0)
		return -1;
	if (matched > max) {
		snprintf(why, n, "the slice holds more than %llu records (the "
			 "limit, --max-records): ask for a shorter span or a "
			 "narrower where", (unsigned long long)max);
		return -1;
	}
	return 0;
}

int replay_open(struct replay *r, const char *dir, const struct replay_req *req,
		uint64_t max, long chunk, char *why, size_t n)
{
	char msg[256];
	size_t col;
	memset(r, 0, sizeof *r);
	r->chunk = chunk;
	r->fs = fieldset_new();
	out_init(&r->key, -1, "key");
	out_init(&r->msg, -1, "message");
	if (req->where &&
	    !(r->where = expr_compile(req->where, r->fs, msg, sizeof msg, &col))) {
		snprintf(why, n, "invalid where at column %zu: %s", col + 1, msg);
		return -1;
	}
	if (!(r->arc = archive_open(dir, false, false, why, n)))
		return -1;
	if (req->nkey_is &&
	    archive_query_key(r->arc, dir, (const char *const *)req->key_is,
			      req->nkey_is, &r->key, msg, sizeof msg)) {
		snprintf(why, n, "key_is: %s", msg);
		return -1;
	}
	if (archive_read_begin(r->arc, why, n) || count(r, req, max, why, n))
		return -1;
	if (archive_query_slice_open(&r->sl, r->arc, req->from, req->to,
			       req->nkey_is ? r->key.buf : NULL, r->key.len,
			       r->where, r->fs, "archive", why, n))
		return -1;
	r->open = true;
	return 0;
}

static void put_count(struct outbuf *o, const char *name, uint64_t v)
{
	char b[64];
	snprintf(b, sizeof b, ",\"%s\":%llu", name, (unsigned long long)v);
	out_puts(o, b);
}

void replay_error(struct outbuf *o, const char *why, const struct replay *r)
{
	o->len = 0;
	out_puts(o, "{\"error\":");
	json_write_string(o, why, strlen(why));
	if (r) {
		put_count(o, "records", r->records);
		put_count(o, "messages", r->messages);
	}
	out_puts(o, "}\n");
}

int replay_next(struct replay *r, char *why, size_t n)
{
	const struct record *rec;
	enum archive_verdict v;
	const char *msg;
	long in = 0;
	int got = 0;
	r->msg.len = 0;
	while (in < r->chunk &&
	       (got = archive_query_slice_next(&r->sl, &rec, &v, &msg, why, n)) > 0) {
		if (v == ARCHIVE_MATCH) {
			out_put(&r->msg, rec->raw, rec->rawlen);
			out_putc(&r->msg, '\n');
			in++;
		} else
			r->skipped += v == ARCHIVE_BAD;
	}
	if (got < 0) {
		replay_error(&r->msg, why, r);
		return -1;
	}
	if (in) {
		r->records += (uint64_t)in;
		r->messages++;
		return 1;
	}
	out_puts(&r->msg, "{\"done\":true");
	put_count(&r->msg, "records", r->records);
	put_count(&r->msg, "messages", r->messages);
	put_count(&r->msg, "skipped", r->skipped);
	out_puts(&r->msg, "}\n");
	r->ended = true;
	return 0;
}

void replay_close(struct replay *r)
{
	if (r->open)
		archive_query_slice_close(&r->sl);
	r->open = false;
	expr_free(r->where);
	r->where = NULL;
	if (r->fs)
		fieldset_free(r->fs);
	r->fs = NULL;
	archive_close(r->arc);
	r->arc = NULL;
	out_free(&r->key);
	out_free(&r->msg);
}
