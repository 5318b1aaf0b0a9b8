/* pubprog.c - a publisher program: the publishers' loop on lib/prog.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mem.h"
#include "pubprog.h"
#include "reload.h"

/* The run's publisher: the run and cleanup hooks get only the run. */
static struct pubprog *pubprog_running;

struct pub_opts *pubprog_opts(const struct pubprog *pp, void *conf)
{
	return (struct pub_opts *)((char *)conf + pp->h->pub_at);
}

/* publoop's reload hook: parsed, checked, staged or refused. */
static void pubprog_reload(struct publoop *pl)
{
	struct pubprog *pp = (struct pubprog *)((char *)pl -
						offsetof(struct pubprog, pl));
	char **av, why[200];
	void *nc = prog_reload_conf(&av);
	if (!nc)
		return;
	const char *opt = pub_opts_restart(pubprog_opts(pp, pp->cfg),
					   pubprog_opts(pp, nc));
	if (opt) {
		snprintf(why, sizeof why, "changing %s needs a restart", opt);
		reload_refuse(why);
	}
	if (opt || (pp->h->accept && !pp->h->accept(pp->cfg, nc))) {
		prog_conf_drop(nc);
		reload_free(av);
		return;
	}
	if (pp->next)
		prog_conf_drop(pp->next);	/* a newer file replaces a staged one */
	pp->next = nc;
	publoop_stage(&pp->pl, av);
}

void pubprog_setup(struct pubprog *pp, const struct pubprog_hooks *h,
		   struct prog_run *r, const struct pub_transport *t,
		   void *ctx, const char *dest)
{
	pubprog_running = pp;
	pp->h = h;
	pp->run = r;
	pp->cfg = r->conf;
	pp->next = NULL;
	pp->dest = xstrdup(dest);
	publoop_init(&pp->pl, t, ctx, pubprog_opts(pp, r->conf), r->fs);
	pp->pl.reload = pubprog_reload;
	int rc = r->o.check ? pub_spool_check(pp->pl.po, dest) : 0;
	if (rc)
		prog_exit(rc);	/* said */
}

void pubprog_move(struct pubprog *pp, const char *dest)
{
	free(pp->dest);
	pp->dest = xstrdup(dest);
	spool_set_owner(pp->pl.q, dest);
}

void pubprog_take(struct pubprog *pp)
{
	prog_conf_replace(pp->run, pp->next);
	pp->cfg = pp->next;
	pp->next = NULL;
	pp->pl.po = pubprog_opts(pp, pp->cfg);
}

/* The transport failed for good (after its stop hook: a report then may
 * say so). */
static bool pubprog_failed(const struct publoop *pl)
{
	return pl->t->failed && pl->t->failed(pl->ctx);
}

void pubprog_run(struct prog_run *r)
{
	struct pubprog *pp = pubprog_running;
	struct publoop *pl = &pp->pl;
	char why[1024];
	if (pp->h->start)
		prog_check(pp->h->start(pl->ctx, why, sizeof why), why);
	int rc = publoop_open(pl, pp->dest, r->argv, r->argc, r->o.in_fmt,
			      r->o.out_fmt == FMT_CSV);
	if (rc)
		prog_exit(rc);	/* the spool said why */
	if (pp->h->open)
		prog_check(pp->h->open(pl->ctx, why, sizeof why), why);
	rc = publoop_run(pl);
	if (rc < 0) {
		/* The library ends the run; the framework exits (status 1). */
		diag_warn("poll: %s", strerror(errno));
		diag_end(EXIT_RUNTIME);
		return;
	}
	if (rc || (pp->h->failed_exits && pubprog_failed(pl)))
		prog_exit(rc ? rc : EXIT_RUNTIME);	/* said */
	if (publoop_finish(pl) || pubprog_failed(pl))
		diag_status = EXIT_RUNTIME;
}

void pubprog_cleanup(struct prog_run *r)
{
	struct pubprog *pp = pubprog_running;
	(void)r;
	if (pp->h->free)
		pp->h->free(pp->pl.ctx);
	publoop_free(&pp->pl);
	if (pp->next)
		prog_conf_drop(pp->next);
	pp->next = NULL;
	free(pp->dest);
	pp->dest = NULL;
}
