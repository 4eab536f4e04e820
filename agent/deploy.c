/*
 * Build, activate, check and roll back the selected revision; and finish
 * what a killed agent left between activation and its health checks.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activate.h"
#include "build.h"
#include "config.h"
#include "cycle_int.h"
#include "fetch.h"
#include "fsutil.h"
#include "log.h"
#include "source.h"
#include "timeutil.h"
#include "tune.h"

#define MAX_INTERRUPTED	3	/* interrupted activations before "bad" */

static char *
scratch_dir(const struct config *cfg)
{
	char *d = xasprintf("%s/scratch", cfg->state_dir);
	struct err e;

	/* nixos-rebuild (bash) may leave ./result behind: a fresh dir. */
	if (fs_remove_tree(d, &e) == -1 || fs_mkdir_p(d, 0700, &e) == -1)
		log_warnx("%s", e.msg);
	return d;
}

static void
req_init(struct activate_request *rq, struct agent *a, const char *url,
    const char *rev, const char *log_path, const char *scratch)
{
	memset(rq, 0, sizeof(*rq));
	rq->cfg = a->cfg;
	rq->os = a->plat.os;
	rq->flake_url = url;
	rq->rev = rev;
	rq->log_path = log_path;
	rq->scratch_dir = scratch;
	rq->max_jobs = a->st.last_attempt.max_jobs > 0 ?
	    a->st.last_attempt.max_jobs : 1;
	rq->cores = a->st.last_attempt.cores >= 0 ?
	    a->st.last_attempt.cores : 0;
}

/* How store_path is to be activated (activate.h), noted in the status.
 * -1 with e when it cannot be (activate.command cannot be started). */
static int
choose(struct agent *a, struct activate_request *rq, const char *store_path,
    struct err *e)
{
	int r;

	rq->store_path = store_path;
	r = activate_choose(rq, e);
	free(a->st.last_attempt.activation);
	a->st.last_attempt.activation = r != 0 ? NULL :
	    xstrdup(activate_method_name(rq->method, rq->os));
	if (r == 0 && rq->method == ACTIVATE_FLAKE)
		attempt_evaluated(a);	/* nixos-rebuild --flake evaluates */
	return r == 0 ? 0 : -1;
}

/* Where dir/name points, not followed further (readlink(1)); NULL when it
 * is not a symbolic link. */
static char *
link_target(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	free(path);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/*
 * Reboot needed: booted and current system differ in kernel, initrd or
 * kernel modules, the links compared as system.autoUpgrade compares them
 * (readlink, so two entries that are not links are equal); -1 unknown.
 * In boot mode the deployed system only runs after a reboot.
 */
static int
reboot_required(const struct config *cfg, const char *store_path)
{
	static const char *const parts[] = { "kernel", "initrd",
	    "kernel-modules" };
	char *cur_dir = xstrdup(cfg->activate.current_system), *slash;
	char *booted, *cur, *a, *b;
	int r = 0;

	cur = state_resolve_system(cfg->activate.current_system);
	if (cfg->activate.mode == MODE_BOOT &&
	    (cur == NULL || strcmp(cur, store_path) != 0))
		r = 1;
	free(cur);
	if ((slash = strrchr(cur_dir, '/')) != NULL)
		*slash = '\0';
	booted = xasprintf("%s/booted-system", cur_dir);
	if (r == 0 && access(booted, F_OK) == -1)
		r = -1;
	for (size_t i = 0; r == 0 && i < 3; i++) {
		a = link_target(cfg->activate.current_system, parts[i]);
		b = link_target(booted, parts[i]);
		if (a == NULL && b == NULL)
			r = i == 0 ? -1 : 0;	/* no kernel: a container */
		else if (a == NULL || b == NULL || strcmp(a, b) != 0)
			r = 1;
		free(a);
		free(b);
	}
	free(booted);
	free(cur_dir);
	return r;
}

static void
record_deployed(struct agent *a, const char *rev, const char *store_path,
    const char *signer, const char *fpr, time_t committed, bool tofu)
{
	struct deployed d;
	struct err e;

	memset(&d, 0, sizeof(d));
	snprintf(d.rev, sizeof(d.rev), "%s", rev);
	d.store_path = (char *)store_path;
	d.signer = (char *)signer;
	d.key_fingerprint = (char *)fpr;
	d.activated_at = time_now();
	d.committed_at = committed;
	d.tofu = tofu;
	if (state_save_deployed(a->cfg->state_dir, &d, &e) == -1)
		log_warnx("%s", e.msg);
	status_set_deployed(a, &d);
	status_deployed_from_attempt(a);
	a->st.reboot_required = reboot_required(a->cfg, store_path);
}

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
reswitch_deployed(struct agent *a, const struct activate_request *rq,
    const char *prev, struct err *e)
{
	struct activate_request rr = *rq;
	struct spawn_result res;
	struct deployed d;
	struct buf url = BUF_INIT(16384);
	char *mirror = NULL;
	int r = -1;

	if (state_load_deployed(a->cfg->state_dir, &d, e) == -1)
		return -1;
	if (d.rev[0] == '\0' || d.store_path == NULL ||
	    strcmp(d.store_path, prev) != 0) {
		err_set(e, "no deployed revision on record built '%s'", prev);
		goto out;
	}
	mirror = poll_mirror_path(a->cfg);
	build_flake_url(mirror, a->cfg->repo.ref, d.rev, &url);
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
roll_back(struct agent *a, const struct activate_request *rq,
    const char *prev, struct err *e)
{
	struct spawn_result res;
	struct err e2;
	char went[sizeof(e->msg)];

	if (activate_rollback(rq, prev, &res, e) == -1)
		return -1;
	if (back_on(a->cfg, prev, e) == 0)
		return 0;
	log_warnx("%s; switching to the deployed revision again", e->msg);
	memcpy(went, e->msg, sizeof(went));
	if (reswitch_deployed(a, rq, prev, &e2) == -1 ||
	    back_on(a->cfg, prev, &e2) == -1)
		return err_set(e, "%s; switching to the deployed revision "
		    "again failed: %s", went, e2.msg);
	return 0;
}

/* Roll back (when configured), mark rev bad and end the attempt. */
static enum cycle_outcome
fail_activation(struct agent *a, struct activate_request *rq,
    const char *prev_system, const char *why, const char *tail)
{
	struct err e;
	char *msg;
	enum cycle_outcome o = CYCLE_FAILED;
	enum status_state st = STATE_FAILED;

	if (state_mark_bad(a->cfg->state_dir, rq->rev, why, &e) == -1)
		log_warnx("%s", e.msg);
	if (!a->cfg->activate.rollback || a->cfg->activate.mode == MODE_NONE)
		msg = xasprintf("%s; not rolled back", why);
	else if (roll_back(a, rq, prev_system, &e) == 0) {
		o = CYCLE_ROLLED_BACK;
		st = STATE_ROLLED_BACK;
		msg = xasprintf("%s; rolled back", why);
	} else
		msg = xasprintf("%s; rollback failed: %s", why, e.msg);
	if (state_clear_inflight(a->cfg->state_dir, &e) == -1)
		log_warnx("%s", e.msg);
	attempt_end(a, o == CYCLE_ROLLED_BACK ? RESULT_ROLLED_BACK :
	    RESULT_FAILED, st, msg, tail);
	free(msg);
	return o;
}

/* Health checks after a (resumed) activation; boot mode has none to run:
 * the new system only starts at the next boot. */
static int
run_checks(struct agent *a, const char *log_path, struct spawn_result *res,
    struct err *e)
{
	uint64_t t0 = time_monotonic_ms();
	int r;

	if (a->cfg->activate.mode == MODE_BOOT)
		return 0;
	a->st.last_attempt.phase = PHASE_CHECK;
	res->tail[0] = '\0';
	r = checks_run(a->cfg, log_path, res, e);
	attempt_duration(a, PHASE_CHECK, time_monotonic_ms() - t0);
	return r;
}

/* Interrupted activations of rev so far, from a left-over inflight.json. */
static unsigned
inflight_tries(const char *dir, const char *rev)
{
	struct inflight old;
	struct err e;
	unsigned n = 0;

	if (state_load_inflight(dir, &old, &e) == 1) {
		if (strcmp(old.rev, rev) == 0)
			n = old.tries;
		inflight_release(&old);
	}
	return n;
}

static enum cycle_outcome
activate_built(struct cycle *c, const char *url, struct build_result *br)
{
	struct agent *a = c->a;
	const struct config *cfg = c->cfg;
	struct activate_request rq;
	struct spawn_result res;
	struct inflight f;
	struct err e;
	char *scratch = scratch_dir(cfg);
	char *prev = state_resolve_system(cfg->activate.current_system);
	enum cycle_outcome o;
	uint64_t t0;
	int r;

	memset(&f, 0, sizeof(f));
	snprintf(f.rev, sizeof(f.rev), "%s", c->sel.rev);
	f.store_path = br->store_path;
	f.prev_system = prev;
	f.signer = c->sel.signer.principals;
	f.key_fingerprint = c->sel.signer.fingerprint;
	f.started_at = time_now();
	f.committed_at = (time_t)c->sel.commit_time;
	f.tries = inflight_tries(cfg->state_dir, f.rev);
	trust_inflight(&f, &c->sel);
	if (state_save_inflight(cfg->state_dir, &f, &c->err) == -1) {
		attempt_end(a, RESULT_FAILED, STATE_FAILED, c->err.msg, NULL);
		o = CYCLE_FAILED;
		goto out;
	}
	req_init(&rq, a, url, c->sel.rev, br->log_path, scratch);
	attempt_phase(a, PHASE_ACTIVATE, STATE_ACTIVATING);
	t0 = time_monotonic_ms();
	r = choose(a, &rq, br->store_path, &e) == -1 ? -2 :
	    activate_run(&rq, &res, &e);
	if (r == -2) {
		/* Not started: the system is untouched, nothing to roll
		 * back, and the revision is not to blame. */
		attempt_duration(a, PHASE_ACTIVATE, time_monotonic_ms() - t0);
		if (state_clear_inflight(cfg->state_dir, &c->err) == -1)
			log_warnx("%s", c->err.msg);
		attempt_end(a, RESULT_FAILED, STATE_FAILED, e.msg, NULL);
		o = CYCLE_FAILED;
		goto out;
	}
	if (r == -1) {
		attempt_duration(a, PHASE_ACTIVATE, time_monotonic_ms() - t0);
		o = fail_activation(a, &rq, prev, e.msg, res.tail);
		goto out;
	}
	attempt_duration(a, PHASE_ACTIVATE, time_monotonic_ms() - t0);
	if (run_checks(a, br->log_path, &res, &e) == -1) {
		o = fail_activation(a, &rq, prev, e.msg, res.tail);
		goto out;
	}
	record_deployed(a, c->sel.rev, br->store_path,
	    c->sel.signer.principals, c->sel.signer.fingerprint,
	    (time_t)c->sel.commit_time, c->sel.tofu);
	trust_record(cfg->state_dir, &c->sel);
	if (state_clear_inflight(cfg->state_dir, &e) == -1)
		log_warnx("%s", e.msg);
	attempt_end(a, RESULT_SUCCESS, STATE_OK, NULL, NULL);
	log_info("deployed %.12s (%s)", c->sel.rev, br->store_path);
	o = CYCLE_CURRENT;
 out:
	free(prev);
	free(scratch);
	return o;
}

static int
tune(struct cycle *c)
{
	struct agent *a = c->a;
	struct tune_result t;

	if (tune_choose(&a->plat, c->cfg, &t, &c->err) == -1) {
		attempt_end(a, RESULT_FAILED, STATE_FAILED, c->err.msg, NULL);
		return -1;
	}
	a->st.last_attempt.max_jobs = c->max_jobs = t.max_jobs;
	a->st.last_attempt.cores = c->cores = t.cores;
	if (t.defer) {
		char *why = xasprintf("build of %.12s deferred: %s",
		    c->sel.rev, t.reason);

		attempt_end(a, RESULT_DEFERRED, STATE_DEFERRED, why, NULL);
		free(why);
		return 1;
	}
	return 0;
}

static void
prune_roots(struct cycle *c)
{
	const char *keep[2] = { c->sel.rev, c->dep.rev[0] ? c->dep.rev : NULL };
	struct err e;

	if (build_prune_gcroots(c->cfg->state_dir, keep, 2, &e) == -1)
		log_warnx("%s", e.msg);
}

static enum cycle_outcome
after_build(struct cycle *c, const char *url, struct build_result *br)
{
	struct agent *a = c->a;
	/* boot mode changes what the next boot starts: the profile. */
	bool boot = c->cfg->activate.mode == MODE_BOOT;
	char *cur = state_resolve_system(boot ? c->cfg->activate.profile :
	    c->cfg->activate.current_system);
	enum cycle_outcome o;

	if (cur && strcmp(cur, br->store_path) == 0) {
		log_info("%.12s builds the %s system: nothing to activate",
		    c->sel.rev, boot ? "next boot's" : "running");
		record_deployed(a, c->sel.rev, br->store_path,
		    c->sel.signer.principals, c->sel.signer.fingerprint,
		    (time_t)c->sel.commit_time, c->sel.tofu);
		trust_record(a->cfg->state_dir, &c->sel);
		attempt_end(a, RESULT_UNCHANGED, STATE_OK, NULL, NULL);
		o = CYCLE_CURRENT;
	} else if (c->cfg->activate.mode == MODE_NONE) {
		log_info("built %s (activate.mode none)", br->store_path);
		attempt_end(a, RESULT_SUCCESS, STATE_OK, NULL, NULL);
		o = CYCLE_CURRENT;
	} else if (a->cancel && *a->cancel) {
		/* A stop came during the build's last moments: an activation
		 * is never started once one was asked for.  The build stays
		 * in the store (GC root); the next start activates it. */
		attempt_record(a, RESULT_FAILED, "stopped before activation",
		    NULL);
		o = CYCLE_INTERRUPTED;
	} else {
		o = activate_built(c, url, br);
	}
	free(cur);
	return o;
}

/* The state a cycle that changes nothing ends in: the one from before,
 * unless that was ok or a cycle caught in progress. */
static enum status_state
settled_problem(enum status_state s)
{
	return status_state_is_problem(s) ? s : STATE_FAILED;
}

enum cycle_outcome
deploy_selected(struct cycle *c)
{
	struct agent *a = c->a;
	struct build_request rq;
	struct build_result br;
	struct buf url = BUF_INIT(16384), attr = BUF_INIT(4096);
	char reason[512];
	enum cycle_outcome o;
	uint64_t t0;
	int r;

	a->st.stale_release = c->sel.stale_release;
	if ((r = state_is_bad(c->cfg->state_dir, c->sel.rev, reason,
	    sizeof(reason), &c->err)) == -1) {
		/* Not knowing whether it is bad is no licence to deploy it. */
		attempt_end(a, RESULT_FAILED, STATE_FAILED, c->err.msg, NULL);
		return CYCLE_FAILED;
	}
	if (r == 1) {
		char *why = xasprintf("%.12s is marked bad (%s); waiting for "
		    "a newer signed revision", c->sel.rev, reason);

		/* The state it left (rolled back, failed) stands: the fetch
		 * that brought a commit above it set "fetching". */
		attempt_end(a, RESULT_REJECTED, settled_problem(c->settled),
		    why, NULL);
		free(why);
		return CYCLE_REJECTED;
	}
	if ((r = tune(c)) != 0)
		return r == 1 ? CYCLE_DEFERRED : CYCLE_FAILED;
	agent_probe_nix(a);	/* only now: a build will run */
	build_flake_url(c->mirror, c->cfg->repo.ref, c->sel.rev, &url);
	build_attribute(c->cfg, a->plat.os, &attr);
	memset(&rq, 0, sizeof(rq));
	rq.mirror = c->mirror;
	rq.ref = c->cfg->repo.ref;
	rq.rev = c->sel.rev;
	rq.attr = attr.data;
	rq.state_dir = c->cfg->state_dir;
	rq.max_jobs = c->max_jobs;
	rq.cores = c->cores;
	rq.nice = c->cfg->build.profile == PROFILE_WORKSTATION ? 19 : 10;
	rq.idle_io = c->cfg->build.profile == PROFILE_WORKSTATION;
	rq.timeout_ms = c->cfg->build.timeout_ms;
	rq.cancel = a->cancel;
	attempt_phase(a, PHASE_BUILD, STATE_BUILDING);
	t0 = time_monotonic_ms();
	r = source_obtain(c, &rq, &br);
	attempt_duration(a, PHASE_BUILD, time_monotonic_ms() - t0);
	if (r == -1 && br.run.cancelled) {
		/* Stopped: the daemon publishes the state from before. */
		attempt_record(a, RESULT_FAILED, c->err.msg, br.run.tail);
		o = CYCLE_INTERRUPTED;
	} else if (r == -1) {
		attempt_end(a, RESULT_FAILED, STATE_FAILED, c->err.msg,
		    br.run.tail);
		o = CYCLE_FAILED;
	} else {
		o = after_build(c, url.data, &br);
		prune_roots(c);
	}
	build_result_release(&br);
	buf_release(&url);
	buf_release(&attr);
	return o;
}

/* Before rolling back what a killed agent activated: the rollback goes the
 * way the activation went. */
static void
resume_choose(struct agent *a, struct activate_request *rq)
{
	struct err e;

	if (choose(a, rq, rq->store_path, &e) == -1)
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
	if (run_checks(a, NULL, &res, &e) == -1) {
		msg = xasprintf("activation of %.12s was interrupted before "
		    "its health checks; at restart: %s", f->rev, e.msg);
		resume_choose(a, rq);
		o = fail_activation(a, rq, f->prev_system, msg, res.tail);
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
deploy_resume(struct agent *a)
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
	req_init(&rq, a, NULL, f.rev, NULL, "/");
	rq.store_path = f.store_path;
	cur = state_resolve_system(a->cfg->activate.current_system);
	if (a->cfg->activate.mode != MODE_BOOT && cur &&
	    strcmp(cur, f.store_path) == 0) {
		o = resume_switched(a, &f, &rq);
	} else if (++f.tries >= MAX_INTERRUPTED) {
		why = xasprintf("activation of %.12s was interrupted %u times",
		    f.rev, f.tries);
		resume_choose(a, &rq);
		o = fail_activation(a, &rq, f.prev_system, why, NULL);
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
