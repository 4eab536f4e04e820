#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activate.h"
#include "childenv.h"
#include "config.h"
#include "log.h"

#define HELP_TIMEOUT_MS	30000	/* `nixos-rebuild --help` */
/* nixos-rebuild-ng's SWITCH_TO_CONFIGURATION_CMD_PREFIX: the switch runs
 * in a transient unit, so that restarting the unit that started it (ours)
 * does not kill it, and two switches at once collide on its name. */
static const char *const systemd_run[] = {
	"systemd-run", "-E", "LOCALE_ARCHIVE", "-E", "NIXOS_INSTALL_BOOTLOADER",
	"-E", "NIXOS_NO_CHECK", "--collect", "--no-ask-password", "--pipe",
	"--quiet", "--service-type=exec",
	"--unit=nixos-rebuild-switch-to-configuration", NULL,
};

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

const char *
activate_method_name(enum activate_method m, const char *os)
{
	switch (m) {
	case ACTIVATE_STORE_PATH:
		return "store-path";
	case ACTIVATE_PROFILE:
		return is_darwin(os) ? "profile+activate" :
		    "profile+switch-to-configuration";
	case ACTIVATE_FLAKE:
		break;
	}
	return "flake";
}

static bool
env_overridden(const char *kv, const char *const *set)
{
	size_t n = strcspn(kv, "=");

	for (size_t i = 0; set && set[i]; i++)
		if (strncmp(kv, set[i], n) == 0 && set[i][n] == '=')
			return true;
	return false;
}

int
activate_spawn_env(const char *const *argv, const char *const *set,
    const char *cwd, const char *log_path, uint64_t timeout_ms,
    struct spawn_result *res, struct err *e)
{
	struct strvec base = STRVEC_INIT, env = STRVEC_INIT;
	struct spawn_opts o;
	int r;

	childenv_init(&base);
	for (size_t i = 0; i < base.n; i++)
		if (!env_overridden(base.v[i], set))
			strvec_push(&env, base.v[i]);
	for (size_t i = 0; set && set[i]; i++)
		strvec_push(&env, set[i]);
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.envp = (const char *const *)strvec_argv(&env);
	o.cwd = cwd;
	o.log_path = log_path;
	o.timeout_ms = timeout_ms;
	/* No cancel: a stop request never interrupts an activation. */
	r = spawn_run(&o, res, e);
	strvec_clear(&base);
	strvec_clear(&env);
	return r;
}

int
activate_spawn(const char *const *argv, const char *cwd,
    const char *log_path, uint64_t timeout_ms, struct spawn_result *res,
    struct err *e)
{
	return activate_spawn_env(argv, NULL, cwd, log_path, timeout_ms, res,
	    e);
}

static int
run_env(const struct activate_request *rq, struct strvec *argv,
    const char *const *set, struct spawn_result *res, struct err *e)
{
	return activate_spawn_env((const char *const *)strvec_argv(argv), set,
	    rq->scratch_dir, rq->log_path, rq->cfg->activate.timeout_ms, res,
	    e);
}

static int
run(const struct activate_request *rq, struct strvec *argv,
    struct spawn_result *res, struct err *e)
{
	return run_env(rq, argv, NULL, res, e);
}

/* 0 when res is a success; else -1, e naming what (exit 4: switched, but
 * units failed; NixOS only, darwin's activate has no such status). */
static int
finished(const struct activate_request *rq, const struct spawn_result *res,
    const char *what, struct err *e)
{
	if (res->timed_out)
		return err_set(e, "'%s' timed out", what);
	if (res->status == 4 && !is_darwin(rq->os))
		return err_set(e, "'%s' switched, but some units failed "
		    "(exit status 4)", what);
	return spawn_check(res, what, e);
}

/* ---- choosing ----------------------------------------------------------- */

/* 1 when `prog --help` mentions --store-path, 0 when it does not or fails,
 * -1 when prog cannot be started. */
static int
help_has_store_path(const struct activate_request *rq, const char *prog,
    struct err *e)
{
	static const char *const set[] = { "MANPAGER=cat", "PAGER=cat",
	    "LC_ALL=C", NULL };
	const char *argv[] = { prog, "--help", NULL };
	struct strvec base = STRVEC_INIT, env = STRVEC_INIT;
	struct buf out = BUF_INIT(MAX_HELP_OUTPUT);
	struct spawn_result res;
	struct spawn_opts o;
	int r = -1;

	childenv_init(&base);
	for (size_t i = 0; i < base.n; i++)
		if (!env_overridden(base.v[i], set))
			strvec_push(&env, base.v[i]);
	strvec_pushv(&env, set);
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.envp = (const char *const *)strvec_argv(&env);
	o.cwd = rq->scratch_dir;
	o.timeout_ms = HELP_TIMEOUT_MS;
	o.capture = &out;
	if (spawn_run(&o, &res, e) == -1)
		goto out;
	r = res.status == 0 && !res.timed_out && out.len > 0 &&
	    strstr(buf_str(&out), "--store-path") != NULL;
 out:
	buf_release(&out);
	strvec_clear(&base);
	strvec_clear(&env);
	return r;
}

/* A system the profile steps can activate: NixOS' toplevel has
 * bin/switch-to-configuration, nix-darwin's system an activate script. */
static bool
is_system(const char *path, const char *os)
{
	char *p = xasprintf("%s/%s", path, is_darwin(os) ?
	    "activate" : "bin/switch-to-configuration");
	bool ok = access(p, X_OK) == 0;

	free(p);
	return ok;
}

int
activate_choose(struct activate_request *rq, struct err *e)
{
	const char *prog = activate_program(rq->cfg, rq->os);
	int r;

	rq->method = ACTIVATE_FLAKE;
	if (rq->store_path == NULL || !is_system(rq->store_path, rq->os))
		return 0;
	rq->method = ACTIVATE_PROFILE;
	if (is_darwin(rq->os))
		return 0;	/* darwin-rebuild has no --store-path */
	if ((r = help_has_store_path(rq, prog, e)) == 1)
		rq->method = ACTIVATE_STORE_PATH;
	else if (r == -1 && rq->cfg->activate.command != NULL)
		return -2;	/* the configured program: say so */
	return 0;
}

/* ---- the steps ---------------------------------------------------------- */

/* systemd runs here: <dir of activate.current_system>/systemd/system is a
 * directory (nixos-rebuild-ng: `test -d /run/systemd/system`). */
static bool
systemd_running(const struct config *cfg)
{
	char *dir = xstrdup(cfg->activate.current_system), *slash, *p;
	struct stat sb;
	bool yes;

	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	p = xasprintf("%s/systemd/system", dir);
	yes = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(p);
	free(dir);
	return yes;
}

/* SYSTEM/bin/switch-to-configuration ACTION, the way nixos-rebuild-ng
 * runs it: under systemd-run when systemd runs, NIXOS_INSTALL_BOOTLOADER=0,
 * LOCALE_ARCHIVE and NIXOS_NO_CHECK passed on.  -2 when it did not start. */
static int
switch_to(const struct activate_request *rq, const char *system,
    const char *action, struct spawn_result *res, struct err *e)
{
	struct strvec argv = STRVEC_INIT, set = STRVEC_INIT;
	const char *nocheck = getenv("NIXOS_NO_CHECK");
	char *what = xasprintf("switch-to-configuration %s", action);
	int r;

	if (systemd_running(rq->cfg))
		strvec_pushv(&argv, systemd_run);
	strvec_pushf(&argv, "%s/bin/switch-to-configuration", system);
	strvec_push(&argv, action);
	strvec_push(&set, "NIXOS_INSTALL_BOOTLOADER=0");
	if (nocheck != NULL)
		strvec_pushf(&set, "NIXOS_NO_CHECK=%s", nocheck);
	if (run_env(rq, &argv, (const char *const *)strvec_argv(&set), res,
	    e) == -1)
		r = -2;		/* it did not start */
	else
		r = finished(rq, res, what, e);
	free(what);
	strvec_clear(&argv);
	strvec_clear(&set);
	return r;
}

/* nix-env -p PROFILE OP [PATH]: --set PATH, or --rollback. */
static int
profile_op(const struct activate_request *rq, const char *op,
    const char *path, struct spawn_result *res, struct err *e)
{
	struct strvec argv = STRVEC_INIT;
	char *what = xasprintf("nix-env -p %s %s%s%s", rq->cfg->activate.profile,
	    op, path ? " " : "", path ? path : "");
	int r = -1;

	strvec_push(&argv, "nix-env");
	strvec_push(&argv, "-p");
	strvec_push(&argv, rq->cfg->activate.profile);
	strvec_push(&argv, op);
	if (path)
		strvec_push(&argv, path);
	if (run(rq, &argv, res, e) == -1)
		goto out;
	r = res->timed_out ? err_set(e, "'%s' timed out", what) :
	    spawn_check(res, what, e);
 out:
	free(what);
	strvec_clear(&argv);
	return r;
}

/* nix-darwin: SYSTEM/activate, as darwin-rebuild runs it (as root). */
static int
darwin_activate(const struct activate_request *rq, const char *system,
    struct spawn_result *res, struct err *e)
{
	struct strvec argv = STRVEC_INIT;
	int r = -1;

	strvec_pushf(&argv, "%s/activate", system);
	if (run(rq, &argv, res, e) == -1)
		goto out;
	r = finished(rq, res, "activate", e);
 out:
	strvec_clear(&argv);
	return r;
}

static int
run_profile(const struct activate_request *rq, const char *mode,
    struct spawn_result *res, struct err *e)
{
	bool set = is_darwin(rq->os) || rq->cfg->activate.mode != MODE_TEST;
	int r;

	/* The profile not set: nothing changed. */
	if (set && profile_op(rq, "--set", rq->store_path, res, e) == -1)
		return -2;
	if (is_darwin(rq->os))
		return darwin_activate(rq, rq->store_path, res, e);
	r = switch_to(rq, rq->store_path, mode, res, e);
	/* Not started after the profile moved: that is to be undone. */
	return r == -2 && set ? -1 : r;
}

/*
 * With --flake, the activation program's Nix reads the fetcher's mirror
 * again: its git needs the safe.directory that the build step wrote to
 * <state_dir>/gitconfig for Nix's own git (build.c), else it refuses a
 * repository of another owner.  The flake method only follows a build.
 */
static int
run_prog(const struct activate_request *rq, struct strvec *argv,
    const char *what, struct spawn_result *res, struct err *e)
{
	char *git = NULL;
	const char *set[2] = { NULL, NULL };
	int r;

	if (rq->method == ACTIVATE_FLAKE)
		set[0] = git = xasprintf("GIT_CONFIG_GLOBAL=%s/gitconfig",
		    rq->cfg->state_dir);
	r = run_env(rq, argv, set, res, e);
	free(git);
	if (r == -1)
		return -2;	/* it did not start: nothing changed */
	return finished(rq, res, what, e);
}

int
activate_run(const struct activate_request *rq, struct spawn_result *res,
    struct err *e)
{
	const struct config *cfg = rq->cfg;
	struct strvec argv = STRVEC_INIT;
	const char *prog = activate_program(cfg, rq->os);
	const char *mode = config_mode_name(cfg->activate.mode);
	char *what = xasprintf("%s %s", prog, mode);
	int r;

	memset(res, 0, sizeof(*res));
	if (is_darwin(rq->os) && cfg->activate.mode != MODE_SWITCH) {
		err_set(e, "activate.mode '%s' is not supported by "
		    "nix-darwin (only 'switch' or 'none')", mode);
		r = -2;
		goto out;
	}
	log_info("activating %.12s (%s): %s", rq->rev,
	    activate_method_name(rq->method, rq->os),
	    rq->store_path ? rq->store_path : rq->flake_url);
	strvec_push(&argv, prog);
	strvec_push(&argv, mode);
	switch (rq->method) {
	case ACTIVATE_PROFILE:
		r = run_profile(rq, mode, res, e);
		goto out;
	case ACTIVATE_STORE_PATH:
		/* No re-exec: it would evaluate nixos-rebuild's own
		 * attribute from the configuration. */
		strvec_push(&argv, "--store-path");
		strvec_push(&argv, rq->store_path);
		strvec_push(&argv, "--no-reexec");
		break;
	case ACTIVATE_FLAKE:
		strvec_push(&argv, "--flake");
		strvec_pushf(&argv, "%s#%s", rq->flake_url, cfg->host);
		strvec_push(&argv, "--max-jobs");
		strvec_pushf(&argv, "%d", rq->max_jobs);
		strvec_push(&argv, "--cores");
		strvec_pushf(&argv, "%d", rq->cores);
		break;
	}
	r = run_prog(rq, &argv, what, res, e);
 out:
	free(what);
	strvec_clear(&argv);
	return r;
}

/* ---- rolling back ------------------------------------------------------- */

static int
rollback_profile(const struct activate_request *rq, const char *prev,
    struct spawn_result *res, struct err *e)
{
	const struct config *cfg = rq->cfg;
	char sys[PATH_MAX];

	if (!is_darwin(rq->os) && cfg->activate.mode == MODE_TEST)
		return switch_to(rq, prev, "test", res, e) == 0 ? 0 : -1;
	if (profile_op(rq, "--rollback", NULL, res, e) == -1)
		return -1;
	if (!is_darwin(rq->os))
		return switch_to(rq, cfg->activate.profile,
		    config_mode_name(cfg->activate.mode), res, e) == 0 ? 0 : -1;
	/* darwin-rebuild --rollback: the profile's systemConfig/activate. */
	if (realpath(cfg->activate.profile, sys) == NULL)
		return err_errno(e, "cannot resolve '%s'",
		    cfg->activate.profile);
	return darwin_activate(rq, sys, res, e);
}

/* The argv of a rollback with nixos-rebuild or darwin-rebuild; for mode
 * test, prev (not NULL) is activated again. */
static void
rollback_argv(const struct activate_request *rq, const char *prev,
    struct strvec *argv)
{
	const struct config *cfg = rq->cfg;
	bool ng = rq->method == ACTIVATE_STORE_PATH;
	bool test = cfg->activate.mode == MODE_TEST;

	if (is_darwin(rq->os)) {
		strvec_push(argv, activate_program(cfg, rq->os));
		strvec_push(argv, "--rollback");
	} else if (test && !ng) {
		strvec_pushf(argv, "%s/bin/switch-to-configuration", prev);
		strvec_push(argv, "test");
	} else {
		strvec_push(argv, activate_program(cfg, rq->os));
		strvec_push(argv, config_mode_name(cfg->activate.mode));
		if (test) {
			strvec_push(argv, "--store-path");
			strvec_push(argv, prev);
		} else
			strvec_push(argv, "--rollback");
		if (ng)
			strvec_push(argv, "--no-reexec");
	}
}

int
activate_rollback(const struct activate_request *rq, const char *prev_system,
    struct spawn_result *res, struct err *e)
{
	struct strvec argv = STRVEC_INIT;
	int r = -1;

	memset(res, 0, sizeof(*res));
	if (rq->cfg->activate.mode == MODE_TEST && prev_system == NULL &&
	    !is_darwin(rq->os))
		return err_set(e, "cannot roll back a 'test' activation: the "
		    "previous system is not known");
	log_warnx("rolling back %.12s (%s)", rq->rev,
	    activate_method_name(rq->method, rq->os));
	if (rq->method == ACTIVATE_PROFILE) {
		r = rollback_profile(rq, prev_system, res, e);
		goto out;
	}
	rollback_argv(rq, prev_system, &argv);
	if (run(rq, &argv, res, e) == -1)
		goto out;
	r = spawn_check(res, "rollback", e);
 out:
	strvec_clear(&argv);
	return r;
}
