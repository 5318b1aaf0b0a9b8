/* optgroup.c - the option groups several programs share */
#include <string.h>

#include "diag.h"
#include "optgroup.h"
#include "size.h"

void optgroup_keys(struct path **paths, int *n, const char *opt,
		   const char *text)
{
	const char *err;
	int col = path_parse_list(text, paths, n, &err);
	if (col)
		diag_usage("invalid %s '%s' at column %d: %s", opt, text, col,
			   err);
	if (!*n)
		diag_usage("%s needs at least one field", opt);
}

uint64_t optgroup_size(const char *opt, const char *arg)
{
	uint64_t v;
	if (size_parse(arg, &v) < 0)
		diag_usage("invalid argument '%s' for %s: expected a size > 0 "
			   "(bytes, or with K, M or G)", arg, opt);
	return v;
}

void optgroup_time_unit(const char *arg, enum time_repr *unit)
{
	if (time_unit_parse(arg, unit))
		diag_usage("invalid argument '%s' for --time-unit: expected s, "
			   "ms, us, ns or auto", arg);
}

void optgroup_time_format(const char *arg, enum time_repr *repr)
{
	if (!strcmp(arg, "rfc3339"))
		*repr = TIME_RFC3339;
	else if (time_unit_parse(arg, repr) || *repr == TIME_AUTO)
		diag_usage("invalid argument '%s' for --time-format: expected "
			   "rfc3339, s, ms, us or ns", arg);
}

bool optgroup_time_mode(const char *arg)
{
	bool processing = !strcmp(arg, "processing");
	if (!processing && strcmp(arg, "event"))
		diag_usage("invalid argument '%s' for --time: expected event or "
			   "processing", arg);
	return processing;
}

int optgroup_field(struct fieldset *fs, const char *opt, const char *text)
{
	const char *err;
	int slot = fieldset_add_text(fs, text, false, &err);
	if (slot < 0)
		diag_usage("invalid %s '%s': %s", opt, text, err);
	return slot;
}

bool optgroup_series(struct series_conf *c, int code, const char *arg)
{
	switch (code) {
	case 'k': optgroup_keys(&c->kpaths, &c->nkeys, "--key", arg); break;
	case 'f': c->field = arg; break;
	case OPT_TIME_FIELD: c->time_field = arg; break;
	case OPT_TIME_UNIT:
		optgroup_time_unit(arg, &c->unit_opt);
		c->unit = c->unit_opt;
		break;
	case OPT_MAX_AHEAD:
		c->max_ahead = opts_duration("--max-ahead", arg, true);
		break;
	case OPT_MAX_KEYS:
		c->max_keys = opts_count_in("--max-keys", arg, 1, KEYED_MAX_KEYS);
		break;
	case OPT_MAX_STATE: c->max_state = optgroup_size("--max-state", arg); break;
	default: return false;
	}
	return true;
}
