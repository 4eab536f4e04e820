/* Internal to the cycle: shared by cycle.c, deploy.c and publish.c. */
#ifndef NIXPULL_CYCLE_INT_H
#define NIXPULL_CYCLE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cycle.h"
#include "err.h"
#include "select.h"
#include "state.h"

/* One cycle's working set. */
struct cycle {
	struct agent	*a;
	const struct config *cfg;
	struct deployed	 dep;		/* on record at the start */
	char		 tip[41];
	bool		 fetching;	/* the tip moved: an attempt began */
	enum status_state settled;	/* the state before this cycle */
	char		*mirror;
	struct select_result sel;
	int		 max_jobs, cores;
	struct err	 err;
};

/* cycle.c: `nix --version` for the status, once per agent, and only when a
 * build or an activation is about to run. */
void	agent_probe_nix(struct agent *a);
/* The machine (platform_probe) into a->plat and the status document. */
void	agent_probe(struct agent *a);

/* publish.c: the status document. */
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
void	status_set_deployed(struct agent *a, const struct deployed *d);

/* deploy.c: build, activate, check, roll back. */
enum cycle_outcome deploy_selected(struct cycle *c);
/* Finishes an activation a killed agent left behind; CYCLE_NO_CHANGE when
 * there was none. */
enum cycle_outcome deploy_resume(struct agent *a);

#endif
