/* modbus_map.c - Modbus points: the register map file and --point */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "mem.h"
#include "modbus_map.h"
#include "time.h"

static const char *const table_names[] = { "coil", "di", "hr", "ir" };
static const char *const order_names[] = { "abcd", "cdab", "badc", "dcba" };
static const struct {
	const char *name;
	enum mb_type type;
	unsigned count;
} types[] = {
	{ "bool", MB_BOOL, 1 }, { "int16", MB_INT16, 1 },
	{ "uint16", MB_UINT16, 1 }, { "int32", MB_INT32, 2 },
	{ "uint32", MB_UINT32, 2 }, { "int64", MB_INT64, 4 },
	{ "float32", MB_FLOAT32, 2 }, { "float64", MB_FLOAT64, 4 },
};

const char *modbus_map_table_name(enum mb_table t)
{
	return table_names[t];
}

/* Each parser: 0, or -1 with why in err. s is NUL-terminated. */
static int parse_table(const char *s, struct mb_point *pt, char *err, size_t n)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, table_names[i])) {
			pt->table = (enum mb_table)i;
			return 0;
		}
	snprintf(err, n, "unknown table '%.40s' (coil, di, hr or ir)", s);
	return -1;
}

static int parse_address(const char *s, struct mb_point *pt, char *err, size_t n)
{
	char *end;
	errno = 0;
	unsigned long a = strtoul(s, &end, 10);
	if (errno || end == s || *end || a > 65535 || *s == '-' || *s == '+') {
		snprintf(err, n, "bad address '%.40s' (0 to 65535, 0-based)", s);
		return -1;
	}
	pt->address = (unsigned)a;
	return 0;
}

static int parse_type(const char *s, struct mb_point *pt, char *err, size_t n)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(s, types[i].name)) {
			pt->type = types[i].type;
			pt->count = types[i].count;
			return 0;
		}
	if (!strncmp(s, "string", 6)) {
		char *end;
		long c = strtol(s + 6, &end, 10);
		if (end != s + 6 && !*end && c >= 1 && c <= MB_STRING_MAX) {
			pt->type = MB_STRING;
			pt->count = (unsigned)c;
			return 0;
		}
	}
	snprintf(err, n, "unknown type '%.40s' (bool, int16, uint16, int32, uint32, "
		 "int64, float32, float64 or stringN, N registers up to %d)",
		 s, MB_STRING_MAX);
	return -1;
}

static int parse_order(const char *s, struct mb_point *pt, char *err, size_t n)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, order_names[i])) {
			pt->order = (enum mb_order)i;
			return 0;
		}
	snprintf(err, n, "unknown order '%.40s' (abcd, cdab, badc or dcba)", s);
	return -1;
}

static int parse_number(const char *what, const char *s, double *x, char *err,
			size_t n)
{
	char *end;
	*x = strtod(s, &end);
	if (end == s || *end || !isfinite(*x)) {
		snprintf(err, n, "bad %s '%.40s'", what, s);
		return -1;
	}
	return 0;
}

static int parse_every(const char *s, struct mb_point *pt, char *err, size_t n)
{
	const char *why;
	if (duration_parse(s, false, &pt->every_us, &why) || pt->every_us < 1000) {
		snprintf(err, n, "bad interval '%.40s' (a duration of at least 1ms)", s);
		return -1;
	}
	return 0;
}

static int parse_name(const char *s, struct mb_point *pt, char *err, size_t n)
{
	size_t len = strlen(s);
	if (len == 0 || len > MB_NAME_MAX) {
		snprintf(err, n, "a point needs a name of 1 to %d bytes", MB_NAME_MAX);
		return -1;
	}
	pt->name = xstrdup(s);
	return 0;
}

/* What the parts cannot say alone: bits hold only bools, a value fits in
 * the address space, a scale needs a number. */
static int check_point(struct mb_point *pt, char *err, size_t n)
{
	bool bits = pt->table == MB_COIL || pt->table == MB_DI;
	if (bits && pt->type != MB_BOOL) {
		snprintf(err, n, "%s holds bits: the type is bool", table_names[pt->table]);
		return -1;
	}
	if (pt->address + pt->count - 1 > 65535) {
		snprintf(err, n, "address %u + %u registers is past 65535",
			 pt->address, pt->count);
		return -1;
	}
	if (pt->scaled && (pt->type == MB_BOOL || pt->type == MB_STRING)) {
		snprintf(err, n, "a scale or offset needs a number type");
		return -1;
	}
	return 0;
}

static void point_init(struct mb_point *pt)
{
	memset(pt, 0, sizeof *pt);
	pt->unit = -1;
	pt->scale = 1;
}

static void point_free(struct mb_point *pt)
{
	free(pt->name);
	for (size_t i = 0; i < pt->ntags; i++) {
		free(pt->tags[i].name);
		free(pt->tags[i].value);
	}
	free(pt->tags);
	point_init(pt);
}

/* "[*SCALE][+OFFSET]" after the type (OFFSET may be negative: +-5). */
static int parse_suffix(const char *s, struct mb_point *pt, char *err, size_t n)
{
	char *end;
	if (*s == '*') {
		pt->scale = strtod(s + 1, &end);
		if (end == s + 1 || !isfinite(pt->scale))
			goto bad;
		s = end;
		pt->scaled = true;
	}
	if (*s == '+') {
		pt->offset = strtod(s + 1, &end);
		if (end == s + 1 || !isfinite(pt->offset))
			goto bad;
		s = end;
		pt->scaled = true;
	}
	if (!*s)
		return 0;
bad:
	snprintf(err, n, "bad scale or offset at '%.40s' (*SCALE, +OFFSET)", s);
	return -1;
}

int modbus_map_point(const char *spec, struct mb_point *pt, char *err,
		     size_t errn)
{
	point_init(pt);
	char *buf = xstrdup(spec), *eq = strchr(buf, '=');
	char *f[5];
	int nf = 0;
	if (!eq) {
		snprintf(err, errn, "expected NAME=TABLE:ADDRESS:TYPE[:ORDER][*SCALE][+OFFSET][@EVERY]");
		goto fail;
	}
	*eq = 0;
	char *rest = eq + 1, *at = strrchr(rest, '@');
	if (at) {
		*at = 0;
		if (parse_every(at + 1, pt, err, errn))
			goto fail;
	}
	char *suffix = rest + strcspn(rest, "*+");
	char sfx[128];
	snprintf(sfx, sizeof sfx, "%s", suffix);
	*suffix = 0;
	for (char *p = rest; nf < 5; nf++) {
		f[nf] = p;
		p = strchr(p, ':');
		if (!p) {
			nf++;
			break;
		}
		*p++ = 0;
	}
	if (nf < 3 || nf > 4) {
		snprintf(err, errn, "expected NAME=TABLE:ADDRESS:TYPE[:ORDER][*SCALE][+OFFSET][@EVERY]");
		goto fail;
	}
	if (parse_name(buf, pt, err, errn) || parse_table(f[0], pt, err, errn) ||
	    parse_address(f[1], pt, err, errn) || parse_type(f[2], pt, err, errn) ||
	    (nf == 4 && parse_order(f[3], pt, err, errn)) ||
	    parse_suffix(sfx, pt, err, errn) || check_point(pt, err, errn))
		goto fail;
	free(buf);
	return 0;
fail:
	free(buf);
	point_free(pt);
	return -1;
}

void modbus_map_add(struct mb_map *m, struct mb_point *pt)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->p = xrealloc(m->p, m->cap * sizeof *m->p);
	}
	m->p[m->n++] = *pt;
	point_init(pt);
}

void modbus_map_copy(struct mb_map *m, const struct mb_map *src)
{
	for (size_t i = 0; i < src->n; i++) {
		struct mb_point pt = src->p[i];
		pt.name = xstrdup(pt.name);
		pt.tags = pt.ntags ? xmalloc(pt.ntags * sizeof *pt.tags) : NULL;
		for (size_t j = 0; j < pt.ntags; j++) {
			pt.tags[j].name = xstrdup(src->p[i].tags[j].name);
			pt.tags[j].value = xstrdup(src->p[i].tags[j].value);
		}
		modbus_map_add(m, &pt);
	}
}

void modbus_map_free(struct mb_map *m)
{
	for (size_t i = 0; i < m->n; i++)
		point_free(&m->p[i]);
	free(m->p);
	memset(m, 0, sizeof *m);
}

/* ---- the map file ---- */

/* The columns of a map file: the known ones by index, the rest tags. */
enum { COL_NAME, COL_TABLE, COL_ADDRESS, COL_TYPE, COL_ORDER, COL_SCALE,
       COL_OFFSET, COL_UNIT_ID, COL_EVERY, NCOLS };
static const char *const col_names[NCOLS] = {
	"name", "table", "address", "type", "order", "scale", "offset", "unit_id",
	"every"
};
/* Fields every record has: no tag may take their names. */
static const char *const reserved[] = { "ts", "device", "value", "error" };

struct header {
	int col[NCOLS];		/* the cell of each known column, or -1 */
	char **names;		/* every cell's name */
	size_t n;
	char *raw;
	size_t rawlen;
};

static void header_free(struct header *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->names[i]);
	free(h->names);
	free(h->raw);
}

static int header_read(struct header *h, const struct span *c, size_t n,
		       char *err, size_t errn)
{
	for (int k = 0; k < NCOLS; k++)
		h->col[k] = -1;
	h->names = xmalloc((n ? n : 1) * sizeof *h->names);
	h->n = n;
	for (size_t i = 0; i < n; i++) {
		char *s = h->names[i] = xmalloc(c[i].n + 1);
		memcpy(s, c[i].p, c[i].n);
		s[c[i].n] = 0;
		for (int k = 0; k < NCOLS; k++)
			if (!strcmp(s, col_names[k]))
				h->col[k] = (int)i;
		for (size_t r = 0; r < sizeof reserved / sizeof *reserved; r++)
			if (!strcmp(s, reserved[r])) {
				snprintf(err, errn, "column '%s' cannot be a tag: "
					 "records have a field of that name", s);
				return -1;
			}
	}
	for (int k = 0; k <= COL_TYPE; k++)
		if (h->col[k] < 0) {
			snprintf(err, errn, "the header has no '%s' column "
				 "(name,table,address,type are needed)", col_names[k]);
			return -1;
		}
	return 0;
}

static bool known_col(const struct header *h, size_t i)
{
	for (int k = 0; k < NCOLS; k++)
		if (h->col[k] == (int)i)
			return true;
	return false;
}

/* A cell as a string (owned by the caller's buffer). */
static const char *cell(const struct span *c, size_t n, int i, char *buf,
			size_t bn)
{
	if (i < 0 || (size_t)i >= n)
		return "";
	snprintf(buf, bn, "%.*s", (int)c[i].n, c[i].p);
	return buf;
}

static int row_unit(const char *s, struct mb_point *pt, char *err, size_t n)
{
	char *end;
	long u = strtol(s, &end, 10);
	if (end == s || *end || u < 0 || u > 255) {
		snprintf(err, n, "bad unit_id '%.40s' (0 to 255)", s);
		return -1;
	}
	pt->unit = (int)u;
	return 0;
}

static int row_numbers(const struct header *h, const struct span *c, size_t n,
		       struct mb_point *pt, char *err, size_t errn)
{
	char b[256];
	const char *s;
	if (*(s = cell(c, n, h->col[COL_SCALE], b, sizeof b))) {
		if (parse_number("scale", s, &pt->scale, err, errn))
			return -1;
		pt->scaled = true;
	}
	if (*(s = cell(c, n, h->col[COL_OFFSET], b, sizeof b))) {
		if (parse_number("offset", s, &pt->offset, err, errn))
			return -1;
		pt->scaled = true;
	}
	if (*(s = cell(c, n, h->col[COL_UNIT_ID], b, sizeof b)) &&
	    row_unit(s, pt, err, errn))
		return -1;
	if (*(s = cell(c, n, h->col[COL_EVERY], b, sizeof b)) &&
	    parse_every(s, pt, err, errn))
		return -1;
	return 0;
}

static void row_tags(const struct header *h, const struct span *c, size_t n,
		     struct mb_point *pt)
{
	for (size_t i = 0; i < n && i < h->n; i++) {
		if (known_col(h, i) || c[i].n == 0)
			continue;
		pt->tags = xrealloc(pt->tags, (pt->ntags + 1) * sizeof *pt->tags);
		struct mb_tag *t = &pt->tags[pt->ntags++];
		t->name = xstrdup(h->names[i]);
		t->value = xmalloc(c[i].n + 1);
		memcpy(t->value, c[i].p, c[i].n);
		t->value[c[i].n] = 0;
	}
}

static int row_point(const struct header *h, const struct span *c, size_t n,
		     struct mb_point *pt, char *err, size_t errn)
{
	char b[256];
	point_init(pt);
	if (n != h->n) {
		snprintf(err, errn, "%zu cells, the header has %zu", n, h->n);
		return -1;
	}
	if (parse_name(cell(c, n, h->col[COL_NAME], b, sizeof b), pt, err, errn) ||
	    parse_table(cell(c, n, h->col[COL_TABLE], b, sizeof b), pt, err, errn) ||
	    parse_address(cell(c, n, h->col[COL_ADDRESS], b, sizeof b), pt, err, errn) ||
	    parse_type(cell(c, n, h->col[COL_TYPE], b, sizeof b), pt, err, errn))
		goto fail;
	const char *o = cell(c, n, h->col[COL_ORDER], b, sizeof b);
	if ((*o && parse_order(o, pt, err, errn)) ||
	    row_numbers(h, c, n, pt, err, errn) || check_point(pt, err, errn))
		goto fail;
	row_tags(h, c, n, pt);
	return 0;
fail:
	point_free(pt);
	return -1;
}

/* One complete CSV row: the header first, then points. 1: the header
 * is bad (err set); 0 otherwise (a bad point went to bad()). */
static int map_row(struct mb_map *m, struct csv_in *ci, struct header *h,
		   bool *have_header, const char *path, uint64_t line,
		   modbus_map_bad_fn bad, char *err, size_t errn)
{
	const struct span *c = csv_in_cells(ci);
	size_t n = csv_in_ncells(ci);
	const char *raw;
	size_t rawlen;
	csv_in_raw(ci, &raw, &rawlen);
	if (!*have_header) {
		*have_header = true;
		h->raw = xmalloc(rawlen + 1);
		memcpy(h->raw, raw, rawlen);
		h->rawlen = rawlen;
		return header_read(h, c, n, err, errn) ? 1 : 0;
	}
	char why[200];
	struct mb_point pt;
	if (row_point(h, c, n, &pt, why, sizeof why) == 0)
		modbus_map_add(m, &pt);
	else
		bad(path, line, why, raw, rawlen, h->raw, h->rawlen);
	return 0;
}

int modbus_map_load(struct mb_map *m, const char *path, modbus_map_bad_fn bad,
		    char *err, size_t errn)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errn, "cannot read map %s: %s", path, strerror(errno));
		return -1;
	}
	struct csv_in *ci = csv_in_new();
	struct header h = { 0 };
	bool have_header = false;
	char *line = NULL, msg[240];
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 0, first = 0;
	int rc = 0;
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!first && (len == 0 || line[0] == '#'))
			continue;	/* blank lines and comments */
		if (!first)
			first = lineno;
		const char *why;
		enum csv_status st = csv_in_line(ci, line, (size_t)len, &why);
		if (st == CSV_MORE)
			continue;
		if (st == CSV_ROW)
			rc = map_row(m, ci, &h, &have_header, path, first, bad, msg,
				     sizeof msg);
		else if (have_header) {
			const char *raw;
			size_t rawlen;
			csv_in_raw(ci, &raw, &rawlen);
			bad(path, first, why, raw, rawlen, h.raw, h.rawlen);
		} else {
			snprintf(msg, sizeof msg, "%s", why);
			rc = 1;
		}
		first = 0;
	}
	if (rc == 0 && first) {	/* a quoted cell still open at the end */
		const char *why, *raw;
		size_t rawlen;
		csv_in_eof(ci, &why);
		csv_in_raw(ci, &raw, &rawlen);
		if (have_header)
			bad(path, first, why, raw, rawlen, h.raw, h.rawlen);
		else
			snprintf(msg, sizeof msg, "%s", why), rc = 1;
	}
	if (rc == 0 && !have_header)
		snprintf(msg, sizeof msg, "no header line"), rc = 1;
	if (rc)
		snprintf(err, errn, "map %s: %s", path, msg);
	free(line);
	fclose(f);
	csv_in_free(ci);
	header_free(&h);
	return rc ? -1 : 0;
}
