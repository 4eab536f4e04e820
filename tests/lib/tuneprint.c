/*
 * tuneprint [workstation|server]: prints "MAX_JOBS CORES" as the tuner
 * chooses them for this machine (probe and NIXPULL_TEST_* hooks included),
 * with the default mem_per_job and no disk or battery check.  For
 * tests/bench/tuning and the integration tests.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "platform.h"
#include "tune.h"

int
main(int argc, char **argv)
{
	struct platform p;
	struct config cfg;
	struct tune_result t;
	struct err e;

	memset(&cfg, 0, sizeof(cfg));
	cfg.build.profile = PROFILE_WORKSTATION;
	if (argc > 1 && strcmp(argv[1], "server") == 0)
		cfg.build.profile = PROFILE_SERVER;
	else if (argc > 1 && strcmp(argv[1], "workstation") != 0) {
		fprintf(stderr, "usage: tuneprint [workstation|server]\n");
		return 2;
	}
	cfg.build.max_jobs = CONFIG_AUTO;
	cfg.build.cores = CONFIG_AUTO;
	cfg.build.mem_per_job = 2ULL << 30;
	cfg.build.on_battery = ON_BATTERY_BUILD;
	if (platform_probe(&p, &e) == -1 || tune_choose(&p, &cfg, &t,
	    &e) == -1) {
		fprintf(stderr, "tuneprint: %s\n", e.msg);
		return 1;
	}
	printf("%d %d\n", t.max_jobs, t.cores);
	return 0;
}
