/* xgb.c - XGBoost's JSON model format, loaded over jansson, evaluated here
 *
 * The file is parsed once, checked as a whole (every child index, every
 * feature index, every tree reachable without a cycle), and turned into one
 * flat array of nodes, so that predicting trusts it and allocates nothing.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "xgb.h"

struct xgb_node {
	float value;		/* the split condition, or the leaf's value */
	int32_t left, right;	/* absolute node indexes; left -1: a leaf */
	uint32_t feature;
	bool dleft;		/* a missing feature goes left */
};

enum xgb_link { LINK_IDENTITY, LINK_SIGMOID, LINK_SOFTMAX };

struct xgb {
	struct xgb_node *nodes;
	int32_t *root;		/* per tree: its first node */
	int32_t *group;		/* per tree: the output it adds to */
	int ntrees, ngroups;
	enum xgb_link link;
	float base[];		/* ngroups base margins */
};

/* Where the loader is: the first problem found is the one said. */
struct ld {
	char *err;
	size_t errlen;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static void fail(struct ld *ld, const char *fmt, ...)
{
	if (!ld->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ld->err, ld->errlen, fmt, ap);
		va_end(ap);
	}
	ld->failed = true;
}

/* o[key] of type t (JSON_OBJECT, JSON_ARRAY, JSON_STRING); NULL if absent
 * or of another type. */
static json_t *member(struct ld *ld, json_t *o, const char *key, json_type t)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (!v)
		fail(ld, "no \"%s\"", key);
	else if (json_typeof(v) != t)
		fail(ld, "\"%s\" is of the wrong type", key);
	return v && json_typeof(v) == t ? v : NULL;
}

/* A number XGBoost keeps as a string ("5E-1", "3"), or as a 2.x vector
 * "[5E-1]" of which element i of n is wanted (a one-element vector serves
 * every i; one of another length than n is refused). */
static bool parse_float(const char *s, int i, int n, float *out)
{
	char *end;
	if (*s == '[') {
		int len = 1;
		for (const char *c = s; (c = strchr(c, ',')); c++)
			len++;
		if (len != 1 && len != n)
			return false;
		const char *p = s + 1;
		for (int k = 0; k < i && len > 1; k++)
			p = strchr(p, ',') + 1;
		*out = strtof(p, &end);
		return end != p && (*end == ',' || *end == ']') &&
		       isfinite(*out);
	}
	*out = strtof(s, &end);
	return end != s && *end == 0 && isfinite(*out);
}

/* A count kept as a string ("100"), 0 to max. */
static long parse_count(struct ld *ld, json_t *o, const char *key, long max)
{
	json_t *v = member(ld, o, key, JSON_STRING);
	if (!v)
		return -1;
	char *end;
	const char *s = json_string_value(v);
	long n = strtol(s, &end, 10);
	if (end == s || *end || n < 0 || n > max) {
		fail(ld, "\"%s\" is not a count in range: %ld", key, n);
		return -1;
	}
	return n;
}

/* Element i of a tree's array a as a number (ints and reals alike; the
 * booleans of default_left too). */
static double num_at(json_t *a, size_t i)
{
	json_t *v = json_array_get(a, i);
	if (json_is_boolean(v))
		return json_is_true(v);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A tree's parallel array of exactly n elements. */
static json_t *tree_array(struct ld *ld, json_t *t, const char *key, size_t n)
{
	json_t *a = member(ld, t, key, JSON_ARRAY);
	if (a && json_array_size(a) != n)
		fail(ld, "a tree's \"%s\" has %ld elements, not num_nodes",
		     key, (long)json_array_size(a));
	return a;
}

/* Every node reachable from the root once (no cycle, no shared child):
 * predicting then always ends at a leaf within n steps. */
static void check_reach(struct ld *ld, const struct xgb_node *nd, int32_t n,
			long tree)
{
	uint8_t *seen = xmalloc((size_t)n);
	int32_t *stack = xmalloc((size_t)n * sizeof *stack);
	memset(seen, 0, (size_t)n);
	int sp = 0;
	stack[sp++] = 0;
	seen[0] = 1;
	while (sp && !ld->failed) {
		const struct xgb_node *x = &nd[stack[--sp]];
		if (x->left < 0)
			continue;
		int32_t kid[2] = { x->left, x->right };
		for (int k = 0; k < 2; k++) {
			if (seen[kid[k]]++) {
				fail(ld, "tree %ld: a node is reached twice", tree);
				break;
			}
			stack[sp++] = kid[k];
		}
	}
	free(seen);
	free(stack);
}

/* One node i of n from the tree's arrays (indexes still tree-local). */
static void load_node(struct ld *ld, json_t *a[6], int32_t i, int32_t n,
		      long nfeat, struct xgb_node *x, long tree)
{
	double l = num_at(a[0], (size_t)i), r = num_at(a[1], (size_t)i);
	double f = num_at(a[2], (size_t)i), c = num_at(a[3], (size_t)i);
	double d = num_at(a[4], (size_t)i);
	if (a[5] && num_at(a[5], (size_t)i) != 0) {
		fail(ld, "tree %ld has a categorical split (not supported)",
		     tree);
		return;
	}
	x->value = (float)c;
	x->dleft = d != 0;
	if (l == -1 && r == -1) {
		x->left = x->right = -1;
		x->feature = 0;
	} else if (l >= 1 && l < n && r >= 1 && r < n && f >= 0 && f < nfeat &&
		   l == (int32_t)l && r == (int32_t)r && f == (uint32_t)f) {
		x->left = (int32_t)l;
		x->right = (int32_t)r;
		x->feature = (uint32_t)f;
	} else {
		fail(ld, "tree %ld: a node's children or feature are out of range",
		     tree);
		return;
	}
	if (!isfinite((float)c) || !(d == 0 || d == 1))
		fail(ld, "tree %ld: a split condition or default_left is not a "
		     "number", tree);
}

/* Tree t's nodes appended to m->nodes at *used. */
static void load_tree(struct ld *ld, json_t *t, long tree, long nfeat,
		      struct xgb *m, size_t *used, size_t *cap)
{
	json_t *tp = member(ld, t, "tree_param", JSON_OBJECT);
	long n = parse_count(ld, tp, "num_nodes", INT32_MAX / 2);
	json_t *slv = json_object_get(tp, "size_leaf_vector");
	if (ld->failed)
		return;
	if (n < 1) {
		fail(ld, "tree %ld has no nodes", tree);
		return;
	}
	if (slv && json_is_string(slv) && strcmp(json_string_value(slv), "0") &&
	    strcmp(json_string_value(slv), "1")) {
		fail(ld, "tree %ld has vector leaves (multi-target trees "
		     "are not supported)", tree);
		return;
	}
	json_t *a[6] = {
		tree_array(ld, t, "left_children", (size_t)n),
		tree_array(ld, t, "right_children", (size_t)n),
		tree_array(ld, t, "split_indices", (size_t)n),
		tree_array(ld, t, "split_conditions", (size_t)n),
		tree_array(ld, t, "default_left", (size_t)n),
		json_object_get(t, "split_type"),
	};
	if (a[5] && (!json_is_array(a[5]) || json_array_size(a[5]) != (size_t)n))
		a[5] = NULL;	/* absent before 1.6; only its 1s matter */
	if (ld->failed)
		return;
	if (*used + (size_t)n > *cap) {
		*cap = (*used + (size_t)n) * 2;
		m->nodes = xrealloc(m->nodes, *cap * sizeof *m->nodes);
	}
	struct xgb_node *nd = m->nodes + *used;
	for (int32_t i = 0; i < n && !ld->failed; i++)
		load_node(ld, a, i, (int32_t)n, nfeat, &nd[i], tree);
	if (!ld->failed)
		check_reach(ld, nd, (int32_t)n, tree);
	if (ld->failed)
		return;
	for (int32_t i = 0; i < n; i++)
		if (nd[i].left >= 0) {	/* tree-local to absolute */
			nd[i].left += (int32_t)*used;
			nd[i].right += (int32_t)*used;
		}
	*used += (size_t)n;
}

/* The objective: its output transform and how base_score becomes a
 * margin (XGBoost's ProbToMargin). */
static void objective(struct ld *ld, json_t *learner, struct xgb *m,
		      struct model_info *info, const char **name)
{
	json_t *obj = member(ld, learner, "objective", JSON_OBJECT);
	json_t *nm = member(ld, obj, "name", JSON_STRING);
	if (!nm)
		return;
	const char *s = *name = json_string_value(nm);
	static const char *const identity[] = {
		"reg:squarederror", "reg:linear", "reg:pseudohubererror",
		"reg:absoluteerror", "binary:logitraw", NULL };
	info->task = MODEL_REGRESSION;
	m->link = LINK_IDENTITY;
	for (int i = 0; identity[i]; i++)
		if (!strcmp(s, identity[i]))
			return;
	if (!strcmp(s, "reg:logistic") || !strcmp(s, "binary:logistic")) {
		m->link = LINK_SIGMOID;
		info->task = s[0] == 'b' ? MODEL_BINARY : MODEL_REGRESSION;
	} else if (!strcmp(s, "multi:softprob") || !strcmp(s, "multi:softmax")) {
		m->link = LINK_SOFTMAX;
		info->task = MODEL_MULTICLASS;
	} else {
		fail(ld, "objective %s is not supported", s);
	}
}

/* base_score as margins, one per output group. */
static void base_margins(struct ld *ld, json_t *lmp, struct xgb *m)
{
	json_t *bs = member(ld, lmp, "base_score", JSON_STRING);
	if (!bs)
		return;
	for (int g = 0; g < m->ngroups; g++) {
		float b;
		if (!parse_float(json_string_value(bs), g, m->ngroups, &b)) {
			fail(ld, "base_score \"%s\" is not a number, or one per class",
			     json_string_value(bs));
			return;
		}
		if (m->link == LINK_SIGMOID) {
			if (!(b > 0.0f && b < 1.0f)) {
				fail(ld, "base_score %s is not in (0,1) for "
				     "a logistic objective",
				     json_string_value(bs));
				return;
			}
			b = -logf(1.0f / b - 1.0f);
		}
		m->base[g] = b;
	}
}

static void feature_names(json_t *learner, struct model_info *info)
{
	json_t *fn = json_object_get(learner, "feature_names");
	if (!json_is_array(fn) || json_array_size(fn) != (size_t)info->ninputs ||
	    !info->ninputs)
		return;
	for (int i = 0; i < info->ninputs; i++)
		if (!json_is_string(json_array_get(fn, (size_t)i)))
			return;
	info->input_names = xmalloc((size_t)info->ninputs * sizeof(char *));
	for (int i = 0; i < info->ninputs; i++)
		info->input_names[i] =
			xstrdup(json_string_value(json_array_get(fn, (size_t)i)));
}

/* The trees of the gbtree model and their groups (tree_info). */
static void trees(struct ld *ld, json_t *gbm, struct xgb *m, long nfeat)
{
	json_t *ts = member(ld, gbm, "trees", JSON_ARRAY);
	json_t *ti = member(ld, gbm, "tree_info", JSON_ARRAY);
	if (ld->failed)
		return;
	size_t nt = json_array_size(ts);
	if (json_array_size(ti) != nt) {
		fail(ld, "tree_info has %ld elements, not one per tree",
		     (long)json_array_size(ti));
		return;
	}
	if (nt > INT32_MAX / 2) {
		fail(ld, "too many trees: %ld", (long)nt);
		return;
	}
	m->ntrees = (int)nt;
	m->root = xmalloc((nt ? nt : 1) * sizeof *m->root);
	m->group = xmalloc((nt ? nt : 1) * sizeof *m->group);
	size_t used = 0, cap = 0;
	for (size_t i = 0; i < nt && !ld->failed; i++) {
		double g = num_at(ti, i);
		if (!(g >= 0 && g < m->ngroups && g == (int)g)) {
			fail(ld, "tree %ld's tree_info is not a class",
			     (long)i);
			return;
		}
		m->group[i] = (int32_t)g;
		m->root[i] = (int32_t)used;
		load_tree(ld, json_array_get(ts, i), (long)i, nfeat, m, &used, &cap);
	}
}

/* gradient_booster: a gbtree (dart and gblinear are refused). */
static json_t *gbtree_model(struct ld *ld, json_t *learner)
{
	json_t *gb = member(ld, learner, "gradient_booster", JSON_OBJECT);
	json_t *nm = member(ld, gb, "name", JSON_STRING);
	if (nm && strcmp(json_string_value(nm), "gbtree")) {
		fail(ld, "booster %s is not supported (gbtree only)",
		     json_string_value(nm));
		return NULL;
	}
	return member(ld, gb, "model", JSON_OBJECT);
}

/* "xgboost 1.7.4 gbtree, 3 trees, binary:logistic" */
static void describe(json_t *root, const struct xgb *m, const char *obj,
		     struct model_info *info)
{
	json_t *v = json_object_get(root, "version");
	char ver[48] = "";
	if (json_is_array(v) && json_array_size(v) == 3)
		snprintf(ver, sizeof ver, " %.0f.%.0f.%.0f",
			 num_at(v, 0), num_at(v, 1), num_at(v, 2));
	snprintf(info->kind, sizeof info->kind, "xgboost%s gbtree, %d trees, %s",
		 ver, m->ntrees, obj);
}

static void xgb_free(void *impl)
{
	struct xgb *m = impl;
	if (!m)
		return;
	free(m->nodes);
	free(m->root);
	free(m->group);
	free(m);
}

/* The learner's sizes: features, classes (output groups). */
static struct xgb *learner_sizes(struct ld *ld, json_t *learner,
				 struct model_info *info)
{
	json_t *lmp = member(ld, learner, "learner_model_param", JSON_OBJECT);
	long nfeat = parse_count(ld, lmp, "num_feature", 1 << 20);
	long ncls = parse_count(ld, lmp, "num_class", 1 << 16);
	json_t *nt = json_object_get(lmp, "num_target");
	if (ld->failed)
		return NULL;
	if (json_is_string(nt) && strcmp(json_string_value(nt), "1")) {
		fail(ld, "num_target is %s (one target only)",
		     json_string_value(nt));
		return NULL;
	}
	int ngroups = ncls > 1 ? (int)ncls : 1;
	struct xgb *m = xmalloc(sizeof *m + (size_t)ngroups * sizeof m->base[0]);
	memset(m, 0, sizeof *m);
	m->ngroups = ngroups;
	info->ninputs = (int)nfeat;
	return m;
}

static void *xgb_load(const char *buf, size_t n, struct model_info *info,
		      char *err, size_t errlen)
{
	struct ld ld = { err, errlen, false };
	json_error_t je;
	json_t *root = json_loadb(buf, n, 0, &je);
	if (!root) {
		snprintf(err, errlen, "line %d column %d: %s", je.line,
			 je.column, je.text);
		return NULL;
	}
	const char *obj = "";
	json_t *learner = member(&ld, root, "learner", JSON_OBJECT);
	struct xgb *m = learner ? learner_sizes(&ld, learner, info) : NULL;
	if (m) {
		objective(&ld, learner, m, info, &obj);
		json_t *lmp = json_object_get(learner, "learner_model_param");
		if (!ld.failed)
			base_margins(&ld, lmp, m);
		if (!ld.failed && m->link == LINK_SOFTMAX && m->ngroups < 2)
			fail(&ld, "%s with num_class %d", obj, m->ngroups);
		if (!ld.failed && m->link != LINK_SOFTMAX && m->ngroups > 1)
			fail(&ld, "%s with num_class %d", obj, m->ngroups);
		json_t *gbm = ld.failed ? NULL : gbtree_model(&ld, learner);
		if (gbm)
			trees(&ld, gbm, m, info->ninputs);
	}
	if (!ld.failed) {
		info->noutputs = m->ngroups;
		info->nclasses = info->task == MODEL_BINARY ? 2 :
				 info->task == MODEL_MULTICLASS ? m->ngroups : 0;
		info->missing_ok = true;
		feature_names(learner, info);
		describe(root, m, obj, info);
	}
	json_decref(root);
	if (ld.failed) {
		xgb_free(m);
		return NULL;
	}
	return m;
}

/* The leaf x reaches in the tree starting at node r. */
static float leaf(const struct xgb_node *nodes, int32_t r, const float *x)
{
	const struct xgb_node *nd = &nodes[r];
	while (nd->left >= 0) {
		float f = x[nd->feature];
		bool left = isnan(f) ? nd->dleft : f < nd->value;
		nd = &nodes[left ? nd->left : nd->right];
	}
	return nd->value;
}

/* XGBoost's common::Sigmoid, in float. */
static float sigmoid(float x)
{
	x = fminf(-x, 88.7f);
	float denom = expf(x) + 1.0f + 1e-16f;
	return 1.0f / denom;
}

/* XGBoost's common::Softmax: the sum in double, the rest in float. */
static void softmax(float *p, int n)
{
	float wmax = p[0];
	for (int i = 1; i < n; i++)
		wmax = fmaxf(p[i], wmax);
	double wsum = 0;
	for (int i = 0; i < n; i++) {
		p[i] = expf(p[i] - wmax);
		wsum += p[i];
	}
	for (int i = 0; i < n; i++)
		p[i] /= (float)wsum;
}

static void xgb_predict(const void *impl, const float *x, float *out)
{
	const struct xgb *m = impl;
	for (int g = 0; g < m->ngroups; g++)
		out[g] = m->base[g];
	for (int t = 0; t < m->ntrees; t++)
		out[m->group[t]] += leaf(m->nodes, m->root[t], x);
	if (m->link == LINK_SIGMOID)
		out[0] = sigmoid(out[0]);
	else if (m->link == LINK_SOFTMAX)
		softmax(out, m->ngroups);
}

/* A JSON object: the first byte that is not blank is '{'. */
static bool xgb_sniff(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' &&
		    buf[i] != '\r')
			return buf[i] == '{';
	return false;
}

const struct model_backend xgb_backend = {
	.name = "XGBoost JSON",
	.sniff = xgb_sniff,
	.load = xgb_load,
	.predict = xgb_predict,
	.free = xgb_free,
};
