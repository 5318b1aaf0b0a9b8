/* publoop.c - the loop every store-and-forward publisher runs */
#include <stdio.h>
#include <string.h>

#include "dead.h"
#include "diag.h"
#include "loop.h"
#include "notify.h"
#include "out.h"
#include "publoop.h"
#include "reload.h"
#include "stats.h"

#define BATCH 256		/* records read per turn of the loop */
#define TICK_MS 200		/* the spool's ack file and fsync timers */

void publoop_init(struct publoop *pl, const struct pub_transport *t,
		  void *ctx, const struct pub_opts *po, struct fieldset *fs)
{
	memset(pl, 0, sizeof *pl);
	pl->t = t;
	pl->ctx = ctx;
	pl->po = po;
	pl->fs = fs;
	pl->payload.slot = pub_field_slot(fs, "--payload-field",
					  po->payload_field);
	evloop_init(&pl->ev);
	/* the input only ends the wait: it is read at the top of a turn */
	pl->input = evloop_add_fd(&pl->ev, -1, POLLIN, NULL, NULL);
	pl->drain = evloop_add_timer(&pl->ev, NULL, NULL);
}

int publoop_open(struct publoop *pl, const char *dest, char **files,
		 int nfiles, enum format in_fmt, bool csv)
{
	out_init(&pl->msg, -1, "message");
	pub_payload_init(&pl->payload, csv);
	pl->q = pub_spool_open(pl->po, dest);
	if (spool_status(pl->q))
		return spool_status(pl->q);
	pl->rd = reader_open(files, nfiles, in_fmt, pl->fs, NULL, NULL);
	reader_set_timeout(pl->rd, 0);
	return 0;
}

void publoop_fields(struct publoop *pl)
{
	pl->payload.slot = pub_field_slot(pl->fs, "--payload-field",
					  pl->po->payload_field);
	reader_fields_changed(pl->rd);
}

void publoop_ack(struct publoop *pl, uint64_t id)
{
	spool_ack(pl->q, id);
	stats.out = ++pl->acked;
}

void publoop_refuse(struct publoop *pl, uint64_t id, const char *what,
		    const char *why, const void *payload, size_t n)
{
	diag_warn("message %llu%s cannot be published: %s",
		  (unsigned long long)id, what, why);
	publoop_drop(pl, id, payload, n);
}

void publoop_drop(struct publoop *pl, uint64_t id, const void *payload,
		  size_t n)
{
	dead_piece(payload, n, true);
	stats.bad++;
	pl->refused++;
	spool_ack(pl->q, id);
}

/* ---- reloads ---- */

static void publoop_apply(struct publoop *pl)
{
	if (!pl->waits || (pl->t->ready && !pl->t->ready(pl->ctx)))
		return;
	pl->t->apply(pl->ctx);
	reload_free(pl->words);
	pl->words = pl->staged;
	pl->staged = NULL;
	pl->waits = false;
}

void publoop_stage(struct publoop *pl, char **av)
{
	reload_free(pl->staged);
	pl->staged = av;
	pl->waits = true;
	publoop_apply(pl);
}

/* ---- input ---- */

/* The queue's bound reached: said once (DESIGN.md: state is bounded and
 * says so), since a slow broker can make it the normal state. */
static void publoop_say_full(struct publoop *pl)
{
	if (!pl->said_full && spool_is_full(pl->q, 0)) {
		pl->said_full = true;
		if (pl->po->spool_dir)
			diag_warn("spool %s is full (--spool-max): reading waits for "
				  "acknowledgements", pl->po->spool_dir);
		else
			diag_warn("queue is full (--queue %llu): reading waits for "
				  "acknowledgements",
				  (unsigned long long)pl->po->queue);
	}
	if (!pl->said_drop && spool_dropped(pl->q)) {
		pl->said_drop = true;
		diag_warn("spool %s is full (--spool-max): dropping the oldest "
			  "records", pl->po->spool_dir);
	}
}

/* The next record: true with *rec; else false, with in_eof set at the end
 * of input, or in_more cleared when there is none for now. */
static bool publoop_record(struct publoop *pl, struct record *rec)
{
	int got = reader_next(pl->rd, rec);
	if (got < 0)
		pl->in_more = false;
	else if (got == 0)
		pl->in_eof = true;
	return got > 0;
}

/* Queues rec's message; bad input if it cannot have one. */
static void publoop_queue(struct publoop *pl, const struct record *rec,
			  struct scratch *sc)
{
	const char *err;
	scratch_reset(sc);
	pl->msg.len = 0;
	if (!pl->t->head(pl->ctx, rec, sc, &pl->msg, &err) ||
	    !pub_payload_put(&pl->payload, rec, sc, &pl->msg, &err)) {
		record_bad(rec, err);
		return;
	}
	spool_append(pl->q, pl->msg.buf, pl->msg.len);
	pl->spooled += pl->po->spool_dir != NULL;
}

/* Reads up to BATCH records while the queue has room. A reload is looked
 * for before each record, so that it falls between two. */
static void publoop_read(struct publoop *pl, struct scratch *sc)
{
	struct record rec;
	pl->in_more = true;
	for (int i = 0; i < BATCH && !spool_is_full(pl->q, 0); i++) {
		if (reload_due())
			pl->reload(pl);
		if (pl->waits || !publoop_record(pl, &rec))
			return;
		publoop_queue(pl, &rec, sc);
	}
	if (pl->t->say_full)
		publoop_say_full(pl);
}

static bool publoop_reading(const struct publoop *pl)
{
	return !pl->in_eof && !spool_is_full(pl->q, 0) && !pl->waits;
}

/* What the input adds to the next wait. */
static void publoop_wait_input(struct publoop *pl)
{
	bool reading = publoop_reading(pl);
	int fd = reading ? reader_fd(pl->rd) : -1;
	pl->input->fd = fd;
	/* Lines already read wait, or the next input is not open yet:
	 * poll() would not say. */
	pl->input->due = reading && (pl->in_more || fd < 0) ? 0 : EVLOOP_NEVER;
}

/* ---- the loop ---- */

/* One turn's work before the wait; false when the run is over. */
static bool publoop_turn(struct publoop *pl, struct scratch *sc, int64_t now)
{
	publoop_apply(pl);
	if (publoop_reading(pl))
		publoop_read(pl, sc);
	else if (!pl->in_eof && reload_due())
		pl->reload(pl);	/* a newer file, while reading waits */
	if (loop_stop)
		pl->in_eof = true;	/* SIGINT/SIGTERM, even while blocked */
	if (pl->in_eof && !pl->drain_at) {
		pl->drain_at = now + pl->po->drain_ms;
		pl->drain->at = pl->drain_at;
	}
	pl->t->send(pl->ctx, now);
	spool_tick(pl->q, now);
	stats.dropped = spool_dropped(pl->q);
	if ((pl->t->failed && pl->t->failed(pl->ctx)) || spool_status(pl->q))
		return false;
	return !pl->in_eof || (spool_pending(pl->q) && now < pl->drain_at);
}

int publoop_run(struct publoop *pl)
{
	struct scratch sc = { 0 };
	int rc = 0;
	/* systemd: ready at once, connected or not: the spool takes the
	 * messages while the uplink is down. */
	notify_ready();
	while (publoop_turn(pl, &sc, loop_now_ms())) {
		publoop_wait_input(pl);
		rc = evloop_run_once(&pl->ev, TICK_MS);
		if (rc < 0)
			break;
	}
	scratch_free(&sc);
	return rc < 0 ? rc : spool_status(pl->q);
}

uint64_t publoop_finish(struct publoop *pl)
{
	if (pl->t->stop)
		pl->t->stop(pl->ctx);
	stats.dropped = spool_dropped(pl->q);
	uint64_t left = spool_pending(pl->q);
	if (left && pl->po->spool_dir)
		diag_warn("%llu messages not delivered (they remain in the spool %s)",
			  (unsigned long long)left, pl->po->spool_dir);
	else if (left)
		diag_warn("%llu messages not delivered", (unsigned long long)left);
	if (pl->refused)
		diag_warn("%llu messages refused by the broker or the library: not "
			  "delivered (counted as bad, their payloads to --dead-letter)",
			  pl->refused);
	return left + pl->refused;
}

void publoop_free(struct publoop *pl)
{
	if (pl->q) {
		pl->left = spool_pending(pl->q);
		pl->left_bytes = spool_pending_bytes(pl->q);
	}
	spool_close(pl->q);
	pl->q = NULL;
	reader_close(pl->rd);
	pub_payload_free(&pl->payload);
	out_free(&pl->msg);
	reload_free(pl->staged);
	reload_free(pl->words);
}

void publoop_stats_queued(const struct publoop *pl, char *buf, size_t n)
{
	snprintf(buf, n, ",\"queued\":%llu,\"queued_bytes\":%llu",
		 (unsigned long long)(pl->q ? spool_pending(pl->q) : pl->left),
		 (unsigned long long)(pl->q ? spool_pending_bytes(pl->q)
				      : pl->left_bytes));
}
