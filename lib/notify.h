/* notify.h - readiness and liveness for systemd (sd_notify's protocol)
 *
 * Under a unit of Type=notify, systemd names a datagram socket in
 * NOTIFY_SOCKET; with WatchdogSec= it also sets WATCHDOG_USEC (and
 * WATCHDOG_PID, the process it means). Without NOTIFY_SOCKET every call
 * here does nothing. Only the process that first called one of these
 * speaks: a child forked from it (a reload's --check) stays quiet.
 */
#ifndef ES_NOTIFY_H
#define ES_NOTIFY_H

#include <stdint.h>

/* READY=1, once per run: the program has started (a connector: it is
 * connected). STOPPING=1 goes at diag_finish once either was called. */
void notify_ready(void);
/* WATCHDOG=1 when half of WATCHDOG_USEC has passed since the last one;
 * now is loop_now_ms(). Returns the milliseconds to the next one, or -1
 * when systemd asked for no watchdog. Cheap when it has nothing to do:
 * lib/loop.c calls it on every tick of the program's loop. */
int notify_watchdog(int64_t now);

#endif
