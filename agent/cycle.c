/*
 * The cycle driver: one cycle, step by step, and the only way in for the
 * daemon (cycle.h).  The steps and their files:
 *
 *	resume an interrupted activation	resume.c
 *	poll, fetch (in the fetcher)		fetch.c, via fetcher.c
 *	select and verify (in the fetcher)	select.c, select_trust.c
 *	this host's turn in a rollout		turn.c
 *	tune the build				tune.c
 *	build, or substitute			source.c (build.c, substitute.c)
 *	activate				activate.c (inhibitors.c)
 *	health checks				checks.c
 *	roll back				rollback.c
 *	record what was deployed		record.c, state.c
 *	reboot when needed			reboot.c
 *	report: the status document		publish.c
 *
 * The machine and what lives across cycles are agent.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "activate.h"
#include "allowed_signers.h"
#include "build.h"
#include "config.h"
#include "cycle.h"
#include "fetch.h"
#include "fsutil.h"
#include "inhibitors.h"
#include "log.h"
#include "outcome.h"
#include "publish.h"
#include "reboot.h"
#include "record.h"
#include "report.h"
#include "resume.h"
#include "rollback.h"
#include "select.h"
#include "source.h"
#include "spawn.h"
#include "state.h"
#include "timeutil.h"
#include "tune.h"
#include "turn.h"

#define VERSION_TIMEOUT_MS	30000

/* One cycle's working set. */
struct cycle {
	struct agent	*a;
	const struct config *cfg;
	struct deployed	 dep;		/* on record at the start */
	char		 tip[REV_HEX];
	bool		 fetching;	/* the tip moved: an attempt began */
	enum status_state settled;	/* the state before this cycle */
	char		*mirror;
	struct select_result sel;
	int		 max_jobs, cores;
	struct err	 err;
};

const char *
cycle_outcome_name(enum cycle_outcome o)
{
	static const char *const names[] = {
		"current", "no change", "deferred", "rejected", "failed",
		"rolled back", "interrupted",
	};

	return names[o];
}

int
cycle_exit_status(const struct agent *a, enum cycle_outcome o)
{
	/* Nothing new, but what was there last time failed, was rejected or
	 * rolled back: the host does not run the newest signed revision. */
	if (o == CYCLE_NO_CHANGE)
		return status_state_is_problem(a->st.state) ? 1 : 0;
	return o == CYCLE_CURRENT ? 0 : 1;
}

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

/* The state an attempt that ended with res leaves the host in. */
static enum status_state
state_of(enum status_result res)
{
	switch (res) {
	case RESULT_SUCCESS:
	case RESULT_UNCHANGED:
		return STATE_OK;
	case RESULT_DEFERRED:
		return STATE_DEFERRED;
	case RESULT_REJECTED:
		return STATE_REJECTED;
	case RESULT_ROLLED_BACK:
		return STATE_ROLLED_BACK;
	default:
		return STATE_FAILED;
	}
}

/* The cycle's outcome when its attempt ended with res. */
static enum cycle_outcome
cycle_of(enum status_result res)
{
	switch (res) {
	case RESULT_SUCCESS:
	case RESULT_UNCHANGED:
		return CYCLE_CURRENT;
	case RESULT_DEFERRED:
		return CYCLE_DEFERRED;
	case RESULT_REJECTED:
		return CYCLE_REJECTED;
	case RESULT_ROLLED_BACK:
		return CYCLE_ROLLED_BACK;
	default:
		return CYCLE_FAILED;
	}
}

/* Ends the attempt as the step's outcome o says (released), in state st:
 * the one place a result and a state are paired. */
static enum cycle_outcome
end_in(struct agent *a, struct outcome *o, enum status_state st)
{
	enum cycle_outcome r = cycle_of(o->result);

	attempt_note(a, o);
	attempt_end(a, o->result, st, o->error, o->tail);
	outcome_release(o);
	return r;
}

static enum cycle_outcome
end(struct agent *a, struct outcome *o)
{
	return end_in(a, o, state_of(o->result));
}

/* Ends the attempt with res and the error, from the driver itself. */
static enum cycle_outcome
end_with(struct agent *a, enum status_result res, const char *error)
{
	struct outcome o;

	outcome_init(&o);
	outcome_set(&o, res, NULL, error ? "%s" : NULL, error);
	return end(a, &o);
}

/* The machine's facts, for the tuner and the document: only when the
 * cycle will do something (on darwin the probe runs programs). */
static void
probe(struct agent *a)
{
	agent_probe(a);
	status_set_system(a);
}

/* `nix --version`, once per agent, when a build or an activation is about
 * to run. */
static void
probe_nix(struct agent *a)
{
	agent_probe_nix(a);
	status_set_system(a);
}

/* The document starts from the last one saved, so a restart goes on. */
static void
load_status(struct agent *a)
{
	struct deployed d;
	struct err e;
	int r;

	if (a->st_loaded)
		return;
	a->st_loaded = true;
	r = status_load(a->cfg->state_dir, &a->st, &e);
	if (r == -1)
		log_warnx("%s (starting a new status document)", e.msg);
	if (r != 0)
		status_init(&a->st);
	set_str(&a->st.host, a->cfg->host);
	set_str(&a->st.agent_version, NIXPULL_VERSION);
	/* deployed.json is the record; the document follows it. */
	if (state_load_deployed(a->cfg->state_dir, &d, &e) == 0) {
		if (d.rev[0])
			status_set_deployed(a, &d);
		deployed_release(&d);
	}
}

static void
flush_pending(struct agent *a)
{
	struct report_target t;
	struct err e;

	if (a->cfg->report.url == NULL)
		return;
	report_target_from_config(&t, a->cfg);
	if (report_flush(&t, a->cfg->state_dir, a->cfg->host, &e) == -1)
		log_warnx("report: %s", e.msg);
}

/* configurationRevision of the running system, for a host with no record. */
static char *
system_revision(const struct agent *a)
{
	const char *darwin[] = { "darwin-version", "--json", NULL };
	const char *nixos[] = { "nixos-version", "--json", NULL };
	struct buf out;
	struct err e;
	char rev[REV_HEX], *r = NULL;
	int is_darwin = strcmp(a->plat.os, "darwin") == 0;

	if (spawn_capture(is_darwin ? darwin : nixos, NULL, VERSION_TIMEOUT_MS,
	    64 * 1024, &out, &e) == 0 &&
	    select_parse_version_json(out.data, out.len, rev) == 0)
		r = xstrdup(rev);
	else
		log_debug("no configurationRevision of the running system");
	buf_release(&out);
	return r;
}

/* The tip moved: the attempt starts, and the status says so. */
static void
fetch_starts(void *arg, const char *tip)
{
	struct cycle *c = arg;

	c->fetching = true;
	attempt_begin(c->a, NULL);
	attempt_phase(c->a, PHASE_FETCH, STATE_FETCHING);
}

static enum cycle_outcome
do_poll(struct cycle *c)
{
	struct agent *a = c->a;
	struct poll_result pr;
	char *rev;

	char last[REV_HEX];

	poll_last(c->cfg, last);
	if (fetcher_poll(&a->fetcher, last, fetch_starts, c, &pr,
	    &c->err) == -1) {
		probe(a);
		if (!c->fetching)
			attempt_begin(a, NULL);
		attempt_duration(a, PHASE_POLL, pr.poll_ms);
		if (pr.fetch_ms)
			attempt_duration(a, PHASE_FETCH, pr.fetch_ms);
		a->st.last_attempt.fetch_bytes = (int64_t)pr.bytes_received;
		a->st.last_attempt.phase = pr.fetch_ms ? PHASE_FETCH :
		    PHASE_POLL;
		return end_with(a, RESULT_FAILED, c->err.msg);
	}
	if (!pr.changed && c->fetching) {
		/* Fetched, and the ref is back where it was handled. */
		end_with(a, RESULT_UNCHANGED, NULL);
		return CYCLE_NO_CHANGE;
	}
	if (!pr.changed) {
		log_debug("tip %.12s already handled", pr.tip);
		publish(a, 0);	/* a heartbeat: nothing is written */
		return CYCLE_NO_CHANGE;
	}
	probe(a);
	memcpy(c->tip, pr.tip, sizeof(c->tip));
	set_str(&a->st.tip.rev, pr.tip);
	a->st.tip.seen_at = time_now();
	rev = a->st.last_attempt.rev;
	a->st.last_attempt.rev = xstrdup(pr.tip);
	free(rev);
	attempt_duration(a, PHASE_POLL, pr.poll_ms);
	attempt_duration(a, PHASE_FETCH, pr.fetch_ms);
	a->st.last_attempt.fetch_bytes = (int64_t)pr.bytes_received;
	log_info("fetched %.12s (%llu bytes)", pr.tip,
	    (unsigned long long)pr.bytes_received);
	return CYCLE_CURRENT;
}

static void
record_tip(struct cycle *c)
{
	struct err e;

	if (poll_record(c->cfg, c->tip, &e) == -1)
		log_warnx("%s", e.msg);
}

/* Selection and verification happen in the fetcher, in the mirror. */
static int
do_select(struct cycle *c)
{
	struct fetcher_select_req q;
	int r;

	memset(&q, 0, sizeof(q));
	memcpy(q.tip, c->tip, sizeof(q.tip));
	q.now = time_now();
	if (c->dep.rev[0])
		snprintf(q.deployed, sizeof(q.deployed), "%s", c->dep.rev);
	else
		q.system_rev = system_revision(c->a);
	if (c->cfg->trust.follow_repo)
		trust_request(c->cfg->state_dir, c->dep.rev, &q);
	r = fetcher_select(&c->a->fetcher, &q, &c->sel, &c->err);
	status_set_trust(c->a, c->cfg->trust.follow_repo, &c->sel);
	free(q.system_rev);
	return r;
}

/* Nothing newer than what runs is signed. */
static enum cycle_outcome
at_floor(struct cycle *c)
{
	struct agent *a = c->a;
	struct deployed d;
	struct err e;

	if (c->sel.floor == FLOOR_SYSTEM && c->dep.rev[0] == '\0') {
		/* The running system is the record from now on. */
		memset(&d, 0, sizeof(d));
		memcpy(d.rev, c->sel.rev, sizeof(d.rev));
		d.store_path = state_resolve_system(
		    c->cfg->activate.current_system);
		d.committed_at = (time_t)c->sel.commit_time;
		if (state_save_deployed(c->cfg->state_dir, &d, &e) == -1)
			log_warnx("%s", e.msg);
		status_set_deployed(a, &d);
		deployed_release(&d);
	}
	a->st.stale_release = c->sel.stale_release;
	if (c->sel.tip_bad_signature)
		return end_with(a, RESULT_REJECTED, c->sel.tip_why);
	if (c->sel.skipped)
		log_info("%u unsigned commit(s) above %.12s: not released "
		    "yet", c->sel.skipped, c->sel.rev);
	return end_with(a, RESULT_UNCHANGED, NULL);
}

/* The host's turn in a staged rollout (turn.c), as a cycle outcome. */
static enum cycle_outcome
take_turn(struct cycle *c)
{
	struct turn_input in = { c->cfg, &c->sel };
	struct status_rollout sr;
	struct outcome o;

	outcome_init(&o);
	if (turn_decide(&in, &sr, &o) == TURN_NOW) {
		status_set_rollout(c->a, &sr);
		return CYCLE_CURRENT;
	}
	status_set_rollout(c->a, &sr);
	return end(c->a, &o);
}

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

/* The activation request for rev, tuned as the build was. */
static void
request_init(struct activate_request *rq, const struct cycle *c,
    const char *url, const char *log_path, const char *scratch)
{
	memset(rq, 0, sizeof(*rq));
	rq->cfg = c->cfg;
	rq->os = c->a->plat.os;
	rq->flake_url = url;
	rq->rev = c->sel.rev;
	rq->log_path = log_path;
	rq->scratch_dir = scratch;
	rq->max_jobs = c->max_jobs > 0 ? c->max_jobs : 1;
	rq->cores = c->cores >= 0 ? c->cores : 0;
}

/* How store_path is to be activated (activate.h), noted in o.  -1 with e
 * when it cannot be (activate.command cannot be started). */
static int
choose(struct activate_request *rq, const char *store_path,
    struct outcome *o, struct err *e)
{
	rq->store_path = store_path;
	if (activate_choose(rq, e) != 0)
		return -1;
	o->activation = activate_method_name(rq->method, rq->os);
	if (rq->method == ACTIVATE_FLAKE)
		o->evaluations++;	/* nixos-rebuild --flake evaluates */
	return 0;
}

/* The health checks after an activation, timed; boot mode has none to run:
 * the new system only starts at the next boot. */
static int
check(struct agent *a, const char *log_path,
    struct spawn_result *res, struct err *e)
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

/* Roll back (rollback.c) and end the attempt as it went. */
static enum cycle_outcome
roll_back(struct agent *a, struct activate_request *rq,
    const char *prev_system, const char *why, const char *tail)
{
	struct outcome o;

	outcome_init(&o);
	rollback_step(a->cfg, rq, prev_system, why, tail, &o);
	return end(a, &o);
}

/* d deployed: the record (record.c) and the document's deployed block. */
static void
recorded(struct agent *a, const struct deployed *d, int reboot)
{
	status_set_deployed(a, d);
	status_deployed_from_attempt(a);
	a->st.reboot_required = reboot;
}

/* rev deployed as store_path: recorded (record.c) and in the document. */
static void
record(struct agent *a, const char *rev, const char *store_path,
    const char *signer, const char *fpr, time_t committed, bool tofu)
{
	struct deployed d;
	int reboot;

	memset(&d, 0, sizeof(d));
	snprintf(d.rev, sizeof(d.rev), "%s", rev);
	d.store_path = (char *)store_path;
	d.signer = (char *)signer;
	d.key_fingerprint = (char *)fpr;
	d.committed_at = committed;
	d.tofu = tofu;
	reboot = record_save(a->cfg, &d);
	recorded(a, &d, reboot);
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

/* NixOS refused to switch (inhibited): rq installs for the next boot,
 * as activate.mode boot does (docs/switch-inhibitors.md). */
static void
boot_instead(struct activate_request *rq, struct config *boot,
    const char *why)
{
	log_warnx("%s: installing it for the next boot", why);
	*boot = *rq->cfg;	/* shares the strings: only read */
	boot->activate.mode = MODE_BOOT;
	rq->cfg = boot;
}

/*
 * The activate step: the way (activate_choose), the switch inhibitors
 * (inhibitors.c), the run (activate.c).  0 when activated, or installed
 * for the next boot instead (*inhibited says why; boot is the config that
 * did it); -1 when it failed (res is the run); -2 when it did not start
 * (the system is untouched); e says why.  o notes the way and the time.
 */
static int
activate(struct activate_request *rq, struct config *boot,
    const char *store_path, const char *prev, struct spawn_result *res,
    char **inhibited, struct outcome *o, struct err *e)
{
	uint64_t t0 = time_monotonic_ms();
	int r;

	r = choose(rq, store_path, o, e) == -1 ? -2 : 0;
	if (r == 0 && (*inhibited = inhibitors_before(rq)) != NULL &&
	    rq->cfg->activate.mode == MODE_TEST) {
		/* test cannot install for the next boot instead. */
		err_set(e, "%s; activate.mode test: not activated",
		    *inhibited);
		r = -2;
	}
	if (r == 0) {
		if (*inhibited != NULL)
			boot_instead(rq, boot, *inhibited);
		r = activate_run(rq, res, e);
	}
	if (r == -1 && *inhibited == NULL &&
	    (*inhibited = inhibitors_refused(rq, res, prev)) != NULL) {
		boot_instead(rq, boot, *inhibited);
		r = activate_run(rq, res, e);
	}
	outcome_time(o, PHASE_ACTIVATE, t0);
	return r;
}

static enum cycle_outcome
activate_built(struct cycle *c, const char *url, struct build_result *br)
{
	struct agent *a = c->a;
	const struct config *cfg = c->cfg;
	struct activate_request rq;
	struct spawn_result res;
	struct inflight f;
	struct outcome ao;
	struct config boot;
	struct err e;
	char *scratch = scratch_dir(cfg);
	char *prev = state_resolve_system(cfg->activate.current_system);
	char *inhibited = NULL, *note;
	enum cycle_outcome o;
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
		o = end_with(a, RESULT_FAILED, c->err.msg);
		goto out;
	}
	request_init(&rq, c, url, br->log_path, scratch);
	attempt_phase(a, PHASE_ACTIVATE, STATE_ACTIVATING);
	outcome_init(&ao);
	r = activate(&rq, &boot, br->store_path, prev, &res, &inhibited,
	    &ao, &e);
	attempt_note(a, &ao);	/* the way, its duration */
	outcome_release(&ao);
	if (r == -2) {
		/* Not started: the system is untouched, nothing to roll
		 * back, and the revision is not to blame. */
		if (state_clear_inflight(cfg->state_dir, &c->err) == -1)
			log_warnx("%s", c->err.msg);
		o = end_with(a, RESULT_FAILED, e.msg);
		goto out;
	}
	if (r == -1) {
		o = roll_back(a, &rq, prev, e.msg, res.tail);
		goto out;
	}
	/* Installed for the next boot, the running system unchanged: no
	 * check of it would tell anything about the new one; they run after
	 * the reboot (reboot.c). */
	if (inhibited == NULL &&
	    check(a, br->log_path, &res, &e) == -1) {
		o = roll_back(a, &rq, prev, e.msg, res.tail);
		goto out;
	}
	record(a, c->sel.rev, br->store_path,
	    c->sel.signer.principals, c->sel.signer.fingerprint,
	    (time_t)c->sel.commit_time, c->sel.tofu);
	if (inhibited != NULL)
		a->st.reboot_required = 1;	/* runs after a reboot only */
	trust_record(cfg->state_dir, &c->sel);
	if (state_clear_inflight(cfg->state_dir, &e) == -1)
		log_warnx("%s", e.msg);
	note = inhibited ? xasprintf("%s; installed for the next boot",
	    inhibited) : NULL;
	o = end_with(a, RESULT_SUCCESS, note);
	free(note);
	log_info("deployed %.12s (%s)%s", c->sel.rev, br->store_path,
	    inhibited ? " for the next boot" : "");
 out:
	free(inhibited);
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
		end_with(a, RESULT_FAILED, c->err.msg);
		return -1;
	}
	a->st.last_attempt.max_jobs = c->max_jobs = t.max_jobs;
	a->st.last_attempt.cores = c->cores = t.cores;
	if (t.defer) {
		char *why = xasprintf("build of %.12s deferred: %s",
		    c->sel.rev, t.reason);

		end_with(a, RESULT_DEFERRED, why);
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
		record(a, c->sel.rev, br->store_path,
		    c->sel.signer.principals, c->sel.signer.fingerprint,
		    (time_t)c->sel.commit_time, c->sel.tofu);
		trust_record(a->cfg->state_dir, &c->sel);
		o = end_with(a, RESULT_UNCHANGED, NULL);
	} else if (c->cfg->activate.mode == MODE_NONE) {
		log_info("built %s (activate.mode none)", br->store_path);
		o = end_with(a, RESULT_SUCCESS, NULL);
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

static enum cycle_outcome
deploy_selected(struct cycle *c)
{
	struct agent *a = c->a;
	struct source_request sq = { c->cfg, &c->sel, a->cancel };
	struct build_request rq;
	struct build_result br;
	struct buf url = BUF_INIT(16384), attr = BUF_INIT(4096);
	struct outcome so;
	char reason[512];
	enum cycle_outcome o;
	uint64_t t0;
	int r;

	a->st.stale_release = c->sel.stale_release;
	outcome_init(&so);
	if ((r = state_is_bad(c->cfg->state_dir, c->sel.rev, reason,
	    sizeof(reason), &c->err)) == -1) {
		/* Not knowing whether it is bad is no licence to deploy it. */
		return end_with(a, RESULT_FAILED, c->err.msg);
	}
	if (r == 1) {
		/* The state it left (rolled back, failed) stands: the fetch
		 * that brought a commit above it set "fetching". */
		outcome_set(&so, RESULT_REJECTED, NULL, "%.12s is marked bad "
		    "(%s); waiting for a newer signed revision", c->sel.rev,
		    reason);
		return end_in(a, &so, settled_problem(c->settled));
	}
	if ((r = tune(c)) != 0)
		return r == 1 ? CYCLE_DEFERRED : CYCLE_FAILED;
	probe_nix(a);	/* only now: a build will run */
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
	r = source_obtain(&sq, &rq, &br, &so);
	outcome_time(&so, PHASE_BUILD, t0);
	if (r == -1 && br.run.cancelled) {
		/* Stopped: the daemon publishes the state from before. */
		attempt_note(a, &so);
		attempt_record(a, so.result, so.error, so.tail);
		outcome_release(&so);
		o = CYCLE_INTERRUPTED;
	} else if (r == -1) {
		o = end(a, &so);
	} else {
		attempt_note(a, &so);
		outcome_release(&so);
		o = after_build(c, url.data, &br);
		prune_roots(c);
	}
	build_result_release(&br);
	buf_release(&url);
	buf_release(&attr);
	return o;
}

static enum cycle_outcome
verify_and_deploy(struct cycle *c)
{
	struct agent *a = c->a;
	enum cycle_outcome o = CYCLE_FAILED;
	uint64_t t0 = time_monotonic_ms();

	a->st.last_attempt.phase = PHASE_VERIFY;
	if (do_select(c) == -1) {
		attempt_duration(a, PHASE_VERIFY, time_monotonic_ms() - t0);
		o = end_with(a, c->sel.outcome == SELECT_ERROR ?
		    RESULT_FAILED : RESULT_REJECTED, c->err.msg);
		if (o == CYCLE_REJECTED)
			record_tip(c);
		return o;
	}
	attempt_duration(a, PHASE_VERIFY, time_monotonic_ms() - t0);
	if (c->sel.tofu)
		log_warnx("no deployed revision on record and no "
		    "configurationRevision on the running system: trusting "
		    "the first signed release %.12s (trust on first use)",
		    c->sel.rev);
	if (a->cancel && *a->cancel)
		o = CYCLE_INTERRUPTED;	/* stop asked for: build nothing */
	else if (c->sel.at_floor)
		o = at_floor(c);
	else if ((o = take_turn(c)) == CYCLE_CURRENT)
		o = deploy_selected(c);
	if (o != CYCLE_DEFERRED && o != CYCLE_FAILED &&
	    o != CYCLE_INTERRUPTED)
		record_tip(c);
	return o;
}

/* The reboot step's result (reboot.h) into the document: reboot_required
 * and the reboot block, as far as the step decided them. */
static void
reboot_note(struct agent *a, const struct reboot_result *res)
{
	struct status_reboot *sr = &a->st.reboot;
	char *p, *msg;

	if (res->pending != REBOOT_PENDING_KEEP) {
		a->st.reboot_required = res->required;
		sr->pending = res->pending == REBOOT_PENDING_SET;
		sr->overdue = res->overdue;
		sr->pending_since = res->pending_since;
		if (res->next_window >= 0)
			sr->next_window = res->next_window;
		set_str(&sr->reason, res->reason);
		if (res->blocked_by || res->pending == REBOOT_PENDING_CLEAR)
			set_str(&sr->blocked_by, res->blocked_by);
	}
	if (res->confirmed) {
		sr->last_at = res->last_at;
		set_str(&sr->last_into, res->last_into);
		sr->last_took_ms = res->last_took_ms;
		set_str(&sr->last_result, res->last_result);
	}
	if (res->checks == REBOOT_CHECKS_NONE)
		return;
	/* The health checks after the boot: the last reboot's result with
	 * their failure, not an earlier one, added to it. */
	if (sr->last_result && (p = strstr(sr->last_result, "; health "
	    "check")) != NULL)
		*p = '\0';
	if (res->checks == REBOOT_CHECKS_FAILED) {
		msg = xasprintf("%s; %s", sr->last_result ? sr->last_result :
		    "rebooted", res->error ? res->error : "?");
		free(sr->last_result);
		sr->last_result = msg;
	}
}

/* The reboot step's callback: its result so far, published before it
 * goes on (before the reboot command, before reboot.json forgets). */
static void
reboot_published(void *arg, const struct reboot_result *res)
{
	struct agent *a = arg;

	reboot_note(a, res);
	publish(a, 1);
}

static void
reboot_request(struct agent *a, struct reboot_request *q)
{
	memset(q, 0, sizeof(*q));
	q->cfg = a->cfg;
	q->os = a->plat.os;
	q->required = a->st.reboot_required;
	q->publish = reboot_published;
	q->arg = a;
}

/* At the start of a cycle: confirm a reboot, give the lock back
 * (reboot_resume published what it found out). */
static void
reboot_confirm(struct agent *a)
{
	struct reboot_request q;
	struct reboot_result res;

	reboot_request(a, &q);
	reboot_resume(&q, &res);
	reboot_result_release(&res);
}

/* After a cycle: reboot now, or why not, into the document. */
static void
reboot(struct agent *a)
{
	struct reboot_request q;
	struct reboot_result res;
	bool stale;

	reboot_request(a, &q);
	reboot_step(&q, &res);
	/* The document still shows a pending reboot (the step's callback
	 * did not clear it: its own reboot.json had none) but the step
	 * cleared: published here, as deferred and failed are. */
	stale = a->st.reboot.pending && res.pending == REBOOT_PENDING_CLEAR;
	reboot_note(a, &res);
	if (res.outcome == REBOOT_DEFERRED || res.outcome == REBOOT_FAILED ||
	    stale)
		publish(a, 1);
	reboot_result_release(&res);
}

/* An activation a killed agent left behind (resume.c); CYCLE_NO_CHANGE
 * when there was none, or when the next poll is to try it again. */
static enum cycle_outcome
resume(struct agent *a)
{
	struct resume_request q;
	struct tune_result t;
	struct inflight f;
	struct deployed d;
	struct outcome o;
	struct err e;
	enum resume_result rr;
	enum cycle_outcome r;
	int jobs = -1, cores = -1, reboot = -1;

	if (resume_load(a->cfg, &f) == 0)
		return CYCLE_NO_CHANGE;
	attempt_begin(a, f.rev);
	a->st.last_attempt.phase = PHASE_ACTIVATE;
	probe(a);
	probe_nix(a);
	/* attempt_begin has just reset the attempt's tuning: a resumed
	 * activation takes the tuner's, as the build it resumes did (-1
	 * would have passed --max-jobs 1 --cores 0 to an activation that
	 * evaluates). */
	if (tune_choose(&a->plat, a->cfg, &t, &e) == -1)
		log_warnx("%s", e.msg);
	else {
		a->st.last_attempt.max_jobs = jobs = t.max_jobs;
		a->st.last_attempt.cores = cores = t.cores;
	}
	q.cfg = a->cfg;
	q.os = a->plat.os;
	q.max_jobs = jobs > 0 ? jobs : 1;
	q.cores = cores >= 0 ? cores : 0;
	outcome_init(&o);
	rr = resume_step(&q, &f, &o, &d, &reboot);
	if (rr == RESUME_DEPLOYED)
		recorded(a, &d, reboot);
	if (o.durations_ms[PHASE_CHECK] >= 0)
		a->st.last_attempt.phase = PHASE_CHECK;
	r = end(a, &o);
	inflight_release(&f);
	return rr == RESUME_AGAIN ? CYCLE_NO_CHANGE : r;
}

enum cycle_outcome
cycle_run(struct agent *a)
{
	struct cycle c;
	enum cycle_outcome o;
	struct err e;

	memset(&c, 0, sizeof(c));
	c.a = a;
	c.cfg = a->cfg;
	load_status(a);
	flush_pending(a);
	reboot_confirm(a);	/* confirm a reboot, give the lock back */
	if ((o = resume(a)) != CYCLE_NO_CHANGE)
		return o;
	c.settled = a->st.state;
	if ((o = do_poll(&c)) != CYCLE_CURRENT)
		return o;
	if (state_load_deployed(c.cfg->state_dir, &c.dep, &e) == -1)
		return end_with(a, RESULT_FAILED, e.msg);
	c.mirror = poll_mirror_path(c.cfg);
	o = verify_and_deploy(&c);
	free(c.mirror);
	deployed_release(&c.dep);
	log_info("cycle: %s", cycle_outcome_name(o));
	return o;
}

/* The state the document settled in before a cycle (ok, failed, ...);
 * STATE_OK when it was caught mid-cycle. */
static enum status_state
settled_state(struct agent *a)
{
	load_status(a);
	switch (a->st.state) {
	case STATE_POLLING:
	case STATE_FETCHING:
	case STATE_BUILDING:
	case STATE_ACTIVATING:
		return STATE_OK;
	default:
		return a->st.state;
	}
}

enum cycle_outcome
agent_cycle(struct agent *a)
{
	enum status_state before = settled_state(a);
	enum cycle_outcome o = cycle_run(a);
	bool stopping = a->cancel && *a->cancel;

	if (o != CYCLE_INTERRUPTED && !stopping)
		reboot(a);		/* reboot.h: now, or why not */
	if (o == CYCLE_INTERRUPTED || stopping) {
		if (o == CYCLE_INTERRUPTED)
			a->st.state = before;
		a->next_poll_at = 0;
		publish(a, 1);
	}
	return o;
}

uint64_t
agent_next_delay(const struct agent *a, uint64_t delay_ms)
{
	return turn_cap_delay(a->cfg, &a->st.rollout,
	    a->st.state == STATE_DEFERRED, delay_ms);
}

void
agent_next_poll(struct agent *a, time_t at, bool publish_now)
{
	a->next_poll_at = at;
	if (publish_now)
		publish(a, 1);
}
