/* notify.c - sd_notify's datagram protocol on NOTIFY_SOCKET
 *
 * The protocol is documented (sd_notify(3), NOTES): one datagram whose
 * payload is the state text, sent to the AF_UNIX socket that
 * NOTIFY_SOCKET names, a path or, with a leading '@', a name in the
 * abstract namespace. Three fixed messages do not justify libsystemd: it
 * would be one more library for every program, and one more multiarch
 * package for the ARM cross-builds.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "diag.h"
#include "notify.h"

static bool inited;
static pid_t owner;		/* the process that speaks; 0: none */
static struct sockaddr_un addr;
static socklen_t addr_len;
static int64_t wd_every = -1;	/* ms between two WATCHDOG=1; -1: none */
static int64_t wd_next;		/* 0: at the first tick */

static void notify_stopping(void);

/* The socket's address from the environment; false if there is none. */
static bool notify_addr(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	size_t n = s ? strlen(s) : 0;
	if (n < 2 || n >= sizeof addr.sun_path || (s[0] != '/' && s[0] != '@'))
		return false;
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, s, n);
	if (s[0] == '@')
		addr.sun_path[0] = 0;	/* abstract: no terminating NUL counts */
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return true;
}

/* Half of WATCHDOG_USEC, in ms, if it is meant for this process. */
static int64_t notify_wd_every(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	if (!us || (pid && atol(pid) != (long)getpid()))
		return -1;
	long long v = atoll(us);
	if (v <= 0)
		return -1;
	return v / 2000 > 0 ? v / 2000 : 1;
}

static void notify_init(void)
{
	if (inited)
		return;
	inited = true;
	if (!notify_addr())
		return;
	owner = getpid();
	wd_every = notify_wd_every();
	diag_at_finish(notify_stopping);
}

/* One datagram; a failure is not the program's: it goes on unsaid. */
static void notify_send(const char *msg)
{
	if (!owner || getpid() != owner)
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	ssize_t r = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
			   (const struct sockaddr *)&addr, addr_len);
	(void)r;
	close(fd);
}

void notify_ready(void)
{
	static bool said;
	notify_init();
	if (!said) {
		said = true;
		notify_send("READY=1");
	}
}

int notify_watchdog(int64_t now)
{
	notify_init();
	if (wd_every < 0)
		return -1;
	if (now >= wd_next) {
		notify_send("WATCHDOG=1");
		wd_next = now + wd_every;
	}
	int64_t left = wd_next - now;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

static void notify_stopping(void)
{
	notify_send("STOPPING=1");
}
