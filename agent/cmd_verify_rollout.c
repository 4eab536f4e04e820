/*
 * nixpull verify: the rollout plan of a release and this host's turn
 * (cmd_verify.h).  The plan and the release time are read as the fetcher
 * reads them (release.c) and parsed as the agent parses them (rollout.h),
 * so a plan the agent would reject is rejected here with the same words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "release.h"
#include "rollout.h"
#include "select.h"
#include "timeutil.h"
#include "turn.h"
#include "cmd_verify.h"

/* "2026-12-03T14:00Z" */
static void
minute(time_t t, char *out, size_t outsz)
{
	char full[TIME_RFC3339_LEN];

	if (time_format_rfc3339(t, full, sizeof(full)) == -1)
		snprintf(out, outsz, "%lld", (long long)t);
	else
		snprintf(out, outsz, "%.16sZ", full);
}

/* "turn: lab-1 (group desktops) is in wave early, due ... (in 2h0m)" */
static void
print_turn(const struct rollout_plan *p, const struct config *cfg,
    const char *rev, time_t release_time)
{
	size_t w = rollout_wave_of(p, cfg->host, cfg->rollout.group, rev);
	time_t due = rollout_due(p, w, release_time), now = turn_now();
	char when[32], age[32];

	minute(due, when, sizeof(when));
	printf("turn: %s%s%s%s is in wave %s, due %s", cfg->host,
	    cfg->rollout.group ? " (group " : "",
	    cfg->rollout.group ? cfg->rollout.group : "",
	    cfg->rollout.group ? ")" : "", p->waves[w].name, when);
	if (due > now) {
		time_format_age(due - now, age, sizeof(age));
		printf(" (in %s)\n", age);
	} else
		printf(" (due now)\n");
}

/* The plan of ri (present) for rev: 0, or -1 with e as the agent says it. */
static int
print_plan(const struct release_info *ri, const char *path, const char *rev,
    const struct config *cfg, struct err *e)
{
	struct rollout_plan p;
	char when[32];
	char *text;

	if (rollout_parse(&p, path, ri->plan_text, ri->plan_len, e) == -1)
		return err_prefix(e, "rollout plan of %s", rev);
	minute((time_t)ri->time, when, sizeof(when));
	printf("rollout: %s, released %s (%s)\n", path, when, ri->by_tag ?
	    "the signed tag's date" : "the committer date");
	text = rollout_describe(&p);
	fputs(text, stdout);
	free(text);
	if (cfg != NULL)
		print_turn(&p, cfg, rev, (time_t)ri->time);
	rollout_release(&p);
	return 0;
}

int
verify_print_rollout(git_repository *repo, const git_oid *oid,
    const struct signers *s, unsigned threshold, const struct config *cfg,
    const char *revoked)
{
	struct release_info *ri = xcalloc(1, sizeof(*ri));
	struct select_repo_trust rt;
	struct buf rv = BUF_INIT(MAX_SIGNERS_SIZE);
	bool follow = false;
	const char *path = cfg ? cfg->rollout.plan : ROLLOUT_DEFAULT_PATH;
	char rev[REV_HEX];
	git_commit *c = NULL;
	struct err e;
	int r = -1;

	git_oid_tostr(rev, sizeof(rev), oid);
	if (git_commit_lookup(&c, repo, oid) != 0) {
		printf("rollout: rejected: cannot read commit %s\n", rev);
		goto out;
	}
	if (cfg != NULL && cfg->trust.follow_repo) {
		if (trust_repo_init(&rt, cfg, revoked, &rv, &e) != 0) {
			printf("rollout: unknown: %s\n", e.msg);
			goto out;
		}
		follow = true;
	}
	if (release_read_trust(repo, oid, (int64_t)git_commit_time(c), path,
	    NULL, s, threshold, follow ? &rt : NULL, turn_now(), ri,
	    &e) != 0) {
		printf("rollout: rejected: %s: %s\n", rev, e.msg);
		goto out;
	}
	switch (ri->plan) {
	case PLAN_NONE:
		printf("rollout: none (%s): every host at once\n", path);
		r = 0;
		break;
	case PLAN_TOO_BIG:
		printf("rollout: rejected: rollout plan of %s: %s: %zu bytes, "
		    "more than %d\n", rev, path, ri->plan_len, MAX_ROLLOUT_SIZE);
		break;
	case PLAN_NOT_FILE:
		printf("rollout: rejected: rollout plan of %s: %s: not a "
		    "file\n", rev, path);
		break;
	default:
		if ((r = print_plan(ri, path, rev, cfg, &e)) != 0)
			printf("rollout: rejected: %s\n", e.msg);
	}
 out:
	git_commit_free(c);
	buf_release(&rv);
	free(ri);
	return r;
}
