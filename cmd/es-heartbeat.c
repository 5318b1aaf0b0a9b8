/* es-heartbeat - tell the fleet this gateway is alive, and how its pipeline is
 *
 * Every --every, one status record: the gateway's id, the time, uptime,
 * load, memory and free disk, and the latest counters of each watched
 * --stats-file (with its age, and a stale flag when it stopped being
 * rewritten). It is published retained, so a dashboard that subscribes
 * later sees the last one at once, and written to stdout. The broker holds
 * a will of {"id":...,"state":"offline"}, retained on the same topic, and
 * publishes it if the gateway dies; a clean stop publishes it itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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

enum {
	OPT_EVERY = OPT_PROGRAM, OPT_WATCH, OPT_DISK, OPT_STALE,
};

#define MAX_WATCH 32
#define WATCH_MAX_BYTES 65536	/* a stats file is one short line */

/* What the options say (parsed at start and again on a reload). */
struct conf {
	struct gateway_conf g;	/* --id, -t, -C, the connection */
	const char *disk;
	const char *watch[MAX_WATCH];
	int nwatch;
	int64_t every_ms, stale_ms;
	char will[512];		/* {"id":...,"state":"offline"} */
};

static struct conf *cfg;	/* the running configuration (run->conf) */
static struct evloop *ev;
static struct evloop_timer *beat_timer;	/* the next status */
static struct outbuf *out, msg;
static unsigned long long beats, published, missed;

static const struct opts_entry opts[] = {
	{"topic", required_argument, 't', "T",
	 "topic; {id} is replaced (default\nfleet/{id}/status)"},
	{"every", required_argument, OPT_EVERY, "D", "how often (default 10s)"},
	{"watch", required_argument, OPT_WATCH, "FILE",
	 "a --stats-file to report (repeatable, up to 32)"},
	{"stale", required_argument, OPT_STALE, "D",
	 "a watched file not rewritten for D is stale\n(default 30s)"},
	{"disk", required_argument, OPT_DISK, "PATH",
	 "report the free space of PATH's file system\n(default /)"},
	{"count", required_argument, 'C', "N", "stop after N records"},
	{0}
};

static const struct prog_group groups[] = {
	{ PROG_CONT, opts },
	{ "A reload of --config (SIGHUP, --watch-config) applies --every, --watch,\n"
	  "--stale, --disk, -C and --qos from the next status; a new --id, topic\n"
	  "or connection option says offline on the old topic and reconnects.",
	  NULL },
	GATEWAY_GROUPS("ID-heartbeat")
};

/* ---- the status record ---- */

/* The first line of a small file (NUL-terminated), or NULL. */
static char *read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return NULL;
	buf[r] = 0;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return buf;
}

static void put_num(struct outbuf *o, const char *name, const char *fmt, double v)
{
	char b[64];
	snprintf(b, sizeof b, fmt, v);
	out_putc(o, ',');
	json_write_string(o, name, strlen(name));
	out_putc(o, ':');
	out_puts(o, b);
}

/* uptime, load and memory from /proc (Linux); left out where unreadable. */
static void put_system(struct outbuf *o)
{
	char buf[4096];
	double a, b, c;
	if (read_small("/proc/uptime", buf, sizeof buf) && sscanf(buf, "%lf", &a) == 1)
		put_num(o, "uptime_s", "%.0f", a);
	if (read_small("/proc/loadavg", buf, sizeof buf) &&
	    sscanf(buf, "%lf %lf %lf", &a, &b, &c) == 3) {
		char l[96];
		snprintf(l, sizeof l, ",\"load\":[%.2f,%.2f,%.2f]", a, b, c);
		out_puts(o, l);
	}
	FILE *f = fopen("/proc/meminfo", "r");
	if (f) {
		unsigned long long kb;
		while (fgets(buf, sizeof buf, f)) {
			if (sscanf(buf, "MemTotal: %llu kB", &kb) == 1)
				put_num(o, "mem_total_kb", "%.0f", (double)kb);
			else if (sscanf(buf, "MemAvailable: %llu kB", &kb) == 1)
				put_num(o, "mem_available_kb", "%.0f", (double)kb);
		}
		fclose(f);
	}
	struct statvfs sv;
	out_puts(o, ",\"disk_path\":");
	json_write_string(o, cfg->disk, strlen(cfg->disk));
	if (statvfs(cfg->disk, &sv) == 0)
		put_num(o, "disk_free_bytes", "%.0f",
			(double)sv.f_bavail * (double)sv.f_frsize);
	else
		out_puts(o, ",\"disk_free_bytes\":null");
}

/* One watched file: its counters if it is a JSON object, its age, and
 * whether it is stale (not rewritten for --stale, missing or unreadable). */
static void put_watch(struct outbuf *o, const char *path, int64_t now_us)
{
	static char buf[WATCH_MAX_BYTES];
	struct stat st;
	out_puts(o, "{\"file\":");
	json_write_string(o, path, strlen(path));
	if (stat(path, &st) < 0) {
		out_puts(o, ",\"stale\":true,\"error\":");
		const char *e = strerror(errno);
		json_write_string(o, e, strlen(e));
		out_putc(o, '}');
		return;
	}
	int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
	int64_t age = now_us - mtime;
	char b[64];
	snprintf(b, sizeof b, ",\"age_s\":%.1f,\"stale\":%s", (double)age / 1e6,
		 age > cfg->stale_ms * 1000 ? "true" : "false");
	out_puts(o, b);
	const char *text = read_small(path, buf, sizeof buf);
	static struct fieldset *none;	/* no fields wanted: validation only */
	struct json_scan js = { 0 };
	const char *err;
	size_t col;
	if (!none)
		none = fieldset_new();
	if (text && json_scan_line(text, strlen(text), none, &js, &err, &col) == 0) {
		out_puts(o, ",\"stats\":");
		out_puts(o, text);	/* validated: a JSON object */
	} else {
		out_puts(o, ",\"error\":\"not a JSON object\"");
	}
	free(js.members);
	out_putc(o, '}');
}

static void build_status(struct outbuf *o)
{
	char t[48];
	int64_t now = time_now_us();
	rfc3339_format(now, t);
	o->len = 0;
	out_puts(o, "{\"id\":");
	json_write_string(o, cfg->g.id, strlen(cfg->g.id));
	out_puts(o, ",\"state\":\"online\",\"time\":\"");
	out_puts(o, t);
	out_putc(o, '"');
	put_num(o, "seq", "%.0f", (double)beats);
	put_system(o);
	out_puts(o, ",\"watch\":[");
	for (int i = 0; i < cfg->nwatch; i++) {
		if (i)
			out_putc(o, ',');
		put_watch(o, cfg->watch[i], now);
	}
	out_puts(o, "]}");
}

/* ---- publishing ---- */

static bool publish(const char *payload, size_t n)
{
	if (gateway_conn.state != MQTT_UP)
		return false;
	int rc = mosquitto_publish(gateway_conn.m, NULL, cfg->g.topic, (int)n, payload,
				   cfg->g.mo.qos, true);
	if (rc != MOSQ_ERR_SUCCESS)
		return false;
	mqtt_flush(&gateway_conn);
	return true;
}

static int64_t last_beat;	/* when the last status went */

static void beat(struct evloop_timer *t, int64_t now)
{
	last_beat = now;
	t->at = now + cfg->every_ms;
	build_status(&msg);
	beats++;
	if (publish(msg.buf, msg.len))
		published++;
	else
		missed++;	/* a status is only worth its moment: not queued */
	out_put(out, msg.buf, msg.len);
	out_putc(out, '\n');
	stats.out++;
	out_flush(out);
}

/* A (re)connect: the first status goes out at once. */
static void on_up(void *ctx, bool session_present)
{
	(void)ctx;
	(void)session_present;
	beat_timer->at = 0;
}

/* Graceful stop: say "offline" ourselves (a DISCONNECT suppresses the
 * will), and give the broker a moment to take it. No status after it. */
static void goodbye(void)
{
	beat_timer->at = EVLOOP_NEVER;
	if (!publish(cfg->will, strlen(cfg->will)))
		return;
	mqtt_linger(&gateway_conn, ev, 2000, true);
	/* QoS 1 and 2: a short wait for the acknowledgement, so the offline
	 * status is on the broker when we go. */
	if (cfg->g.mo.qos)
		mqtt_linger(&gateway_conn, ev, 300, false);
}

/* ---- options ---- */

static void stats_extra(char *buf, size_t n)
{
	snprintf(buf, n, ",\"beats\":%llu,\"published\":%llu,\"missed\":%llu,"
		 "\"reconnects\":%lu", beats, published, missed, gateway_conn.reconnects);
}

static void conf_init(void *conf)
{
	struct conf *c = conf;
	gateway_conf_init(&c->g, "fleet/{id}/status");
	c->disk = "/";
	c->every_ms = 10000;
	c->stale_ms = 30000;
}

static void option(void *conf, int ch, const char *arg)
{
	struct conf *c = conf;
	if (gateway_option(&c->g, ch, arg))
		return;
	switch (ch) {
	case OPT_EVERY:
		c->every_ms = opts_duration("--every", arg, false) / 1000;
		if (c->every_ms < 1)
			diag_usage("invalid duration '%s' for --every: at least 1ms",
				   arg);
		break;
	case OPT_STALE:
		c->stale_ms = opts_duration("--stale", arg, false) / 1000;
		break;
	case OPT_WATCH:
		if (c->nwatch == MAX_WATCH)
			diag_usage("more than %d --watch files", MAX_WATCH);
		c->watch[c->nwatch++] = arg;
		break;
	case OPT_DISK: c->disk = arg; break;
	}
}

/* The will: the same topic, retained, saying offline. */
static void set_will(struct conf *c)
{
	struct outbuf w;
	out_init(&w, -1, "will");
	out_puts(&w, "{\"id\":");
	json_write_string(&w, c->g.id, strlen(c->g.id));
	out_puts(&w, ",\"state\":\"offline\"}");
	snprintf(c->will, sizeof c->will, "%.*s", (int)w.len, w.buf);
	out_free(&w);
	if (!c->g.mo.will_topic) {
		c->g.mo.will_topic = c->g.topic;
		c->g.mo.will_payload = c->will;
		c->g.mo.will_qos = c->g.mo.qos;
		c->g.mo.will_retain = true;
	}
}

/* The options checked together, the connection's with the will and
 * client id filled in. */
static void check(struct prog_run *run, void *conf, int argc, char **argv)
{
	struct conf *c = conf;
	(void)run;
	gateway_check_id(&c->g, argc, argv);
	gateway_check_topic(&c->g, true);
	set_will(c);
	gateway_check_conn(&c->g, "{id}-heartbeat");
}

/* ---- reloading ---- */

/*
 * On SIGHUP, or with --watch-config when the file changed, between two
 * statuses: --every (counted from the last status), --watch, --stale,
 * --disk, -C and --qos apply from the next status. A new --id or topic, or
 * a connection option, says offline on the old topic (as a clean stop
 * does), closes the connection and opens one with the new options; its
 * first status goes at once.
 */
static bool reload(struct prog_run *run, void *nconf, char *said, size_t n)
{
	struct conf *nc = nconf;
	(void)run;
	const char *copt;
	if (!gateway_reload_ok(&cfg->g, &nc->g, &copt))
		return false;
	if (copt) {
		goodbye();
		mqtt_close(&gateway_conn);
	}
	cfg = nc;
	gateway_use(&cfg->g, copt);
	beat_timer->at = last_beat + cfg->every_ms;
	snprintf(said, n, "--every %lldms, %d watched, -t %s -q %d",
		 (long long)cfg->every_ms, cfg->nwatch, cfg->g.topic, cfg->g.mo.qos);
	return gateway_said(said, n, copt);
}

/* ---- the run ---- */

static void start(struct prog_run *run)
{
	cfg = run->conf;
	out = &run->out;
	ev = &run->ev;
	out_init(&msg, -1, "status");
	beat_timer = evloop_add_timer(ev, beat, NULL);
	struct mqtt_hooks hooks = { .on_up = on_up };
	gateway_start(&cfg->g, &hooks, ev);
	/* The first status when the connection is up (on_up), or after one
	 * period without it. */
	last_beat = loop_now_ms();
	beat_timer->at = last_beat + cfg->every_ms;
}

static bool done(struct prog_run *run)
{
	(void)run;
	return gateway_done(&cfg->g, beats);
}

static void finish(struct prog_run *run)
{
	(void)run;
	gateway_finish();
	goodbye();
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	mqtt_close(&gateway_conn);
	out_free(&msg);
}

const struct prog program = {
	.name = "es-heartbeat",
	.synopsis = "--id ID [OPTION]...",
	.about = "Publish a status record for this gateway every D, retained: its id,\n"
		 "time, uptime, load, memory, free disk, and the counters of the\n"
		 "programs it watches (their --stats-file), flagged stale when they stop\n"
		 "being rewritten. The broker keeps a will that says the gateway is\n"
		 "offline, retained on the same topic, for when it dies. Each record\n"
		 "also goes to standard output.",
	.notes = "\nExample:\n"
		 "  es-heartbeat --id gw-17 -h broker --every 10s \\\n"
		 "    --watch /run/es/filter.json --watch /run/es/window.json\n",
	.conf_free = gateway_conf_free,
	GATEWAY_HOOKS,
};
