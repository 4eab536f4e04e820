/*
 * The rollback step (rollback.c): after a failed activation or health
 * check, back to the system that ran before, checked; the revision is
 * marked bad and inflight.json cleared either way.
 */
#ifndef NIXPULL_ROLLBACK_H
#define NIXPULL_ROLLBACK_H

#include "outcome.h"

struct activate_request;
struct config;

/* Rolls rq back to prev_system when cfg says to, why being what failed
 * and tail its log: o says RESULT_ROLLED_BACK (0) or RESULT_FAILED (-1),
 * its error "WHY; rolled back" (not rolled back, rollback failed: ...). */
int	rollback_step(const struct config *cfg, struct activate_request *rq,
	    const char *prev_system, const char *why, const char *tail,
	    struct outcome *o);

#endif
