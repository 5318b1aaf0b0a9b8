/* publish.c - what the store-and-forward publishers share */
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "optgroup.h"
#include "influx.h"
#include "opts.h"
#include "publish.h"
#include "stats.h"

int pub_opt(struct pub_opts *p, int ch, const char *arg, char *why, size_t n)
{
	bool ok = true;
	switch (ch) {
	case OPT_PUB_PAYLOAD_FIELD: p->payload_field = arg; break;
	case OPT_PUB_QUEUE: ok = spool_arg_queue(arg, &p->queue, why, n); break;
	case OPT_PUB_SPOOL: p->spool_dir = arg; break;
	case OPT_PUB_SPOOL_MAX:
		ok = spool_arg_max(arg, &p->spool_max, why, n);
		break;
	case OPT_PUB_SPOOL_FULL: ok = spool_arg_full(arg, &p->full, why, n); break;
	case OPT_PUB_FSYNC: ok = spool_arg_sync(arg, &p->sync, why, n); break;
	case OPT_PUB_DRAIN_TIMEOUT:
		p->drain_ms = opts_duration("--drain-timeout", arg, true) / 1000;
		break;
	default:
		return 0;
	}
	return ok ? 1 : -1;
}

const char *pub_opts_restart(const struct pub_opts *a,
			     const struct pub_opts *b)
{
	if (!pub_same_str(a->spool_dir, b->spool_dir))
		return "--spool";
	if (a->queue != b->queue)
		return "--queue";
	if (a->spool_max != b->spool_max)
		return "--spool-max";
	if (a->full != b->full)
		return "--spool-full";
	if (a->sync != b->sync)
		return "--fsync";
	return NULL;
}

/* The help of --queue, --spool and --drain-timeout: the program's words
 * in them (pub_opts_init). */
static char queue_help[200], spool_help[200], drain_help[200];

const struct opts_entry pub_opts_table[] = {
	{"payload-field", required_argument, OPT_PUB_PAYLOAD_FIELD, "F",
	 "payload: the raw value of field F (default:\n"
	 "the record as NDJSON; -o csv: a CSV row)"},
	{"queue", required_argument, OPT_PUB_QUEUE, "N", queue_help},
	{"spool", required_argument, OPT_PUB_SPOOL, "DIR", spool_help},
	{"spool-max", required_argument, OPT_PUB_SPOOL_MAX, "SIZE",
	 "bound on the spool (default 1G; k, M, G)"},
	{"spool-full", required_argument, OPT_PUB_SPOOL_FULL, "P",
	 "block (stop reading input, the default) or\n"
	 "drop-oldest (drop the oldest segment, counted)"},
	{"fsync", required_argument, OPT_PUB_FSYNC, "WHEN",
	 "always, interval (every 1s, the default) or\n"
	 "never: what survives a power loss"},
	{"drain-timeout", required_argument, OPT_PUB_DRAIN_TIMEOUT, "D",
	 drain_help},
	{0}
};

static void pub_opts_words(const struct pub_words *w)
{
	snprintf(queue_help, sizeof queue_help,
		 "without --spool: messages held in memory\n"
		 "until %s (default %llu); a full\n"
		 "queue stops reading input", w->done,
		 (unsigned long long)w->queue);
	snprintf(spool_help, sizeof spool_help,
		 "keep every record on disk in DIR until it is\n"
		 "%s; left-overs are sent first; DIR\n"
		 "is for one program and one destination", w->done);
	snprintf(drain_help, sizeof drain_help,
		 "at end of input, wait up to D for%s (default 10s)", w->reports);
}

void pub_opts_init(struct pub_opts *p, const struct pub_words *w)
{
	*p = (struct pub_opts){ .queue = w->queue, .spool_max = 1ull << 30,
				.drain_ms = 10000 };
	pub_opts_words(w);
}

bool pub_same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int pub_field_slot(struct fieldset *fs, const char *opt, const char *field)
{
	return field ? optgroup_field(fs, opt, field) : -1;
}

void pub_payload_init(struct pub_payload *pl, bool csv)
{
	pl->csv = csv;
	pl->header_skipped = false;
	out_init(&pl->buf, -1, "payload");
	/* -o influx configured the line protocol for the whole program
	 * (opts_apply): the payload is a line then. */
	pl->w = writer_open(&pl->buf, csv ? FMT_CSV
				      : influx_ready() ? FMT_INFLUX : FMT_NDJSON);
}

/* The field's value as it stands: a string without its quotes, numbers
 * and JSON text as written, an empty CSV cell as nothing. */
static bool pub_payload_field(const struct pub_payload *pl,
			      const struct record *rec, struct scratch *sc,
			      struct outbuf *msg, const char **err)
{
	const struct span *sp = &rec->slots[pl->slot];
	struct value v;
	value_load(sp, &v, sc);
	if (v.t == V_MISSING) {
		*err = "payload field is missing";
		return false;
	}
	if (v.t == V_STRING)
		out_put(msg, v.s, v.n);
	else if (!(sp->kind == SPAN_CSV && v.t == V_NULL))
		out_put(msg, sp->p, sp->n);
	return true;
}

static bool pub_payload_record(struct pub_payload *pl,
			       const struct record *rec, struct outbuf *msg,
			       const char **err)
{
	pl->buf.len = 0;
	if (pl->csv && !pl->header_skipped) {
		/* The CSV writer puts its header before the first row: write
		 * that record once to be rid of the header. */
		if (writer_put(pl->w, rec, err) < 0)
			return false;
		pl->buf.len = 0;
		pl->header_skipped = true;
	}
	if (writer_put(pl->w, rec, err) < 0)
		return false;
	out_put(msg, pl->buf.buf, pl->buf.len - 1);	/* no "\n" */
	return true;
}

bool pub_payload_put(struct pub_payload *pl, const struct record *rec,
		     struct scratch *sc, struct outbuf *msg, const char **err)
{
	if (pl->slot >= 0)
		return pub_payload_field(pl, rec, sc, msg, err);
	/* The writer counts what it writes as output; a publisher's output
	 * is what the broker has taken, which the program counts. */
	uint64_t out = stats.out;
	bool ok = pub_payload_record(pl, rec, msg, err);
	stats.out = out;
	return ok;
}

void pub_payload_free(struct pub_payload *pl)
{
	writer_close(pl->w);
	out_free(&pl->buf);
}

static struct spool_cfg pub_spool_cfg(const struct pub_opts *p,
				      const char *dest)
{
	return (struct spool_cfg){
		.dir = p->spool_dir, .max_bytes = p->spool_max,
		.max_records = p->queue, .full = p->full, .sync = p->sync,
		.owner_prog = diag_prog, .owner_dest = dest,
	};
}

int pub_spool_check(const struct pub_opts *p, const char *dest)
{
	struct spool_cfg sc = pub_spool_cfg(p, dest);
	return spool_check_owner(&sc);
}

struct spool *pub_spool_open(const struct pub_opts *p, const char *dest)
{
	struct spool_cfg sc = pub_spool_cfg(p, dest);
	struct spool *q = spool_open(&sc);
	if (!spool_status(q) && spool_pending(q))
		diag_warn("spool %s: %llu records left from before go first",
			  p->spool_dir, (unsigned long long)spool_pending(q));
	return q;
}
