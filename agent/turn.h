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

#include <stdint.h>
#include <time.h>

#include "agent.h"
#include "err.h"
#include "select.h"

/* What the step needs of the cycle. */
struct turn_input {
	struct agent		*a;
	const struct config	*cfg;
	const struct select_result *sel;	/* the verified release */
	struct err		*err;
};

enum turn_result {
	TURN_NOW,		/* deploy now */
	TURN_DEFERRED,		/* not due yet, or halted (status written) */
	TURN_REJECTED,		/* a plan that cannot be read or parsed */
};

enum turn_result turn_decide(const struct turn_input *c);

/* The daemon's sleep, cut short so that it wakes at this host's wave
 * (plus its jitter) when the last cycle waited for it. */
uint64_t turn_cap_delay(const struct agent *a, uint64_t delay_ms);

/* The clock the rollout uses (a test build may set NIXPULL_TEST_NOW). */
time_t	turn_now(void);

#endif
