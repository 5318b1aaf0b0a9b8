/* reload.c - applying a changed --config FILE while the program runs */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "loop.h"
#include "mem.h"
#include "record.h"
#include "reload.h"

static struct {
	const char *path;	/* --config FILE, or NULL */
	bool watch;		/* --watch-config */
	struct timespec mtime;
	bool mtime_ok;
	int64_t checked;	/* when the file was last looked at (ms) */
	sig_atomic_t hups;	/* SIGHUPs handled */
} rl;

static void note_mtime(void)
{
	struct stat st;
	rl.mtime_ok = stat(rl.path, &st) == 0;
	if (rl.mtime_ok)
		rl.mtime = st.st_mtim;
}

void reload_init(const struct es_opts *o)
{
	if (!o->config)
		return;
	rl.path = o->config;
	rl.watch = o->watch_config;
	rl.hups = loop_hups;
	rl.checked = loop_now_ms();
	loop_hup_wakes = true;
	note_mtime();
}

bool reload_enabled(void)
{
	return rl.path != NULL;
}

int reload_timeout(int timeout_ms)
{
	if (!rl.path || (timeout_ms >= 0 && timeout_ms <= 1000))
		return timeout_ms;
	return 1000;
}

bool reload_due(void)
{
	if (!rl.path)
		return false;
	if (loop_hups != rl.hups) {
		rl.hups = loop_hups;
		note_mtime();
		return true;
	}
	if (!rl.watch)
		return false;
	int64_t now = loop_now_ms();
	if (now - rl.checked < 1000)
		return false;
	rl.checked = now;
	struct stat st;
	if (stat(rl.path, &st) < 0)
		return false;	/* gone: the running configuration stays */
	if (rl.mtime_ok && st.st_mtim.tv_sec == rl.mtime.tv_sec &&
	    st.st_mtim.tv_nsec == rl.mtime.tv_nsec)
		return false;
	rl.mtime = st.st_mtim;
	rl.mtime_ok = true;
	return true;
}

/* The start-up command line without --config FILE (and --watch-config,
 * which needs it), then the file's
 * options: a new argv (words of the file allocated), or NULL with why. */
static char **new_command_line(int *argc, char *why, size_t whyn)
{
	int n = 0;
	char **a = xmalloc((size_t)(opts_orig_argc + 3) * sizeof *a);
	for (int i = 0; i < opts_orig_argc; i++) {
		char *w = opts_orig_argv[i];
		if (!strcmp(w, "--config") && i + 1 < opts_orig_argc) {
			i++;
			continue;
		}
		if (!strncmp(w, "--config=", 9) || !strcmp(w, "--watch-config"))
			continue;	/* start-up only */
		a[n++] = w;
	}
	/* config_expand() finds --config in what it is given: hand it the
	 * path alone, then keep the words it appends. */
	char *probe[] = { a[0], "--config", (char *)rl.path, NULL };
	int pc = 3;
	char **f = config_expand(&pc, probe, why, whyn);
	if (!f) {
		free(a);
		return NULL;
	}
	a = xrealloc(a, (size_t)(n + pc - 3 + 1) * sizeof *a);
	for (int i = 3; i < pc; i++)
		if (strcmp(f[i], "--watch-config"))
			a[n++] = f[i];
		else
			free(f[i]);
	a[n] = NULL;
	free(f);	/* its words now belong to a */
	*argc = n;
	return a;
}

extern char **environ;	/* the check runs in this environment */

/* Runs this program on argv with --check; true if it exits 0, else false
 * with the first line it printed on stderr in why. */
static bool run_check(char **argv, int argc, char *why, size_t whyn)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len < 0) {
		snprintf(why, whyn, "cannot find this program: %s", strerror(errno));
		return false;
	}
	exe[len] = 0;
	char **cv = xmalloc((size_t)(argc + 2) * sizeof *cv);
	cv[0] = argv[0];
	cv[1] = "--check";	/* first: after a "--" it would be an operand */
	memcpy(cv + 2, argv + 1, (size_t)argc * sizeof *cv);
	int fd[2];
	if (pipe(fd) < 0) {
		free(cv);
		snprintf(why, whyn, "pipe: %s", strerror(errno));
		return false;
	}
	fflush(stderr);
	/* posix_spawn, not fork: it does not copy the page tables of a
	 * program with much state, and a fork()ed child of qemu-user 7.2
	 * (make check-cross) dies or spins in glibc's fork before it can
	 * exec, where posix_spawn's child runs. */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, 0, 1);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 2);
	posix_spawn_file_actions_addclose(&fa, fd[0]);
	posix_spawn_file_actions_addclose(&fa, fd[1]);
	pid_t pid;
	int err = posix_spawn(&pid, exe, &fa, NULL, cv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(cv);
	close(fd[1]);
	if (err) {
		close(fd[0]);
		snprintf(why, whyn, "cannot run the check: %s", strerror(err));
		return false;
	}
	char buf[1024];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd[0], buf + got, sizeof buf - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof buf - 1) {
			char sink[256];	/* drain the rest, keep the start */
			ssize_t k;
			while ((k = read(fd[0], sink, sizeof sink)) > 0 ||
			       (k < 0 && errno == EINTR))
				;
			break;
		}
	}
	close(fd[0]);
	buf[got] = 0;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	buf[strcspn(buf, "\n")] = 0;
	/* The child's message names the program: say it once. */
	const char *msg = buf;
	size_t pl = strlen(diag_prog);
	if (!strncmp(msg, diag_prog, pl) && !strncmp(msg + pl, ": ", 2))
		msg += pl + 2;
	if (!*msg)
		snprintf(why, whyn, "the check failed (status %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	else
		snprintf(why, whyn, "%s", msg);
	return false;
}

char **reload_argv(int *argc)
{
	char why[1024];
	int n;
	char **a = new_command_line(&n, why, sizeof why);
	if (a && !run_check(a, n, why, sizeof why)) {
		reload_free(a);
		a = NULL;
	}
	if (!a) {
		reload_refuse(why);
		return NULL;
	}
	*argc = n;
	return a;
}

void reload_free(char **argv)
{
	if (!argv)
		return;
	int i = 0;
	while (i < opts_orig_argc && argv[i] == opts_orig_argv[i])
		i++;
	/* The start-up words may have been skipped (--config FILE), so free
	 * only what is not one of them. */
	for (; argv[i]; i++) {
		bool orig = false;
		for (int j = 0; j < opts_orig_argc && !orig; j++)
			orig = argv[i] == opts_orig_argv[j];
		if (!orig)
			free(argv[i]);
	}
	free(argv);
}

void reload_said(const char *what)
{
	diag_warn("--config %s reloaded: %s", rl.path, what);
}

void reload_refuse(const char *why)
{
	diag_warn("cannot reload --config %s: %s; keeping the running "
		  "configuration", rl.path, why);
}

void reload_read_all(struct reader *r, void (*reload)(struct reader *r),
		     void (*on_record)(const struct record *rec))
{
	struct record rec;
	for (;;) {
		if (reload_due())
			reload(r);
		int got = reader_next(r, &rec);
		if (got == 0)
			break;
		if (got > 0)
			on_record(&rec);
	}
}
