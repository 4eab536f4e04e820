/*
 * Steps 4 and 5 of a cycle: activate the system that was built, run the
 * health checks, and roll back when either fails.  What is activated is the
 * built store path itself, never a re-evaluation (CONTRACTS.md, "Activating
 * a store path that was already built"):
 *   store-path   nixos-rebuild MODE --store-path PATH --no-reexec, where
 *                the installed nixos-rebuild offers it (its --help says so)
 *   profile      the steps nixos-rebuild and darwin-rebuild take: for
 *                switch and boot `nix-env -p PROFILE --set PATH`, then
 *                PATH/bin/switch-to-configuration MODE (under systemd-run
 *                when systemd runs, as nixos-rebuild-ng does), or
 *                PATH/activate on darwin
 *   flake        nixos-rebuild / darwin-rebuild MODE --flake URL#HOST:
 *                only when the built path is no system those steps can
 *                activate (no bin/switch-to-configuration, no activate)
 */
#ifndef NIXPULL_ACTIVATE_H
#define NIXPULL_ACTIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "spawn.h"

struct config;

enum activate_method {
	ACTIVATE_FLAKE,
	ACTIVATE_STORE_PATH,
	ACTIVATE_PROFILE,
};

struct activate_request {
	const struct config *cfg;
	const char	*os;		/* "linux" or "darwin" */
	const char	*store_path;	/* the built system */
	const char	*flake_url;	/* git+file://...?ref=..&rev=.. */
	const char	*rev;
	const char	*log_path;	/* output appended here */
	const char	*scratch_dir;	/* an empty working directory */
	int		 max_jobs;
	int		 cores;
	enum activate_method method;	/* set by activate_choose */
};

/* The program: activate.command, else nixos-rebuild / darwin-rebuild. */
const char *activate_program(const struct config *cfg, const char *os);
/* How a method is named in the status (last_attempt.activation):
 * "store-path", "profile+switch-to-configuration", "profile+activate",
 * "flake". */
const char *activate_method_name(enum activate_method m, const char *os);
/*
 * Sets rq->method (see above).  On NixOS, asks `PROGRAM --help` whether
 * --store-path is there.  -2 when activate.command is set but cannot be
 * started (the system is untouched); the default nixos-rebuild missing is
 * no error: the profile steps need none.
 */
int	activate_choose(struct activate_request *rq, struct err *e);
/* Activates rq->store_path the chosen way; 0 on success.  Exit status 4
 * (switched, but units failed) is a failure (-1).  -2 when nothing was
 * changed (activate.mode unsupported on the OS, program not found, the
 * profile could not be set): the system is untouched.  res holds the run
 * that decided, zeroed when there was none. */
int	activate_run(const struct activate_request *rq,
	    struct spawn_result *res, struct err *e);
/* Returns to the previous generation, the chosen method's way.  For
 * activate.mode test, which does not touch the profile, prev_system is
 * activated again. */
int	activate_rollback(const struct activate_request *rq,
	    const char *prev_system, struct spawn_result *res, struct err *e);
/* Runs argv with the children's environment (and the variables in set,
 * "NAME=VALUE", replacing ours; may be NULL), never cancelled by a stop
 * request: for activations, rollbacks and health checks. */
int	activate_spawn_env(const char *const *argv, const char *const *set,
	    const char *cwd, const char *log_path, uint64_t timeout_ms,
	    struct spawn_result *res, struct err *e);
int	activate_spawn(const char *const *argv, const char *cwd,
	    const char *log_path, uint64_t timeout_ms,
	    struct spawn_result *res, struct err *e);
/* Runs activate.health_checks in order; 0 when all pass.  On a failure,
 * res is that check's run and e names it. */
int	checks_run(const struct config *cfg, const char *log_path,
	    struct spawn_result *res, struct err *e);

#endif
