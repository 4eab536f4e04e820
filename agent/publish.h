/*
 * The status document of the agent (publish.c): the attempt under way,
 * its phases and durations, its end; saved, written to the history and
 * reported (PUT) whenever it changes.
 */
#ifndef NIXPULL_PUBLISH_H
#define NIXPULL_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "outcome.h"
#include "state.h"
#include "status.h"

struct select_result;

void	publish(struct agent *a, int changed);
void	attempt_begin(struct agent *a, const char *rev);
void	attempt_phase(struct agent *a, enum status_phase ph,
	    enum status_state state);
void	attempt_duration(struct agent *a, enum status_phase ph, uint64_t ms);
/* Notes the attempt's result without changing the state or publishing. */
void	attempt_record(struct agent *a, enum status_result res,
	    const char *error, const char *tail);
/* Ends the attempt: result, final state, error (NULL), tail (NULL). */
void	attempt_end(struct agent *a, enum status_result res,
	    enum status_state state, const char *error, const char *tail);
/* How the attempt obtains its system (last_attempt.source: "built",
 * "substituted"); evaluations are counted from 0 on. */
void	attempt_source(struct agent *a, const char *source);
/* The NAR bytes the substitution fetched (-1: not known). */
void	attempt_substituted(struct agent *a, int64_t bytes);
/* One more evaluation of the configuration in this attempt. */
void	attempt_evaluated(struct agent *a);
/* The machine's facts (a->plat) into the document's system block; its
 * nix_version only when known. */
void	status_set_system(struct agent *a);
/* What a step's outcome found out, into the attempt: the phases' durations
 * it timed, how the system was obtained (attempt_source), its evaluations,
 * the NAR bytes it substituted, how it activated. */
void	attempt_note(struct agent *a, const struct outcome *o);
/* The rollout the turn step saw (its strings move into the document). */
void	status_set_rollout(struct agent *a, struct status_rollout *r);
/* The deployed record; deployed.source is kept for the same revision,
 * else it is the attempt's when deployed says it deployed the attempt's
 * system (from_attempt), else unknown. */
void	status_set_deployed(struct agent *a, const struct deployed *d);
void	status_deployed_from_attempt(struct agent *a);
/*
 * The trust in effect at the release the fetcher selected (or refused):
 * its version, expiry and whether it had expired; null when the host does
 * not follow the repository's trust (followed false), kept as it was when
 * the selection did not get as far as the trust.
 */
void	status_set_trust(struct agent *a, bool followed,
	    const struct select_result *sel);

#endif
