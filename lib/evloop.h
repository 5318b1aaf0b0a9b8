/* evloop.h - one poll() for a program's descriptors and timers
 *
 * A program that waits on more than its input (a broker's socket, a
 * library's event pipe, a heartbeat's period) puts what it waits on into
 * one evloop and runs turns: evloop_run_once() sleeps in poll() until a
 * descriptor is ready, a descriptor's due time or a timer comes, or max_ms
 * passes, then calls the callbacks of what is ready, in the caller's
 * thread. Each wait also ends in time for the program-wide timer of
 * lib/loop.h (--stats-every, run from there), within a second for
 * --watch-config (lib/reload.h), and at once on a signal: the flags of
 * lib/loop.h (loop_stop, loop_hup) and reload_due() are the program's to
 * look at between turns.
 */
#ifndef ES_EVLOOP_H
#define ES_EVLOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#define EVLOOP_NEVER INT64_MAX	/* a time that never comes */
#define EVLOOP_FDS 4
#define EVLOOP_TIMERS 4

/* A descriptor: ready() runs after a poll() that saw one of its events,
 * or once loop_now_ms() reaches due, with the events seen (0: none). */
struct evloop_fd {
	int fd;			/* < 0: not polled this turn */
	short events;		/* POLLIN, POLLOUT */
	int64_t due;		/* EVLOOP_NEVER: only on events */
	/* If set, runs before each poll() to set fd, events and due (a
	 * socket that comes and goes, wants POLLOUT when it has bytes to
	 * send). */
	void (*prepare)(struct evloop_fd *f, int64_t now);
	/* NULL: the descriptor only ends the wait. */
	void (*ready)(struct evloop_fd *f, short revents, int64_t now);
	void *ctx;
};

/* A timer fires once when loop_now_ms() reaches at; at is EVLOOP_NEVER
 * again when fire() runs, which sets it to fire again. */
struct evloop_timer {
	int64_t at;
	/* NULL: the timer only ends the wait. */
	void (*fire)(struct evloop_timer *t, int64_t now);
	void *ctx;
};

struct evloop {
	struct evloop_fd fds[EVLOOP_FDS];
	struct evloop_timer timers[EVLOOP_TIMERS];
	int nfds, ntimers;
};

void evloop_init(struct evloop *ev);
/* Adds a descriptor (due EVLOOP_NEVER, no prepare) or a timer (off);
 * the entry stays at the address returned, for the caller to change. NULL
 * when the EVLOOP_FDS or EVLOOP_TIMERS entries are taken. */
struct evloop_fd *evloop_add_fd(struct evloop *ev, int fd, short events,
				void (*ready)(struct evloop_fd *f, short revents,
					      int64_t now),
				void *ctx);
struct evloop_timer *evloop_add_timer(struct evloop *ev,
				      void (*fire)(struct evloop_timer *t,
						   int64_t now),
				      void *ctx);
/* One turn: waits at most max_ms (-1: no limit but the entries'), then
 * runs the callbacks of what is ready: descriptors first, in the order
 * they were added, then timers. 0, or -1 with errno when poll() fails
 * (a signal is not a failure: the turn just ends). */
int evloop_run_once(struct evloop *ev, int max_ms);
/* Turns until until(ctx) is true (asked before each; NULL: never) or
 * loop_now_ms() reaches deadline (EVLOOP_NEVER: none); 0 or -1 as
 * evloop_run_once. */
int evloop_run(struct evloop *ev, int64_t deadline, bool (*until)(void *ctx),
	       void *ctx);

#endif
