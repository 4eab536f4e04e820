/*
 * What the fetcher reads of a selected release for its rollout (release.c,
 * in the fetcher): the plan file and the system manifest from the verified
 * commit's tree, as raw bytes (at most MAX_ROLLOUT_SIZE and
 * MAX_MANIFEST_SIZE; the root parent parses them, see rollout.h and
 * manifest.h), and the release time, which the signatures cover: the
 * commit's committer date when its own signature releases it, else the
 * newest date of the valid signed tags at it.
 */
#ifndef NIXPULL_RELEASE_H
#define NIXPULL_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <git2.h>

#include "caps.h"
#include "err.h"

struct signers;

enum release_plan {
	PLAN_NONE,		/* no such file: every host at once */
	PLAN_PRESENT,		/* text holds it */
	PLAN_TOO_BIG,		/* over MAX_ROLLOUT_SIZE: never read */
	PLAN_NOT_FILE,		/* a tree, link or submodule there */
};

struct release_info {
	int64_t		 time;		/* the release time; 0: unknown */
	bool		 by_tag;	/* time is a signed tag's date */
	enum release_plan plan;
	size_t		 plan_len;
	char		 plan_text[MAX_ROLLOUT_SIZE + 1];	/* NUL-terminated */
	enum release_plan manifest;	/* the system manifest (manifest.h),
					   in the same states as the plan */
	size_t		 manifest_len;
	char		 manifest_text[MAX_MANIFEST_SIZE + 1];	/* NUL-terminated */
};

/*
 * Fills ri for commit oid (committed at commit_time, trusted at
 * threshold keys) in repo, with the files at plan_path and manifest_path
 * (NULL: none) of its tree: 0, or -1 with e when the repository cannot
 * be read.
 */
int	release_read(git_repository *repo, const git_oid *oid,
	    int64_t commit_time, const char *plan_path,
	    const char *manifest_path, const struct signers *s,
	    unsigned threshold, time_t now, struct release_info *ri,
	    struct err *e);

#endif
