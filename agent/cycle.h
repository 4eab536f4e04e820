/*
 * One pass of the pipeline: poll -> fetch -> select/verify -> build ->
 * activate -> check (-> roll back) -> record, reporting the status after
 * every phase change.  `nixpull once` runs one; `nixpull run` repeats it.
 */
#ifndef NIXPULL_CYCLE_H
#define NIXPULL_CYCLE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent.h"

struct config;

enum cycle_outcome {
	CYCLE_CURRENT,		/* the host runs the newest signed revision */
	CYCLE_NO_CHANGE,	/* the tip was already handled */
	CYCLE_DEFERRED,		/* e.g. on battery: try again later */
	CYCLE_REJECTED,		/* bad signature, rollback, nothing signed */
	CYCLE_FAILED,		/* poll, fetch, build or activation failed */
	CYCLE_ROLLED_BACK,	/* activation or a health check failed */
	CYCLE_INTERRUPTED,	/* a stop was asked for */
};

/*
 * One cycle and what follows it (a reboot, when one is due), as `once` and
 * `run` drive it.  A stop asked for (*a->cancel) during the cycle leaves
 * the document in the state it had before, with the interrupted attempt
 * in last_attempt and no next poll.
 */
enum cycle_outcome agent_cycle(struct agent *a);
/* The daemon's sleep of delay_ms, cut short to wake at this host's wave
 * when the last cycle was deferred waiting for it (turn.c). */
uint64_t agent_next_delay(const struct agent *a, uint64_t delay_ms);
/* When the next poll is due, for the document; published now if asked. */
void	agent_next_poll(struct agent *a, time_t at, bool publish_now);
enum cycle_outcome cycle_run(struct agent *a);
const char *cycle_outcome_name(enum cycle_outcome o);
/* The exit status of `nixpull once`: 0 when the host runs the newest
 * signed revision (also when nothing changed since it did), else 1. */
int	cycle_exit_status(const struct agent *a, enum cycle_outcome o);

#endif
