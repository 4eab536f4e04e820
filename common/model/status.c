/*
 * The status document, schema 1, to and from JSON: its field table below,
 * through the one codec (jfield.h), read strictly.  Unknown fields are
 * ignored; known ones must have the right type and an allowed value.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "caps.h"
#include "jfield.h"
#include "status.h"
#include "timeutil.h"

static const char *const state_names[STATE__COUNT] = {
	"ok", "polling", "fetching", "building", "activating", "deferred",
	"rejected", "failed", "rolled-back",
};
static const char *const phase_names[PHASE__COUNT] = {
	"poll", "fetch", "verify", "build", "activate", "check",
};
static const char *const result_names[RESULT__COUNT] = {
	"none", "success", "unchanged", "deferred", "rejected", "failed",
	"rolled-back",
};

void
status_init(struct status *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < PHASE__COUNT; i++)
		st->last_attempt.durations_ms[i] = -1;
	st->last_attempt.fetch_bytes = -1;
	st->last_attempt.max_jobs = -1;
	st->last_attempt.cores = -1;
	st->last_attempt.evaluations = -1;
	st->last_attempt.substituted_bytes = -1;
	st->reboot_required = -1;
	st->reboot.last_took_ms = -1;
	st->system.cpus = -1;
	st->system.mem_bytes = -1;
	st->system.on_battery = -1;
	st->trust.version = -1;
}

static const struct jf_object status_obj;

void
status_release(struct status *st)
{
	jf_release(&status_obj, st);
}

void
status_copy(struct status *dst, const struct status *src)
{
	*dst = *src;
	jf_dup_strings(&status_obj, dst);
}

const char *
status_state_name(enum status_state s)
{
	return (unsigned)s < STATE__COUNT ? state_names[s] : "unknown";
}

int
status_state_parse(const char *name, enum status_state *s)
{
	for (int i = 0; i < STATE__COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*s = (enum status_state)i;
			return 0;
		}
	}
	return -1;
}

const char *
status_phase_name(enum status_phase p)
{
	return (unsigned)p < PHASE__COUNT ? phase_names[p] : "unknown";
}

const char *
status_result_name(enum status_result r)
{
	return (unsigned)r < RESULT__COUNT ? result_names[r] : "unknown";
}

bool
status_state_is_problem(enum status_state s)
{
	return s == STATE_REJECTED || s == STATE_FAILED ||
	    s == STATE_ROLLED_BACK;
}

/* ---- the schema, written down once (jfield.h) ------------------------ */

_Static_assert(sizeof(enum status_state) == sizeof(unsigned) &&
    sizeof(enum status_result) == sizeof(unsigned) &&
    sizeof(enum status_phase) == sizeof(unsigned), "enums as unsigned");

#define S		struct status
#define F(k, t, m)	JF_F(k, t, S, m, 0)
#define REQ(k, t, m)	JF_F(k, t, S, m, JF_REQUIRED)
#define SMALL(k, m)	JF_N(k, JF_INT, S, m, 1 << 20)

static bool
deployed_present(const void *p)
{
	return ((const S *)p)->deployed.rev != NULL;
}

static bool
tip_present(const void *p)
{
	return ((const S *)p)->tip.rev != NULL;
}

static bool
attempt_present(const void *p)
{
	return ((const S *)p)->last_attempt.result != RESULT_NONE;
}

static bool
reboot_present(const void *p)
{
	const S *st = p;

	return st->reboot.pending || st->reboot.last_at != 0;
}

static bool
reboot_last_present(const void *p)
{
	return ((const S *)p)->reboot.last_at != 0;
}

static bool
rollout_present(const void *p)
{
	return ((const S *)p)->rollout.release != NULL;
}

static bool
trust_present(const void *p)
{
	return ((const S *)p)->trust.version >= 0;
}

static const struct jf_field deployed_fields[] = {
	REQ("rev", JF_STR, deployed.rev),
	F("signer", JF_STR, deployed.signer),
	F("key_fingerprint", JF_STR, deployed.key_fingerprint),
	F("store_path", JF_STR, deployed.store_path),
	F("activated_at", JF_TIME, deployed.activated_at),
	F("committed_at", JF_TIME, deployed.committed_at),
	F("source", JF_STR, deployed.source),
};
static const struct jf_object deployed_obj = { JF_TABLE(deployed_fields),
	.present = deployed_present };

static const struct jf_field tip_fields[] = {
	REQ("rev", JF_STR, tip.rev),
	F("seen_at", JF_TIME, tip.seen_at),
};
static const struct jf_object tip_obj = { JF_TABLE(tip_fields),
	.present = tip_present };

static const struct jf_field attempt_fields[] = {
	F("rev", JF_STR, last_attempt.rev),
	{ .key = "result", .type = JF_ENUM, .off = offsetof(S,
	  last_attempt.result), .flags = JF_REQUIRED, .names = result_names,
	  .first = RESULT_NONE + 1, .count = RESULT__COUNT },
	{ .key = "phase", .type = JF_ENUM, .off = offsetof(S,
	  last_attempt.phase), .names = phase_names, .count = PHASE__COUNT },
	F("error", JF_STR, last_attempt.error),
	F("log_tail", JF_STR, last_attempt.log_tail),
	F("started_at", JF_TIME, last_attempt.started_at),
	{ .key = "durations_ms", .type = JF_NAMED, .off = offsetof(S,
	  last_attempt.durations_ms), .names = phase_names,
	  .count = PHASE__COUNT },
	F("fetch_bytes", JF_I64, last_attempt.fetch_bytes),
	SMALL("max_jobs", last_attempt.max_jobs),
	SMALL("cores", last_attempt.cores),
	F("activation", JF_STR, last_attempt.activation),
	F("source", JF_STR, last_attempt.source),
	SMALL("evaluations", last_attempt.evaluations),
	F("substituted_bytes", JF_I64, last_attempt.substituted_bytes),
};
static const struct jf_object attempt_obj = { JF_TABLE(attempt_fields),
	.present = attempt_present };

static const struct jf_field reboot_last_fields[] = {
	F("at", JF_TIME, reboot.last_at),
	F("into", JF_STR, reboot.last_into),
	F("took_ms", JF_I64, reboot.last_took_ms),
	F("result", JF_STR, reboot.last_result),
};
static const struct jf_object reboot_last_obj = { JF_TABLE(reboot_last_fields),
	.present = reboot_last_present };

static const struct jf_field reboot_fields[] = {
	F("pending", JF_BOOL, reboot.pending),
	F("reason", JF_STR, reboot.reason),
	F("pending_since", JF_TIME, reboot.pending_since),
	F("next_window", JF_TIME, reboot.next_window),
	F("blocked_by", JF_STR, reboot.blocked_by),
	F("overdue", JF_BOOL, reboot.overdue),
	JF_O("last", reboot_last_obj),
};
static const struct jf_object reboot_obj = { JF_TABLE(reboot_fields),
	.present = reboot_present };

static const struct jf_field rollout_fields[] = {
	F("release", JF_STR, rollout.release),
	F("released_at", JF_TIME, rollout.released_at),
	F("wave", JF_STR, rollout.wave),
	F("due_at", JF_TIME, rollout.due_at),
	F("halted_by", JF_STR, rollout.halted_by),
	F("fleet_error", JF_STR, rollout.fleet_error),
};
static const struct jf_object rollout_obj = { JF_TABLE(rollout_fields),
	.present = rollout_present };

static const struct jf_field trust_fields[] = {
	F("version", JF_I64, trust.version),
	F("expires_at", JF_TIME, trust.expires_at),
	F("expired", JF_BOOL, trust.expired),
};
static const struct jf_object trust_obj = { JF_TABLE(trust_fields),
	.present = trust_present };

static const struct jf_field system_fields[] = {
	F("os", JF_STR, system.os),
	F("arch", JF_STR, system.arch),
	SMALL("cpus", system.cpus),
	F("mem_bytes", JF_I64, system.mem_bytes),
	F("on_battery", JF_TRI, system.on_battery),
	F("nix_version", JF_STR, system.nix_version),
};
static const struct jf_object system_obj = { JF_TABLE(system_fields) };

static const struct jf_field top_fields[] = {
	{ .key = "schema", .type = JF_VERSION, .max = STATUS_SCHEMA },
	REQ("host", JF_STR, host),
	F("agent_version", JF_STR, agent_version),
	{ .key = "state", .type = JF_ENUM, .off = offsetof(S, state),
	  .flags = JF_REQUIRED, .names = state_names, .count = STATE__COUNT },
	F("updated_at", JF_TIME, updated_at),
	JF_O("deployed", deployed_obj),
	JF_O("tip", tip_obj),
	JF_O("last_attempt", attempt_obj),
	F("reboot_required", JF_TRI, reboot_required),
	JF_O("reboot", reboot_obj),
	JF_O("rollout", rollout_obj),
	F("stale_release", JF_BOOL, stale_release),
	F("tofu", JF_BOOL, tofu),
	JF_O("trust", trust_obj),
	JF_O("system", system_obj),
	F("next_poll_at", JF_TIME, next_poll_at),
};
static const struct jf_object status_obj = { JF_TABLE(top_fields) };

/* ---- to and from JSON ------------------------------------------------- */

int
status_to_json(const struct status *st, struct buf *out, struct err *e)
{
	json_t *o;
	char *s;
	int r = -1;

	if ((unsigned)st->state >= STATE__COUNT ||
	    (unsigned)st->last_attempt.result >= RESULT__COUNT ||
	    (unsigned)st->last_attempt.phase >= PHASE__COUNT)
		return err_set(e, "status: state, result or phase out of range");
	o = jf_to_json(&status_obj, st);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s == NULL) {
		err_set(e, "status: cannot encode the document");
		goto out;
	}
	if (buf_addstr(out, s) == -1 || buf_addch(out, '\n') == -1) {
		err_set(e, "status: document larger than %d bytes",
		    MAX_STATUS_SIZE);
		goto out;
	}
	r = 0;
 out:
	free(s);
	json_decref(o);
	return r;
}

int
status_from_json(const char *text, size_t len, struct status *st,
    struct err *e)
{
	static const struct jf_read strict = { JF_STRICT, "", NULL, NULL };
	json_error_t jerr;
	json_t *root = NULL;
	int r = -1;

	status_init(st);
	if (len > MAX_STATUS_SIZE) {
		err_set(e, "document larger than %d bytes", MAX_STATUS_SIZE);
		goto out;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		err_set(e, "%d:%d: %s", jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (jf_from_json(root, &status_obj, &strict, st, e) == -1)
		goto out;
	r = 0;
 out:
	if (r != 0)
		status_release(st);
	json_decref(root);
	return r;
}
