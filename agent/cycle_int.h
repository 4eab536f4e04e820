/* Internal to the cycle: the driver (cycle.c) and the steps that still
 * report through publish.h (checks.c, rollback.c, record.c, resume.c). */
#ifndef NIXPULL_CYCLE_INT_H
#define NIXPULL_CYCLE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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

struct activate_request;
struct spawn_result;

/* cycle.c: the activation request for rev in the state the attempt
 * tuned; how store_path is to be activated (activate_choose), noted in
 * the status, -1 with e when it cannot be (activate.command cannot be
 * started). */
void	cycle_request_init(struct activate_request *rq, struct agent *a,
	    const char *url, const char *rev, const char *log_path,
	    const char *scratch);
int	cycle_choose(struct agent *a, struct activate_request *rq,
	    const char *store_path, struct err *e);

/* checks.c: the health checks after a (resumed) activation, timed;
 * boot mode has none to run. */
int	checks_step(struct agent *a, const char *log_path,
	    struct spawn_result *res, struct err *e);

/* rollback.c: roll back (when configured), mark rq->rev bad and end the
 * attempt: CYCLE_ROLLED_BACK or CYCLE_FAILED. */
enum cycle_outcome rollback_failed(struct agent *a,
	    struct activate_request *rq, const char *prev_system,
	    const char *why, const char *tail);

/* record.c: rev deployed as store_path: deployed.json, the document's
 * deployed block and reboot_required. */
void	record_deployed(struct agent *a, const char *rev,
	    const char *store_path, const char *signer, const char *fpr,
	    time_t committed, bool tofu);

/* source.c (source.h): the selected revision's system, substituted or
 * built; 0 with br->store_path, or -1 with c->err. */
struct build_request;
struct build_result;
int	source_obtain(struct cycle *c, const struct build_request *rq,
	    struct build_result *br);

/* resume.c: finishes an activation a killed agent left behind;
 * CYCLE_NO_CHANGE when there was none. */
enum cycle_outcome resume_interrupted(struct agent *a);

#endif
