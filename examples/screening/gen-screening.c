/* gen-screening - raw data of an entrance-screening site, deterministic
 *
 * A site has several gates; at each, a thermal camera tracks the face of
 * every visitor who passes and reports the face's temperature about 30
 * times a second, and a badge reader logs the visitor's badge once during
 * the pass. This program makes a morning of both streams from a seed:
 *
 *   thermal  {"ts":...,"gate":"G1","track_id":"G1-000042","temp":36.71,
 *             "frame":"cam1/0001234.jpg"}
 *   badges   {"ts":...,"gate":"G1","badge":"B01234","name":"Ada Lovelace"}
 *
 * with what real sites have: readings out of order by up to 0.8 s (they are
 * written in arrival order), a malformed line now and then, one camera that
 * goes dead for a tenth of the run (badges still come) and one that sticks
 * at one value for another tenth. A few passes are fevers (the face reaches
 * 37.8 to 39.5 C); everyone else stays at or below 37.3 C. --truth writes
 * what the pipeline must find: every fever pass with its badge;
 * --truth-summary the per-gate, per-minute summary it must send, and
 * --truth-anomalies the camera faults it must report. In the truth,
 * last_reading is when the last reading of the fever pass was written
 * (arrival, event-time ms): with --clock, the latency of each alert.
 *
 * Times are integers (epoch ms, centi-degrees) and the random numbers come
 * from a 64-bit generator of our own, so the same seed gives the same bytes
 * on any machine. --rate paces the output in real time (1 = as the events
 * happened), for running the pipeline live.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define START_MS 1803880800000LL	/* 2027-03-01T06:00:00Z */
#define FPS 30
#define MIN_GAP_MS 8000			/* between passes at one gate */
#define VISITORS 3000
#define NORMAL_MAX 3730			/* centi-degrees: nobody healthy above */
#define MALFORMED_EVERY 100003		/* thermal lines */

enum cam { CAM_OK, CAM_DEAD, CAM_STUCK };

struct pass {
	int gate, visitor, track;
	int64_t start, badge_ts;
	int dur_ms, base;	/* base: the face's temperature, centi-degrees */
	int max_temp;		/* of the readings written whole */
	int64_t last_arrival;	/* when the last of them was written */
	uint32_t first_frame;	/* the earliest of those (UINT32_MAX: none) */
	enum cam cam;
	int fever;
};

struct event {
	int64_t arrival, ts;
	uint32_t pass, frame;
	int16_t temp;
	uint8_t badge;		/* 1: the pass's badge event; 0: a reading */
};

static uint64_t rng_state;

static uint64_t rng(void)	/* splitmix64 */
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* A whole number in [lo, hi]. */
static int64_t uniform(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

/* Noise of about +-spread, bell-shaped (a sum of four uniforms). */
static int noise(int spread)
{
	int64_t s = 0;
	for (int i = 0; i < 4; i++)
		s += uniform(-spread, spread);
	return (int)(s / 2);
}

static const char *const first_names[] = {
	"Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John",
	"Margaret", "Ken", "Radia", "Dennis", "Karen", "Niklaus", "Shafi", "Tony",
	"Sophie", "Leslie", "Hedy", "Claude", "Jean", "Butler", "Anita", "Vint",
	"Mary", "Linus", "Lynn", "Bjarne", "Joan", "Guido", "Adele", "Fran",
};
static const char *const last_names[] = {
	"Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen",
	"Backus", "Hamilton", "Thompson", "Perlman", "Ritchie", "Jones", "Wirth",
	"Goldwasser", "Hoare", "Wilson", "Lamport", "Lamarr", "Shannon",
	"Sammet", "Lampson", "Borg", "Cerf", "Keller", "Torvalds", "Conway",
	"Stroustrup", "Clarke", "van Rossum", "Goldberg", "Bilas",
};
#define NFIRST (sizeof first_names / sizeof first_names[0])
#define NLAST (sizeof last_names / sizeof last_names[0])

static int visitor_name[VISITORS];	/* first * NLAST + last */

static struct {
	unsigned long seed;
	int gates, fever_one_in;
	double hours, rate;
	const char *thermal, *badges, *truth, *truth_summary, *truth_anomalies;
	const char *clock;
} opt = { .seed = 1, .gates = 8, .hours = 4, .fever_one_in = 400 };

static void usage(FILE *f, int status)
{
	fprintf(f,
		"Usage: gen-screening --thermal FILE --badges FILE [OPTION]...\n"
		"Write a morning of thermal-camera readings and badge events of an\n"
		"entrance-screening site, the same for the same seed.\n"
		"\n"
		"  --thermal FILE   thermal readings (NDJSON, in arrival order)\n"
		"  --badges FILE    badge events (NDJSON)\n"
		"  --truth FILE     the fever passes the pipeline must alert on\n"
		"  --truth-summary FILE  per gate and minute (of the passes' first\n"
		"                   readings): visitors seen, fevers, p95 (nearest\n"
		"                   rank) of their highest temperatures\n"
		"  --seed N         random seed (default 1)\n"
		"  --truth-anomalies FILE  per gate and minute: badges without a face\n"
		"                   (2 or more, by the badge's minute) while a camera\n"
		"                   was dead, passes while it was stuck\n"
		"  --gates N        gates, 1 to 99 (default 8)\n"
		"  --fever-one-in N one pass in N (on average) is a fever (default 400)\n"
		"  --hours H        hours of events from 06:00 UTC (default 4:\n"
		"                   about 1.2 million readings)\n"
		"  --rate X         write in real time, X times as fast as the events\n"
		"                   happened (default 0: as fast as possible)\n"
		"  --clock FILE     with --rate: write there the wall clock (epoch ms)\n"
		"                   that stands for 06:00, for measuring latency\n"
		"  --help\n");
	exit(status);
}

static double number_arg(const char *name, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "gen-screening: invalid %s '%s' (%g to %g)\n",
			name, s, lo, hi);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"thermal", required_argument, 0, 't'},
		{"badges", required_argument, 0, 'b'},
		{"truth", required_argument, 0, 'T'},
		{"truth-summary", required_argument, 0, 'S'},
		{"truth-anomalies", required_argument, 0, 'A'},
		{"fever-one-in", required_argument, 0, 'f'},
		{"seed", required_argument, 0, 's'},
		{"gates", required_argument, 0, 'g'},
		{"hours", required_argument, 0, 'H'},
		{"rate", required_argument, 0, 'r'},
		{"clock", required_argument, 0, 'c'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}
	};
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 't': opt.thermal = optarg; break;
		case 'b': opt.badges = optarg; break;
		case 'T': opt.truth = optarg; break;
		case 'S': opt.truth_summary = optarg; break;
		case 'A': opt.truth_anomalies = optarg; break;
		case 'f': opt.fever_one_in = (int)number_arg("--fever-one-in", optarg, 1, 1e9); break;
		case 's': opt.seed = (unsigned long)number_arg("--seed", optarg, 0, 4e9); break;
		case 'g': opt.gates = (int)number_arg("--gates", optarg, 1, 99); break;
		case 'H': opt.hours = number_arg("--hours", optarg, 0.001, 24); break;
		case 'r': opt.rate = number_arg("--rate", optarg, 0, 1e6); break;
		case 'c': opt.clock = optarg; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (optind < argc || !opt.thermal || !opt.badges) {
		fprintf(stderr, "gen-screening: --thermal and --badges are needed\n");
		usage(stderr, 2);
	}
}

/* Which camera is dead or stuck when: gate 3 is dead from 25% to 35% of
 * the run, gate 5 stuck from 55% to 65% (the first and the last gate when
 * there are fewer). */
static enum cam camera_at(int gate, int64_t t, int64_t span)
{
	int64_t f = (t - START_MS) * 100 / span;
	int dead = opt.gates >= 3 ? 3 : 1, stuck = opt.gates >= 5 ? 5 : opt.gates;
	if (gate == dead && f >= 25 && f < 35)
		return CAM_DEAD;
	if (gate == stuck && f >= 55 && f < 65 && stuck != dead)
		return CAM_STUCK;
	return CAM_OK;
}

static struct pass *passes;
static size_t npass, cappass;
static struct event *ev;
static size_t nev, capev;

static struct event *new_event(void)
{
	if (nev == capev) {
		capev = capev ? capev * 2 : 1 << 16;
		ev = realloc(ev, capev * sizeof *ev);
		if (!ev) {
			perror("gen-screening");
			exit(1);
		}
	}
	return &ev[nev++];
}

/* The readings of pass p: the face warms from 1.5 C below its temperature
 * as it comes near the camera, with noise; a stuck camera says 36.00. */
static void readings(struct pass *p, uint32_t *frame)
{
	int n = p->dur_ms * FPS / 1000;
	for (int i = 0; i < n; i++) {
		int ramp = i < FPS ? (FPS - i) * 150 / FPS : 0;
		int t = p->base - ramp + noise(8);
		if (!p->fever && t > NORMAL_MAX)
			t = NORMAL_MAX;
		if (p->cam == CAM_STUCK)
			t = 3600;
		struct event *e = new_event();
		e->ts = p->start + (int64_t)i * 1000 / FPS;
		e->arrival = e->ts + uniform(0, 800);
		e->pass = (uint32_t)npass;
		e->frame = (*frame)++;
		e->temp = (int16_t)t;
		e->badge = 0;
	}
}

static void make_gate(int gate, int64_t span, int *track)
{
	static uint32_t frames[100];
	for (int64_t t = START_MS + uniform(0, MIN_GAP_MS);
	     t < START_MS + span - 6000;
	     t += MIN_GAP_MS + uniform(0, 8000)) {
		if (npass == cappass) {
			cappass = cappass ? cappass * 2 : 1024;
			passes = realloc(passes, cappass * sizeof *passes);
			if (!passes) {
				perror("gen-screening");
				exit(1);
			}
		}
		struct pass *p = &passes[npass];
		memset(p, 0, sizeof *p);
		p->gate = gate;
		p->track = ++*track;
		p->start = t;
		p->dur_ms = (int)uniform(3000, 5000);
		p->visitor = (int)uniform(0, VISITORS - 1);
		p->cam = camera_at(gate, t, span);
		p->fever = p->cam == CAM_OK && uniform(1, opt.fever_one_in) == 1;
		p->base = p->fever ? (int)uniform(3780, 3950)
				   : (int)uniform(3620, 3700);
		p->badge_ts = t + uniform(500, 2500);
		p->first_frame = UINT32_MAX;
		if (p->cam != CAM_DEAD)
			readings(p, &frames[gate]);
		struct event *e = new_event();
		e->ts = p->badge_ts;
		e->arrival = e->ts + uniform(0, 300);
		e->pass = (uint32_t)npass;
		e->badge = 1;
		npass++;
	}
}

static int by_arrival(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	if (x->arrival != y->arrival)
		return x->arrival < y->arrival ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->pass < y->pass ? -1 : x->pass > y->pass;
}

static void name_of(int visitor, char *buf, size_t n)
{
	int k = visitor_name[visitor];
	snprintf(buf, n, "%s %s", first_names[k / NLAST], last_names[k % NLAST]);
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "gen-screening: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

/* --rate: sleeps until the wall clock reaches the event's arrival. */
static void pace(int64_t arrival, FILE *a, FILE *b)
{
	static struct timespec t0;
	static int started;
	struct timespec now;
	if (opt.rate <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!started) {
		t0 = now;
		started = 1;
		if (opt.clock) {
			struct timespec w;
			clock_gettime(CLOCK_REALTIME, &w);
			FILE *f = fopen(opt.clock, "w");
			if (!f) {
				fprintf(stderr, "gen-screening: %s: %s\n", opt.clock,
					strerror(errno));
				exit(1);
			}
			/* the wall clock of event START_MS, as paced */
			fprintf(f, "%lld\n", (long long)((int64_t)w.tv_sec * 1000 +
				w.tv_nsec / 1000000 - (int64_t)((double)(arrival - START_MS) / opt.rate)));
			fclose(f);
		}
	}
	double due = (double)(arrival - START_MS) / 1000.0 / opt.rate;
	double at = (double)(now.tv_sec - t0.tv_sec) +
		    (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
	if (due > at) {
		fflush(a);	/* nothing waits in a buffer while we sleep */
		fflush(b);
		double d = due - at;
		struct timespec ts = { (time_t)d, (long)((d - (double)(time_t)d) * 1e9) };
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}

/* A reading; the pass's truth counts only the lines written whole. */
static void write_thermal(FILE *f, const struct event *e, unsigned long *lines)
{
	struct pass *p = &passes[e->pass];
	char line[200];
	int n = snprintf(line, sizeof line,
			 "{\"ts\":%lld,\"gate\":\"G%d\",\"track_id\":\"G%d-%06d\","
			 "\"temp\":%d.%02d,\"frame\":\"cam%d/%07u.jpg\"}",
			 (long long)e->ts, p->gate, p->gate, p->track,
			 e->temp / 100, e->temp % 100, p->gate, e->frame);
	if (++*lines % MALFORMED_EVERY == 0) {
		n /= 2;		/* a line cut short, as a flaky link makes */
	} else {
		if (e->temp > p->max_temp)
			p->max_temp = e->temp;
		if (e->arrival > p->last_arrival)
			p->last_arrival = e->arrival;
		if (e->frame < p->first_frame)
			p->first_frame = e->frame;
	}
	fwrite(line, 1, (size_t)n, f);
	fputc('\n', f);
}

static void write_badge(FILE *f, const struct event *e)
{
	const struct pass *p = &passes[e->pass];
	char name[64];
	name_of(p->visitor, name, sizeof name);
	fprintf(f, "{\"ts\":%lld,\"gate\":\"G%d\",\"badge\":\"B%05d\",\"name\":\"%s\"}\n",
		(long long)e->ts, p->gate, p->visitor + 1, name);
}

/* The fever passes, by time: what every alert must say. */
static void write_truth(const char *path)
{
	FILE *f = open_out(path);
	for (size_t i = 0; i < npass; i++) {
		const struct pass *p = &passes[i];
		char name[64];
		if (!p->fever)
			continue;
		name_of(p->visitor, name, sizeof name);
		fprintf(f, "{\"gate\":\"G%d\",\"badge\":\"B%05d\",\"name\":\"%s\","
			"\"max_temp\":%d.%02d,\"frame\":\"cam%d/%07u.jpg\",\"ts\":%lld,"
			"\"last_reading\":%lld}\n",
			p->gate, p->visitor + 1, name, p->max_temp / 100,
			p->max_temp % 100, p->gate, p->first_frame,
			(long long)p->start, (long long)p->last_arrival);
	}
	if (fclose(f)) {
		perror("gen-screening: truth");
		exit(1);
	}
}

static int by_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* One line of the summary: the passes [from, to) of one gate and minute. */
static void summary_line(FILE *f, const struct pass *const *ps, size_t n)
{
	int t[n], fevers = 0;
	for (size_t i = 0; i < n; i++) {
		t[i] = ps[i]->max_temp;
		fevers += t[i] > 3750;
	}
	qsort(t, n, sizeof t[0], by_int);
	size_t rank = (95 * n + 99) / 100;	/* nearest rank: ceil(0.95 n) */
	int64_t m = ps[0]->start / 60000 * 60000;
	time_t sec = (time_t)(m / 1000);
	struct tm tm;
	char a[32], b[32];
	gmtime_r(&sec, &tm);
	strftime(a, sizeof a, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sec += 60;
	gmtime_r(&sec, &tm);
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "{\"window_start\":\"%s\",\"window_end\":\"%s\",\"gate\":\"G%d\","
		"\"visitors\":%zu,\"fevers\":%d,\"p95_temp\":%d.%02d}\n", a, b,
		ps[0]->gate, n, fevers, t[rank - 1] / 100, t[rank - 1] % 100);
}

/* Passes sorted by start: per minute, per gate, the passes a camera saw
 * (a dead camera saw none). Lines in order of minute, then gate. */
static void write_truth_summary(const char *path)
{
	FILE *f = open_out(path);
	const struct pass **ps = malloc((npass + 1) * sizeof *ps);
	if (!ps) {
		perror("gen-screening");
		exit(1);
	}
	for (size_t i = 0; i < npass;) {
		int64_t minute = passes[i].start / 60000;
		size_t j = i;
		while (j < npass && passes[j].start / 60000 == minute)
			j++;
		for (int g = 1; g <= opt.gates; g++) {
			size_t n = 0;
			for (size_t k = i; k < j; k++)
				if (passes[k].gate == g && passes[k].first_frame != UINT32_MAX)
					ps[n++] = &passes[k];
			if (n)
				summary_line(f, ps, n);
		}
		i = j;
	}
	free(ps);
	if (fclose(f)) {
		perror("gen-screening: truth summary");
		exit(1);
	}
}

static void minute_text(int64_t minute, char *a, char *b)
{
	time_t sec = (time_t)(minute * 60);
	struct tm tm;
	gmtime_r(&sec, &tm);
	strftime(a, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sec += 60;
	gmtime_r(&sec, &tm);
	strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Counts per gate and minute of the passes cam is true of, by the minute
 * of their badge (dead) or of their start (stuck). */
static void fault_lines(FILE *f, enum cam cam, int min, const char *field,
			const char *problem)
{
	for (int g = 1; g <= opt.gates; g++) {
		int64_t minute = -1;
		int n = 0;
		for (size_t i = 0; i <= npass; i++) {
			const struct pass *p = i < npass ? &passes[i] : NULL;
			if (p && (p->gate != g || p->cam != cam))
				continue;
			int64_t m = !p ? -2 : (cam == CAM_DEAD ? p->badge_ts : p->start) / 60000;
			if (m == minute) {
				n++;
				continue;
			}
			if (n >= min) {
				char a[32], b[32];
				minute_text(minute, a, b);
				fprintf(f, "{\"window_start\":\"%s\",\"window_end\":\"%s\","
					"\"gate\":\"G%d\",\"%s\":%d,\"problem\":\"%s\"}\n",
					a, b, g, field, n, problem);
			}
			minute = m;
			n = 1;
		}
	}
}

static void write_truth_anomalies(const char *path)
{
	FILE *f = open_out(path);
	fault_lines(f, CAM_DEAD, 2, "badges_without_face", "camera silent");
	fault_lines(f, CAM_STUCK, 1, "stuck_passes", "camera stuck");
	if (fclose(f)) {
		perror("gen-screening: truth anomalies");
		exit(1);
	}
}

static int by_start(const void *a, const void *b)
{
	const struct pass *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->gate - y->gate;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	rng_state = opt.seed;
	for (int v = 0; v < VISITORS; v++)
		visitor_name[v] = (int)uniform(0, NFIRST * NLAST - 1);
	int64_t span = (int64_t)(opt.hours * 3600000.0);
	int track = 0;
	for (int g = 1; g <= opt.gates; g++)
		make_gate(g, span, &track);
	qsort(ev, nev, sizeof *ev, by_arrival);

	FILE *th = open_out(opt.thermal), *bd = open_out(opt.badges);
	unsigned long lines = 0;
	for (size_t i = 0; i < nev; i++) {
		pace(ev[i].arrival, th, bd);
		if (ev[i].badge)
			write_badge(bd, &ev[i]);
		else
			write_thermal(th, &ev[i], &lines);
	}
	if (fclose(th) || fclose(bd)) {
		perror("gen-screening");
		return 1;
	}
	/* event indexes into passes are no longer needed: sort by time */
	qsort(passes, npass, sizeof *passes, by_start);
	if (opt.truth)
		write_truth(opt.truth);
	if (opt.truth_summary)
		write_truth_summary(opt.truth_summary);
	if (opt.truth_anomalies)
		write_truth_anomalies(opt.truth_anomalies);
	free(ev);
	free(passes);
	return 0;
}
