/* modbus_poll.h - each device polled on its own schedule, in a thread
 *
 * libmodbus blocks until a device answers or times out, so each device is
 * read by a thread of its own: a slow or dead device never delays the
 * others. The thread keeps the device's schedule (lib/modbus_plan.h),
 * connects and reconnects with back-off and jitter, reads the planned
 * requests and hands one batch per poll to the program's thread through a
 * queue whose pipe wakes the program's poll(). Only the program's thread
 * writes records and says things on stderr: a batch carries the values,
 * the faults and the lines to say.
 */
#ifndef ES_MODBUS_POLL_H
#define ES_MODBUS_POLL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "modbus_dev.h"
#include "modbus_map.h"
#include "modbus_plan.h"
#include "value.h"

/* A device as the options describe it. */
struct modbus_device {
	const char *name;	/* "device" in its records */
	struct modbus_dev_opts dev;
	int unit;		/* the default unit id */
	int64_t every_us;
	unsigned max_gap;
	struct mb_map map;
};

/* What happened in polls, summed by the program for --stats. */
struct modbus_counts {
	uint64_t polls, requests, values, failed, exceptions, timeouts,
		 disconnects, reconnects, overruns, skipped;
};

/* One point's reading in a batch. */
struct modbus_sample {
	bool due;		/* polled this time (points have intervals) */
	bool ok;
	int64_t ts_us;		/* wall clock: when its response came */
	struct value v;		/* ok: the value (strings point into str) */
	char str[2 * MB_STRING_MAX];
	char error[96];		/* not ok: why */
};

/* One poll of one device: a sample per point of its map, in map order
 * (those whose interval did not come are not due). */
struct modbus_batch {
	struct modbus_batch *next;
	size_t device;		/* its index among the pollers */
	size_t n, cap;
	struct modbus_sample *s;
	struct modbus_counts counts;
	bool last;		/* the device's last poll (--count) */
	char note[1024];	/* lines for stderr, "" when none */
};

/* Batches waiting for the program, at most: past it a poller waits (its
 * polls overrun and are counted), so a stalled output does not grow
 * memory without bound. */
#define MODBUS_QUEUE_MAX 16

struct modbus_queue {
	pthread_mutex_t mu;
	pthread_cond_t room;	/* signalled when the program took batches */
	struct modbus_batch *head, *tail, *spare;
	size_t queued;
	bool closing;		/* pollers are being stopped: do not wait */
	int pipe[2];		/* a byte per batch: wakes the program */
};

/* The points of a device that share a poll interval, and their requests. */
struct modbus_group {
	int64_t every_us, tick;	/* the interval, the next poll time */
	size_t *order, n;	/* its points (indexes in the map) by request */
	struct mb_req *reqs;
	size_t nreq;
	char **said;		/* per request: the fault said last, or NULL */
	bool due;		/* read in this poll */
};

struct modbus_poller {
	const struct modbus_device *d;
	size_t index;
	struct modbus_queue *q;
	uint64_t count;		/* polls to make; 0: until stopped */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, running;
	/* the thread's own */
	struct modbus_dev *dev;
	struct modbus_group *groups;
	size_t ngroups;
	int64_t backoff_us, retry_at;
	bool up, down, ever_up;	/* down: an outage said, not over */
	bool connect_said;	/* this outage's failed connect said */
};

/* 0, or -1 with errno (the pipe). */
int modbus_poll_queue_init(struct modbus_queue *q);
void modbus_poll_queue_free(struct modbus_queue *q);
/* The program's side: the batches queued, oldest first (NULL: none),
 * and back to the queue for reuse once written. */
struct modbus_batch *modbus_poll_queue_take(struct modbus_queue *q);
void modbus_poll_queue_give(struct modbus_queue *q, struct modbus_batch *list);
/* closing: pollers put their last batches without waiting for room (set
 * before stopping them, cleared after). */
void modbus_poll_queue_closing(struct modbus_queue *q, bool closing);

/* Starts polling d (the first poll at once). 0, or -1 with why in err. */
int modbus_poll_start(struct modbus_poller *p, const struct modbus_device *d,
		      size_t index, struct modbus_queue *q, uint64_t count,
		      char *err, size_t n);
/* Stops the thread (a read under way ends first, within its timeout),
 * joins it and frees what it had. */
void modbus_poll_stop(struct modbus_poller *p);

#endif
