/*
 * Resuming (resume.h): an activation a killed agent left behind
 * (inflight.json) is checked when the system runs it, rolled back after
 * MAX_INTERRUPTED tries, else left for the next poll to try again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activate.h"
#include "config.h"
#include "log.h"
#include "record.h"
#include "resume.h"
#include "rollback.h"
#include "timeutil.h"

#define MAX_INTERRUPTED	3	/* interrupted activations before "bad" */

int
resume_load(const struct config *cfg, struct inflight *f)
{
	struct err e;
	int r;

	if ((r = state_load_inflight(cfg->state_dir, f, &e)) == -1) {
		log_warnx("%s (discarded)", e.msg);
		state_clear_inflight(cfg->state_dir, &e);
	}
	return r == 1 ? 1 : 0;
}

/* Before rolling back what a killed agent activated: the rollback goes the
 * way the activation went (noted in o). */
static void
resume_choose(struct activate_request *rq, struct outcome *o)
{
	struct err e;

	if (activate_choose(rq, &e) != 0) {
		log_warnx("%s", e.msg);
		return;
	}
	o->activation = activate_method_name(rq->method, rq->os);
	if (rq->method == ACTIVATE_FLAKE)
		o->evaluations++;	/* nixos-rebuild --flake evaluates */
}

/* The system switched to f->store_path before we were killed: 1 when its
 * health checks pass now (deployed), else 0 and rolled back. */
static int
resume_switched(const struct config *cfg, struct inflight *f,
    struct activate_request *rq, struct outcome *o)
{
	struct spawn_result res;
	struct err e;
	uint64_t t0 = time_monotonic_ms();
	char *msg;
	int r;

	log_warnx("resuming: %.12s was activated but not checked when the "
	    "agent stopped", f->rev);
	res.tail[0] = '\0';
	r = checks_run(cfg, NULL, &res, &e);
	outcome_time(o, PHASE_CHECK, t0);
	if (r == -1) {
		msg = xasprintf("activation of %.12s was interrupted before "
		    "its health checks; at restart: %s", f->rev, e.msg);
		resume_choose(rq, o);
		rollback_step(cfg, rq, f->prev_system, msg, res.tail, o);
		free(msg);
		return 0;
	}
	/* Not an error, but what happened: the status says so. */
	outcome_set(o, RESULT_SUCCESS, NULL, "activation of %.12s was "
	    "interrupted before its health checks; they passed at restart",
	    f->rev);
	return 1;
}

enum resume_result
resume_step(const struct resume_request *q, struct inflight *f,
    struct outcome *o, struct deployed *d, int *reboot)
{
	const struct config *cfg = q->cfg;
	struct activate_request rq;
	struct err e;
	char *cur, *why;
	enum resume_result r = RESUME_ENDED;

	memset(&rq, 0, sizeof(rq));
	rq.cfg = cfg;
	rq.os = q->os;
	rq.rev = f->rev;
	rq.scratch_dir = "/";
	rq.max_jobs = q->max_jobs;
	rq.cores = q->cores;
	rq.store_path = f->store_path;
	cur = state_resolve_system(cfg->activate.current_system);
	if (cfg->activate.mode != MODE_BOOT && cur &&
	    strcmp(cur, f->store_path) == 0) {
		if (resume_switched(cfg, f, &rq, o) == 1)
			r = RESUME_DEPLOYED;
	} else if (++f->tries >= MAX_INTERRUPTED) {
		why = xasprintf("activation of %.12s was interrupted %u times",
		    f->rev, f->tries);
		resume_choose(&rq, o);
		rollback_step(cfg, &rq, f->prev_system, why, NULL, o);
		free(why);
	} else {
		/* Not switched (or boot mode): the next poll builds and
		 * activates it again; the build is in the store already. */
		log_warnx("activation of %.12s was interrupted; the system "
		    "still runs %s; trying again", f->rev, cur ? cur : "?");
		if (state_save_inflight(cfg->state_dir, f, &e) == -1)
			log_warnx("%s", e.msg);
		outcome_set(o, RESULT_FAILED, NULL, "activation of %.12s was "
		    "interrupted", f->rev);
		r = RESUME_AGAIN;
	}
	free(cur);
	if (r == RESUME_DEPLOYED) {
		memset(d, 0, sizeof(*d));
		memcpy(d->rev, f->rev, sizeof(d->rev));
		d->store_path = f->store_path;
		d->signer = f->signer;
		d->key_fingerprint = f->key_fingerprint;
		d->committed_at = f->committed_at;
		*reboot = record_save(cfg, d);
		trust_record_inflight(cfg->state_dir, f);
		if (state_clear_inflight(cfg->state_dir, &e) == -1)
			log_warnx("%s", e.msg);
	}
	return r;
}
