/* evloop.c - one poll() for a program's descriptors and timers */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "evloop.h"
#include "loop.h"
#include "reload.h"

void evloop_init(struct evloop *ev)
{
	memset(ev, 0, sizeof *ev);
}

struct evloop_fd *evloop_add_fd(struct evloop *ev, int fd, short events,
				void (*ready)(struct evloop_fd *f, short revents,
					      int64_t now),
				void *ctx)
{
	if (ev->nfds == EVLOOP_FDS)
		return NULL;
	struct evloop_fd *f = &ev->fds[ev->nfds++];
	*f = (struct evloop_fd){ .fd = fd, .events = events,
				 .due = EVLOOP_NEVER, .ready = ready,
				 .ctx = ctx };
	return f;
}

struct evloop_timer *evloop_add_timer(struct evloop *ev,
				      void (*fire)(struct evloop_timer *t,
						   int64_t now),
				      void *ctx)
{
	if (ev->ntimers == EVLOOP_TIMERS)
		return NULL;
	struct evloop_timer *t = &ev->timers[ev->ntimers++];
	*t = (struct evloop_timer){ .at = EVLOOP_NEVER, .fire = fire,
				    .ctx = ctx };
	return t;
}

/* The poll() timeout until the first of the entries' times, at most
 * max_ms; the descriptors prepared on the way into p. */
static int evloop_prepare(struct evloop *ev, struct pollfd *p, int max_ms)
{
	int64_t now = loop_now_ms();
	int64_t first = max_ms < 0 ? EVLOOP_NEVER : now + max_ms;
	for (int i = 0; i < ev->nfds; i++) {
		struct evloop_fd *f = &ev->fds[i];
		if (f->prepare)
			f->prepare(f, now);
		/* poll() skips a negative descriptor and gives it no events */
		p[i] = (struct pollfd){ .fd = f->fd, .events = f->events };
		if (f->due < first)
			first = f->due;
	}
	for (int i = 0; i < ev->ntimers; i++)
		if (ev->timers[i].at < first)
			first = ev->timers[i].at;
	if (first == EVLOOP_NEVER)
		return -1;
	if (first <= now)
		return 0;
	return first - now > INT_MAX ? INT_MAX : (int)(first - now);
}

static void evloop_dispatch(struct evloop *ev, const struct pollfd *p,
			    bool polled)
{
	int64_t now = loop_now_ms();
	for (int i = 0; i < ev->nfds; i++) {
		struct evloop_fd *f = &ev->fds[i];
		short rev = polled && f->fd >= 0 ? p[i].revents : 0;
		if ((rev || now >= f->due) && f->ready)
			f->ready(f, rev, now);
	}
	for (int i = 0; i < ev->ntimers; i++) {
		struct evloop_timer *t = &ev->timers[i];
		if (t->at > now)
			continue;
		t->at = EVLOOP_NEVER;
		if (t->fire)
			t->fire(t, now);
	}
}

int evloop_run_once(struct evloop *ev, int max_ms)
{
	struct pollfd p[EVLOOP_FDS];
	int t = evloop_prepare(ev, p, max_ms);
	int r = poll(p, (nfds_t)ev->nfds, loop_timeout(reload_timeout(t)));
	if (r < 0 && errno != EINTR)
		return -1;
	evloop_dispatch(ev, p, r > 0);
	return 0;
}

int evloop_run(struct evloop *ev, int64_t deadline, bool (*until)(void *ctx),
	       void *ctx)
{
	for (;;) {
		int64_t now = loop_now_ms();
		if ((until && until(ctx)) || now >= deadline)
			return 0;
		int64_t left = deadline - now;
		int max = deadline == EVLOOP_NEVER ? -1
			: left > INT_MAX ? INT_MAX : (int)left;
		if (evloop_run_once(ev, max) < 0)
			return -1;
	}
}
