/*
 * Step 1 of a cycle: ask the remote for the tracked ref and, when its tip
 * is not the last one the cycle handled, fetch it into the mirror.
 *
 *	<state_dir>/tip		the last tip handled (40 hex digits and "\n")
 *	<state_dir>/mirror.git	the bare mirror the later steps read
 *
 * A poll that finds the recorded tip reads that one small file, makes one
 * request (one smart-HTTP GET or one ssh session) and nothing else: no
 * fetch, no process, no write.
 */
#ifndef NIXPULL_FETCH_H
#define NIXPULL_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "git.h"

struct poll_result {
	char		 tip[REV_HEX];	/* remote tip; after a fetch, the mirror's */
	char		 last[REV_HEX];	/* recorded tip, "" if none */
	bool		 changed;	/* tip != last: fetched into the mirror */
	uint64_t	 poll_ms;	/* ls-remote */
	uint64_t	 fetch_ms;	/* 0 when nothing was fetched */
	uint64_t	 duration_ms;	/* poll_ms + fetch_ms */
	uint64_t	 bytes_received;	/* both steps, off the wire */
	bool		 timed_out;	/* the failure was a time-out */
	bool		 too_big;	/* the failure was repo.max_fetch_size */
};

/*
 * Polls, and fetches when the tip changed.  Returns 0 with r filled, or -1
 * with e naming the URL and what happened (r still holds durations and
 * bytes for the status document).  Does not record the tip: see
 * poll_record.  Calls gitx_init itself.
 */
int	poll_run(const struct config *cfg, struct poll_result *r,
	    struct err *e);
/* The same, with the files read ahead (pre, or NULL), the last tip handled
 * (last, "" if none; poll_run reads it from the state directory), calling
 * before_fetch(arg, tip) when the tip changed, just before the fetch
 * starts: the cycle reports the "fetching" state there. */
int	poll_run_hook(const struct config *cfg, const struct gitx_preload *pre,
	    const char *last, void (*before_fetch)(void *, const char *),
	    void *arg, struct poll_result *r, struct err *e);
/* cfg's repo.* as the remote gitx_* take, with pre (or NULL). */
void	poll_remote(const struct config *cfg, const struct gitx_preload *pre,
	    struct gitx_remote *rm);

/*
 * Records tip as handled (atomically), once the cycle has acted on it
 * whatever the outcome, so the next poll that sees it ends early.  Until
 * then, every poll fetches again (a no-op fetch) and reports changed.
 */
int	poll_record(const struct config *cfg, const char *tip, struct err *e);

/* The recorded tip into last ("" if none or unreadable). */
void	poll_last(const struct config *cfg, char last[REV_HEX]);

/* <state_dir>/mirror.git; caller frees. */
char	*poll_mirror_path(const struct config *cfg);

#endif
