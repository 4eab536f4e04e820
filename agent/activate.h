/*
 * Steps 4 and 5 of a cycle: activate the built system with nixos-rebuild
 * or darwin-rebuild (their CLI contract: ../shared/CONTRACTS.md), run the
 * health checks, and roll back when either fails.
 */
#ifndef NIXPULL_ACTIVATE_H
#define NIXPULL_ACTIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "spawn.h"

struct config;

struct activate_request {
	const struct config *cfg;
	const char	*os;		/* "linux" or "darwin" */
	const char	*flake_url;	/* git+file://...?ref=..&rev=.. */
	const char	*rev;
	const char	*log_path;	/* output appended here */
	const char	*scratch_dir;	/* an empty working directory */
	int		 max_jobs;
	int		 cores;
};

/* The program: activate.command, else nixos-rebuild / darwin-rebuild. */
const char *activate_program(const struct config *cfg, const char *os);
/* Activates; 0 on success.  Exit status 4 (nixos-rebuild-ng: switched but
 * units failed) is a failure (-1).  -2 when the command was not started
 * (activate.mode unsupported on the OS, program not found): the system is
 * untouched.  res holds the run, zeroed when there was none. */
int	activate_run(const struct activate_request *rq,
	    struct spawn_result *res, struct err *e);
/* Returns to the previous generation.  For activate.mode test, which does
 * not touch the profile, prev_system's switch-to-configuration is run. */
int	activate_rollback(const struct activate_request *rq,
	    const char *prev_system, struct spawn_result *res, struct err *e);
/* Runs argv with the children's environment, never cancelled by a stop
 * request: for activations, rollbacks and health checks. */
int	activate_spawn(const char *const *argv, const char *cwd,
	    const char *log_path, uint64_t timeout_ms,
	    struct spawn_result *res, struct err *e);
/* Runs activate.health_checks in order; 0 when all pass.  On a failure,
 * res is that check's run and e names it. */
int	checks_run(const struct config *cfg, const char *log_path,
	    struct spawn_result *res, struct err *e);

#endif
