/*
 * nixpull verify's part of a staged rollout (cmd_verify_rollout.c).
 */
#ifndef NIXPULL_CMD_VERIFY_H
#define NIXPULL_CMD_VERIFY_H

#include <git2.h>

struct config;
struct signers;

/*
 * Prints the rollout plan of commit oid in repo as the agent would read it
 * (the plan at cfg's rollout.plan, or the default without cfg; the release
 * time judged by s at threshold keys, or under trust.follow_repo by the
 * repository's trust at oid, with the host's revoked keys), and with cfg
 * this host's wave and
 * when it is due.  0, or -1 when the agent would reject the plan (the
 * reason printed with the file:line:col and the revision).
 */
int	verify_print_rollout(git_repository *repo, const git_oid *oid,
	    const struct signers *s, unsigned threshold,
	    const struct config *cfg, const char *revoked);

#endif
