/* infer.c - es-infer's engine: features in, the model's outputs out */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infer.h"
#include "number.h"
#include "mem.h"

struct infer {
	struct model *m;
	int nfeat;
	struct path *feat;	/* owned copies: -f's, or the model's names */
	int *slot;		/* per feature: its fieldset slot */
	float *x, *y;		/* the feature vector, the outputs */
	bool fill;
	float fill_value;
	long sequence;		/* 0: the features are the model's input */
	struct path out;	/* NAME */
	struct path *prob;	/* NAME_p, or NAME_p.LABEL per class; NULL */
	int nprob;
	char **labels;		/* per class (copies), or NULL */
	int nlabels;
	int *refresh;		/* slots an output changes (infer_slots) */
	int nrefresh;
};

int infer_spec_labels(struct infer_spec *sp, const char *arg, char *err,
		      size_t errlen)
{
	const char *s = arg;
	for (int i = 0; i < sp->nlabels; i++)
		free(sp->labels[i]);
	sp->nlabels = 0;
	for (;;) {
		size_t n = strcspn(s, ",");
		if (!n || memchr(s, '"', n) || memchr(s, '\\', n)) {
			snprintf(err, errlen, "invalid --labels '%s': empty or "
				 "with a quote or backslash", arg);
			return -1;
		}
		sp->labels = xrealloc(sp->labels, (size_t)(sp->nlabels + 1) *
				      sizeof *sp->labels);
		sp->labels[sp->nlabels] = xmalloc(n + 1);
		memcpy(sp->labels[sp->nlabels], s, n);
		sp->labels[sp->nlabels++][n] = 0;
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

int infer_spec_features(struct infer_spec *sp, const char *arg, char *err,
			size_t errlen)
{
	const char *s = arg, *why;
	for (int i = 0; i < sp->nfeat; i++)
		path_free(&sp->feat[i]);
	sp->nfeat = 0;
	for (;;) {
		sp->feat = xrealloc(sp->feat, (size_t)(sp->nfeat + 1) *
				    sizeof *sp->feat);
		if (path_parse(&s, &sp->feat[sp->nfeat], &why) < 0) {
			snprintf(err, errlen, "invalid -f '%s' at column %d: %s",
				 arg, (int)(s - arg) + 1, why);
			return -1;
		}
		sp->nfeat++;
		if (!*s)
			return 0;
		if (*s++ != ',') {
			snprintf(err, errlen, "invalid -f '%s' at column %d: "
				 "expected ','", arg, (int)(s - arg));
			return -1;
		}
	}
}

void infer_spec_free(struct infer_spec *sp)
{
	for (int i = 0; i < sp->nfeat; i++)
		path_free(&sp->feat[i]);
	free(sp->feat);
	for (int i = 0; i < sp->nlabels; i++)
		free(sp->labels[i]);
	free(sp->labels);
}

/* Parses text into p; false (with err) if it is not a path of object
 * members (edit.c sets no array element). */
static bool make_path(const char *text, struct path *p, char *err,
		      size_t errlen)
{
	const char *why;
	if (path_parse_all(text, p, &why)) {
		snprintf(err, errlen, "invalid output name '%s': %s", text, why);
		return false;
	}
	for (int i = 0; i < p->n; i++)
		if (!p->step[i].key) {
			snprintf(err, errlen, "invalid output name '%s': array "
				 "elements cannot be set", text);
			path_free(p);
			return false;
		}
	return true;
}

/* Whether a label can be a bare path step (low), not a quoted one ("0"). */
static bool bare_name(const char *s)
{
	if (!(*s == '_' || *s == '$' || (*s >= 'a' && *s <= 'z') ||
	      (*s >= 'A' && *s <= 'Z')))
		return false;
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789_$")] == 0;
}

/* --sequence N: the model takes N readings of the n features. */
static bool bind_window(struct infer *in, const struct infer_spec *spec,
			int n, char *err, size_t errlen)
{
	const struct model_info *mi = &in->m->info;
	long want = spec->sequence * n;
	if (!spec->feat) {
		snprintf(err, errlen, "--sequence needs -f: the model's %d inputs "
			 "are a window of readings", mi->ninputs);
		return false;
	}
	if (want != mi->ninputs || (mi->steps && mi->steps != spec->sequence)) {
		if (mi->steps)
			snprintf(err, errlen, "--sequence %ld of %d features: the "
				 "model takes [1,%d,%d]", spec->sequence, n,
				 mi->steps, mi->ninputs / mi->steps);
		else
			snprintf(err, errlen, "--sequence %ld of %d features is %ld "
				 "inputs, the model takes %d", spec->sequence, n,
				 want, mi->ninputs);
		return false;
	}
	in->sequence = spec->sequence;
	return true;
}

/* The feature paths parsed, their slots in fs. */
static bool bind_paths(struct infer *in, const struct infer_spec *spec,
		       struct fieldset *fs, int n, char *err, size_t errlen)
{
	const struct model_info *mi = &in->m->info;
	in->feat = xmalloc((size_t)(n ? n : 1) * sizeof *in->feat);
	in->slot = xmalloc((size_t)(n ? n : 1) * sizeof *in->slot);
	in->nfeat = n;
	for (int i = 0; i < n; i++) {
		const char *text = spec->feat ? spec->feat[i].text
			       : mi->input_names[i];
		const char *why;
		if (path_parse_all(text, &in->feat[i], &why)) {
			snprintf(err, errlen, "the model's feature name '%s' is "
				 "not a field path (%s): give -f", text, why);
			in->nfeat = i;
			return false;
		}
		in->slot[i] = fieldset_add(fs, &in->feat[i]);
	}
	return true;
}

/* The feature paths: -f's, or the names the model gives its inputs. */
static bool bind_features(struct infer *in, const struct infer_spec *spec,
			  struct fieldset *fs, char *err, size_t errlen)
{
	const struct model_info *mi = &in->m->info;
	int n = spec->feat ? spec->nfeat : mi->ninputs;
	if (!spec->feat && !mi->input_names) {
		snprintf(err, errlen, "the model names no features: give them "
			 "with -f (%d)", mi->ninputs);
		return false;
	}
	if (spec->sequence)
		return bind_window(in, spec, n, err, errlen) &&
		       bind_paths(in, spec, fs, n, err, errlen);
	if (n != mi->ninputs || mi->steps > 1) {
		snprintf(err, errlen, "-f gives %d features, the model takes %d%s",
			 n, mi->ninputs, mi->steps > 1 ? " as a window of readings "
			 "(--sequence)" : "");
		return false;
	}
	return bind_paths(in, spec, fs, n, err, errlen);
}

/* Class labels: --labels, or the indexes as text. */
static bool bind_labels(struct infer *in, const struct infer_spec *spec,
			char *err, size_t errlen)
{
	int k = in->m->info.nclasses;
	if (spec->labels && !k) {
		snprintf(err, errlen, "--labels: the model is a regression");
		return false;
	}
	if (spec->labels && spec->nlabels != k) {
		snprintf(err, errlen, "--labels gives %d labels, the model has "
			 "%d classes", spec->nlabels, k);
		return false;
	}
	if (!k)
		return true;
	in->labels = xmalloc((size_t)k * sizeof *in->labels);
	in->nlabels = k;
	for (int i = 0; i < k; i++) {
		char num[16];
		snprintf(num, sizeof num, "%d", i);
		in->labels[i] = xstrdup(spec->labels ? spec->labels[i] : num);
	}
	return true;
}

/* NAME_p (binary) or NAME_p."LABEL" per class. */
static bool bind_probabilities(struct infer *in, const char *as, char *err,
			       size_t errlen)
{
	int k = in->m->info.nclasses;
	in->nprob = k == 2 ? 1 : k;
	in->prob = xmalloc((size_t)in->nprob * sizeof *in->prob);
	memset(in->prob, 0, (size_t)in->nprob * sizeof *in->prob);
	for (int i = 0; i < in->nprob; i++) {
		size_t n = strlen(as) + strlen(in->labels[i]) + 8;
		char *text = xmalloc(n);
		if (k == 2)
			snprintf(text, n, "%s_p", as);
		else if (bare_name(in->labels[i]))
			snprintf(text, n, "%s_p.%s", as, in->labels[i]);
		else
			snprintf(text, n, "%s_p.\"%s\"", as, in->labels[i]);
		bool ok = make_path(text, &in->prob[i], err, errlen);
		free(text);
		if (!ok) {
			in->nprob = i;
			return false;
		}
	}
	return true;
}

/* The slots of fs an output changes. */
static void bind_refresh(struct infer *in, const struct fieldset *fs)
{
	int ns = fieldset_count(fs);
	in->refresh = xmalloc((size_t)(ns ? ns : 1) * sizeof *in->refresh);
	for (int s = 0; s < ns; s++) {
		bool hit = path_related(&in->out, fieldset_path(fs, s));
		for (int i = 0; i < in->nprob && !hit; i++)
			hit = path_related(&in->prob[i], fieldset_path(fs, s));
		if (hit)
			in->refresh[in->nrefresh++] = s;
	}
}

struct infer *infer_new(const struct infer_spec *spec, struct model *m,
			struct fieldset *fs, char *err, size_t errlen)
{
	struct infer *in = xmalloc(sizeof *in);
	memset(in, 0, sizeof *in);
	in->m = m;
	in->fill = spec->fill;
	in->fill_value = (float)spec->fill_value;
	const char *as = spec->as ? spec->as
		       : m->info.nclasses ? "class" : "score";
	bool ok = bind_features(in, spec, fs, err, errlen) &&
		  bind_labels(in, spec, err, errlen) &&
		  make_path(as, &in->out, err, errlen) &&
		  (!spec->probabilities || !m->info.nclasses ||
		   bind_probabilities(in, as, err, errlen));
	if (!ok) {
		in->m = NULL;	/* the caller's still */
		infer_free(in);
		return NULL;
	}
	if (spec->probabilities && !m->info.nclasses) {
		snprintf(err, errlen, "--probabilities: the model is a regression");
		in->m = NULL;
		infer_free(in);
		return NULL;
	}
	bind_refresh(in, fs);
	in->x = xmalloc((size_t)(in->nfeat ? in->nfeat : 1) * sizeof *in->x);
	in->y = xmalloc((size_t)m->info.noutputs * sizeof *in->y);
	return in;
}

const struct model *infer_model(const struct infer *in)
{
	return in->m;
}

/* The features of rec into in->x; -1 after reporting rec as bad. */
static int features(struct infer *in, const struct record *rec,
		    struct scratch *sc)
{
	char msg[256];
	for (int i = 0; i < in->nfeat; i++) {
		const struct span *sp = &rec->slots[in->slot[i]];
		struct value v;
		double d;
		if (value_load(sp, &v, sc))
			v.t = V_MISSING;
		if (v.t != V_MISSING && v.t != V_NULL) {
			if (record_number(rec, sp, in->feat[i].text, sc, &d))
				return -1;
			in->x[i] = (float)d;
		} else if (in->fill) {
			in->x[i] = in->fill_value;
		} else if (in->m->info.missing_ok) {
			in->x[i] = NAN;
		} else {
			snprintf(msg, sizeof msg, "field '%s' is %s, the model needs "
				 "a number (--fill)", in->feat[i].text,
				 v.t == V_NULL ? "null" : "missing");
			record_bad(rec, msg);
			return -1;
		}
	}
	return 0;
}

size_t infer_float_text(float f, char *buf)
{
	int n = 0;
	for (int prec = 6; prec <= 9; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, (double)f);
		if (strtof(buf, NULL) == f)
			break;
	}
	return (size_t)n;
}

/* A float32 as a number value (its text in sc); non-finite as null. */
static void float_value(float f, struct scratch *sc, struct value *v)
{
	memset(v, 0, sizeof *v);
	if (!isfinite(f)) {
		v->t = V_NULL;
		return;
	}
	char *buf = scratch_alloc(sc, 32);
	size_t n = infer_float_text(f, buf);
	number_parse(buf, n, v);	/* keeps the digits as text */
}

/* The class: the first of the highest probabilities, as XGBoost picks;
 * binary: class 1 above 0.5. */
static int best_class(const struct infer *in)
{
	if (in->m->info.nclasses == 2)
		return in->y[0] > 0.5f;
	int best = 0;
	for (int i = 1; i < in->m->info.noutputs; i++)
		if (in->y[i] > in->y[best])
			best = i;
	return best;
}

static int set_outputs(struct infer *in, struct edit *ed, struct scratch *sc,
		       const char **err)
{
	struct value v;
	if (!in->m->info.nclasses) {
		float_value(in->y[0], sc, &v);
	} else {
		memset(&v, 0, sizeof v);
		v.t = V_STRING;
		v.s = in->labels[best_class(in)];
		v.n = strlen(v.s);
		if (!number_parse(v.s, v.n, &v))	/* an index: a number */
			v.t = V_STRING;
	}
	if (edit_set(ed, &in->out, &v, err) < 0)
		return -1;
	for (int i = 0; i < in->nprob; i++) {
		float_value(in->y[in->nprob == 1 ? 0 : i], sc, &v);
		if (edit_set(ed, &in->prob[i], &v, err) < 0)
			return -1;
	}
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A window not yet full: every output null. */
static int set_nulls(struct infer *in, struct edit *ed, const char **err)
{
	struct value v;
	memset(&v, 0, sizeof v);
	v.t = V_NULL;
	if (edit_set(ed, &in->out, &v, err) < 0)
		return -1;
	for (int i = 0; i < in->nprob; i++)
		if (edit_set(ed, &in->prob[i], &v, err) < 0)
			return -1;
	return 0;
}

int infer_record(struct infer *in, const struct record *rec,
		 struct infer_seq *seq, struct edit *ed, struct scratch *sc,
		 int64_t *ns)
{
	const char *err;
	const float *x = in->x;
	*ns = 0;
	if (features(in, rec, sc) < 0)
		return -1;
	if (seq && !(x = infer_seq_push(seq, rec, in->x))) {
		if (set_nulls(in, ed, &err) < 0) {
			record_bad(rec, err);
			return -1;
		}
		return 1;
	}
	int64_t t0 = now_ns();
	model_predict(in->m, x, in->y);
	*ns = now_ns() - t0;
	if (set_outputs(in, ed, sc, &err) < 0) {
		record_bad(rec, err);
		return -1;
	}
	return 0;
}

const struct path *infer_features(const struct infer *in, int *n)
{
	*n = in->nfeat;
	return in->feat;
}

void infer_slots(struct infer *in, struct edit *ed, const struct fieldset *fs,
		 struct span *slots)
{
	for (int k = 0; k < in->nrefresh; k++)
		edit_get(ed, fieldset_path(fs, in->refresh[k]),
			 &slots[in->refresh[k]]);
}

void infer_free(struct infer *in)
{
	if (!in)
		return;
	for (int i = 0; i < in->nfeat; i++)
		path_free(&in->feat[i]);
	free(in->feat);
	free(in->slot);
	if (in->out.text)
		path_free(&in->out);
	for (int i = 0; i < in->nprob; i++)
		path_free(&in->prob[i]);
	free(in->prob);
	for (int i = 0; i < in->nlabels; i++)
		free(in->labels[i]);
	free(in->labels);
	free(in->refresh);
	free(in->x);
	free(in->y);
	model_free(in->m);
	free(in);
}

void infer_describe(const struct infer *in, const struct infer_seq *seq,
		    FILE *f)
{
	const struct model_info *mi = &in->m->info;
	fprintf(f, "model: %s\n", mi->kind);
	if (seq) {
		fprintf(f, "window: the last %ld readings ", in->sequence);
		for (int i = 0; i < seq->cfg->nkeys; i++)
			fprintf(f, "%s%s", i ? "," : "of each key (",
				seq->cfg->kpaths[i].text);
		fprintf(f, "%s, oldest first: model input t*%d+i is input i of "
			"reading t\n", seq->cfg->nkeys ? ")" : "of the stream",
			in->nfeat);
	}
	for (int i = 0; i < in->nfeat; i++)
		fprintf(f, "input %d: %s%s\n", i, in->feat[i].text,
			mi->missing_ok ? "" : " (no missing values)");
	if (!mi->nclasses) {
		fprintf(f, "output: %s (a number)\n", in->out.text);
		return;
	}
	fprintf(f, "output: %s (the class:", in->out.text);
	for (int i = 0; i < in->nlabels; i++)
		fprintf(f, " %s", in->labels[i]);
	fprintf(f, ")\n");
	for (int i = 0; i < in->nprob; i++)
		fprintf(f, "output: %s (the probability of %s)\n",
			in->prob[i].text, in->labels[in->nprob == 1 ? 1 : i]);
}

/* ---- --stats: the inferences and their time ---- */

void infer_clock_init(struct infer_clock *c)
{
	char err[128];
	memset(c, 0, sizeof *c);
	/* a fixed, valid list: cannot fail */
	if (agg_parse("mean(us),p99(us)", &c->spec, err, sizeof err) != 2)
		abort();
	c->state = xmalloc(agg_state_size(c->spec, 2));
	agg_state_init(c->spec, 2, c->state);
}

void infer_clock_add(struct infer_clock *c, int64_t ns)
{
	struct value v[2];
	memset(v, 0, sizeof v);
	v[0].t = v[1].t = V_DOUBLE;
	v[0].u.d = v[1].u.d = (double)ns / 1000;
	agg_state_add(c->spec, 2, c->state, v, 0);
	c->inferences++;
}

/* The mean and p99 into c->mean, c->p99. */
static void clock_results(struct infer_clock *c)
{
	struct value r[2] = { { .t = V_NULL }, { .t = V_NULL } };
	agg_state_result(c->spec, 2, c->state, 0, r);
	c->mean = value_is_num(&r[0]) ? value_num(&r[0]) : 0;
	c->p99 = value_is_num(&r[1]) ? value_num(&r[1]) : 0;
}

void infer_clock_stats(const struct infer_clock *c, char *buf, size_t n)
{
	struct infer_clock now = *c;
	if (c->state)
		clock_results(&now);
	snprintf(buf, n, ",\"inferences\":%llu,\"infer_us_mean\":%.3f,"
		 "\"infer_us_p99\":%.3f", c->inferences, now.mean, now.p99);
}

void infer_clock_free(struct infer_clock *c)
{
	if (!c->state)
		return;
	clock_results(c);
	agg_state_free(c->spec, 2, c->state);
	free(c->state);
	agg_specs_free(c->spec, 2);
	c->state = NULL;
	c->spec = NULL;
}
