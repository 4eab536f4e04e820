/*
 * One cycle, top-down: poll, select and verify here; build, activate and
 * check in deploy.c; the status document in publish.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "allowed_signers.h"
#include "config.h"
#include "cycle_int.h"
#include "log.h"
#include "reboot.h"
#include "fetch.h"
#include "report.h"
#include "spawn.h"
#include "timeutil.h"
#include "turn.h"

#define VERSION_TIMEOUT_MS	30000

void
agent_init(struct agent *a, const struct config *cfg,
    const volatile sig_atomic_t *cancel)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->cancel = cancel;
	platform_init(&a->plat);
	platform_identify(&a->plat);
	status_init(&a->st);
	fetcher_init(&a->fetcher, cfg);
}

int
agent_start(struct agent *a, struct err *e)
{
	return fetcher_start(&a->fetcher, e);
}

void
agent_reload(struct agent *a, const struct config *cfg, bool new_host)
{
	fetcher_stop(&a->fetcher);
	fetcher_init(&a->fetcher, cfg);
	a->cfg = cfg;
	if (new_host) {
		status_release(&a->st);
		status_init(&a->st);
		a->st_loaded = false;
	}
}

void
agent_release(struct agent *a)
{
	fetcher_stop(&a->fetcher);
	status_release(&a->st);
}

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

/* The machine's facts, for the tuner and the status document: only when
 * the cycle will do something (on darwin the probe runs programs). */
void
agent_probe(struct agent *a)
{
	struct status_system *sys = &a->st.system;
	struct err e;

	platform_init(&a->plat);
	if (platform_probe(&a->plat, &e) == -1)
		log_warnx("probe: %s", e.msg);
	set_str(&sys->os, a->plat.os);
	set_str(&sys->arch, a->plat.arch);
	if (a->plat.nix_version[0])
		set_str(&sys->nix_version, a->plat.nix_version);
	sys->cpus = (int)platform_cpu_budget(&a->plat);
	sys->mem_bytes = a->plat.mem_total ? (int64_t)a->plat.mem_total : -1;
	sys->on_battery = a->plat.on_battery;
}

void
agent_probe_nix(struct agent *a)
{
	struct err e;

	if (a->nix_probed)
		return;
	a->nix_probed = true;
	if (platform_probe_nix(&a->plat, NULL, &e) == -1)
		log_warnx("probe: %s", e.msg);
	else if (a->plat.nix_version[0])
		set_str(&a->st.system.nix_version, a->plat.nix_version);
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
	char rev[GIT_OID_HEXSZ + 1], *r = NULL;
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

	char last[GITX_OID_HEX];

	poll_last(c->cfg, last);
	if (fetcher_poll(&a->fetcher, last, fetch_starts, c, &pr,
	    &c->err) == -1) {
		agent_probe(a);
		if (!c->fetching)
			attempt_begin(a, NULL);
		attempt_duration(a, PHASE_POLL, pr.poll_ms);
		if (pr.fetch_ms)
			attempt_duration(a, PHASE_FETCH, pr.fetch_ms);
		a->st.last_attempt.fetch_bytes = (int64_t)pr.bytes_received;
		a->st.last_attempt.phase = pr.fetch_ms ? PHASE_FETCH :
		    PHASE_POLL;
		attempt_end(a, RESULT_FAILED, STATE_FAILED, c->err.msg, NULL);
		return CYCLE_FAILED;
	}
	if (!pr.changed && c->fetching) {
		/* Fetched, and the ref is back where it was handled. */
		attempt_end(a, RESULT_UNCHANGED, STATE_OK, NULL, NULL);
		return CYCLE_NO_CHANGE;
	}
	if (!pr.changed) {
		log_debug("tip %.12s already handled", pr.tip);
		publish(a, 0);	/* a heartbeat: nothing is written */
		return CYCLE_NO_CHANGE;
	}
	agent_probe(a);
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
	if (c->sel.tip_bad_signature) {
		attempt_end(a, RESULT_REJECTED, STATE_REJECTED,
		    c->sel.tip_why, NULL);
		return CYCLE_REJECTED;
	}
	if (c->sel.skipped)
		log_info("%u unsigned commit(s) above %.12s: not released "
		    "yet", c->sel.skipped, c->sel.rev);
	attempt_end(a, RESULT_UNCHANGED, STATE_OK, NULL, NULL);
	return CYCLE_CURRENT;
}

/* The host's turn in a staged rollout (turn.c), as a cycle outcome. */
static enum cycle_outcome
take_turn(struct cycle *c)
{
	struct turn_input in = { c->a, c->cfg, &c->sel, &c->err };

	switch (turn_decide(&in)) {
	case TURN_NOW:
		return CYCLE_CURRENT;
	case TURN_DEFERRED:
		return CYCLE_DEFERRED;
	default:
		return CYCLE_REJECTED;
	}
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
		o = c->sel.outcome == SELECT_ERROR ? CYCLE_FAILED :
		    CYCLE_REJECTED;
		attempt_end(a, o == CYCLE_FAILED ? RESULT_FAILED :
		    RESULT_REJECTED, o == CYCLE_FAILED ? STATE_FAILED :
		    STATE_REJECTED, c->err.msg, NULL);
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
	reboot_resume(a);	/* confirm a reboot, give the lock back */
	if ((o = deploy_resume(a)) != CYCLE_NO_CHANGE)
		return o;
	c.settled = a->st.state;
	if ((o = do_poll(&c)) != CYCLE_CURRENT)
		return o;
	if (state_load_deployed(c.cfg->state_dir, &c.dep, &e) == -1) {
		attempt_end(a, RESULT_FAILED, STATE_FAILED, e.msg, NULL);
		return CYCLE_FAILED;
	}
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
		reboot_step(a);		/* reboot.h: now, or why not */
	if (o == CYCLE_INTERRUPTED || stopping) {
		if (o == CYCLE_INTERRUPTED)
			a->st.state = before;
		a->next_poll_at = 0;
		publish(a, 1);
	}
	return o;
}

void
agent_next_poll(struct agent *a, time_t at, bool publish_now)
{
	a->next_poll_at = at;
	if (publish_now)
		publish(a, 1);
}
