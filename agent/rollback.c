/*
 * The rollback step: after a failed activation or health check, back to
 * the system that ran before (activate_rollback), checked; when the step
 * lands on an earlier rolled-back generation, the deployed revision is
 * switched to again.  The revision is marked bad either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activate.h"
#include "build.h"
#include "config.h"
#include "fetch.h"
#include "log.h"
#include "rollback.h"
#include "state.h"

/* 0 when the system that runs is prev, or when there is no telling (boot
 * mode leaves current-system alone; test mode rolls back to prev itself);
 * -1 with e saying what runs instead. */
static int
back_on(const struct config *cfg, const char *prev, struct err *e)
{
	char *cur;
	int r = 0;

	if (prev == NULL || cfg->activate.mode != MODE_SWITCH)
		return 0;
	cur = state_resolve_system(cfg->activate.current_system);
	if (cur == NULL || strcmp(cur, prev) != 0)
		r = err_set(e, "the rollback went to '%s', not to the system "
		    "that ran before ('%s')", cur ? cur : "nothing", prev);
	free(cur);
	return r;
}

/* Switches to the deployed revision again: it built prev (its GC root
 * keeps it in the store, so nothing is built). */
static int
reswitch_deployed(const struct config *cfg,
    const struct activate_request *rq, const char *prev, struct err *e)
{
	struct activate_request rr = *rq;
	struct spawn_result res;
	struct deployed d;
	struct buf url = BUF_INIT(16384);
	char *mirror = NULL;
	int r = -1;

	if (state_load_deployed(cfg->state_dir, &d, e) == -1)
		return -1;
	if (d.rev[0] == '\0' || d.store_path == NULL ||
	    strcmp(d.store_path, prev) != 0) {
		err_set(e, "no deployed revision on record built '%s'", prev);
		goto out;
	}
	mirror = poll_mirror_path(cfg);
	build_flake_url(mirror, cfg->repo.ref, d.rev, &url);
	rr.flake_url = buf_str(&url);
	rr.rev = d.rev;
	rr.store_path = prev;
	if (activate_choose(&rr, e) == 0)
		r = activate_run(&rr, &res, e) == 0 ? 0 : -1;
 out:
	free(mirror);
	buf_release(&url);
	deployed_release(&d);
	return r;
}

/*
 * `--rollback` steps one generation down the profile.  When an earlier
 * release was rolled back too, its generation is still there, just above
 * the good one, and that is where the step lands: then the deployed
 * revision is switched to again.
 */
static int
roll_back(const struct config *cfg, const struct activate_request *rq,
    const char *prev, struct err *e)
{
	struct spawn_result res;
	struct err e2;
	char went[sizeof(e->msg)];

	if (activate_rollback(rq, prev, &res, e) == -1)
		return -1;
	if (back_on(cfg, prev, e) == 0)
		return 0;
	log_warnx("%s; switching to the deployed revision again", e->msg);
	memcpy(went, e->msg, sizeof(went));
	if (reswitch_deployed(cfg, rq, prev, &e2) == -1 ||
	    back_on(cfg, prev, &e2) == -1)
		return err_set(e, "%s; switching to the deployed revision "
		    "again failed: %s", went, e2.msg);
	return 0;
}

int
rollback_step(const struct config *cfg, struct activate_request *rq,
    const char *prev_system, const char *why, const char *tail,
    struct outcome *o)
{
	struct err e;

	if (state_mark_bad(cfg->state_dir, rq->rev, why, &e) == -1)
		log_warnx("%s", e.msg);
	if (!cfg->activate.rollback || cfg->activate.mode == MODE_NONE)
		outcome_set(o, RESULT_FAILED, tail, "%s; not rolled back", why);
	else if (roll_back(cfg, rq, prev_system, &e) == 0)
		outcome_set(o, RESULT_ROLLED_BACK, tail, "%s; rolled back", why);
	else
		outcome_set(o, RESULT_FAILED, tail, "%s; rollback failed: %s",
		    why, e.msg);
	if (state_clear_inflight(cfg->state_dir, &e) == -1)
		log_warnx("%s", e.msg);
	return o->result == RESULT_ROLLED_BACK ? 0 : -1;
}
