/* es-map - compute, rename, select and drop fields
 *
 * Per record, in this order: the assignments (each sees the results of the
 * ones before it), --time-format, --rename, --keep, --drop. Fields nobody
 * touched keep their exact text (lib/edit.c); a record nothing changed is
 * written byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "edit.h"
#include "expr.h"
#include "opts.h"
#include "record.h"
#include "time.h"

enum {
	OPT_RENAME = OPT_PROGRAM, OPT_KEEP, OPT_DROP, OPT_TIME_FIELD,
	OPT_TIME_UNIT, OPT_TIME_FORMAT,
};

struct assign {
	struct path target;
	struct expr *e;
	int *refresh;		/* slots whose value this assignment changes */
	int nrefresh;
};

struct rename {
	struct path from, to;
};

static struct {
	struct assign *as;
	int nas;
	struct rename *ren;
	int nren;
	struct path *keep, *drop;
	int nkeep, ndrop;
	const char *time_field;
	enum time_repr unit, out_repr;	/* out_repr TIME_AUTO: no rewrite */
	struct path time_path;
	int time_slot;
} cfg = { .time_field = "ts" };

static void usage(void)
{
	printf("Usage: es-map [OPTION]... [ASSIGNMENT]... [FILE]...\n"
	       "Compute, rename, select and drop fields of the records of FILEs\n"
	       "(or standard input). An ASSIGNMENT is 'PATH = EXPR' (see edgestream(7)\n"
	       "for the expression language); assignments run in order and each sees\n"
	       "the results of the ones before it; a nested PATH creates objects. Then,\n"
	       "in this order: --time-format, --rename, --keep, --drop. Fields left\n"
	       "alone keep their exact text; a record nothing changed is written byte\n"
	       "for byte. The first argument that is not an assignment starts the FILEs.\n"
	       "\n"
	       "      --rename OLD:NEW     rename field OLD to NEW (repeatable)\n"
	       "      --keep F1,F2         keep only these fields (in the record's order)\n"
	       "      --drop F1,F2         remove these fields\n"
	       "      --time-format F      rewrite the time field as rfc3339, s, ms, us\n"
	       "                           or ns (s and ms round down)\n"
	       "      --time-field F       the time field (default: ts)\n"
	       "      --time-unit U        s, ms, us, ns or auto (default auto: guessed\n"
	       "                           from the first value: below 1e11 s, 1e14 ms,\n"
	       "                           1e17 us, else ns); strings are RFC 3339\n"
	       "\n");
	opts_common_help(stdout);
	printf("\nExamples:\n"
	       "  es-map 'temp_f = value * 9 / 5 + 32' 'alert = temp_f > 99.5' readings.ndjson\n"
	       "  es-map 'meta.unit = \"C\"' --rename value:celsius --drop seq plant.csv\n"
	       "  es-map --time-format rfc3339 --keep ts,device,value readings.ndjson\n");
	exit(EXIT_OK);
}

static void flush_out(void *ctx)
{
	out_flush(ctx);
}

/* A syntax error with the argument and a caret under the column (tabs
 * copied, UTF-8 continuation bytes skipped, so that it lines up). */
static void syntax_error(const char *text, const char *msg, size_t col)
{
	fprintf(stderr, "%s: syntax error at column %zu: %s\n  %s\n  ",
		diag_prog, col + 1, msg, text);
	for (size_t i = 0; i < col && text[i]; i++)
		if (text[i] == '\t')
			fputc('\t', stderr);
		else if (((unsigned char)text[i] & 0xC0) != 0x80)
			fputc(' ', stderr);
	fputs("^\n", stderr);
	exit(EXIT_USAGE);
}

static bool has_index(const struct path *p)
{
	for (int i = 0; i < p->n; i++)
		if (!p->step[i].key)
			return true;
	return false;
}

static void check_target(const struct path *p, const char *what)
{
	if (has_index(p))
		diag_usage("%s '%s': array elements cannot be changed", what,
			   p->text);
}

/* Parses 'PATH = EXPR' into a; false (nothing kept) if arg is not one, so
 * that it is taken for a file. */
static bool parse_assignment(const char *arg, struct fieldset *fs,
			     struct assign *a)
{
	const char *s = arg, *err;
	while (*s == ' ' || *s == '\t')
		s++;
	if (path_parse(&s, &a->target, &err) < 0)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '=' || s[1] == '=') {
		path_free(&a->target);
		return false;
	}
	s++;
	check_target(&a->target, "cannot assign to");
	char msg[256];
	size_t col;
	a->e = expr_compile(s, fs, msg, sizeof msg, &col);
	if (!a->e)
		syntax_error(arg, msg, col + (size_t)(s - arg));
	return true;
}

/* Comma-separated paths (--keep, --drop), appended to *list. */
static void parse_paths(const char *opt, const char *text, struct path **list,
			int *n)
{
	const char *s = text, *err;
	while (*s) {
		*list = xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
		struct path *p = &(*list)[*n];
		if (path_parse(&s, p, &err) < 0)
			diag_usage("invalid %s '%s' at column %d: %s", opt, text,
				   (int)(s - text) + 1, err);
		++*n;
		if (*s == ',')
			s++;
		else if (*s)
			diag_usage("invalid %s '%s' at column %d: expected ','",
				   opt, text, (int)(s - text) + 1);
		check_target(p, opt);
	}
}

static void parse_rename(const char *text)
{
	const char *s = text, *err;
	cfg.ren = xrealloc(cfg.ren, (size_t)(cfg.nren + 1) * sizeof *cfg.ren);
	struct rename *r = &cfg.ren[cfg.nren++];
	if (path_parse(&s, &r->from, &err) < 0)
		diag_usage("invalid --rename '%s' at column %d: %s", text,
			   (int)(s - text) + 1, err);
	if (*s != ':')
		diag_usage("invalid --rename '%s': expected OLD:NEW", text);
	if (path_parse_all(s + 1, &r->to, &err) < 0)
		diag_usage("invalid --rename '%s': %s", text, err);
	check_target(&r->from, "--rename");
	check_target(&r->to, "--rename");
}

static void parse_args(int argc, char **argv, struct es_opts *o)
{
	static const struct option longopts[] = {
		OPTS_COMMON_LONG,
		{"rename", required_argument, 0, OPT_RENAME},
		{"keep", required_argument, 0, OPT_KEEP},
		{"drop", required_argument, 0, OPT_DROP},
		{"time-field", required_argument, 0, OPT_TIME_FIELD},
		{"time-unit", required_argument, 0, OPT_TIME_UNIT},
		{"time-format", required_argument, 0, OPT_TIME_FORMAT},
		{0, 0, 0, 0}
	};
	int c;
	while ((c = getopt_long(argc, argv, OPTS_COMMON_SHORT, longopts,
				NULL)) != -1) {
		if (opts_common(o, c, optarg))
			continue;
		switch (c) {
		case OPT_RENAME: parse_rename(optarg); break;
		case OPT_KEEP:
			parse_paths("--keep", optarg, &cfg.keep, &cfg.nkeep);
			break;
		case OPT_DROP:
			parse_paths("--drop", optarg, &cfg.drop, &cfg.ndrop);
			break;
		case OPT_TIME_FIELD: cfg.time_field = optarg; break;
		case OPT_TIME_UNIT:
			if (time_unit_parse(optarg, &cfg.unit))
				diag_usage("invalid argument '%s' for --time-unit: "
					   "expected s, ms, us, ns or auto", optarg);
			break;
		case OPT_TIME_FORMAT:
			if (!strcmp(optarg, "rfc3339"))
				cfg.out_repr = TIME_RFC3339;
			else if (time_unit_parse(optarg, &cfg.out_repr) ||
				 cfg.out_repr == TIME_AUTO)
				diag_usage("invalid argument '%s' for --time-format: "
					   "expected rfc3339, s, ms, us or ns", optarg);
			break;
		default: opts_bad_option();
		}
	}
}

/* True if one path is the other or lies inside it (a change to one
 * changes what the other reads). */
static bool related(const struct path *a, const struct path *b)
{
	if (!strcmp(a->text, b->text))
		return true;
	int n = a->n < b->n ? a->n : b->n;
	for (int i = 0; i < n; i++) {
		const struct path_step *x = &a->step[i], *y = &b->step[i];
		if (!x->key != !y->key)
			return false;
		if (x->key ? x->keylen != y->keylen || memcmp(x->key, y->key, x->keylen)
			   : x->index != y->index)
			return false;
	}
	return true;
}

/* The assignments from the arguments after the options; optind moves to
 * the first FILE. Every path is in fs before the refresh lists are made. */
static void setup(int argc, char **argv, struct fieldset *fs)
{
	while (optind < argc) {
		struct assign a = { 0 };
		if (!parse_assignment(argv[optind], fs, &a))
			break;
		cfg.as = xrealloc(cfg.as, (size_t)(cfg.nas + 1) * sizeof *cfg.as);
		cfg.as[cfg.nas++] = a;
		optind++;
	}
	const char *err;
	if (cfg.out_repr) {
		if (path_parse_all(cfg.time_field, &cfg.time_path, &err))
			diag_usage("invalid --time-field '%s': %s", cfg.time_field,
				   err);
		check_target(&cfg.time_path, "--time-field");
		cfg.time_slot = fieldset_add(fs, &cfg.time_path);
	}
	if (!cfg.nas && !cfg.out_repr && !cfg.nren && !cfg.nkeep && !cfg.ndrop)
		diag_usage("nothing to do: give an assignment, --rename, --keep, "
			   "--drop or --time-format");
	int ns = fieldset_count(fs);
	for (int i = 0; i < cfg.nas; i++) {
		struct assign *a = &cfg.as[i];
		a->refresh = xmalloc((size_t)(ns ? ns : 1) * sizeof *a->refresh);
		for (int s = 0; s < ns; s++)
			if (related(&a->target, fieldset_path(fs, s)))
				a->refresh[a->nrefresh++] = s;
	}
}

static struct scratch sc;
static struct span *slots;
static char msg[320];

static int run_assignments(struct edit *ed, const struct fieldset *fs,
			   const struct record *rec)
{
	const char *err;
	memcpy(slots, rec->slots, (size_t)fieldset_count(fs) * sizeof *slots);
	for (int i = 0; i < cfg.nas; i++) {
		struct assign *a = &cfg.as[i];
		struct value v;
		if (expr_eval(a->e, slots, &sc, &v, msg, sizeof msg) < 0) {
			record_bad(rec, msg);
			return -1;
		}
		if (v.t == V_MISSING)
			v.t = V_NULL;
		if (edit_set(ed, &a->target, &v, &err) < 0) {
			record_bad(rec, err);
			return -1;
		}
		for (int k = 0; k < a->nrefresh; k++)
			edit_get(ed, fieldset_path(fs, a->refresh[k]),
				 &slots[a->refresh[k]]);
	}
	return 0;
}

/* --time-format: the time field, as it is after the assignments, rewritten. */
static int rewrite_time(struct edit *ed, const struct record *rec)
{
	struct span sp;
	struct value tv;
	const char *err;
	int64_t us;
	edit_get(ed, &cfg.time_path, &sp);
	if (record_time(rec, &sp, cfg.time_field, &cfg.unit, &sc, &us, NULL))
		return -1;
	char *buf = scratch_alloc(&sc, 40);
	size_t n = time_format(us, cfg.out_repr, false, buf);
	memset(&tv, 0, sizeof tv);
	if (cfg.out_repr == TIME_RFC3339) {
		tv.t = V_STRING;
		tv.s = buf;
		tv.n = n;
	} else {
		number_parse(buf, n, &tv);	/* keeps the digits as text */
	}
	if (edit_set(ed, &cfg.time_path, &tv, &err) < 0) {
		record_bad(rec, err);
		return -1;
	}
	return 0;
}

static int reshape(struct edit *ed, const struct record *rec)
{
	const char *err;
	for (int i = 0; i < cfg.nren; i++)
		if (edit_rename(ed, &cfg.ren[i].from, &cfg.ren[i].to, &err) < 0) {
			record_bad(rec, err);
			return -1;
		}
	if (cfg.nkeep)
		edit_keep(ed, cfg.keep, cfg.nkeep);
	for (int i = 0; i < cfg.ndrop; i++)
		edit_remove(ed, &cfg.drop[i]);
	return 0;
}

static void map_record(struct edit *ed, const struct fieldset *fs,
		       struct writer *w, struct outbuf *out,
		       const struct record *rec, enum format ofmt)
{
	const char *err;
	scratch_reset(&sc);
	edit_begin(ed, rec);
	if (run_assignments(ed, fs, rec) < 0)
		return;
	if (cfg.out_repr && rewrite_time(ed, rec) < 0)
		return;
	if (reshape(ed, rec) < 0)
		return;
	if (!edit_changed(ed)) {
		if (writer_put(w, rec, &err) < 0)
			record_bad(rec, err);
	} else if (ofmt == FMT_NDJSON) {
		if (edit_write_ndjson(ed, out, &err) < 0)
			record_bad(rec, err);
		else
			stats.out++;
	} else if (edit_write_fields(ed, w, &err) < 0) {
		record_bad(rec, err);
	}
}

static void cleanup(void)
{
	for (int i = 0; i < cfg.nas; i++) {
		path_free(&cfg.as[i].target);
		expr_free(cfg.as[i].e);
		free(cfg.as[i].refresh);
	}
	free(cfg.as);
	for (int i = 0; i < cfg.nren; i++) {
		path_free(&cfg.ren[i].from);
		path_free(&cfg.ren[i].to);
	}
	free(cfg.ren);
	for (int i = 0; i < cfg.nkeep; i++)
		path_free(&cfg.keep[i]);
	free(cfg.keep);
	for (int i = 0; i < cfg.ndrop; i++)
		path_free(&cfg.drop[i]);
	free(cfg.drop);
	if (cfg.out_repr)
		path_free(&cfg.time_path);
	scratch_free(&sc);
	free(slots);
}

int main(int argc, char **argv)
{
	struct es_opts o;
	diag_init(argv[0]);
	argv = opts_config(&argc, argv);
	opts_init(&o);
	parse_args(argc, argv, &o);
	if (o.help)
		usage();
	opts_apply(&o);
	/* static: a usage error in setup() exits with it still reachable */
	static struct fieldset *fs;
	fs = fieldset_new();
	fieldset_want_members(fs, true);	/* edit.c builds on them */
	setup(argc, argv, fs);
	slots = xmalloc((size_t)(fieldset_count(fs) + 1) * sizeof *slots);
	loop_signals();

	struct outbuf out;
	out_init(&out, 1, "stdout");
	diag_set_output(&out);
	struct reader *r = reader_open(argv + optind, argc - optind, o.in_fmt,
				       fs, flush_out, &out);
	struct writer *w = writer_open(&out, o.out_fmt);
	struct edit *ed = edit_new();
	struct record rec;
	while (reader_next(r, &rec) > 0) {
		writer_set_format(w, rec.fmt);
		map_record(ed, fs, w, &out, &rec,
			   o.out_fmt ? o.out_fmt : reader_format(r));
	}
	writer_close(w);
	reader_close(r);
	edit_free(ed);
	fieldset_free(fs);
	cleanup();
	diag_finish();
	out_free(&out);
	return diag_status;
}
