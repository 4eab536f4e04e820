/* Internal to the cycle: the driver (cycle.c) and deploy.c. */
#ifndef NIXPULL_CYCLE_INT_H
#define NIXPULL_CYCLE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cycle.h"
#include "err.h"
#include "publish.h"
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

/* deploy.c: build, activate, check, roll back. */
enum cycle_outcome deploy_selected(struct cycle *c);
/* Finishes an activation a killed agent left behind; CYCLE_NO_CHANGE when
 * there was none. */
enum cycle_outcome deploy_resume(struct agent *a);

#endif
