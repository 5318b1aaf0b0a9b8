/* publish.c - what the store-and-forward publishers share */
#include <string.h>

#include "diag.h"
#include "influx.h"
#include "opts.h"
#include "publish.h"
#include "stats.h"

void pub_opts_init(struct pub_opts *p, uint64_t queue)
{
	*p = (struct pub_opts){ .queue = queue, .spool_max = 1ull << 30,
				.drain_ms = 10000 };
}

bool pub_opt(struct pub_opts *p, int ch, const char *arg)
{
	switch (ch) {
	case OPT_PUB_PAYLOAD_FIELD: p->payload_field = arg; return true;
	case OPT_PUB_QUEUE: p->queue = spool_arg_queue(arg); return true;
	case OPT_PUB_SPOOL: p->spool_dir = arg; return true;
	case OPT_PUB_SPOOL_MAX: p->spool_max = spool_arg_max(arg); return true;
	case OPT_PUB_SPOOL_FULL: p->full = spool_arg_full(arg); return true;
	case OPT_PUB_FSYNC: p->sync = spool_arg_sync(arg); return true;
	case OPT_PUB_DRAIN_TIMEOUT:
		p->drain_ms = opts_duration("--drain-timeout", arg, true) / 1000;
		return true;
	}
	return false;
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

void pub_opts_help(FILE *f, const char *done, unsigned long long queue)
{
	fprintf(f,
		"      --payload-field F    payload: the raw value of field F (default:\n"
		"                           the record as NDJSON; -o csv: a CSV row)\n"
		"      --queue N            without --spool: messages held in memory\n"
		"                           until %s (default %llu); a full\n"
		"                           queue stops reading input\n"
		"      --spool DIR          keep every record on disk in DIR until it is\n"
		"                           %s; left-overs are sent first; DIR\n"
		"                           is for one program and one destination\n"
		"      --spool-max SIZE     bound on the spool (default 1G; k, M, G)\n"
		"      --spool-full P       block (stop reading input, the default) or\n"
		"                           drop-oldest (drop the oldest segment, counted)\n"
		"      --fsync WHEN         always, interval (every 1s, the default) or\n"
		"                           never: what survives a power loss\n",
		done, queue, done);
}

bool pub_same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int pub_field_slot(struct fieldset *fs, const char *opt, const char *field)
{
	return field ? fieldset_add_text(fs, field, opt) : -1;
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

void pub_spool_check(const struct pub_opts *p, const char *dest)
{
	struct spool_cfg sc = pub_spool_cfg(p, dest);
	spool_check_owner(&sc);
}

struct spool *pub_spool_open(const struct pub_opts *p, const char *dest)
{
	struct spool_cfg sc = pub_spool_cfg(p, dest);
	struct spool *q = spool_open(&sc);
	if (spool_pending(q))
		diag_warn("spool %s: %llu records left from before go first",
			  p->spool_dir, (unsigned long long)spool_pending(q));
	return q;
}
