/*
 * The resume step (resume.c), first in a cycle: an activation that a
 * killed agent left between its start and its health checks
 * (inflight.json) is finished.  When the system runs it, its health checks
 * run now (passed: deployed; failed: rolled back); after MAX_INTERRUPTED
 * interrupted tries it is rolled back and marked bad; else the next poll
 * builds and activates it again (the build is in the store).
 */
#ifndef NIXPULL_RESUME_H
#define NIXPULL_RESUME_H

#include "outcome.h"
#include "state.h"

struct config;

struct resume_request {
	const struct config *cfg;
	const char	*os;		/* "linux" or "darwin" */
	int		 max_jobs;	/* for an activation that evaluates */
	int		 cores;
};

enum resume_result {
	RESUME_ENDED,		/* rolled back, or the rollback failed */
	RESUME_DEPLOYED,	/* its checks passed: deployed */
	RESUME_AGAIN,		/* left for the next poll (o: failed) */
};

/* 1 with f loaded when a killed agent left an activation behind, else 0
 * (a damaged record is logged and discarded). */
int	resume_load(const struct config *cfg, struct inflight *f);
/*
 * Finishes f; o says how the attempt ended (and how the rollback was
 * chosen, and the checks' duration when they ran).  RESUME_DEPLOYED: d is
 * f's record, saved (its strings are f's), *reboot as record_save says.
 */
enum resume_result resume_step(const struct resume_request *q, struct inflight *f,
	    struct outcome *o, struct deployed *d, int *reboot);

#endif
