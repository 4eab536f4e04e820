/*
 * What the agent remembers between cycles, in the state directory; every
 * file is written atomically (temp, fsync, rename, fsync dir):
 *
 *   deployed.json   the revision that runs, who signed it, its store path
 *   bad-revisions   "REV<TAB>unix time<TAB>reason" lines: never retried
 *   inflight.json   written before an activation, removed after its health
 *                   checks: finding it at start means we were killed there
 *   lock            one agent per state directory
 */
#ifndef NIXPULL_STATE_H
#define NIXPULL_STATE_H

#include <stdbool.h>
#include <time.h>

#include "err.h"

#define STATE_REV_HEX	41

struct deployed {
	char	 rev[STATE_REV_HEX];	/* "" when none on record */
	char	*signer;
	char	*key_fingerprint;
	char	*store_path;
	time_t	 activated_at;
	time_t	 committed_at;
	bool	 tofu;
};

struct inflight {
	char	 rev[STATE_REV_HEX];
	char	*store_path;		/* what is being activated */
	char	*prev_system;		/* what ran before */
	char	*signer;
	char	*key_fingerprint;
	time_t	 started_at;
	time_t	 committed_at;
	unsigned tries;			/* interrupted activations so far */
};

void	deployed_release(struct deployed *d);
/* 0 (d->rev "" when there is no record), -1 on a corrupt file. */
int	state_load_deployed(const char *dir, struct deployed *d, struct err *e);
int	state_save_deployed(const char *dir, const struct deployed *d,
	    struct err *e);

void	inflight_release(struct inflight *f);
/* 1 when there is one, 0 when not, -1 on error. */
int	state_load_inflight(const char *dir, struct inflight *f, struct err *e);
int	state_save_inflight(const char *dir, const struct inflight *f,
	    struct err *e);
int	state_clear_inflight(const char *dir, struct err *e);

/* 1 when rev is recorded as bad (reason copied), 0 when not, -1 error. */
int	state_is_bad(const char *dir, const char *rev, char *reason,
	    size_t reasonlen, struct err *e);
int	state_mark_bad(const char *dir, const char *rev, const char *reason,
	    struct err *e);

/* readlink -f of a system link such as /run/current-system; NULL if none. */
char	*state_resolve_system(const char *link);

#endif
