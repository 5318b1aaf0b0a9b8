/* proghooks.h - the hooks of a program that is one engine, written once
 *
 * es-dedup, es-deadband and es-detect each drive one engine object E the
 * same way, through the functions every such engine has (lib/dedup.h,
 * lib/deadband.h, lib/detect.h): E_idle (the reader's timeout), E_record,
 * E_reconf (a reload), E_finish (end of input or a signal) and E_free.
 * PROGHOOKS_ENGINE(E, obj) writes the struct prog hooks over them; the
 * program's declaration names them with PROGHOOKS. C has no generics, so
 * a macro is the one place these five wrappers are written.
 */
#ifndef ES_PROGHOOKS_H
#define ES_PROGHOOKS_H

#include "prog.h"

#define PROGHOOKS_ENGINE(E, obj) \
	static int hook_timeout(struct prog_run *run) \
	{ \
		(void)run; \
		return E##_idle(&(obj)); \
	} \
	static void hook_record(struct prog_run *run, struct record *rec) \
	{ \
		(void)run; \
		E##_record(&(obj), rec); \
	} \
	static bool hook_reload(struct prog_run *run, void *nconf, char *said, \
				size_t n) \
	{ \
		E##_reconf(&(obj), nconf, run->fs, said, n); \
		return true; \
	} \
	static void hook_finish(struct prog_run *run) \
	{ \
		(void)run; \
		E##_finish(&(obj)); \
	} \
	static void hook_cleanup(struct prog_run *run) \
	{ \
		(void)run; \
		E##_free(&(obj)); \
	}

/* In the struct prog: the hooks PROGHOOKS_ENGINE wrote, and the
 * program's own, which such a program names alike: conf_init,
 * conf_option, conf_check, conf_free, setup, start and stats_extra. */
#define PROGHOOKS \
	.timeout = hook_timeout, .record = hook_record, .reload = hook_reload, \
	.finish = hook_finish, .cleanup = hook_cleanup, \
	.conf_init = conf_init, .option = conf_option, .check = conf_check, \
	.conf_free = conf_free, .setup = setup, .start = start, \
	.stats = stats_extra

#endif
