/*
 * agent/activate.c, checks.c and the argv of build.c: the exact command
 * lines given to nixos-rebuild / darwin-rebuild (each flag and value its own
 * argument, CONTRACTS.md), the choice between --store-path, the profile
 * steps (nix-env, switch-to-configuration under systemd-run, activate) and
 * --flake, exit status 4, rollbacks per method, mode and OS, health checks.
 * A small recording program stands in for every command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activate.h"
#include "build.h"
#include "config.h"
#include "fsutil.h"
#include "t.h"

static char dir[] = "/tmp/nixpull-test-activate.XXXXXX";
static char prog[256], calls[256], exitfile[256], helpfile[256];

/* A program that appends its argv (one argument a line, NIXOS_INSTALL_-
 * BOOTLOADER if set, then "--") to calls, prints helpfile for --help, and
 * exits with the number in exitfile, if there is one. */
static void
write_recorder(const char *path)
{
	FILE *fp;

	fp = fopen(path, "w");
	fprintf(fp, "#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '%%s\\n' "
	    "\"$a\"; done >>%s\n"
	    "[ -n \"${NIXOS_INSTALL_BOOTLOADER+x}\" ] && "
	    "echo \"NIXOS_INSTALL_BOOTLOADER=$NIXOS_INSTALL_BOOTLOADER\" >>%s\n"
	    "echo -- >>%s\n"
	    "if [ \"$1\" = --help ]; then cat %s 2>/dev/null; exit 0; fi\n"
	    "echo 'some output'\n"
	    "[ -f %s ] && exit \"$(cat %s)\"\nexit 0\n", calls, calls, calls,
	    helpfile, exitfile, exitfile);
	fclose(fp);
	chmod(path, 0755);
}

static void
mkdirs(const char *sub)
{
	struct err e;
	char *p = xasprintf("%s/%s", dir, sub);

	if (fs_mkdir_p(p, 0755, &e) == -1)
		fprintf(stderr, "%s\n", e.msg);
	free(p);
}

static void
write_file(const char *sub, const char *text)
{
	char *p = xasprintf("%s/%s", dir, sub);
	FILE *fp = fopen(p, "w");

	fputs(text, fp);
	fclose(fp);
	free(p);
}

/* dir/sub, in a static buffer (one at a time). */
static const char *
dir_file(const char *sub)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	return p;
}

static void
set_path(char **field, const char *sub)
{
	free(*field);
	*field = xasprintf("%s/%s", dir, sub);
}

static char *
take_calls(void)
{
	struct buf b;
	struct err e;
	char *s;

	if (fs_read_file(calls, 65536, &b, &e) == -1)
		return xstrdup("");
	s = buf_detach(&b, NULL);
	unlink(calls);
	return s;
}

static void
no_calls(void)
{
	char *c = take_calls();

	T_EQ_STR(c, "");
	free(c);
}

static void
set_exit(int code)
{
	FILE *fp;

	if (code < 0) {
		unlink(exitfile);
		return;
	}
	fp = fopen(exitfile, "w");
	fprintf(fp, "%d\n", code);
	fclose(fp);
}

static void
req(struct activate_request *rq, const struct config *cfg, const char *os)
{
	memset(rq, 0, sizeof(*rq));
	rq->cfg = cfg;
	rq->os = os;
	rq->flake_url = "git+file:///m.git?ref=main&rev=0123";
	rq->rev = "0123456789abcdef0123456789abcdef01234567";
	rq->scratch_dir = dir;
	rq->max_jobs = 3;
	rq->cores = 2;
}

static void
test_nixos(struct config *cfg)
{
	struct activate_request rq;
	struct spawn_result res;
	struct err e;
	char *c, want[1024];

	req(&rq, cfg, "linux");
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s\nswitch\n--flake\n"
	    "git+file:///m.git?ref=main&rev=0123#web-1\n--max-jobs\n3\n"
	    "--cores\n2\n--\n", prog);
	T_EQ_STR(c, want);
	free(c);

	/* 4: nixos-rebuild-ng switched, but units failed: a failure. */
	set_exit(4);
	T_EQ_INT(activate_run(&rq, &res, &e), -1);
	T_CONTAINS(e.msg, "some units failed (exit status 4)");
	set_exit(2);
	T_EQ_INT(activate_run(&rq, &res, &e), -1);
	T_CONTAINS(e.msg, "status 2");
	T_CONTAINS(res.tail, "some output");
	set_exit(-1);
	free(take_calls());

	/* Rollback: no --flake, the mode's action. */
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s\nswitch\n--rollback\n--\n", prog);
	T_EQ_STR(c, want);
	free(c);
	cfg->activate.mode = MODE_BOOT;
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	T_CONTAINS(c, "\nboot\n--flake\n");
	T_CONTAINS(c, "\nboot\n--rollback\n--\n");
	free(c);
	/* test does not touch the profile: the system that ran before is
	 * activated again. */
	cfg->activate.mode = MODE_TEST;
	T_EQ_INT(activate_rollback(&rq, NULL, &res, &e), -1);
	T_CONTAINS(e.msg, "previous system is not known");
	cfg->activate.mode = MODE_SWITCH;
}

static void
test_darwin(struct config *cfg)
{
	struct activate_request rq;
	struct spawn_result res;
	struct err e;
	char *c, want[1024];

	req(&rq, cfg, "darwin");
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s\nswitch\n--flake\n"
	    "git+file:///m.git?ref=main&rev=0123#web-1\n--max-jobs\n3\n"
	    "--cores\n2\n--\n%s\n--rollback\n--\n", prog, prog);
	T_EQ_STR(c, want);
	free(c);
	/* Not started (-2): nothing to roll back; res holds no stale run. */
	cfg->activate.mode = MODE_BOOT;
	memset(&res, 'x', sizeof(res));
	T_EQ_INT(activate_run(&rq, &res, &e), -2);
	T_CONTAINS(e.msg, "activate.mode 'boot' is not supported by "
	    "nix-darwin");
	T_EQ_STR(res.tail, "");
	cfg->activate.mode = MODE_SWITCH;
	cfg->activate.command = "/nonexistent/darwin-rebuild";
	T_EQ_INT(activate_run(&rq, &res, &e), -2);
	T_CONTAINS(e.msg, "cannot run");
	cfg->activate.command = prog;
	cfg->activate.mode = MODE_SWITCH;
	cfg->activate.command = NULL;
	T_EQ_STR(activate_program(cfg, "darwin"), "darwin-rebuild");
	T_EQ_STR(activate_program(cfg, "linux"), "nixos-rebuild");
	cfg->activate.command = prog;
}

/* --store-path where --help mentions it; else the profile steps; --flake
 * only for a path that is no system. */
static void
test_choose(struct config *cfg)
{
	struct activate_request rq;
	struct err e;
	char *sys = xasprintf("%s/sys", dir), *c, want[1024];

	req(&rq, cfg, "linux");
	T_EQ_INT(activate_choose(&rq, &e), 0);
	T_EQ_INT(rq.method, ACTIVATE_FLAKE);		/* no store path */
	rq.store_path = dir;				/* not a system */
	T_EQ_INT(activate_choose(&rq, &e), 0);
	T_EQ_INT(rq.method, ACTIVATE_FLAKE);
	no_calls();					/* nothing asked */
	rq.store_path = sys;
	T_EQ_INT(activate_choose(&rq, &e), 0);
	T_EQ_INT(rq.method, ACTIVATE_PROFILE);		/* no help text */
	c = take_calls();
	snprintf(want, sizeof(want), "%s\n--help\n--\n", prog);
	T_EQ_STR(c, want);
	free(c);
	write_file("help", "usage: nixos-rebuild [--rollback] "
	    "[--store-path PATH] {switch,boot,test}\n");
	T_EQ_INT(activate_choose(&rq, &e), 0);
	T_EQ_INT(rq.method, ACTIVATE_STORE_PATH);
	write_file("help", "nixos-rebuild [--flake FLAKE] [--no-reexec]\n");
	T_EQ_INT(activate_choose(&rq, &e), 0);
	T_EQ_INT(rq.method, ACTIVATE_PROFILE);
	/* A configured command that cannot start: said, nothing changed. */
	cfg->activate.command = "/nonexistent/nixos-rebuild";
	T_EQ_INT(activate_choose(&rq, &e), -2);
	T_CONTAINS(e.msg, "cannot run");
	cfg->activate.command = prog;
	free(take_calls());
	/* darwin-rebuild has no --store-path: nothing is asked. */
	req(&rq, cfg, "darwin");
	rq.store_path = sys;
	T_EQ_INT(activate_choose(&rq, &e), 0);
	T_EQ_INT(rq.method, ACTIVATE_FLAKE);		/* no activate */
	free(sys);
	sys = xasprintf("%s/dsys", dir);
	rq.store_path = sys;
	T_EQ_INT(activate_choose(&rq, &e), 0);
	T_EQ_INT(rq.method, ACTIVATE_PROFILE);
	T_EQ_STR(activate_method_name(ACTIVATE_PROFILE, "darwin"),
	    "profile+activate");
	T_EQ_STR(activate_method_name(ACTIVATE_PROFILE, "linux"),
	    "profile+switch-to-configuration");
	T_EQ_STR(activate_method_name(ACTIVATE_STORE_PATH, "linux"),
	    "store-path");
	T_EQ_STR(activate_method_name(ACTIVATE_FLAKE, "linux"), "flake");
	no_calls();
	free(sys);
}

/* nixos-rebuild MODE --store-path PATH --no-reexec: no --flake, no build
 * flags; rollbacks with --no-reexec, test mode back to the previous path. */
static void
test_store_path(struct config *cfg)
{
	struct activate_request rq;
	struct spawn_result res;
	struct err e;
	char *sys = xasprintf("%s/sys", dir), *c, want[2048];

	req(&rq, cfg, "linux");
	rq.store_path = sys;
	rq.method = ACTIVATE_STORE_PATH;
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s\nswitch\n--store-path\n%s\n"
	    "--no-reexec\n--\n%s\nswitch\n--rollback\n--no-reexec\n--\n",
	    prog, sys, prog);
	T_EQ_STR(c, want);
	free(c);
	set_exit(4);
	T_EQ_INT(activate_run(&rq, &res, &e), -1);
	T_CONTAINS(e.msg, "some units failed (exit status 4)");
	set_exit(-1);
	free(take_calls());
	cfg->activate.mode = MODE_TEST;
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s\ntest\n--store-path\n%s\n"
	    "--no-reexec\n--\n%s\ntest\n--store-path\n/prev\n--no-reexec\n--\n",
	    prog, sys, prog);
	T_EQ_STR(c, want);
	free(c);
	cfg->activate.mode = MODE_BOOT;
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	T_CONTAINS(c, "\nboot\n--rollback\n--no-reexec\n--\n");
	free(c);
	cfg->activate.mode = MODE_SWITCH;
	free(sys);
}

/* The steps nixos-rebuild takes: nix-env --set (switch, boot), then
 * switch-to-configuration, under systemd-run when systemd runs. */
static void
test_profile_nixos(struct config *cfg)
{
	struct activate_request rq;
	struct spawn_result res;
	struct err e;
	char *sys = xasprintf("%s/sys", dir), *c, want[4096];

	req(&rq, cfg, "linux");
	rq.store_path = sys;
	rq.method = ACTIVATE_PROFILE;
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s/bin/nix-env\n-p\n%s/profile\n--set\n"
	    "%s\n--\n%s/bin/switch-to-configuration\nswitch\n"
	    "NIXOS_INSTALL_BOOTLOADER=0\n--\n", dir, dir, sys, sys);
	T_EQ_STR(c, want);
	free(c);
	/* systemd runs: a transient unit, as nixos-rebuild-ng does. */
	mkdirs("run/systemd/system");
	cfg->activate.mode = MODE_BOOT;
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s/bin/nix-env\n-p\n%s/profile\n--set\n"
	    "%s\n--\n%s/bin/systemd-run\n-E\nLOCALE_ARCHIVE\n-E\n"
	    "NIXOS_INSTALL_BOOTLOADER\n-E\nNIXOS_NO_CHECK\n--collect\n"
	    "--no-ask-password\n--pipe\n--quiet\n--service-type=exec\n"
	    "--unit=nixos-rebuild-switch-to-configuration\n"
	    "%s/bin/switch-to-configuration\nboot\n"
	    "NIXOS_INSTALL_BOOTLOADER=0\n--\n", dir, dir, sys, dir, sys);
	T_EQ_STR(c, want);
	free(c);
	/* Rollback: nix-env --rollback, the profile's switch-to-configuration. */
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s/bin/nix-env\n-p\n%s/profile\n"
	    "--rollback\n--\n", dir, dir);
	T_CONTAINS(c, want);
	snprintf(want, sizeof(want), "%s/profile/bin/switch-to-configuration\n"
	    "boot\n", dir);
	T_CONTAINS(c, want);
	free(c);
	/* test: the profile is left alone; rollback = the old system's. */
	cfg->activate.mode = MODE_TEST;
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	T_OK(strstr(c, "nix-env") == NULL);
	snprintf(want, sizeof(want), "%s/bin/switch-to-configuration\ntest\n",
	    sys);
	T_CONTAINS(c, want);
	T_CONTAINS(c, "\n/prev/bin/switch-to-configuration\ntest\n");
	free(c);
	/* 4 from switch-to-configuration: switched, units failed. */
	cfg->activate.mode = MODE_SWITCH;
	set_exit(4);
	T_EQ_INT(activate_run(&rq, &res, &e), -2);	/* nix-env failed */
	T_CONTAINS(e.msg, "nix-env -p ");
	set_exit(-1);
	write_file("bin/nix-env", "#!/bin/sh\nexit 0\n");
	set_exit(4);
	T_EQ_INT(activate_run(&rq, &res, &e), -1);
	T_CONTAINS(e.msg, "'switch-to-configuration switch' switched, but "
	    "some units failed (exit status 4)");
	set_exit(2);
	T_EQ_INT(activate_run(&rq, &res, &e), -1);
	T_CONTAINS(e.msg, "exited with status 2");
	set_exit(-1);
	write_recorder(dir_file("bin/nix-env"));
	free(take_calls());
	T_EQ_INT(rmdir(dir_file("run/systemd/system")), 0);
	free(sys);
}

/* nix-darwin: nix-env --set, SYSTEM/activate; rollback: nix-env --rollback,
 * the profile's system's activate. */
static void
test_profile_darwin(struct config *cfg)
{
	struct activate_request rq;
	struct spawn_result res;
	struct err e;
	char *sys = xasprintf("%s/dsys", dir), *c, want[4096];

	req(&rq, cfg, "darwin");
	rq.store_path = sys;
	rq.method = ACTIVATE_PROFILE;
	T_EQ_INT(activate_run(&rq, &res, &e), 0);
	/* The recorder moves no profile: it points at dsys already. */
	T_EQ_INT(unlink(dir_file("profile")), 0);
	T_EQ_INT(symlink(sys, dir_file("profile")), 0);
	T_EQ_INT(activate_rollback(&rq, "/prev", &res, &e), 0);
	c = take_calls();
	snprintf(want, sizeof(want), "%s/bin/nix-env\n-p\n%s/profile\n--set\n"
	    "%s\n--\n%s/activate\n--\n%s/bin/nix-env\n-p\n%s/profile\n"
	    "--rollback\n--\n%s/activate\n--\n", dir, dir, sys, sys, dir,
	    dir, sys);
	T_EQ_STR(c, want);
	free(c);
	free(sys);
}

static void
test_checks(struct config *cfg)
{
	struct health_check hc[2];
	struct spawn_result res;
	struct err e;

	memset(hc, 0, sizeof(hc));
	strvec_push(&hc[0].argv, "true");
	hc[0].timeout_ms = 5000;
	strvec_push(&hc[1].argv, "sh");
	strvec_push(&hc[1].argv, "-c");
	strvec_push(&hc[1].argv, "echo degraded; exit 3");
	hc[1].timeout_ms = 5000;
	cfg->activate.checks = hc;
	cfg->activate.nchecks = 1;
	T_EQ_INT(checks_run(cfg, NULL, &res, &e), 0);
	cfg->activate.nchecks = 2;
	T_EQ_INT(checks_run(cfg, NULL, &res, &e), -1);
	T_CONTAINS(e.msg, "health check failed");
	T_CONTAINS(res.tail, "degraded");
	/* A check that hangs is stopped by its time-out. */
	strvec_clear(&hc[1].argv);
	strvec_push(&hc[1].argv, "sleep");
	strvec_push(&hc[1].argv, "30");
	hc[1].timeout_ms = 200;
	T_EQ_INT(checks_run(cfg, NULL, &res, &e), -1);
	T_CONTAINS(e.msg, "timed out");
	strvec_clear(&hc[0].argv);
	strvec_clear(&hc[1].argv);
	cfg->activate.checks = NULL;
	cfg->activate.nchecks = 0;
}

static void
test_build_names(struct config *cfg)
{
	struct buf b = BUF_INIT(4096);

	build_flake_url("/var/lib/nix pull/mirror.git", "main",
	    "0123456789abcdef0123456789abcdef01234567", &b);
	T_EQ_STR(buf_str(&b), "git+file:///var/lib/nix%20pull/mirror.git?"
	    "ref=main&rev=0123456789abcdef0123456789abcdef01234567");
	buf_reset(&b);
	build_attribute(cfg, "linux", &b);
	T_EQ_STR(buf_str(&b),
	    "nixosConfigurations.\"web-1\".config.system.build.toplevel");
	buf_reset(&b);
	build_attribute(cfg, "darwin", &b);
	T_EQ_STR(buf_str(&b), "darwinConfigurations.\"web-1\".system");
	buf_reset(&b);
	cfg->build.attribute = "packages.x86_64-linux.default";
	build_attribute(cfg, "linux", &b);
	T_EQ_STR(buf_str(&b), "packages.x86_64-linux.default");
	cfg->build.attribute = NULL;
	buf_release(&b);
}

int
main(void)
{
	struct config cfg;
	char *rm;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(prog, sizeof(prog), "%s/rebuild", dir);
	snprintf(calls, sizeof(calls), "%s/calls", dir);
	snprintf(exitfile, sizeof(exitfile), "%s/exit", dir);
	snprintf(helpfile, sizeof(helpfile), "%s/help", dir);
	mkdirs("bin");
	mkdirs("sys/bin");
	mkdirs("dsys");
	mkdirs("run");
	write_recorder(prog);
	write_recorder(dir_file("bin/nix-env"));
	write_recorder(dir_file("bin/systemd-run"));
	write_recorder(dir_file("sys/bin/switch-to-configuration"));
	write_recorder(dir_file("dsys/activate"));
	write_file("sys/nixos-version", "test\n");
	rm = xasprintf("%s/sys", dir);
	T_EQ_INT(symlink(rm, dir_file("profile")), 0);
	free(rm);
	rm = xasprintf("%s/bin:%s", dir, getenv("PATH"));
	setenv("PATH", rm, 1);
	free(rm);
	config_defaults(&cfg);
	free(cfg.host);
	cfg.host = xstrdup("web-1");
	set_path(&cfg.activate.profile, "profile");
	set_path(&cfg.activate.current_system, "run/current-system");
	cfg.activate.command = prog;
	test_nixos(&cfg);
	test_darwin(&cfg);
	test_choose(&cfg);
	test_store_path(&cfg);
	test_profile_nixos(&cfg);
	test_profile_darwin(&cfg);
	test_checks(&cfg);
	test_build_names(&cfg);
	cfg.activate.command = NULL;
	config_release(&cfg);
	rm = xasprintf("rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return T_DONE();
}
