/*
 * Step 3's parameters: how many derivations Nix builds at once (--max-jobs)
 * and how many cores each may use (--cores), at what priority, and whether
 * to build at all now (disk space, battery).  A pure function of the probe
 * and the config, so it is tested over a table of machines.
 */
#ifndef NIXPULL_TUNE_H
#define NIXPULL_TUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct config;
struct platform;

struct tune_result {
	int		max_jobs;	/* >= 1: --max-jobs */
	int		cores;		/* >= 1, or 0 ("all") when the config says so */
	int		nice;		/* 19 workstation, 10 server */
	bool		idle_io;	/* idle I/O class (workstation) */
	bool		defer;		/* don't build now: see reason */
	char		reason[128];	/* why deferred or refused; "" otherwise */
	uint64_t	cpu_budget;	/* CPUs the build may use */
};

/*
 * Fills out from p and cfg->build (profile, max_jobs, cores, mem_per_job,
 * min_free_disk, on_battery).  Returns 0, with out->defer set when a
 * workstation on battery should wait ("on battery"); or -1 when the build
 * must not start, e.g. "only 3.2 GiB free in /nix/store, need 5.0 GiB"
 * (in e and out->reason; out is filled in either way).
 */
int	tune_choose(const struct platform *p, const struct config *cfg,
	    struct tune_result *out, struct err *e);

#endif
