/*
 * One pass of the pipeline: poll -> fetch -> select/verify -> build ->
 * activate -> check (-> roll back) -> record, reporting the status after
 * every phase change.  `nixpull once` runs one; `nixpull run` repeats it.
 */
#ifndef NIXPULL_CYCLE_H
#define NIXPULL_CYCLE_H

#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "fetcher.h"
#include "platform.h"
#include "status.h"

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

/* What lives across cycles of one agent process. */
struct agent {
	const struct config *cfg;
	const volatile sig_atomic_t *cancel;	/* set by SIGTERM/SIGINT */
	struct platform	 plat;
	bool		 nix_probed;
	struct status	 st;		/* the document as last published */
	bool		 st_loaded;
	time_t		 next_poll_at;	/* set by the daemon, for the status */
	void		(*phase_hook)(const char *phase); /* e.g. sd_notify */
	struct fetcher	 fetcher;	/* poll, fetch, select, verify */
};

void	agent_init(struct agent *a, const struct config *cfg,
	    const volatile sig_atomic_t *cancel);
void	agent_release(struct agent *a);
/* Starts the fetcher; -1 with e saying why (e.g. no privsep.user). */
int	agent_start(struct agent *a, struct err *e);
/* After a reload: the next poll starts a fetcher with the new config. */
void	agent_reload(struct agent *a, const struct config *cfg);
enum cycle_outcome cycle_run(struct agent *a);
const char *cycle_outcome_name(enum cycle_outcome o);
/* The exit status of `nixpull once`: 0 when the host runs the newest
 * signed revision (also when nothing changed since it did), else 1. */
int	cycle_exit_status(const struct agent *a, enum cycle_outcome o);

#endif
