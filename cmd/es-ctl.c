/* es-ctl - apply configuration sent over MQTT to the programs of a gateway
 *
 * A message on fleet/ID/config/NAME carries a whole --config file for the
 * program NAME names (es-filter, or es-filter.INSTANCE for one of several).
 * es-ctl has the program check it (PROGRAM --config FILE --check), and only
 * if the program accepts it writes it to DIR/NAME.conf atomically (write,
 * rename) and sends SIGHUP to the pid in DIR/NAME.pid, which makes the
 * running program reload it. Every outcome, applied or rejected with the
 * program's own message, is published on fleet/ID/config-result and
 * written to stdout. The running program never sees a file that does not
 * parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "evloop.h"
#include "gateway.h"
#include "json.h"
#include "loop.h"
#include "mem.h"
#include "mqtt.h"
#include "mqttprog.h"
#include "opts.h"
#include "prog.h"
#include "reload.h"
#include "stats.h"
#include "time.h"

extern char **environ;

enum { OPT_DIR = OPT_PROGRAM, OPT_RESULT_TOPIC };

#define MAX_CONFIG (256 << 10)	/* a config file is a few lines */

/* What the options say (parsed at start and again on a reload). */
struct conf {
	struct gateway_conf g;	/* --id, -t, -C, the connection */
	const char *dir, *result_tmpl;
	char *result, *prefix;	/* owned; prefix: the topic before NAME */
};

static struct conf *cfg;	/* the running configuration (run->conf) */
static struct outbuf *out, res;
static unsigned long long applied, rejected;

static const struct opts_entry opts[] = {
	{"dir", required_argument, OPT_DIR, "DIR",
	 "where the NAME.conf and NAME.pid files are\n(needed)"},
	{"topic", required_argument, 't', "T",
	 "the topic filter, ending in /#; {id} is\n"
	 "replaced (default fleet/{id}/config/#)"},
	{"result-topic", required_argument, OPT_RESULT_TOPIC, "T",
	 "where outcomes go (default\nfleet/{id}/config-result)"},
	{"count", required_argument, 'C', "N",
	 "stop after N configuration messages"},
	{0}
};

static const struct prog_group groups[] = {
	{ PROG_CONT, opts },
	{ "A reload of its own --config (SIGHUP, --watch-config) applies --dir,\n"
	  "--result-topic and -C from the next message, a new -t by unsubscribing\n"
	  "and subscribing, a new --id or connection option by reconnecting.",
	  NULL },
	GATEWAY_GROUPS("ID-ctl")
};

/* ---- one configuration ---- */

/* NAME is a program's name, with an optional .INSTANCE: es-[a-z0-9-]+ and
 * [a-z0-9-]+; nothing that could leave DIR or name another command. */
static bool name_ok(const char *name, char *prog, size_t n)
{
	const char *dot = strchr(name, '.');
	size_t pl = dot ? (size_t)(dot - name) : strlen(name);
	if (pl < 4 || pl >= n || strncmp(name, "es-", 3))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || (*p == '.' && p == dot)))
			return false;
	if (dot && !dot[1])
		return false;
	memcpy(prog, name, pl);
	prog[pl] = 0;
	return true;
}

static int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	bool ok = write(fd, p, n) == (ssize_t)n && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = false;
	return ok ? 0 : -1;
}

/* 0 if prog can be run as posix_spawnp() would find it, else the errno.
 * posix_spawnp() says so itself, but not where it has to fork (under
 * valgrind the child just exits 127), so look first. */
static int runnable(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) ? errno : 0;
	const char *path = getenv("PATH");
	int err = ENOENT;
	for (const char *d = path ? path : "/bin:/usr/bin"; ; d++) {
		size_t dl = strcspn(d, ":");
		char full[4096];
		snprintf(full, sizeof full, "%.*s%s%s", (int)dl, d, dl ? "/" : "",
			 prog);
		if (access(full, X_OK) == 0)
			return 0;
		if (errno == EACCES)
			err = EACCES;
		d += dl;
		if (!*d)
			break;
	}
	return err;
}

/* Runs PROG --config FILE --check; 0 if it accepts the file, else -1 with
 * the first line of what it said (or why it could not run) in why. */
static int check_file(const char *prog, const char *file, char *why, size_t n)
{
	char errpath[4096];
	snprintf(errpath, sizeof errpath, "%s/.es-ctl-check.%ld", cfg->dir,
		 (long)getpid());
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errpath,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char *argv[] = { (char *)prog, "--config", (char *)file, "--check", NULL };
	pid_t pid;
	int rc = runnable(prog);
	if (!rc)
		rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		snprintf(why, n, "cannot run %s: %s", prog, strerror(rc));
		unlink(errpath);
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	why[0] = 0;
	FILE *f = fopen(errpath, "r");
	if (f) {
		if (fgets(why, (int)n, f))
			why[strcspn(why, "\n")] = 0;
		fclose(f);
	}
	unlink(errpath);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (!why[0])
		snprintf(why, n, "%s --check failed (status %d)", prog,
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return -1;
}

/* SIGHUP to the pid in DIR/NAME.pid: "signalled PID", or why not. */
static void signal_program(const char *name, char *what, size_t n)
{
	char path[4096], buf[32];
	snprintf(path, sizeof path, "%s/%s.pid", cfg->dir, name);
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (!f) {
		snprintf(what, n, "no %s.pid: nothing running to reload", name);
		return;
	}
	if (fgets(buf, sizeof buf, f))
		pid = strtol(buf, NULL, 10);
	fclose(f);
	if (pid <= 1 || kill((pid_t)pid, SIGHUP) < 0)
		snprintf(what, n, "cannot signal pid %ld from %s.pid: %s", pid,
			 name, pid <= 1 ? "not a pid" : strerror(errno));
	else
		snprintf(what, n, "signalled pid %ld", pid);
}

static void report(const char *name, bool ok, const char *detail)
{
	char t[48];
	rfc3339_format(time_now_us(), t);
	res.len = 0;
	out_puts(&res, "{\"id\":");
	json_write_string(&res, cfg->g.id, strlen(cfg->g.id));
	out_puts(&res, ",\"name\":");
	json_write_string(&res, name, strlen(name));
	out_puts(&res, ok ? ",\"result\":\"applied\"" : ",\"result\":\"rejected\"");
	out_puts(&res, ok ? ",\"detail\":" : ",\"error\":");
	json_write_string(&res, detail, strlen(detail));
	out_puts(&res, ",\"time\":\"");
	out_puts(&res, t);
	out_puts(&res, "\"}");
	if (gateway_conn.state == MQTT_UP &&
	    mosquitto_publish(gateway_conn.m, NULL, cfg->result, (int)res.len, res.buf,
			      cfg->g.mo.qos, false) == MOSQ_ERR_SUCCESS)
		mqtt_flush(&gateway_conn);
	out_put(out, res.buf, res.len);
	out_putc(out, '\n');
	stats.out++;
	out_flush(out);
	if (ok)
		applied++;
	else
		rejected++;
}

static void apply(const char *name, const void *p, size_t n)
{
	char prog[64], tmp[4096], path[4096], why[8400];
	if (!name_ok(name, prog, sizeof prog)) {
		report(name, false, "not a program name (es-NAME or es-NAME.INSTANCE)");
		return;
	}
	if (n > MAX_CONFIG || memchr(p, 0, n)) {
		report(name, false, "not a configuration file (NUL bytes, or over 256 KiB)");
		return;
	}
	snprintf(tmp, sizeof tmp, "%s/.%s.conf.new", cfg->dir, name);
	snprintf(path, sizeof path, "%s/%s.conf", cfg->dir, name);
	if (write_file(tmp, p, n) < 0) {
		snprintf(why, sizeof why, "cannot write %s: %s", tmp, strerror(errno));
		report(name, false, why);
		return;
	}
	if (check_file(prog, tmp, why, sizeof why) < 0) {
		unlink(tmp);
		report(name, false, why);
		return;
	}
	if (rename(tmp, path) < 0) {
		snprintf(why, sizeof why, "cannot rename to %s: %s", path, strerror(errno));
		unlink(tmp);
		report(name, false, why);
		return;
	}
	signal_program(name, why, sizeof why);
	report(name, true, why);
}

static void on_message(void *ctx, const struct mosquitto_message *msg)
{
	(void)ctx;
	stats.in++;
	size_t pl = strlen(cfg->prefix);
	const char *name = msg->topic;
	if (!strncmp(name, cfg->prefix, pl))
		name += pl;
	apply(name, msg->payload ? msg->payload : "", (size_t)msg->payloadlen);
}

static void on_up(void *ctx, bool session_present)
{
	(void)ctx;
	(void)session_present;
	gateway_subscribe(&cfg->g);
}

/* ---- options ---- */

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"applied\":%llu,\"rejected\":%llu,\"reconnects\":%lu",
		 applied, rejected, gateway_conn.reconnects);
}

static void conf_init(void *conf)
{
	struct conf *c = conf;
	gateway_conf_init(&c->g, "fleet/{id}/config/#");
	c->result_tmpl = "fleet/{id}/config-result";
}

static void option(void *conf, int ch, const char *arg)
{
	struct conf *c = conf;
	if (gateway_option(&c->g, ch, arg))
		return;
	if (ch == OPT_DIR)
		c->dir = arg;
	else if (ch == OPT_RESULT_TOPIC)
		c->result_tmpl = arg;
}

/* The options checked together; --dir must be a directory (exit 1),
 * which is looked at, not written. */
static void check(struct prog_run *run, void *conf, int argc, char **argv)
{
	struct conf *c = conf;
	(void)run;
	gateway_check_id(&c->g, argc, argv);
	if (!c->dir)
		diag_usage("--dir is needed: where the configuration files are");
	c->result = mqttprog_fill_id(c->result_tmpl, c->g.id);
	size_t tl = strlen(c->g.topic);
	if (tl < 2 || strcmp(c->g.topic + tl - 2, "/#") ||
	    mosquitto_sub_topic_check(c->g.topic) != MOSQ_ERR_SUCCESS)
		diag_usage("invalid topic '%s' for -t/--topic: a filter ending "
			   "in /# (the last level names the program)", c->g.topic);
	if (mosquitto_pub_topic_check(c->result) != MOSQ_ERR_SUCCESS)
		diag_usage("invalid topic '%s' for --result-topic", c->result);
	c->prefix = xstrdup(c->g.topic);
	c->prefix[tl - 1] = 0;	/* "fleet/gw-17/config/" */
	gateway_check_conn(&c->g, "{id}-ctl");
	struct stat st;
	if (stat(c->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		diag_fatal(EXIT_RUNTIME, "--dir %s: %s", c->dir,
			   errno ? strerror(errno) : "not a directory");
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	gateway_conf_free(&c->g);
	free(c->result);
	free(c->prefix);
}

/* ---- reloading ---- */

/*
 * On SIGHUP, or with --watch-config when es-ctl's own --config file
 * changed, between two messages: --dir, --result-topic and -C apply from
 * the next message; a new -t unsubscribes the old filter and subscribes
 * the new one; a new --id or connection option closes the connection and
 * opens one with the new options (which subscribes).
 */
static bool reload(struct prog_run *run, void *nconf, char *said, size_t n)
{
	struct conf *nc = nconf;
	(void)run;
	snprintf(said, n, "--dir %s -t %s --result-topic %s", nc->dir,
		 nc->g.topic, nc->result);
	if (!gateway_reload_subscribed(&cfg->g, &nc->g, said, n))
		return false;
	cfg = nc;
	return true;
}

/* ---- the run ---- */

static void start(struct prog_run *run)
{
	cfg = run->conf;
	out = &run->out;
	out_init(&res, -1, "result");
	struct mqtt_hooks hooks = { .on_up = on_up, .on_message = on_message };
	gateway_start(&cfg->g, &hooks, &run->ev);
}

static bool done(struct prog_run *run)
{
	(void)run;
	return gateway_done(&cfg->g, stats.in);
}

/* The last result on its way before we go. */
static void finish(struct prog_run *run)
{
	gateway_finish_linger(&run->ev);
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	mqtt_close(&gateway_conn);
	out_free(&res);
}

const struct prog program = {
	.name = "es-ctl",
	.synopsis = "--id ID --dir DIR [OPTION]...",
	.about = "Apply configuration files sent over MQTT: a message on\n"
		 "fleet/ID/config/NAME is a --config file for the program NAME names\n"
		 "(es-filter, or es-filter.INSTANCE). The program checks it\n"
		 "(--config FILE --check); a good one is written to DIR/NAME.conf\n"
		 "(atomically) and the pid in DIR/NAME.pid gets SIGHUP to reload it.\n"
		 "The outcome goes to fleet/ID/config-result and to standard output.",
	.notes = "\nExample:\n"
		 "  es-filter --config /etc/edgestream/es-filter.conf ... & echo $! > /etc/edgestream/es-filter.pid\n"
		 "  es-ctl --id gw-17 -h broker --dir /etc/edgestream\n",
	.conf_free = conf_free,
	GATEWAY_HOOKS,
};
