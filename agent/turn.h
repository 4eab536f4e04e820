/*
 * The rollout step (turn.c): after selection and verification, before the
 * build.  The fetcher read the release's plan and time (release.h); here
 * the root parent parses the plan (rollout.h, fuzzed), finds this host's
 * wave and when it starts, and, for a wave after the first, reads the
 * fleet's status documents at report.url to halt on failures.  The status
 * documents can only halt or delay, never advance, a rollout.
 */
#ifndef NIXPULL_TURN_H
#define NIXPULL_TURN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "outcome.h"
#include "select.h"
#include "status.h"

struct config;

/* What the step needs of the cycle. */
struct turn_input {
	const struct config	*cfg;
	const struct select_result *sel;	/* the verified release */
};

enum turn_result {
	TURN_NOW,		/* deploy now */
	TURN_DEFERRED,		/* not due yet, or halted */
	TURN_REJECTED,		/* a plan that cannot be read or parsed */
};

/* This host's turn: sr is what the status document's rollout shows (all
 * zero when the release has no plan; malloc'd strings), and o, when not
 * now, the result (deferred or rejected) and why. */
enum turn_result turn_decide(const struct turn_input *c,
	    struct status_rollout *sr, struct outcome *o);

/* The daemon's sleep, cut short so that it wakes at this host's wave
 * (plus its jitter) when the last cycle was deferred (deferred) waiting
 * for the wave r names. */
uint64_t turn_cap_delay(const struct config *cfg,
	    const struct status_rollout *r, bool deferred, uint64_t delay_ms);

/* The clock the rollout uses (a test build may set NIXPULL_TEST_NOW). */
time_t	turn_now(void);

#endif
