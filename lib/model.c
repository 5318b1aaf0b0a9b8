/* model.c - a model file read and handed to the backend that knows it */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "model.h"
#include "xgb.h"

/* TensorFlow Lite (tflite.cc, C++ over Arm NN) is linked by es-infer
 * when Arm NN is there: a weak reference, NULL without it, so that the
 * library itself never needs C++. */
extern const struct model_backend tflite_backend __attribute__((weak));

/* Tried in order; the first whose sniff takes the file loads it (a NULL
 * entry: a backend the program was linked without). */
static const struct model_backend *const backends[] = {
	&xgb_backend,
	&tflite_backend,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

/* The whole file in one allocation (NUL-terminated, for the parsers that
 * like it), or NULL with why. */
static char *read_all(const char *path, size_t *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t len = 0, cap = 65536;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		if (cap >= MODEL_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %u MiB", path,
				 MODEL_MAX_BYTES >> 20);
			goto fail;
		}
		cap *= 2;
		buf = xrealloc(buf, cap + 1);
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[len] = 0;
	*n = len;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

struct model *model_load_mem(const char *buf, size_t n, const char *name,
			     char *err, size_t errlen)
{
	char known[128] = "";
	for (size_t i = 0; i < NBACKENDS; i++) {
		const struct model_backend *be = backends[i];
		if (!be)
			continue;
		snprintf(known + strlen(known), sizeof known - strlen(known),
			 "%s%s", *known ? ", " : "", be->name);
		if (!be->sniff(buf, n))
			continue;
		struct model *m = xmalloc(sizeof *m);
		memset(m, 0, sizeof *m);
		char why[256];
		m->impl = be->load(buf, n, &m->info, why, sizeof why);
		if (!m->impl) {
			snprintf(err, errlen, "%s: not a valid %s model: %s",
				 name, be->name, why);
			free(m);
			return NULL;
		}
		m->be = be;
		return m;
	}
	snprintf(err, errlen, "%s: not a model this program knows (%s)", name,
		 known);
	return NULL;
}

struct model *model_load(const char *path, char *err, size_t errlen)
{
	size_t n;
	char *buf = read_all(path, &n, err, errlen);
	if (!buf)
		return NULL;
	struct model *m = model_load_mem(buf, n, path, err, errlen);
	free(buf);
	return m;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	m->be->free(m->impl);
	if (m->info.input_names)
		for (int i = 0; i < m->info.ninputs; i++)
			free(m->info.input_names[i]);
	free(m->info.input_names);
	free(m);
}
