/*
 * What the agent remembers between cycles, in the state directory; every
 * file is written atomically (temp, fsync, rename, fsync dir):
 *
 *   deployed.json   the revision that runs, who signed it, its store path
 *   bad-revisions   "REV<TAB>unix time<TAB>reason" lines: never retried
 *   inflight.json   written before an activation, removed after its health
 *                   checks: finding it at start means we were killed there
 *   trust.json      trust.follow_repo: the trust version and the blob ids
 *                   of the trust files in effect for the deployed revision
 *   lock            one agent per state directory
 */
#ifndef NIXPULL_STATE_H
#define NIXPULL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "rev.h"

struct jf_object;

/*
 * One state file, <dir>/name, described by a field table (jfield.h): obj
 * (size bytes) zeroed, then filled leniently from the file, a field that
 * does not fit left zero.  1 read, 0 absent, -1 unreadable or not a JSON
 * object (named in e).  Saving writes it atomically, mode 0600.
 */
int	state_load_file(const char *dir, const char *name,
	    const struct jf_object *ob, void *obj, size_t size, struct err *e);
int	state_save_file(const char *dir, const char *name,
	    const struct jf_object *ob, const void *obj, struct err *e);

struct deployed {
	char	 rev[REV_HEX];	/* "" when none on record */
	char	*signer;
	char	*key_fingerprint;
	char	*store_path;
	time_t	 activated_at;
	time_t	 committed_at;
	bool	 tofu;
};

struct inflight {
	char	 rev[REV_HEX];
	char	*store_path;		/* what is being activated */
	char	*prev_system;		/* what ran before */
	char	*signer;
	char	*key_fingerprint;
	time_t	 started_at;
	time_t	 committed_at;
	unsigned tries;			/* interrupted activations so far */
	/* trust.follow_repo: the trust rev is under, recorded in trust.json
	 * by a deploy resumed from here (trust_repo false: none) */
	bool	 trust_repo;
	uint64_t trust_version;
	char	 trust_allowed[REV_HEX];
	char	 trust_file[REV_HEX];
};

void	deployed_release(struct deployed *d);
/* 0 (d->rev "" when there is no record), -1 on a corrupt file. */
int	state_load_deployed(const char *dir, struct deployed *d, struct err *e);
int	state_save_deployed(const char *dir, const struct deployed *d,
	    struct err *e);

/* trust.follow_repo's record: which trust the deployed revision is under. */
struct trust_record {
	char	 rev[REV_HEX];	/* the deployed revision it is for */
	uint64_t version;		/* 0: the pinned root */
	char	 allowed[REV_HEX];	/* blob ids, "" for the pinned root */
	char	 file[REV_HEX];
};

/* 0 (t->rev "" when there is none), -1 on a corrupt file. */
int	state_load_trust(const char *dir, struct trust_record *t,
	    struct err *e);
int	state_save_trust(const char *dir, const struct trust_record *t,
	    struct err *e);
/* The record when it is for rev (the deployed revision, "" if none); for
 * another revision only its version (the fetcher then starts from the
 * pinned root and refuses anything under a lower version). */
void	state_trust_for(const char *dir, const char *rev,
	    struct trust_record *t);
/* Records the trust a just deployed rev is under (a warning on failure). */
void	state_record_trust(const char *dir, const char *rev, uint64_t version,
	    const char *allowed, const char *file);

/* trust.follow_repo, for the cycle: the record into a selection request
 * and the trust of a selection that was just deployed into the record. */
struct fetcher_select_req;
struct select_result;
void	trust_request(const char *dir, const char *deployed,
	    struct fetcher_select_req *q);
void	trust_record(const char *dir, const struct select_result *sel);
/* The same through inflight.json: into f before the activation, and from
 * it into the record when a resumed activation passes its checks. */
void	trust_inflight(struct inflight *f, const struct select_result *sel);
void	trust_record_inflight(const char *dir, const struct inflight *f);

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
