/*
 * Release selection: which revision of the fetched ref may be deployed.
 *
 * From the tip, walk first-parent back (at most max_walk commits) to the
 * newest commit that is trusted: signed by `threshold` distinct trusted
 * keys, counting its own commit signature and the signed annotated tags
 * under refs/tags/ that point at it (a tag counts only when its "tag"
 * header equals its ref's short name; the same key twice counts once).
 * Unsigned commits above it are simply not released yet.
 *
 * Anti-rollback: the candidate must equal or descend from the floor, which
 * is the deployed revision on record, else (none on record) the running
 * system's configurationRevision when it is present in the mirror, else
 * nothing: trust on first use, flagged loudly in the result.  The walk
 * stops at the floor: when nothing above it is trusted, the floor itself
 * is the result (res->at_floor) and there is nothing new to deploy.
 *
 * Bounds, against a hostile server (caps.h): at most MAX_TAGS tag refs are
 * considered; a tag object's header (type, size) is read before the object
 * and one over MAX_TAG_OBJECT_SIZE is ignored with a warning, never read
 * nor parsed; each tag object is read once however many refs point at it;
 * a tag whose "tag" header is not its ref's name is never verified; one
 * selection stops after MAX_SELECT_SECONDS (the tags not read by then are
 * ignored with a warning, a walk not finished by then is an error).
 * Ignoring a tag can only lower the trust of a commit, never raise it.
 */
#ifndef NIXPULL_SELECT_H
#define NIXPULL_SELECT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <git2.h>

#include "allowed_signers.h"
#include "buf.h"
#include "err.h"
#include "gitsig.h"
#include "release.h"
#include "rev.h"
#include "sshsig.h"
#include "trustfile.h"

/*
 * trust.follow_repo: the signers kept in the repository (select_trust.c).
 * The host's own allowed_signers and threshold are the pinned root, trust
 * version 0.  Walking first-parent from the base (the floor; without one,
 * the oldest commit the walk reaches, under the pinned root) up to the
 * tip, a commit whose tree changes either trust file (blob ids compared
 * with its first parent's) is a rotation: it needs `threshold` distinct
 * keys of the trust before it AND the new file's threshold of keys of the
 * new allowed_signers, a version greater than the old one, both files,
 * and every key the old trust.yaml revoked still revoked; otherwise it and
 * every commit above it are rejected.  Other commits are verified against
 * the trust in effect at them.  The trust at the floor is the recorded one
 * when its blob ids are the floor's, else the pinned root; a result under
 * a lower version than the recorded one is refused (trust rollback).
 * The host's trust.revoked_keys applies at every version.
 */
struct select_repo_trust {
	const char	*allowed_path;	/* in the tree */
	const char	*trust_path;
	const char	*host_revoked;	/* trust.revoked_keys' bytes, or NULL */
	size_t		 host_revoked_len;
	bool		 warn_expired;	/* trust.on_expired: warn */
	uint64_t	 rec_version;	/* recorded with the deployed revision */
	char		 rec_allowed[REV_HEX];	/* blob ids, "" */
	char		 rec_file[REV_HEX];
};

/* One trust in effect. */
struct trust_level {
	struct signers		*signers;
	bool			 owned;		/* signers freed with the level */
	unsigned		 threshold;
	uint64_t		 version;	/* 0: the pinned root */
	time_t			 expires;	/* 0: never */
	char			 allowed_hash[REV_HEX]; /* "": pinned */
	char			 file_hash[REV_HEX];
	git_oid			 since;		/* the rotation (version > 0) */
	struct trustfile	 tf;
};

/* The trust at each commit from the tip down to the base. */
struct trust_chain {
	git_oid			*c;		/* c[0] the tip, first-parent down */
	size_t			*lv;		/* index into levels of c[i] */
	size_t			 n, alloc;
	size_t			 nbroken;	/* c[0 .. nbroken-1] rejected */
	char			 broken_why[MAX_ERROR];
	struct trust_level	*levels;	/* levels[0] at the base */
	size_t			 nlevels;
	struct buf		 text;		/* one line per rotation */
};

struct select_opts {
	const char		*ref;		/* tracked ref, for messages */
	const git_oid		*deployed;	/* NULL: none on record */
	const char		*system_rev;	/* running system's
						   configurationRevision, or NULL */
	const struct signers	*signers;
	unsigned		 threshold;	/* k distinct keys; 0 is taken as 1 */
	unsigned		 max_walk;	/* 0 is taken as 1000 */
	uint64_t		 max_age_ms;	/* 0: no freeze detection */
	time_t			 now;
	const struct select_repo_trust *repo_trust; /* NULL: pinned only */
};

enum select_outcome {
	SELECT_OK,		/* res->oid may be deployed */
	SELECT_NONE,		/* nothing trusted within max_walk commits */
	SELECT_ROLLBACK,	/* candidate does not descend from the floor */
	SELECT_ERROR,		/* repository trouble: see the error */
};

enum select_floor {
	FLOOR_DEPLOYED,		/* the deployed revision on record */
	FLOOR_SYSTEM,		/* the running system's configurationRevision */
	FLOOR_NONE,		/* trust on first use */
};

struct select_result {
	enum select_outcome	outcome;
	git_oid			oid;		/* selected (SELECT_OK) or refused
						   (SELECT_ROLLBACK) candidate */
	char			rev[REV_HEX];	/* oid in hex, "" if none */
	struct sig_info		signer;		/* the deciding signature */
	unsigned		nkeys;		/* distinct trusted keys at it */
	unsigned		ntags;		/* valid signed tags at it */
	unsigned		skipped;	/* untrusted commits above it */
	char			tip_why[MAX_ERROR]; /* why the tip is not trusted,
						   "" when it is */
	bool			tip_bad_signature; /* the tip carries a signature
						   that was refused (tampered,
						   unknown key, ...), or is
						   above a refused rotation */
	bool			at_floor;	/* the walk reached the floor */
	enum select_floor	floor;
	char			floor_rev[REV_HEX];
	bool			tofu;		/* floor == FLOOR_NONE */
	bool			rollback;	/* outcome == SELECT_ROLLBACK */
	bool			deployed_unknown; /* deployed rev not in mirror */
	int64_t			commit_time;	/* committer time of the result */
	bool			stale_release;	/* now - commit_time > max_age */
	struct release_info	release;	/* the rollout's inputs (release.h):
						   read by the fetcher when
						   outcome is SELECT_OK */
	char			why[MAX_ERROR];	/* one line for the log/status */
	/* trust.follow_repo only: the trust in effect at the result */
	bool			trust_repo;	/* the chain was followed */
	uint64_t		trust_version;	/* 0: the pinned root */
	char			trust_allowed_hash[REV_HEX];
	char			trust_file_hash[REV_HEX];
	int64_t			trust_expires;	/* 0: never */
	bool			trust_expired;	/* refused, or deployed (warn) */
	bool			trust_rollback;	/* lower than the recorded version */
	char			trust_chain[MAX_TRUST_CHAIN_TEXT]; /* rotations */
};

/*
 * Selects the release below tip in repo.  Returns 0 with res->outcome
 * SELECT_OK, or -1 with res->outcome saying which refusal and e (and
 * res->why) saying exactly why, naming both revisions for a rollback.
 */
int	 select_release(git_repository *repo, const git_oid *tip,
	    const struct select_opts *o, struct select_result *res,
	    struct err *e);

/* What a single commit is worth: its signature plus the tags at it. */
struct select_trust {
	unsigned		nkeys;		/* distinct trusted keys */
	unsigned		ntags;		/* valid signed tags at it */
	struct gitsig_result	commit;		/* the commit's own signature */
	char			commit_why[MAX_ERROR]; /* why it is not good */
	struct sig_info		signer;		/* deciding signature, if any */
	char			tags_why[MAX_ERROR]; /* last refused tag, if any */
	unsigned char		keys[MAX_SELECT_KEYS][32]; /* the first
						   MAX_SELECT_KEYS of them */
	unsigned		nstored;
	char			who[MAX_ERROR];	/* their principals, ", " */
};

/* Evaluates commit oid (loads refs/tags/ itself): 0, or -1 on error. */
int	 select_trust_commit(git_repository *repo, const git_oid *oid,
	    const struct signers *s, time_t now, struct select_trust *t,
	    struct err *e);

/*
 * The trust chain from base (NULL: none) up to tip, at most max_walk
 * commits (select_trust.c).  0, or -1 on a repository error (a rejected
 * rotation is not an error: c->nbroken and c->broken_why say it).
 */
int	 trust_chain_build(git_repository *repo, const git_oid *tip,
	    const git_oid *base, const struct select_opts *o,
	    struct trust_chain *c, struct err *e);
void	 trust_chain_release(struct trust_chain *c);
/*
 * A key of the new signers that the old ones lack and that did not sign
 * (tn: the commit under the new signers): true with its principals and
 * fingerprint in out.  Every new key must prove its possession.
 */
bool	 trust_new_key_unsigned(const struct signers *old,
	    const struct signers *new, const struct select_trust *tn,
	    char *out, size_t outsz);
/*
 * The level that the trust files of commit oid describe (not whether it
 * may be in effect): 0, or -1 with e naming the revision and the file
 * (file:line:col) when one is missing or malformed.
 */
int	 trust_level_at(git_repository *repo,
	    const struct select_repo_trust *rt, const git_oid *oid,
	    struct trust_level *l, struct err *e);
void	 trust_level_release(struct trust_level *l);
/*
 * release_read (release.h), with the release's signatures judged under
 * trust.follow_repo (rt not NULL) by the repository's trust files at oid
 * when they are there (version > 0; a release the chain accepted carries
 * the trust in effect), else by the pinned s and threshold: a signed tag
 * of a rotated-in key releases too, at its date.
 */
int	 release_read_trust(git_repository *repo, const git_oid *oid,
	    int64_t commit_time, const char *plan_path,
	    const char *manifest_path, const struct signers *s,
	    unsigned threshold, const struct select_repo_trust *rt,
	    time_t now, struct release_info *ri, struct err *e);
/*
 * rt from cfg's trust.* settings, with the host's revoked keys read from
 * the file revoked (NULL: none) into rv, which the caller releases after
 * rt: 0, or -1 with e.
 */
struct config;
int	 trust_repo_init(struct select_repo_trust *rt, const struct config *cfg,
	    const char *revoked, struct buf *rv, struct err *e);
/* The level in effect at commit oid of the chain, NULL if rejected or
 * not in it; *at is set to its index in c->c (c->n for the base). */
const struct trust_level *trust_chain_at(const struct trust_chain *c,
	    const git_oid *oid, size_t *at);

/*
 * configurationRevision from `nixos-version --json` / `darwin-version
 * --json` output: copies a full 40-hex revision into rev and returns 0;
 * -1 when it is missing, null, or not a full clean revision ("...-dirty").
 */
int	 select_parse_version_json(const char *json, size_t len,
	    char rev[REV_HEX]);

/*
 * The running system's revision as a floor: 0 with out set when rev is a
 * full revision of a commit present in repo; -1 otherwise.
 */
int	 select_system_floor(git_repository *repo, const char *rev,
	    git_oid *out);

#endif
