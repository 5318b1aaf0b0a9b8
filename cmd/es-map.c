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
#include "mem.h"
#include "number.h"
#include "optgroup.h"
#include "prog.h"
#include "stats.h"
#include "time.h"

enum {
	OPT_RENAME = OPT_PROGRAM, OPT_KEEP, OPT_DROP, OPT_SET,
};

struct assign {
	struct path target;
	struct expr *e;
	int *refresh;		/* slots whose value this assignment changes */
	int nrefresh;
	int slot;		/* a top-level target's own slot, else -1 */
};

struct rename {
	struct path from, to;
};

/* What the options say (parsed at start and again on a reload); the
 * running one is cfg-> Option values point into the command line's words. */
struct conf {
	const char **sets;	/* --set, compiled in setup() */
	int nsets;
	struct assign *as;
	int nas;
	struct rename *ren;
	int nren;
	struct path *keep, *drop;
	int nkeep, ndrop;
	const char *time_field;
	enum time_repr unit_opt;	/* --time-unit as given */
	enum time_repr unit;		/* in use: TIME_AUTO until guessed */
	enum time_repr out_repr;	/* TIME_AUTO: no rewrite */
	struct path time_path;
	int time_slot;
	bool adds;		/* only new top-level fields: see adding() */
};

static struct conf *cfg;	/* the options in force */

static const struct opts_entry options[] = {
	{"set", required_argument, OPT_SET, "ASSIGNMENT",
	 "an assignment as an option (repeatable; these\n"
	 "run first, in order); in a --config file:\n"
	 "set = PATH = EXPR"},
	{"rename", required_argument, OPT_RENAME, "OLD:NEW",
	 "rename field OLD to NEW (repeatable)"},
	{"keep", required_argument, OPT_KEEP, "F1,F2",
	 "keep only these fields (in the record's order)"},
	{"drop", required_argument, OPT_DROP, "F1,F2", "remove these fields"},
	OPTGROUP_TIME_FORMAT("rewrite the time field as rfc3339, s, ms, us\n"
			     "or ns (s and ms round down)"),
	OPTGROUP_TIME_FIELD("the time field (default: ts)"),
	OPTGROUP_TIME_UNIT,
	{0}
};

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
		opts_syntax_error(arg, msg, col + (size_t)(s - arg));
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

static void parse_rename(struct conf *c, const char *text)
{
	const char *s = text, *err;
	c->ren = xrealloc(c->ren, (size_t)(c->nren + 1) * sizeof *c->ren);
	struct rename *r = &c->ren[c->nren++];
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

static void conf_init(void *conf)
{
	((struct conf *)conf)->time_field = "ts";
}

static void conf_option(void *conf, int code, const char *arg)
{
	struct conf *c = conf;
	switch (code) {
	case OPT_SET:
		c->sets = xrealloc(c->sets, (size_t)(c->nsets + 1) *
				   sizeof *c->sets);
		c->sets[c->nsets++] = arg;
		break;
	case OPT_RENAME: parse_rename(c, arg); break;
	case OPT_KEEP: parse_paths("--keep", arg, &c->keep, &c->nkeep); break;
	case OPT_DROP: parse_paths("--drop", arg, &c->drop, &c->ndrop); break;
	case OPT_TIME_FIELD: c->time_field = arg; break;
	case OPT_TIME_UNIT:
		optgroup_time_unit(arg, &c->unit_opt);
		c->unit = c->unit_opt;
		break;
	case OPT_TIME_FORMAT: optgroup_time_format(arg, &c->out_repr); break;
	}
}

static void add_assign(struct conf *c, const struct assign *a)
{
	c->as = xrealloc(c->as, (size_t)(c->nas + 1) * sizeof *c->as);
	c->as[c->nas++] = *a;
}

/*
 * Whether every edit is an assignment to a top-level field that no other
 * assignment sets and that nothing reads but through its own slot: then a
 * record that has none of those fields gains them at the end of its text
 * (edit_add), without its tree. Most maps are so ('value_f = value * 9 /
 * 5 + 32'); the tree cost them a sixth of their time (bench/README.md).
 */
static bool adds_only(const struct conf *c)
{
	if (!c->nas || c->out_repr || c->nren || c->nkeep || c->ndrop)
		return false;
	for (int i = 0; i < c->nas; i++) {
		const struct assign *a = &c->as[i];
		if (a->slot < 0 || a->nrefresh != 1 || a->refresh[0] != a->slot)
			return false;
		for (int j = 0; j < i; j++)
			if (c->as[j].slot == a->slot)
				return false;
	}
	return true;
}

/* The assignments of --set, then those from the arguments after the
 * options; optind moves to the first FILE. Every path is in fs before the
 * refresh lists are made. */
static void conf_check(struct prog_run *run, void *conf, int argc,
		       char **argv)
{
	struct conf *c = conf;
	struct fieldset *fs = run->fs;
	for (int i = 0; i < c->nsets; i++) {
		struct assign a = { 0 };
		if (!parse_assignment(c->sets[i], fs, &a))
			diag_usage("invalid --set '%s': expected PATH = EXPR",
				   c->sets[i]);
		add_assign(c, &a);
	}
	while (optind < argc) {
		struct assign a = { 0 };
		if (!parse_assignment(argv[optind], fs, &a))
			break;
		add_assign(c, &a);
		optind++;
	}
	const char *err;
	if (c->out_repr) {
		if (path_parse_all(c->time_field, &c->time_path, &err))
			diag_usage("invalid --time-field '%s': %s", c->time_field,
				   err);
		check_target(&c->time_path, "--time-field");
		c->time_slot = fieldset_add(fs, &c->time_path);
	}
	if (!c->nas && !c->out_repr && !c->nren && !c->nkeep && !c->ndrop)
		diag_usage("nothing to do: give an assignment, --rename, --keep, "
			   "--drop or --time-format");
	/* A top-level target is looked for in each record (optional: a CSV
	 * header without it is not warned about): see adding(). */
	for (int i = 0; i < c->nas; i++)
		c->as[i].slot = c->as[i].target.n == 1 ?
			fieldset_add_optional(fs, &c->as[i].target) : -1;
	int ns = fieldset_count(fs);
	for (int i = 0; i < c->nas; i++) {
		struct assign *a = &c->as[i];
		a->refresh = xmalloc((size_t)(ns ? ns : 1) * sizeof *a->refresh);
		for (int s = 0; s < ns; s++)
			if (path_related(&a->target, fieldset_path(fs, s)))
				a->refresh[a->nrefresh++] = s;
	}
	c->adds = adds_only(c);
}

static struct scratch sc;
static struct span *slots;
static char msg[320];

/* Runs the assignments on rec; adding: by edit_add (see adding()). */
static int run_assignments(struct edit *ed, const struct fieldset *fs,
			   const struct record *rec, bool adding)
{
	const char *err;
	memcpy(slots, rec->slots, (size_t)fieldset_count(fs) * sizeof *slots);
	for (int i = 0; i < cfg->nas; i++) {
		struct assign *a = &cfg->as[i];
		struct value v;
		if (expr_eval(a->e, slots, &sc, &v, msg, sizeof msg) < 0) {
			record_bad(rec, msg);
			return -1;
		}
		if (v.t == V_MISSING)
			v.t = V_NULL;
		if (adding) {
			edit_add(ed, a->target.step[0].key,
				 a->target.step[0].keylen, &v, &slots[a->slot]);
			continue;
		}
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
	edit_get(ed, &cfg->time_path, &sp);
	if (record_time(rec, &sp, cfg->time_field, &cfg->unit, &sc, &us, NULL))
		return -1;
	char *buf = scratch_alloc(&sc, 40);
	size_t n = time_format(us, cfg->out_repr, false, buf);
	memset(&tv, 0, sizeof tv);
	if (cfg->out_repr == TIME_RFC3339) {
		tv.t = V_STRING;
		tv.s = buf;
		tv.n = n;
	} else {
		number_parse(buf, n, &tv);	/* keeps the digits as text */
	}
	if (edit_set(ed, &cfg->time_path, &tv, &err) < 0) {
		record_bad(rec, err);
		return -1;
	}
	return 0;
}

static int reshape(struct edit *ed, const struct record *rec)
{
	const char *err;
	for (int i = 0; i < cfg->nren; i++)
		if (edit_rename(ed, &cfg->ren[i].from, &cfg->ren[i].to, &err) < 0) {
			record_bad(rec, err);
			return -1;
		}
	if (cfg->nkeep)
		edit_keep(ed, cfg->keep, cfg->nkeep);
	for (int i = 0; i < cfg->ndrop; i++)
		edit_remove(ed, &cfg->drop[i]);
	return 0;
}

/* Whether rec only gains fields, as NDJSON written as NDJSON: cfg->adds
 * and it has none of them. */
static bool adding(const struct record *rec, enum format ofmt)
{
	if (!cfg->adds || rec->fmt != FMT_NDJSON || ofmt != FMT_NDJSON)
		return false;
	for (int i = 0; i < cfg->nas; i++)
		if (rec->slots[cfg->as[i].slot].kind != SPAN_MISSING)
			return false;
	return true;
}

static void map_record(struct edit *ed, const struct fieldset *fs,
		       struct writer *w, struct outbuf *out,
		       const struct record *rec, enum format ofmt)
{
	const char *err;
	bool add = adding(rec, ofmt);
	scratch_reset(&sc);
	if (add)
		edit_add_begin(ed, rec);
	else
		edit_begin(ed, rec);
	if (run_assignments(ed, fs, rec, add) < 0)
		return;
	if (add) {
		edit_add_write(ed, out);
		stats.out++;
		return;
	}
	if (cfg->out_repr && rewrite_time(ed, rec) < 0)
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

static void conf_free(void *conf)
{
	struct conf *c = conf;
	free(c->sets);
	for (int i = 0; i < c->nas; i++) {
		path_free(&c->as[i].target);
		expr_free(c->as[i].e);
		free(c->as[i].refresh);
	}
	free(c->as);
	for (int i = 0; i < c->nren; i++) {
		path_free(&c->ren[i].from);
		path_free(&c->ren[i].to);
	}
	free(c->ren);
	for (int i = 0; i < c->nkeep; i++)
		path_free(&c->keep[i]);
	free(c->keep);
	for (int i = 0; i < c->ndrop; i++)
		path_free(&c->drop[i]);
	free(c->drop);
	if (c->out_repr)
		path_free(&c->time_path);
}

/* edit_begin builds on the record's members; a record that only gains
 * fields (adding()) does without, and the reader need not collect them
 * when most records are so. */
static void want_members(struct prog_run *run)
{
	enum format o = run->o.out_fmt;
	fieldset_want_members(run->fs, !cfg->adds ||
			      (o != FMT_AUTO && o != FMT_NDJSON));
}

/*
 * On SIGHUP, or with --watch-config when the file changed: the new edits
 * (assignments, --time-format, --rename, --keep, --drop) apply from the
 * next record. The time unit guessed from the first value is kept while
 * --time-field and --time-unit stay the same. The inputs are open already
 * (FILE operands do not change) and the common options keep their
 * start-up values.
 */
static bool conf_reload(struct prog_run *run, void *nconf, char *said,
			size_t n)
{
	struct conf *nc = nconf;
	bool same_time = !strcmp(nc->time_field, cfg->time_field) &&
			 nc->unit_opt == cfg->unit_opt;
	if (same_time)
		nc->unit = cfg->unit;
	cfg = nc;
	want_members(run);
	slots = xrealloc(slots, (size_t)(fieldset_count(run->fs) + 1) *
			 sizeof *slots);
	snprintf(said, n, "%d assignments, %d renames, %d keep, %d drop, "
		 "%s--time-format%s", cfg->nas, cfg->nren, cfg->nkeep,
		 cfg->ndrop, cfg->out_repr ? "" : "no ",
		 same_time ? "" : "; time unit reset");
	return true;
}

static struct edit *ed;

static void start(struct prog_run *run)
{
	cfg = run->conf;
	want_members(run);
	slots = xmalloc((size_t)(fieldset_count(run->fs) + 1) * sizeof *slots);
	ed = edit_new();
}

static void on_record(struct prog_run *run, struct record *rec)
{
	writer_set_format(run->w, rec->fmt);
	map_record(ed, run->fs, run->w, &run->out, rec,
		   run->o.out_fmt ? run->o.out_fmt : reader_format(run->r));
}

static void cleanup(struct prog_run *run)
{
	(void)run;
	edit_free(ed);
	scratch_free(&sc);
	free(slots);
}

const struct prog program = {
	.name = "es-map",
	.synopsis = "[OPTION]... [ASSIGNMENT]... [FILE]...",
	.about = "Compute, rename, select and drop fields of the records of FILEs\n"
		 "(or standard input). An ASSIGNMENT is 'PATH = EXPR' (see edgestream(7)\n"
		 "for the expression language); assignments run in order and each sees\n"
		 "the results of the ones before it; a nested PATH creates objects. Then,\n"
		 "in this order: --time-format, --rename, --keep, --drop. Fields left\n"
		 "alone keep their exact text; a record nothing changed is written byte\n"
		 "for byte. The first argument that is not an assignment starts the FILEs.",
	.opts = options,
	.reload_note = "A reload of --config (SIGHUP, --watch-config) applies the file's edits\n"
		       "from the next record; a guessed time unit is kept while --time-field\n"
		       "and --time-unit stay the same.",
	.notes = "\nExamples:\n"
		 "  es-map 'temp_f = value * 9 / 5 + 32' 'alert = temp_f > 99.5' readings.ndjson\n"
		 "  es-map 'meta.unit = \"C\"' --rename value:celsius --drop seq plant.csv\n"
		 "  es-map --time-format rfc3339 --keep ts,device,value readings.ndjson\n",
	PROG_CONF_HOOKS,
	.start = start,
	.record = on_record,
	.reload = conf_reload,
	.cleanup = cleanup,
};
