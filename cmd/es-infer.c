/* es-infer - score each record with a trained model
 *
 * The features are fields of the record; the model (lib/model.h, chosen
 * by the file's content) gives a score, or a class and its probabilities,
 * set as fields (lib/infer.c); untouched fields keep their text, as in
 * es-map. --only-if passes only the records an expression over the
 * outputs is true for. With --sequence N the model reads the last N
 * readings of the record's key (lib/infer_seq.c). The model is reloaded between two records on
 * SIGHUP (and with --config --watch-config when the model file or the
 * configuration changes); one that does not load keeps the running model.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "edit.h"
#include "expr.h"
#include "infer.h"
#include "loop.h"
#include "mem.h"
#include "model.h"
#include "optgroup.h"
#include "prog.h"
#include "reload.h"
#include "stats.h"

enum {
	OPT_MODEL = OPT_PROGRAM, OPT_AS, OPT_LABELS, OPT_PROBABILITIES,
	OPT_FILL, OPT_ONLY_IF, OPT_SEQUENCE,
};

static const struct opts_entry options[] = {
	{"model", required_argument, 'm', "FILE",
	 "the model (XGBoost JSON, as save_model writes\n"
	 "it; TensorFlow Lite through Arm NN)"},
	{"features", required_argument, 'f', "F1,F2",
	 "the feature fields, in the model's order\n"
	 "(default: the feature names the model has)"},
	{"as", required_argument, OPT_AS, "NAME",
	 "the output field (default: score for a\n"
	 "regression, class for a classifier)"},
	{"labels", required_argument, OPT_LABELS, "L0,L1",
	 "the classes' names, in the model's order\n"
	 "(default: their numbers 0, 1, ...)"},
	{"probabilities", no_argument, OPT_PROBABILITIES, NULL,
	 "also NAME_p: the probability of class 1\n"
	 "(binary), or one per class by label"},
	{"fill", required_argument, OPT_FILL, "V",
	 "a missing or null feature is V (default: the\n"
	 "tree's default direction)"},
	{"only-if", required_argument, OPT_ONLY_IF, "EXPR",
	 "write only the records for which EXPR (over\n"
	 "the record and the outputs) is true"},
	{"sequence", required_argument, OPT_SEQUENCE, "N",
	 "the model reads the last N readings of the\n"
	 "features per key, oldest first ([1,N*F] or\n"
	 "[1,N,F]); until a key has N, its records get\n"
	 "null outputs (counted as warming)"},
	OPTGROUP_KEY("with --sequence: one window per value of\n"
		     "these fields (default: one for the stream)"),
	OPTGROUP_MAX_KEYS("with --sequence: at most N keys (default\n"
			  OPTGROUP_XSTR(KEYED_DEFAULT_MAX) "); at the limit the least recently\n"
			  "seen key's readings are forgotten"),
	OPTGROUP_MAX_STATE("with --sequence: at most SIZE bytes of\n"
			   "windows and keys (default 64M); at the limit\n"
			   "the least recently seen keys are forgotten"),
	{0}
};

/* What the options say (parsed at start and again on a reload). */
struct conf {
	const char *model_path;
	struct infer_spec spec;
	const char *only_if;
	struct expr *cond;	/* --only-if compiled */
	struct infer *eng;	/* the model bound (owns it) */
	struct infer_seq_conf seq;	/* --sequence, --key and the caps */
	bool caps;		/* --key, --max-keys or --max-state given */
};

static struct conf *cfg;	/* the options in force */
static bool running;		/* past start: a reload, not the start-up */

static void conf_init(void *conf)
{
	struct conf *c = conf;
	c->seq.max_keys = KEYED_DEFAULT_MAX;
	c->seq.max_state = SIZE_DEFAULT_MAX_STATE;
}

/* --sequence's options (a --key given again replaces the first). */
static void seq_option(struct infer_seq_conf *s, int code, const char *arg)
{
	switch (code) {
	case OPT_SEQUENCE:
		s->n = opts_count_in("--sequence", arg, 1, INFER_SEQ_MAX);
		break;
	case 'k':
		keyed_paths_free(s->kpaths, s->nkeys);
		s->kpaths = NULL;
		s->nkeys = 0;
		optgroup_keys(&s->kpaths, &s->nkeys, "--key", arg);
		break;
	case OPT_MAX_KEYS:
		s->max_keys = opts_count_in("--max-keys", arg, 1, KEYED_MAX_KEYS);
		break;
	case OPT_MAX_STATE: s->max_state = optgroup_size("--max-state", arg); break;
	}
}

/* -f or --labels (given again, a --config file after the command line:
 * the list is replaced). */
static void spec_list(struct conf *c, int (*fn)(struct infer_spec *,
		      const char *, char *, size_t), const char *arg)
{
	char err[256];
	if (fn(&c->spec, arg, err, sizeof err) < 0)
		diag_usage("%s", err);
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	char *end;
	switch (code) {
	case 'k': case OPT_MAX_KEYS: case OPT_MAX_STATE:
		c->caps = true;
		/* fall through */
	case OPT_SEQUENCE: seq_option(&c->seq, code, arg); break;
	case 'm': c->model_path = arg; break;
	case 'f': spec_list(c, infer_spec_features, arg); break;
	case OPT_AS: c->spec.as = arg; break;
	case OPT_LABELS: spec_list(c, infer_spec_labels, arg); break;
	case OPT_PROBABILITIES: c->spec.probabilities = true; break;
	case OPT_ONLY_IF: c->only_if = arg; break;
	case OPT_FILL:
		c->spec.fill = true;
		c->spec.fill_value = strtod(arg, &end);
		if (end == arg || *end || !isfinite(c->spec.fill_value))
			diag_usage("invalid argument '%s' for --fill: a number "
				   "is needed", arg);
		break;
	}
}

/* A syntax error with the expression and a caret under the column. */
static void syntax_error(const char *text, const char *msg, size_t col)
{
	fprintf(stderr, "%s: syntax error in --only-if at column %zu: %s\n  %s\n  ",
		diag_prog, col + 1, msg, text);
	for (size_t i = 0; i < col && text[i]; i++)
		fputc(text[i] == '\t' ? '\t' : ' ', stderr);
	fputs("^\n", stderr);
	exit(EXIT_USAGE);
}

/* The model loaded and bound to the options; NULL with why (512 bytes). */
static struct infer *bind(struct conf *c, struct fieldset *fs, char *why,
			  size_t n)
{
	char err[480];
	struct model *m = model_load(c->model_path, err, sizeof err);
	if (!m) {
		snprintf(why, n, "--model %s", err);
		return NULL;
	}
	struct infer *eng = infer_new(&c->spec, m, fs, why, n);
	if (!eng)
		model_free(m);
	return eng;
}

/*
 * The expression, then (at start-up) the model: a model that does not
 * load is a usage error here, so that --check, and the check of a reload,
 * fail on it. On a reload the model is loaded by conf_reload, which may
 * still refuse it.
 */
static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	(void)argc;
	(void)argv;
	struct conf *c = conf;
	if (!c->model_path)
		diag_usage("missing --model");
	if (c->caps && !c->seq.n)
		diag_usage("--key, --max-keys and --max-state go with --sequence");
	c->spec.sequence = c->seq.n;
	if (c->only_if) {
		char msg[256];
		size_t col;
		c->cond = expr_compile(c->only_if, run->fs, msg, sizeof msg, &col);
		if (!c->cond)
			syntax_error(c->only_if, msg, col);
	}
	if (running)
		return;
	char why[512];
	c->eng = bind(c, run->fs, why, sizeof why);
	if (!c->eng)
		diag_usage("%s", why);
}

static void conf_free(void *conf)
{
	struct conf *c = conf;
	infer_spec_free(&c->spec);
	expr_free(c->cond);
	infer_free(c->eng);
	keyed_paths_free(c->seq.kpaths, c->seq.nkeys);
}

/* ---- --sequence: the windows ---- */

static struct infer_seq seq;
static bool seq_on, seq_used;	/* windows now; ever (for --stats) */

static void seq_start(struct conf *c, struct fieldset *fs)
{
	int nfeat;
	infer_features(c->eng, &nfeat);
	infer_seq_init(&seq, &c->seq, nfeat, fs);
	seq_on = seq_used = true;
}

/* A reload's windows: kept if they mean the same (keys, N, features). */
static void seq_reconf(struct conf *old, struct conf *nc, struct fieldset *fs,
		       char *said, size_t n)
{
	int na, nb;
	const struct path *a = infer_features(old->eng, &na);
	const struct path *b = infer_features(nc->eng, &nb);
	infer_seq_switch(&seq, &seq_on, &nc->seq, a, na, b, nb, fs, said, n);
	seq_used = seq_used || seq_on;
}

/* --check: what the model takes and gives. */
static void setup(struct prog_run *run)
{
	struct conf *c = run->conf;
	if (c->seq.n)
		seq_start(c, run->fs);
	if (run->o.check)
		infer_describe(c->eng, seq_on ? &seq : NULL, stdout);
}

/* ---- --stats: inferences and their time ---- */

static unsigned long long filtered;
static struct infer_clock clk;	/* inferences and their time */

static void stats_extra(char *buf, size_t n)
{
	char more[128] = "", times[128];
	if (seq_used)
		infer_seq_stats(&seq, more, sizeof more);
	infer_clock_stats(&clk, times, sizeof times);
	snprintf(buf, n, ",\"filtered\":%llu%s%s", filtered, times, more);
}

/* ---- the model reloaded on its own (SIGHUP; --watch-config) ---- */

static int hups;		/* loop_hups when last looked at */
static struct timespec model_mtime;
static int64_t model_looked;	/* ms */

static void note_model(void)
{
	struct stat st;
	memset(&model_mtime, 0, sizeof model_mtime);
	if (stat(cfg->model_path, &st) == 0)
		model_mtime = st.st_mtim;
	model_looked = loop_now_ms();
}

/* With --watch-config: whether the model file changed (looked at once a
 * second at most). */
static bool model_changed(const struct prog_run *run)
{
	struct stat st;
	if (!run->o.watch_config || loop_now_ms() - model_looked < 1000)
		return false;
	model_looked = loop_now_ms();
	if (stat(cfg->model_path, &st) < 0)
		return false;	/* gone: the running model stays */
	return st.st_mtim.tv_sec != model_mtime.tv_sec ||
	       st.st_mtim.tv_nsec != model_mtime.tv_nsec;
}

static void model_reload(struct prog_run *run)
{
	char why[512];
	note_model();
	struct infer *eng = bind(cfg, run->fs, why, sizeof why);
	if (!eng) {
		diag_warn("cannot reload %s; keeping the running model",
			  why);
		return;
	}
	infer_free(cfg->eng);
	cfg->eng = eng;
	reader_fields_changed(run->r);
	diag_warn("--model %s reloaded: %s", cfg->model_path,
		  infer_model(eng)->info.kind);
}

/* Before each read: a SIGHUP without --config (with it, the --config
 * reload loads the model again), or a changed model file. */
static int on_timeout(struct prog_run *run)
{
	bool hup = !reload_enabled() && loop_hups != hups;
	hups = loop_hups;
	if (hup || model_changed(run))
		model_reload(run);
	return run->o.watch_config ? 1000 : -1;
}

/*
 * --config reload (SIGHUP, --watch-config): the new options with the
 * model loaded again from the file (the same path or another), from the
 * next record. A model that does not load or fit keeps everything as it
 * was.
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	struct conf *nc = nconf;
	char why[512];
	nc->eng = bind(nc, run->fs, why, sizeof why);
	if (!nc->eng) {
		reload_refuse(why);
		return false;
	}
	char win[160] = "";
	seq_reconf(cfg, nc, run->fs, win, sizeof win);	/* prog tells the reader */
	cfg = nc;
	note_model();
	snprintf(said, n, "--model %s: %s%s%s", nc->model_path,
		 infer_model(nc->eng)->info.kind, *win ? "; " : "", win);
	return true;
}

/* ---- the records ---- */

static struct edit *ed;
static struct scratch sc;
static struct span *slots;
static int nslots;

static void start(struct prog_run *run)
{
	cfg = run->conf;
	running = true;
	ed = edit_new();
	hups = loop_hups;
	loop_hup_wakes = true;	/* a SIGHUP wakes the reader to reload */
	note_model();
	infer_clock_init(&clk);
}

/* Whether --only-if passes the record as it now is. */
static bool passes(struct prog_run *run, const struct record *rec)
{
	int ns = fieldset_count(run->fs);
	if (ns > nslots) {
		slots = xrealloc(slots, (size_t)ns * sizeof *slots);
		nslots = ns;
	}
	memcpy(slots, rec->slots, (size_t)ns * sizeof *slots);
	infer_slots(cfg->eng, ed, run->fs, slots);
	bool truth;
	char msg[256];
	if (expr_test(cfg->cond, slots, &sc, &truth, msg, sizeof msg) < 0) {
		record_bad(rec, msg);
		return false;
	}
	if (!truth)
		filtered++;
	return truth;
}

static void on_record(struct prog_run *run, struct record *rec)
{
	const char *err;
	int64_t ns;
	scratch_reset(&sc);
	edit_begin(ed, rec);
	int r = infer_record(cfg->eng, rec, seq_on ? &seq : NULL, ed, &sc, &ns);
	if (r < 0)
		return;
	if (r == 0)
		infer_clock_add(&clk, ns);
	if (cfg->cond && !passes(run, rec))
		return;
	writer_set_format(run->w, rec->fmt);
	enum format ofmt = run->o.out_fmt ? run->o.out_fmt : reader_format(run->r);
	if (ofmt == FMT_NDJSON) {
		if (edit_write_ndjson(ed, &run->out, &err) < 0)
			record_bad(rec, err);
		else
			stats.out++;
	} else if (edit_write_fields(ed, run->w, &err) < 0) {
		record_bad(rec, err);
	}
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	edit_free(ed);
	scratch_free(&sc);
	free(slots);
	if (seq_on)
		infer_seq_free(&seq);
	infer_clock_free(&clk);
}

static const struct prog es_infer = {
	.name = "es-infer",
	.synopsis = "[OPTION]... --model FILE [FILE]...",
	.about = "Score each record of FILEs (or standard input) with a trained model:\n"
		 "the features are fields of the record (-f), the model's outputs are\n"
		 "added as fields, and the other fields keep their exact text. A\n"
		 "regression adds NAME (--as, default score); a classifier adds NAME\n"
		 "(default class): the class with the highest probability, by its\n"
		 "--labels name. Models: XGBoost's JSON format (reg:squarederror,\n"
		 "binary:logistic, multi:softprob, multi:softmax and the like),\n"
		 "evaluated here in float32 as XGBoost does; TensorFlow Lite float32\n"
		 "models through Arm NN when built with it. A missing or null feature\n"
		 "goes the tree's default way unless --fill gives a value; a string\n"
		 "where a number is needed is bad input.",
	.opts = options,
	.reload_note = "SIGHUP loads the model file again between two records (replace it\n"
		       "atomically, e.g. with mv); with --config, the file's options too, and\n"
		       "--watch-config also looks for a changed model file once a second. A\n"
		       "model that does not load keeps the running one, and says why.",
	.notes = "\n--check loads the model and prints its inputs and outputs. --stats adds\n"
		 "inferences, filtered (by --only-if) and the model's time per record in\n"
		 "microseconds (infer_us_mean, infer_us_p99); with --sequence, warming,\n"
		 "keys, evicted and state_bytes (the most bytes of windows at once).\n"
		 "\nExamples:\n"
		 "  es-infer --model spikes.json -f temp,rh,co2 --probabilities \\\n"
		 "      --only-if 'class_p > 0.8' readings.ndjson\n"
		 "  es-infer --model state.json --labels normal,warn,fault --as state plant.csv\n"
		 "  es-infer --model window.tflite -f temp,rh --sequence 32 --key device \\\n"
		 "      --only-if 'score > 0.5' readings.ndjson\n",
	PROG_CONF_HOOKS,
	.want_members = true,	/* edit.c builds on them */
	.setup = setup,
	.start = start,
	.timeout = on_timeout,
	.record = on_record,
	.reload = conf_reload,
	.stats = stats_extra,
	.cleanup = cleanup,
};

int main(int argc, char **argv)
{
	return prog_main(&es_infer, argc, argv);
}
