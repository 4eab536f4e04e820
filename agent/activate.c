#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activate.h"
#include "childenv.h"
#include "config.h"
#include "log.h"

static bool
is_darwin(const char *os)
{
	return os && strcmp(os, "darwin") == 0;
}

const char *
activate_program(const struct config *cfg, const char *os)
{
	if (cfg->activate.command)
		return cfg->activate.command;
	return is_darwin(os) ? "darwin-rebuild" : "nixos-rebuild";
}

int
activate_spawn(const char *const *argv, const char *cwd,
    const char *log_path, uint64_t timeout_ms, struct spawn_result *res,
    struct err *e)
{
	struct strvec env = STRVEC_INIT;
	struct spawn_opts o;
	int r;

	childenv_init(&env);
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.envp = (const char *const *)strvec_argv(&env);
	o.cwd = cwd;
	o.log_path = log_path;
	o.timeout_ms = timeout_ms;
	/* No cancel: a stop request never interrupts an activation. */
	r = spawn_run(&o, res, e);
	strvec_clear(&env);
	return r;
}

static int
run(const struct activate_request *rq, struct strvec *argv,
    struct spawn_result *res, struct err *e)
{
	return activate_spawn((const char *const *)strvec_argv(argv),
	    rq->scratch_dir, rq->log_path, rq->cfg->activate.timeout_ms, res,
	    e);
}

int
activate_run(const struct activate_request *rq, struct spawn_result *res,
    struct err *e)
{
	const struct config *cfg = rq->cfg;
	struct strvec argv = STRVEC_INIT;
	const char *prog = activate_program(cfg, rq->os);
	const char *mode = config_mode_name(cfg->activate.mode);
	int r = -1;

	memset(res, 0, sizeof(*res));
	if (is_darwin(rq->os) && cfg->activate.mode != MODE_SWITCH) {
		err_set(e, "activate.mode '%s' is not supported by "
		    "darwin-rebuild (only 'switch' or 'none')", mode);
		return -2;
	}
	strvec_push(&argv, prog);
	strvec_push(&argv, mode);
	strvec_push(&argv, "--flake");
	strvec_pushf(&argv, "%s#%s", rq->flake_url, cfg->host);
	strvec_push(&argv, "--max-jobs");
	strvec_pushf(&argv, "%d", rq->max_jobs);
	strvec_push(&argv, "--cores");
	strvec_pushf(&argv, "%d", rq->cores);
	log_info("activating %.12s: %s %s", rq->rev, prog, mode);
	if (run(rq, &argv, res, e) == -1) {
		r = -2;		/* it did not start: nothing changed */
		goto out;
	}
	if (res->timed_out) {
		err_set(e, "'%s %s' timed out", prog, mode);
		goto out;
	}
	if (res->status == 4 && !is_darwin(rq->os)) {
		err_set(e, "'%s %s' switched, but some units failed "
		    "(exit status 4)", prog, mode);
		goto out;
	}
	if (spawn_check(res, prog, e) == -1)
		goto out;
	r = 0;
 out:
	strvec_clear(&argv);
	return r;
}

int
activate_rollback(const struct activate_request *rq, const char *prev_system,
    struct spawn_result *res, struct err *e)
{
	const struct config *cfg = rq->cfg;
	struct strvec argv = STRVEC_INIT;
	const char *prog = activate_program(cfg, rq->os);
	int r = -1;

	if (is_darwin(rq->os)) {
		strvec_push(&argv, prog);
		strvec_push(&argv, "--rollback");
	} else if (cfg->activate.mode == MODE_TEST) {
		if (prev_system == NULL)
			return err_set(e, "cannot roll back a 'test' "
			    "activation: the previous system is not known");
		strvec_pushf(&argv, "%s/bin/switch-to-configuration",
		    prev_system);
		strvec_push(&argv, "test");
	} else {
		strvec_push(&argv, prog);
		strvec_push(&argv, cfg->activate.mode == MODE_BOOT ?
		    "boot" : "switch");
		strvec_push(&argv, "--rollback");
	}
	log_warnx("rolling back %.12s: %s", rq->rev, argv.v[0]);
	if (run(rq, &argv, res, e) == -1)
		goto out;
	if (spawn_check(res, "rollback", e) == -1)
		goto out;
	r = 0;
 out:
	strvec_clear(&argv);
	return r;
}
