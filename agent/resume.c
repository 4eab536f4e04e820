/*
 * Resuming: an activation a killed agent left behind (inflight.json) is
 * checked when the system runs it, rolled back after MAX_INTERRUPTED
 * tries, else tried again by the next poll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activate.h"
#include "config.h"
#include "cycle_int.h"
#include "log.h"
#include "tune.h"

#define MAX_INTERRUPTED	3	/* interrupted activations before "bad" */

/* Before rolling back what a killed agent activated: the rollback goes the
 * way the activation went. */
static void
resume_choose(struct agent *a, struct activate_request *rq)
{
	struct err e;

	if (cycle_choose(a, rq, rq->store_path, &e) == -1)
		log_warnx("%s", e.msg);
}

/* The system switched to f->store_path before we were killed. */
static enum cycle_outcome
resume_switched(struct agent *a, struct inflight *f,
    struct activate_request *rq)
{
	struct spawn_result res;
	struct err e;
	enum cycle_outcome o;
	char *msg;

	log_warnx("resuming: %.12s was activated but not checked when the "
	    "agent stopped", f->rev);
	if (checks_step(a, NULL, &res, &e) == -1) {
		msg = xasprintf("activation of %.12s was interrupted before "
		    "its health checks; at restart: %s", f->rev, e.msg);
		resume_choose(a, rq);
		o = rollback_failed(a, rq, f->prev_system, msg, res.tail);
		free(msg);
		return o;
	}
	record_deployed(a, f->rev, f->store_path, f->signer,
	    f->key_fingerprint, f->committed_at, false);
	trust_record_inflight(a->cfg->state_dir, f);
	if (state_clear_inflight(a->cfg->state_dir, &e) == -1)
		log_warnx("%s", e.msg);
	/* Not an error, but what happened: the status says so. */
	msg = xasprintf("activation of %.12s was interrupted before its "
	    "health checks; they passed at restart", f->rev);
	attempt_end(a, RESULT_SUCCESS, STATE_OK, msg, NULL);
	free(msg);
	return CYCLE_CURRENT;
}

/*
 * attempt_begin has just reset the attempt's tuning: a resumed activation
 * takes the tuner's, as the build it resumes did (-1 would have passed
 * --max-jobs 1 --cores 0 to an activation that evaluates).
 */
static void
resume_tuning(struct agent *a)
{
	struct tune_result t;
	struct err e;

	if (tune_choose(&a->plat, a->cfg, &t, &e) == -1) {
		log_warnx("%s", e.msg);
		return;
	}
	a->st.last_attempt.max_jobs = t.max_jobs;
	a->st.last_attempt.cores = t.cores;
}

enum cycle_outcome
resume_interrupted(struct agent *a)
{
	const char *dir = a->cfg->state_dir;
	struct activate_request rq;
	struct inflight f;
	struct err e;
	char *cur, *why;
	enum cycle_outcome o = CYCLE_NO_CHANGE;
	int r;

	if ((r = state_load_inflight(dir, &f, &e)) <= 0) {
		if (r == -1) {
			log_warnx("%s (discarded)", e.msg);
			state_clear_inflight(dir, &e);
		}
		return CYCLE_NO_CHANGE;
	}
	attempt_begin(a, f.rev);
	a->st.last_attempt.phase = PHASE_ACTIVATE;
	agent_probe(a);
	agent_probe_nix(a);
	resume_tuning(a);
	cycle_request_init(&rq, a, NULL, f.rev, NULL, "/");
	rq.store_path = f.store_path;
	cur = state_resolve_system(a->cfg->activate.current_system);
	if (a->cfg->activate.mode != MODE_BOOT && cur &&
	    strcmp(cur, f.store_path) == 0) {
		o = resume_switched(a, &f, &rq);
	} else if (++f.tries >= MAX_INTERRUPTED) {
		why = xasprintf("activation of %.12s was interrupted %u times",
		    f.rev, f.tries);
		resume_choose(a, &rq);
		o = rollback_failed(a, &rq, f.prev_system, why, NULL);
		free(why);
	} else {
		/* Not switched (or boot mode): the next poll builds and
		 * activates it again; the build is in the store already. */
		log_warnx("activation of %.12s was interrupted; the system "
		    "still runs %s; trying again", f.rev, cur ? cur : "?");
		if (state_save_inflight(dir, &f, &e) == -1)
			log_warnx("%s", e.msg);
		why = xasprintf("activation of %.12s was interrupted",
		    f.rev);
		attempt_end(a, RESULT_FAILED, STATE_FAILED, why, NULL);
		free(why);
	}
	free(cur);
	inflight_release(&f);
	return o;
}
