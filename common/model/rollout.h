/*
 * The rollout plan kept in the signed tree (default .nixpull/rollout.yaml),
 * read from the verified release, never from a working copy:
 *
 *	waves:
 *	  - name: canary
 *	    hosts: ["lab-*", cinnabar]	host name globs ('*', '?')
 *	  - name: early
 *	    groups: [desktops]		the host's own rollout.group
 *	    percent: 25			of the hosts not in an earlier wave
 *	    after: 2h			after the release time
 *	  - name: everyone
 *	    after: 24h
 *	halt:
 *	  failed: 2			hosts failed or rolled back on the
 *					release: later waves halt
 *	  require_status: false		an unreadable fleet halts too
 *	shuffle: false			percent hashes the revision as well
 *	urgent: false			everyone at once, nothing halts
 *
 * A host belongs to the first wave that matches it: one of its hosts or
 * groups (when it names any), then its percent (a stable hash of the host
 * name and the wave's name, and of the revision with shuffle).  A host no
 * wave matches is in the last wave.  Waves come in order: 'after' never
 * goes down.  Strict like the config: an unknown or repeated key, a wrong
 * type or a value out of range is an error "NAME:LINE:COL: what".
 */
#ifndef NIXPULL_ROLLOUT_H
#define NIXPULL_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define ROLLOUT_DEFAULT_PATH	".nixpull/rollout.yaml"
#define ROLLOUT_HASH_BUCKETS	10000	/* percent in hundredths */

struct rollout_wave {
	char		*name;		/* "wave N" (1-based) when not named */
	char		**hosts;	/* globs */
	size_t		 nhosts;
	char		**groups;
	size_t		 ngroups;
	unsigned	 percent;	/* 0..100; 100 when not given */
	uint64_t	 after_ms;	/* after the release time */
	unsigned	 line, col;	/* where the wave starts */
};

struct rollout_plan {
	struct rollout_wave *waves;
	size_t		 nwaves;	/* 1..MAX_ROLLOUT_WAVES */
	bool		 urgent;
	bool		 shuffle;
	unsigned	 halt_failed;	/* 0: failures never halt */
	bool		 require_status;
};

/* Parses text (len bytes; name for messages) into p: 0 or -1 with e. */
int	 rollout_parse(struct rollout_plan *p, const char *name,
	    const char *text, size_t len, struct err *e);
void	 rollout_release(struct rollout_plan *p);

/* Does glob ('*' any run, '?' one character) match s?  Linear time. */
bool	 rollout_glob(const char *glob, const char *s);
/* The host's bucket (0..ROLLOUT_HASH_BUCKETS-1) for wave; rev NULL
 * unless the plan shuffles. */
unsigned rollout_bucket(const char *host, const char *wave, const char *rev);
/* The index of the wave host (in group, or NULL) belongs to in release
 * rev. */
size_t	 rollout_wave_of(const struct rollout_plan *p, const char *host,
	    const char *group, const char *rev);
/* When wave w starts for a release made at release_time (urgent: then). */
time_t	 rollout_due(const struct rollout_plan *p, size_t w,
	    time_t release_time);
/* The plan as text, one line per wave, for `nixpull verify`. */
char	*rollout_describe(const struct rollout_plan *p);

#endif
