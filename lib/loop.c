/* loop.c - signals, the monotonic clock, the program's one periodic timer */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "notify.h"

volatile sig_atomic_t loop_stop, loop_hup, loop_hups;
bool loop_hup_wakes;

/* The tick's state (see loop_set_tick). */
static void (*tick_fn)(void);
static int64_t tick_every, tick_next;

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		loop_hup = 1;
		loop_hups++;
	}
	else
		loop_stop = 1;
}

void loop_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: a blocked poll must return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the tick ---- */


void loop_set_tick(int64_t every_ms, void (*fn)(void))
{
	tick_fn = fn;
	tick_every = every_ms > 0 ? every_ms : 1;
	tick_next = loop_now_ms() + tick_every;
}

int loop_tick(void)
{
	int64_t now = loop_now_ms();
	/* systemd's watchdog rides on the tick: every wait of every program
	 * ends in time for it, and a busy input still ticks (lib/input.c). */
	int wd = notify_watchdog(now);
	if (!tick_fn)
		return wd;
	if (now >= tick_next) {
		tick_fn();
		/* A late tick does not run again at once to catch up. */
		tick_next = now + tick_every;
	}
	int64_t left = tick_next - now;
	if (wd >= 0 && wd < left)
		left = wd;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

int loop_timeout(int timeout_ms)
{
	int t = loop_tick();
	if (t < 0)
		return timeout_ms;
	return timeout_ms < 0 || t < timeout_ms ? t : timeout_ms;
}
