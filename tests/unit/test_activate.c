/*
 * agent/activate.c, checks.c and the argv of build.c: the exact command
 * lines given to nixos-rebuild / darwin-rebuild (each flag and value its own
 * argument, CONTRACTS.md), exit status 4, rollbacks per mode and OS, health
 * checks.  A small recording program stands in for the rebuild commands.
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
static char prog[256], calls[256], exitfile[256];

/* A program that appends its argv (one argument a line, then "--") to
 * calls and exits with the number in exitfile, if there is one. */
static void
write_recorder(void)
{
	FILE *fp;

	snprintf(prog, sizeof(prog), "%s/rebuild", dir);
	snprintf(calls, sizeof(calls), "%s/calls", dir);
	snprintf(exitfile, sizeof(exitfile), "%s/exit", dir);
	fp = fopen(prog, "w");
	fprintf(fp, "#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '%%s\\n' "
	    "\"$a\"; done >>%s\necho -- >>%s\necho 'some output'\n"
	    "[ -f %s ] && exit \"$(cat %s)\"\nexit 0\n", calls, calls,
	    exitfile, exitfile);
	fclose(fp);
	chmod(prog, 0755);
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
	    "darwin-rebuild");
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
	write_recorder();
	config_defaults(&cfg);
	free(cfg.host);
	cfg.host = xstrdup("web-1");
	cfg.activate.command = prog;
	test_nixos(&cfg);
	test_darwin(&cfg);
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
