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

#include "cycle_int.h"

/*
 * CYCLE_CURRENT: deploy now.  Otherwise the cycle ends with the returned
 * outcome, the status already written: CYCLE_DEFERRED (not due yet, or
 * halted), CYCLE_REJECTED (a plan that cannot be read or parsed).
 */
enum cycle_outcome turn_decide(struct cycle *c);

/* The daemon's sleep, cut short so that it wakes at this host's wave
 * (plus its jitter) when the last cycle waited for it. */
uint64_t turn_cap_delay(const struct agent *a, uint64_t delay_ms);

/* The clock the rollout uses (a test build may set NIXPULL_TEST_NOW). */
time_t	turn_now(void);

#endif
