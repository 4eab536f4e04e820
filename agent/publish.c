/* The status document of this host: kept up to date, saved and reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "publish.h"
#include "log.h"
#include "report.h"
#include "select.h"
#include "timeutil.h"

static void
report(struct agent *a, const struct buf *doc, int changed)
{
	const struct config *cfg = a->cfg;
	struct report_target t;
	struct err e;
	int r;

	if (cfg->report.url == NULL)
		return;
	report_target_from_config(&t, cfg);
	if (changed)
		r = report_send(&t, cfg->state_dir, cfg->host, doc->data,
		    doc->len, &e);
	else
		r = report_heartbeat(&t, cfg->state_dir, cfg->host,
		    doc->data, doc->len, &e);
	/* A report failure never fails or blocks a deploy. */
	if (r == -1)
		log_warnx("report: %s", e.msg);
}

void
publish(struct agent *a, int changed)
{
	const struct config *cfg = a->cfg;
	struct buf doc = BUF_INIT(MAX_STATUS_SIZE);
	struct err e;

	a->st.updated_at = time_now();
	a->st.next_poll_at = a->next_poll_at;
	if (a->phase_hook)
		a->phase_hook(status_state_name(a->st.state));
	if (status_to_json(&a->st, &doc, &e) == -1) {
		log_warnx("status: %s", e.msg);
		goto out;
	}
	if (changed) {
		if (status_save(cfg->state_dir, &a->st, &e) == -1)
			log_warnx("status: %s", e.msg);
		if (cfg->report.prometheus_textfile &&
		    report_metrics(cfg->report.prometheus_textfile, &a->st,
		    a->st.updated_at, &e) == -1)
			log_warnx("metrics: %s", e.msg);
	}
	report(a, &doc, changed);
 out:
	buf_release(&doc);
}

static void
set(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

void
attempt_begin(struct agent *a, const char *rev)
{
	struct status_attempt *la = &a->st.last_attempt;

	set(&la->rev, rev);
	set(&la->error, NULL);
	set(&la->log_tail, NULL);
	la->result = RESULT_NONE;
	la->phase = PHASE_POLL;
	la->started_at = time_now();
	for (int i = 0; i < PHASE__COUNT; i++)
		la->durations_ms[i] = -1;
	la->fetch_bytes = -1;
	la->max_jobs = la->cores = -1;
	set(&la->activation, NULL);
	set(&la->source, NULL);
	la->evaluations = -1;
	la->substituted_bytes = -1;
}

void
attempt_source(struct agent *a, const char *source)
{
	struct status_attempt *la = &a->st.last_attempt;

	set(&la->source, source);
	if (la->evaluations < 0)
		la->evaluations = 0;
}

void
attempt_substituted(struct agent *a, int64_t bytes)
{
	a->st.last_attempt.substituted_bytes = bytes < 0 ? -1 : bytes;
}

void
attempt_evaluated(struct agent *a)
{
	struct status_attempt *la = &a->st.last_attempt;

	la->evaluations = la->evaluations < 0 ? 1 : la->evaluations + 1;
}

void
attempt_phase(struct agent *a, enum status_phase ph, enum status_state state)
{
	a->st.last_attempt.phase = ph;
	if (a->st.state != state) {
		a->st.state = state;
		publish(a, 1);
	}
}

void
attempt_duration(struct agent *a, enum status_phase ph, uint64_t ms)
{
	a->st.last_attempt.durations_ms[ph] = (int64_t)ms;
}

void
attempt_record(struct agent *a, enum status_result res, const char *error,
    const char *tail)
{
	struct status_attempt *la = &a->st.last_attempt;

	la->result = res;
	set(&la->error, error);
	set(&la->log_tail, tail && *tail ? tail : NULL);
}

void
attempt_end(struct agent *a, enum status_result res, enum status_state state,
    const char *error, const char *tail)
{
	struct err e;

	attempt_record(a, res, error, tail);
	a->st.state = state;
	if (error)
		log_warnx("%s", error);
	publish(a, 1);
	if (status_history_add(a->cfg->state_dir, &a->st, &e) == -1)
		log_warnx("status history: %s", e.msg);
}

void
status_set_system(struct agent *a)
{
	struct status_system *sys = &a->st.system;

	set(&sys->os, a->plat.os);
	set(&sys->arch, a->plat.arch);
	if (a->plat.nix_version[0])
		set(&sys->nix_version, a->plat.nix_version);
	sys->cpus = (int)platform_cpu_budget(&a->plat);
	sys->mem_bytes = a->plat.mem_total ? (int64_t)a->plat.mem_total : -1;
	sys->on_battery = a->plat.on_battery;
}

void
attempt_note(struct agent *a, const struct outcome *o)
{
	struct status_attempt *la = &a->st.last_attempt;

	for (int i = 0; i < PHASE__COUNT; i++)
		if (o->durations_ms[i] >= 0)
			attempt_duration(a, (enum status_phase)i,
			    (uint64_t)o->durations_ms[i]);
	if (o->source != NULL)
		attempt_source(a, o->source);
	for (int i = 0; i < o->evaluations; i++)
		attempt_evaluated(a);
	if (o->substituted_bytes >= 0)
		attempt_substituted(a, o->substituted_bytes);
	if (o->activation != NULL)
		set(&la->activation, o->activation);
}

void
status_set_rollout(struct agent *a, struct status_rollout *r)
{
	struct status_rollout *sr = &a->st.rollout;

	free(sr->release);
	free(sr->wave);
	free(sr->halted_by);
	free(sr->fleet_error);
	*sr = *r;
	memset(r, 0, sizeof(*r));
}

void
status_set_deployed(struct agent *a, const struct deployed *d)
{
	struct status_deployed *sd = &a->st.deployed;

	if (sd->rev == NULL || strcmp(sd->rev, d->rev) != 0)
		set(&sd->source, NULL);
	set(&sd->rev, d->rev[0] ? d->rev : NULL);
	set(&sd->signer, d->signer);
	set(&sd->key_fingerprint, d->key_fingerprint);
	set(&sd->store_path, d->store_path);
	sd->activated_at = d->activated_at;
	sd->committed_at = d->committed_at;
	a->st.tofu = d->tofu;
}

/* Just deployed by this attempt: it was obtained the attempt's way. */
void
status_deployed_from_attempt(struct agent *a)
{
	if (a->st.last_attempt.source != NULL)
		set(&a->st.deployed.source, a->st.last_attempt.source);
}

void
status_set_trust(struct agent *a, bool followed,
    const struct select_result *sel)
{
	struct status_trust *t = &a->st.trust;

	if (!followed) {
		t->version = -1;
		t->expires_at = 0;
		t->expired = false;
	} else if (sel->trust_repo) {
		t->version = (int64_t)sel->trust_version;
		t->expires_at = (time_t)sel->trust_expires;
		t->expired = sel->trust_expired;
	}
}
