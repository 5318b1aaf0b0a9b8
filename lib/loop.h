/* loop.h - signals, the monotonic clock, the periodic timer */
#ifndef ES_LOOP_H
#define ES_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Signals: SIGINT/SIGTERM set loop_stop, SIGHUP sets loop_hup; SIGPIPE is
 * ignored so that writes see EPIPE. Handlers do not restart syscalls, so a
 * blocked poll() returns at once. */
extern volatile sig_atomic_t loop_stop, loop_hup;
/* SIGHUPs so far: each user (the reader's dead-letter reopening, a
 * program's --config reload) compares it with the count it last saw. */
extern volatile sig_atomic_t loop_hups;
void loop_signals(void);
/* Set (by lib/reload.c) when a SIGHUP must wake a reader blocked on input:
 * the wait then ends as a timeout, and the program reloads. */
extern bool loop_hup_wakes;

/* Milliseconds on the monotonic clock, for timers. */
int64_t loop_now_ms(void);

/*
 * One periodic timer for the whole program (--stats-file): fn runs every
 * every_ms, from the reading loop, between records or while it waits for
 * input. loop_tick() runs fn if it is due (and systemd's watchdog,
 * lib/notify.h) and returns the milliseconds to the next run (-1: none); loop_timeout(t) does that and returns the
 * poll() timeout to use instead of t (-1 for ever). A program with a
 * poll() of its own passes its timeout through loop_timeout().
 */
void loop_set_tick(int64_t every_ms, void (*fn)(void));
int loop_tick(void);
int loop_timeout(int timeout_ms);

#endif
