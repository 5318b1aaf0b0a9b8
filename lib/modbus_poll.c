/* modbus_poll.c - each device polled on its own schedule, in a thread */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "modbus_decode.h"
#include "modbus_poll.h"
#include "time.h"

#define BACKOFF_FIRST_US 250000		/* the first wait after a failed connect */
#define BACKOFF_MAX_US 30000000		/* and the longest */

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the queue ---- */

int modbus_poll_queue_init(struct modbus_queue *q)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->room, NULL);
	if (pipe(q->pipe) < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		fcntl(q->pipe[i], F_SETFL, O_NONBLOCK);
	fcntl(q->pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(q->pipe[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

static void batches_free(struct modbus_batch *b)
{
	while (b) {
		struct modbus_batch *next = b->next;
		free(b->s);
		free(b);
		b = next;
	}
}

void modbus_poll_queue_free(struct modbus_queue *q)
{
	batches_free(q->head);
	batches_free(q->spare);
	close(q->pipe[0]);
	close(q->pipe[1]);
	pthread_cond_destroy(&q->room);
	pthread_mutex_destroy(&q->mu);
}

struct modbus_batch *modbus_poll_queue_take(struct modbus_queue *q)
{
	char buf[256];
	while (read(q->pipe[0], buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&q->mu);
	struct modbus_batch *b = q->head;
	q->head = q->tail = NULL;
	q->queued = 0;
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->mu);
	return b;
}

void modbus_poll_queue_closing(struct modbus_queue *q, bool closing)
{
	pthread_mutex_lock(&q->mu);
	q->closing = closing;
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->mu);
}

void modbus_poll_queue_give(struct modbus_queue *q, struct modbus_batch *list)
{
	if (!list)
		return;
	struct modbus_batch *last = list;
	while (last->next)
		last = last->next;
	pthread_mutex_lock(&q->mu);
	last->next = q->spare;
	q->spare = list;
	pthread_mutex_unlock(&q->mu);
}

/* A batch for n samples: a spare one, grown if need be. */
static struct modbus_batch *batch_get(struct modbus_queue *q, size_t n)
{
	pthread_mutex_lock(&q->mu);
	struct modbus_batch *b = q->spare;
	if (b)
		q->spare = b->next;
	pthread_mutex_unlock(&q->mu);
	if (!b)
		b = xmalloc(sizeof *b), b->s = NULL, b->cap = 0;
	if (b->cap < n) {
		b->s = xrealloc(b->s, n * sizeof *b->s);
		b->cap = n;
	}
	size_t cap = b->cap;
	struct modbus_sample *s = b->s;
	memset(b, 0, sizeof *b);
	b->s = s;
	b->cap = cap;
	b->n = n;
	return b;
}

static void batch_put(struct modbus_queue *q, struct modbus_batch *b)
{
	b->next = NULL;
	pthread_mutex_lock(&q->mu);
	while (q->queued >= MODBUS_QUEUE_MAX && !q->closing)
		pthread_cond_wait(&q->room, &q->mu);
	q->queued++;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	pthread_mutex_unlock(&q->mu);
	ssize_t w = write(q->pipe[1], "", 1);	/* full: already woken */
	(void)w;
}

/* ---- a poll ---- */

static void note(struct modbus_batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct modbus_batch *b, const char *fmt, ...)
{
	size_t len = strlen(b->note);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->note + len, sizeof b->note - len, fmt, ap);
	va_end(ap);
	len = strlen(b->note);
	if (len + 1 < sizeof b->note)
		b->note[len] = '\n', b->note[len + 1] = 0;
}

/* Every point of request r of g failed for why. */
static void fail_req(const struct modbus_group *g, struct modbus_batch *b,
		     size_t r, const char *why, int64_t ts)
{
	for (size_t k = 0; k < g->reqs[r].n; k++) {
		struct modbus_sample *s = &b->s[g->order[g->reqs[r].first + k]];
		s->ok = false;
		s->ts_us = ts;
		/* a point's error keeps the first 95 bytes of why */
		snprintf(s->error, sizeof s->error, "%.*s",
			 (int)sizeof s->error - 1, why);
		b->counts.failed++;
	}
}

/* ... and of g's requests from r on, and of the due groups after g. */
static void fail_rest(struct modbus_poller *p, size_t gi, size_t r,
		      struct modbus_batch *b, const char *why, int64_t ts)
{
	for (; gi < p->ngroups; gi++, r = 0) {
		const struct modbus_group *g = &p->groups[gi];
		if (g->due)
			for (; r < g->nreq; r++)
				fail_req(g, b, r, why, ts);
	}
}

/* Connected, or a line said once and the next try after a back-off with
 * jitter (+-25%, so that gateways do not retry in step). */
static bool connect_dev(struct modbus_poller *p, struct modbus_batch *b,
			int64_t now)
{
	char err[128];
	if (now < p->retry_at) {
		b->counts.skipped++;
		fail_rest(p, 0, 0, b, "not connected", time_now_us());
		return false;
	}
	if (modbus_dev_connect(p->dev, err, sizeof err) < 0) {
		if (!p->connect_said)
			note(b, "%s: cannot connect: %s; retrying with back-off",
			     p->d->name, err);
		p->down = p->connect_said = true;
		int64_t jitter = p->backoff_us / 4;
		p->retry_at = now + p->backoff_us - jitter +
			      (int64_t)(random() % (2 * jitter + 1));
		p->backoff_us = p->backoff_us * 2 > BACKOFF_MAX_US
				? BACKOFF_MAX_US : p->backoff_us * 2;
		b->counts.skipped++;
		char why[160];
		snprintf(why, sizeof why, "not connected: %s", err);
		fail_rest(p, 0, 0, b, why, time_now_us());
		return false;
	}
	if (p->ever_up)
		b->counts.reconnects++;
	if (p->down)
		note(b, "%s: connected", p->d->name);
	p->ever_up = p->up = true;
	p->down = p->connect_said = false;
	p->backoff_us = BACKOFF_FIRST_US;
	return true;
}

/* A request's fault said the first time (and again after it changed). */
static void say_fault(struct modbus_poller *p, struct modbus_group *g,
		      struct modbus_batch *b, size_t r, const char *why)
{
	if (g->said[r] && !strcmp(g->said[r], why))
		return;
	free(g->said[r]);
	g->said[r] = xstrdup(why);
	const struct mb_req *q = &g->reqs[r];
	const struct mb_point *first = &p->d->map.p[g->order[q->first]];
	note(b, "%s: unit %d %s %u-%u (%s%s): %s", p->d->name, q->unit,
	     modbus_map_table_name(q->table), q->start, q->start + q->count - 1,
	     first->name, q->n > 1 ? ", ..." : "", why);
}

static void read_ok(struct modbus_poller *p, struct modbus_group *g,
		    struct modbus_batch *b, size_t r, const uint16_t *regs,
		    const uint8_t *bits, int64_t ts)
{
	const struct mb_req *q = &g->reqs[r];
	for (size_t k = 0; k < q->n; k++) {
		size_t i = g->order[q->first + k];
		const struct mb_point *pt = &p->d->map.p[i];
		unsigned at = pt->address - q->start;
		struct modbus_sample *s = &b->s[i];
		modbus_decode(pt, regs + at, bits + at, &s->v, s->str);
		s->ok = true;
		s->ts_us = ts;
		b->counts.values++;
	}
	if (g->said[r]) {
		free(g->said[r]);
		g->said[r] = NULL;
	}
}

/* The requests of group gi; false when the connection was lost. */
static bool poll_group(struct modbus_poller *p, size_t gi,
		       struct modbus_batch *b)
{
	static __thread uint16_t regs[MB_MAX_REGISTERS];
	static __thread uint8_t bits[MB_MAX_BITS];
	struct modbus_group *g = &p->groups[gi];
	char err[128];
	for (size_t r = 0; r < g->nreq; r++) {
		b->counts.requests++;
		enum modbus_dev_fault f = modbus_dev_read(p->dev, &g->reqs[r], regs,
							  bits, err, sizeof err);
		int64_t ts = time_now_us();
		if (f == MB_OK) {
			read_ok(p, g, b, r, regs, bits, ts);
			continue;
		}
		b->counts.exceptions += f == MB_EXCEPTION;
		b->counts.timeouts += f == MB_TIMEOUT;
		say_fault(p, g, b, r, err);
		if (f == MB_EXCEPTION ||
		    (f == MB_TIMEOUT && !p->d->dev.host)) {	/* the line stays */
			fail_req(g, b, r, err, ts);
			continue;
		}
		/* The connection is gone: started again at the next poll. */
		modbus_dev_close(p->dev);
		b->counts.disconnects++;
		note(b, "%s: connection lost: %s", p->d->name, err);
		p->up = false;
		p->down = true;
		p->retry_at = 0;
		fail_rest(p, gi, r, b, err, ts);
		return false;
	}
	return true;
}

/* One poll: the groups due at now (g->due), their points marked in b. */
static void poll_once(struct modbus_poller *p, struct modbus_batch *b)
{
	b->counts.polls++;
	for (size_t i = 0; i < b->n; i++)
		b->s[i].due = false;
	for (size_t gi = 0; gi < p->ngroups; gi++)
		if (p->groups[gi].due)
			for (size_t k = 0; k < p->groups[gi].n; k++)
				b->s[p->groups[gi].order[k]].due = true;
	if (!p->up && !connect_dev(p, b, mono_us()))
		return;
	for (size_t gi = 0; gi < p->ngroups; gi++)
		if (p->groups[gi].due && !poll_group(p, gi, b))
			return;
}

/* ---- the thread ---- */

/* Waits until the monotonic time at; false when told to stop. */
static bool wait_until(struct modbus_poller *p, int64_t at)
{
	struct timespec ts = { at / 1000000, (long)(at % 1000000) * 1000 };
	pthread_mutex_lock(&p->mu);
	while (!p->stop && mono_us() < at)
		if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) == ETIMEDOUT)
			break;
	bool go = !p->stop;
	pthread_mutex_unlock(&p->mu);
	return go;
}

/* The groups due at the earliest tick, marked; that tick. */
static int64_t next_due(struct modbus_poller *p)
{
	int64_t at = INT64_MAX;
	for (size_t gi = 0; gi < p->ngroups; gi++)
		if (p->groups[gi].tick < at)
			at = p->groups[gi].tick;
	for (size_t gi = 0; gi < p->ngroups; gi++)
		p->groups[gi].due = p->groups[gi].tick == at;
	return at;
}

/* After a poll that ended at now: each polled group's next tick; returns
 * the poll times that passed meanwhile (overruns: skipped). A group whose
 * tick came during the poll is not skipped: it is polled next, late. */
static uint64_t advance(struct modbus_poller *p, int64_t now)
{
	uint64_t overruns = 0, missed;
	for (size_t gi = 0; gi < p->ngroups; gi++) {
		struct modbus_group *g = &p->groups[gi];
		if (!g->due)
			continue;
		g->tick = modbus_plan_next(g->tick, g->every_us, now, &missed);
		overruns += missed;
	}
	return overruns;
}

static void *poller_main(void *arg)
{
	struct modbus_poller *p = arg;
	int64_t start = mono_us();
	for (size_t gi = 0; gi < p->ngroups; gi++)
		p->groups[gi].tick = start;
	for (uint64_t done = 0; !p->count || done < p->count; done++) {
		if (!wait_until(p, next_due(p)))
			break;
		struct modbus_batch *b = batch_get(p->q, p->d->map.n);
		b->device = p->index;
		poll_once(p, b);
		b->counts.overruns += advance(p, mono_us());
		b->last = p->count && done + 1 == p->count;
		/* may wait for room: the polls then come late, and the next
		 * advance() counts those skipped */
		batch_put(p->q, b);
	}
	modbus_dev_close(p->dev);
	return NULL;
}

/* The points grouped by their interval (the device's when they have
 * none), each group planned on its own. */
static void groups_plan(struct modbus_poller *p)
{
	const struct modbus_device *d = p->d;
	size_t n = d->map.n;
	p->groups = xmalloc((n ? n : 1) * sizeof *p->groups);
	p->ngroups = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t every = d->map.p[i].every_us ? d->map.p[i].every_us
						     : d->every_us;
		size_t gi = 0;
		while (gi < p->ngroups && p->groups[gi].every_us != every)
			gi++;
		struct modbus_group *g = &p->groups[gi];
		if (gi == p->ngroups) {
			p->ngroups++;
			*g = (struct modbus_group){ .every_us = every };
			g->order = xmalloc(n * sizeof *g->order);
		}
		g->order[g->n++] = i;
	}
	for (size_t gi = 0; gi < p->ngroups; gi++) {
		struct modbus_group *g = &p->groups[gi];
		g->reqs = xmalloc(g->n * sizeof *g->reqs);
		g->nreq = modbus_plan(d->map.p, g->n, d->unit, d->max_gap, g->order,
				      g->reqs);
		g->said = xmalloc(g->nreq * sizeof *g->said);
		memset(g->said, 0, g->nreq * sizeof *g->said);
	}
}

int modbus_poll_start(struct modbus_poller *p, const struct modbus_device *d,
		      size_t index, struct modbus_queue *q, uint64_t count,
		      char *err, size_t n)
{
	memset(p, 0, sizeof *p);
	p->d = d;
	p->index = index;
	p->q = q;
	p->count = count;
	p->dev = modbus_dev_new(&d->dev, err, n);
	if (!p->dev)
		return -1;
	groups_plan(p);
	p->backoff_us = BACKOFF_FIRST_US;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals are the program thread's (lib/loop.h). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&p->thread, NULL, poller_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, n, "cannot start a thread: %s", strerror(rc));
		return -1;
	}
	p->running = true;
	return 0;
}

void modbus_poll_stop(struct modbus_poller *p)
{
	if (p->running) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		p->running = false;
	}
	modbus_dev_free(p->dev);
	p->dev = NULL;
	for (size_t gi = 0; gi < p->ngroups; gi++) {
		struct modbus_group *g = &p->groups[gi];
		for (size_t r = 0; r < g->nreq; r++)
			free(g->said[r]);
		free(g->said);
		free(g->order);
		free(g->reqs);
	}
	free(p->groups);
	p->groups = NULL;
	p->ngroups = 0;
}
