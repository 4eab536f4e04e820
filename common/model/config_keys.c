/*
 * The schema of config.yaml written down once: the table of keys that
 * parsing walks, config_print() prints in order and config_release()
 * frees by, with the look-ups and "did you mean" hints on it.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"

static const char *const profile_names[] = { "workstation", "server", NULL };
static const char *const battery_names[] = { "defer", "build", NULL };
static const char *const source_names[] = { "auto", "build", "substitute",
	NULL };
static const char *const fallback_names[] = { "build", "fail", NULL };
static const char *const verify_names[] = { "none", "eval", NULL };
static const char *const mode_names[] = { "switch", "boot", "test", "none",
	NULL };
static const char *const policy_names[] = { "never", "when-needed", NULL };
static const char *const users_names[] = { "wait", "ignore", NULL };
static const char *const inhibitors_names[] = { "respect", "ignore", NULL };
static const char *const expired_names[] = { "refuse", "warn", NULL };

_Static_assert(sizeof(enum build_profile) == sizeof(unsigned) &&
    sizeof(enum on_battery) == sizeof(unsigned) &&
    sizeof(enum build_source) == sizeof(unsigned) &&
    sizeof(enum build_fallback) == sizeof(unsigned) &&
    sizeof(enum build_verify) == sizeof(unsigned) &&
    sizeof(enum activate_mode) == sizeof(unsigned) &&
    sizeof(enum reboot_policy) == sizeof(unsigned) &&
    sizeof(enum reboot_users) == sizeof(unsigned) &&
    sizeof(enum reboot_inhibitors) == sizeof(unsigned) &&
    sizeof(enum on_expired) == sizeof(unsigned), "enums as unsigned");

#define F(m) offsetof(struct config, m)
#define SECTION(s) { NULL, s, K_SECTION, 0, 0, 0, 0, NULL }

const struct key config_keys[] = {
	{ NULL, "host", K_HOST, F(host), 0, 0, 0, NULL },
	{ NULL, "state_dir", K_ABSPATH, F(state_dir), 0, 0, 0, NULL },
	SECTION("repo"),
	{ "repo", "url", K_REPO_URL, F(repo.url), KF_REQUIRED, 0, 0, NULL },
	{ "repo", "ref", K_STR, F(repo.ref), 0, 0, 0, NULL },
	{ "repo", "ssh_key", K_SECRET, F(repo.ssh_key), KF_NULLABLE, 0, 0,
	  NULL },
	{ "repo", "token_file", K_SECRET, F(repo.token_file), KF_NULLABLE, 0,
	  0, NULL },
	{ "repo", "ca_file", K_PATH, F(repo.ca_file), KF_NULLABLE, 0, 0, NULL },
	{ "repo", "known_hosts", K_PATH, F(repo.known_hosts), KF_NULLABLE, 0,
	  0, NULL },
	{ "repo", "max_fetch_size", K_SIZE, F(repo.max_fetch_size),
	  KF_NONZERO, 0, 0, NULL },
	{ "repo", "connect_timeout", K_DURATION, F(repo.connect_timeout_ms),
	  KF_NONZERO, 0, 0, NULL },
	{ "repo", "timeout", K_DURATION, F(repo.timeout_ms), KF_NONZERO, 0, 0,
	  NULL },
	SECTION("trust"),
	{ "trust", "allowed_signers", K_PATH, F(trust.allowed_signers),
	  KF_REQUIRED, 0, 0, NULL },
	{ "trust", "revoked_keys", K_PATH, F(trust.revoked_keys), KF_NULLABLE,
	  0, 0, NULL },
	{ "trust", "max_walk", K_UINT, F(trust.max_walk), 0, 1, 1000000, NULL },
	{ "trust", "threshold", K_UINT, F(trust.threshold), 0, 1, 100, NULL },
	{ "trust", "max_age", K_DURATION, F(trust.max_age_ms), 0, 0, 0, NULL },
	{ "trust", "follow_repo", K_BOOL, F(trust.follow_repo), 0, 0, 0, NULL },
	{ "trust", "repo_allowed_signers", K_TREE_PATH,
	  F(trust.repo_allowed_signers), 0, 0, 0, NULL },
	{ "trust", "repo_trust_file", K_TREE_PATH, F(trust.repo_trust_file), 0,
	  0, 0, NULL },
	{ "trust", "on_expired", K_ENUM, F(trust.on_expired), 0, 0, 0,
	  expired_names },
	SECTION("poll"),
	{ "poll", "interval", K_DURATION, F(poll.interval_ms), KF_NONZERO, 0,
	  0, NULL },
	{ "poll", "jitter", K_DURATION, F(poll.jitter_ms), 0, 0, 0, NULL },
	SECTION("build"),
	{ "build", "profile", K_ENUM, F(build.profile), 0, 0, 0,
	  profile_names },
	{ "build", "max_jobs", K_JOBS, F(build.max_jobs), 0, 1, 4096, NULL },
	{ "build", "cores", K_JOBS, F(build.cores), 0, 0, 4096, NULL },
	{ "build", "timeout", K_DURATION, F(build.timeout_ms), KF_NONZERO, 0,
	  0, NULL },
	{ "build", "on_battery", K_ENUM, F(build.on_battery), 0, 0, 0,
	  battery_names },
	{ "build", "mem_per_job", K_SIZE, F(build.mem_per_job), 0, 0, 0,
	  NULL },
	{ "build", "min_free_disk", K_SIZE, F(build.min_free_disk), 0, 0, 0,
	  NULL },
	{ "build", "attribute", K_STR, F(build.attribute), KF_NULLABLE, 0, 0,
	  NULL },
	{ "build", "source", K_ENUM, F(build.source), 0, 0, 0, source_names },
	{ "build", "fallback", K_ENUM, F(build.fallback), 0, 0, 0,
	  fallback_names },
	{ "build", "verify_manifest", K_ENUM, F(build.verify_manifest), 0, 0,
	  0, verify_names },
	{ "build", "manifest", K_TREE_PATH, F(build.manifest), 0, 0, 0, NULL },
	{ "build", "substituters", K_STR, F(build.substituters), KF_NULLABLE,
	  0, 0, NULL },
	{ "build", "trusted_public_keys", K_STR, F(build.trusted_public_keys),
	  KF_NULLABLE, 0, 0, NULL },
	SECTION("activate"),
	{ "activate", "mode", K_ENUM, F(activate.mode), 0, 0, 0, mode_names },
	{ "activate", "health_checks", K_CHECKS, 0, KF_NULLABLE, 0, 0, NULL },
	{ "activate", "check_timeout", K_DURATION,
	  F(activate.check_timeout_ms), KF_NONZERO, 0, 0, NULL },
	{ "activate", "rollback", K_BOOL, F(activate.rollback), 0, 0, 0,
	  NULL },
	{ "activate", "command", K_STR, F(activate.command), KF_NULLABLE, 0, 0,
	  NULL },
	{ "activate", "current_system", K_PATH, F(activate.current_system), 0,
	  0, 0, NULL },
	{ "activate", "profile", K_PATH, F(activate.profile), 0, 0, 0, NULL },
	{ "activate", "timeout", K_DURATION, F(activate.timeout_ms),
	  KF_NONZERO, 0, 0, NULL },
	SECTION("report"),
	{ "report", "url", K_REPORT_URL, F(report.url), KF_NULLABLE, 0, 0,
	  NULL },
	{ "report", "token_file", K_SECRET, F(report.token_file), KF_NULLABLE,
	  0, 0, NULL },
	{ "report", "ca_file", K_PATH, F(report.ca_file), KF_NULLABLE, 0, 0,
	  NULL },
	{ "report", "prometheus_textfile", K_PATH,
	  F(report.prometheus_textfile), KF_NULLABLE, 0, 0, NULL },
	{ "report", "timeout", K_DURATION, F(report.timeout_ms), KF_NONZERO, 0,
	  0, NULL },
	SECTION("privsep"),
	{ "privsep", "user", K_STR, F(privsep.user), 0, 0, 0, NULL },
	SECTION("reboot"),
	{ "reboot", "policy", K_ENUM, F(reboot.policy), 0, 0, 0, policy_names },
	{ "reboot", "windows", K_WINDOWS, 0, KF_NULLABLE, 0, 0, NULL },
	{ "reboot", "tz", K_TZ, F(reboot.tz), KF_NULLABLE, 0, 0, NULL },
	{ "reboot", "users", K_ENUM, F(reboot.users), 0, 0, 0, users_names },
	{ "reboot", "inhibitors", K_ENUM, F(reboot.inhibitors), 0, 0, 0,
	  inhibitors_names },
	{ "reboot", "notice", K_DURATION, F(reboot.notice_ms), 0, 0, 0, NULL },
	{ "reboot", "max_defer", K_DURATION, F(reboot.max_defer_ms),
	  KF_NONZERO, 0, 0, NULL },
	{ "reboot", "fleet_lock", K_SECTION, 0, 0, 0, 0, NULL },
	{ "reboot.fleet_lock", "url", K_LOCK_URL, F(reboot.fleet_lock.url),
	  KF_NULLABLE, 0, 0, NULL },
	{ "reboot.fleet_lock", "group", K_LOCK_GROUP,
	  F(reboot.fleet_lock.group), 0, 0, 0, NULL },
	{ "reboot.fleet_lock", "token_file", K_SECRET,
	  F(reboot.fleet_lock.token_file), KF_NULLABLE, 0, 0, NULL },
	{ "reboot.fleet_lock", "ca_file", K_PATH,
	  F(reboot.fleet_lock.ca_file), KF_NULLABLE, 0, 0, NULL },
	{ "reboot.fleet_lock", "machine_id", K_PATH,
	  F(reboot.fleet_lock.machine_id), 0, 0, 0, NULL },
	{ "reboot.fleet_lock", "timeout", K_DURATION,
	  F(reboot.fleet_lock.timeout_ms), KF_NONZERO, 0, 0, NULL },
	SECTION("rollout"),
	{ "rollout", "plan", K_TREE_PATH, F(rollout.plan), 0, 0, 0, NULL },
	{ "rollout", "group", K_LOCK_GROUP, F(rollout.group), KF_NULLABLE, 0,
	  0, NULL },
};
_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) == CONFIG_NKEYS,
    "CONFIG_NKEYS is the number of entries in config_keys");

bool
config_key_is_string(const struct key *k)
{
	switch (k->type) {
	case K_STR: case K_PATH: case K_ABSPATH: case K_SECRET:
	case K_REPO_URL: case K_REPORT_URL: case K_HOST: case K_TZ:
	case K_LOCK_URL: case K_LOCK_GROUP: case K_TREE_PATH:
		return true;
	default:
		return false;
	}
}

void
config_key_fullname(const struct key *k, char *out, size_t outlen)
{
	if (k->section)
		snprintf(out, outlen, "%s.%s", k->section, k->name);
	else
		snprintf(out, outlen, "%s", k->name);
}

/* Levenshtein distance, or a large number for long strings. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], prev, tmp;

	if (la > 64 || lb > 64)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest of names to s, if close enough to be a typo; else NULL. */
const char *
config_suggest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t d, bestd = 3;

	for (size_t i = 0; i < n; i++) {
		d = edit_distance(s, names[i]);
		if (d < bestd && d * 2 < strlen(names[i])) {
			bestd = d;
			best = names[i];
		}
	}
	return best;
}

static bool
same_section(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* " (did you mean 'x'?)" for an unknown key in section, or "". */
void
config_key_hint(const char *section, const char *s, char *out, size_t outlen)
{
	const char *names[CONFIG_NKEYS], *best;
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (same_section(config_keys[i].section, section))
			names[n++] = config_keys[i].name;
	if ((best = config_suggest(s, names, n)) != NULL) {
		snprintf(out, outlen, " (did you mean '%s'?)", best);
		return;
	}
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].section &&
		    strcmp(config_keys[i].name, s) == 0) {
			snprintf(out, outlen, " (did you mean '%s.%s'?)",
			    config_keys[i].section, config_keys[i].name);
			return;
		}
	}
}

/* The index of section.name in config_keys, or CONFIG_NKEYS. */
size_t
config_key_index(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (same_section(config_keys[i].section, section) &&
		    strcmp(config_keys[i].name, name) == 0)
			break;
	return i;
}

const char *
config_mode_name(enum activate_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "?";
}

const char *
config_profile_name(enum build_profile p)
{
	return (unsigned)p < 2 ? profile_names[p] : "?";
}

const char *
config_reboot_policy_name(enum reboot_policy p)
{
	return (unsigned)p < 2 ? policy_names[p] : "?";
}
