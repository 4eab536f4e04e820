/* The build tuner over a table of machines: invariants and exact values. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "platform.h"
#include "t.h"
#include "tune.h"

#define GiB (1024ULL * 1024 * 1024)

struct machine {
	const char	*name;
	unsigned	 cpus, affinity;
	double		 quota;
	uint64_t	 mem_gib;
	double		 load;
	int		 battery;
	/* expected, auto everything, mem_per_job 2 GiB */
	int		 ws_jobs, ws_cores, srv_jobs, srv_cores;
};

static const struct machine machines[] = {
	{ "1 cpu vps, 1 GiB",		1, 1, 0, 1, 0.1, 0,	1, 1, 1, 1 },
	{ "2 cpu vps, 2 GiB",		2, 2, 0, 2, 0.0, 0,	1, 1, 1, 2 },
	{ "2 cpu, 8 GiB",		2, 2, 0, 8, 0.0, 0,	1, 1, 2, 2 },
	{ "4 cpu laptop, on battery",	4, 4, 0, 8, 0.5, 1,	2, 2, 3, 3 },
	{ "8 cpu laptop, loaded",	8, 8, 0, 16, 9.0, 0,	3, 3, 4, 4 },
	{ "8 cpu desktop, 4 GiB free",	8, 8, 0, 4, 0.2, 0,	2, 4, 2, 8 },
	{ "16 cpu, 64 GiB",		16, 16, 0, 64, 1.0, 0,	4, 4, 6, 6 },
	{ "16 cpu pinned to 4",		16, 4, 0, 64, 0.0, 0,	2, 2, 3, 3 },
	{ "16 cpu container, quota 2",	16, 16, 2.0, 4, 0.0, 0,	1, 1, 2, 2 },
	{ "8 cpu, quota 1.5",		8, 8, 1.5, 16, 0.0, -1,	1, 1, 2, 2 },
	{ "32 cpu, 1 GiB free",		32, 32, 0, 1, 30.0, 0,	1, 31, 1, 32 },
	{ "64 cpu server, 256 GiB",	64, 64, 0, 256, 0.0, 0,	8, 8, 12, 11 },
	{ "128 cpu server, 512 GiB",	128, 128, 0, 512, 64.0, 0, 12, 11, 16, 16 },
	{ "128 cpu, 16 GiB free",	128, 128, 0, 16, 0.0, 0, 8, 16, 8, 32 },
};

static void
machine_platform(const struct machine *m, struct platform *p)
{
	platform_init(p);
	p->cpus_online = m->cpus;
	p->cpus_affinity = m->affinity;
	p->cpu_quota = m->quota;
	p->mem_total = 2 * m->mem_gib * GiB;
	p->mem_available = m->mem_gib * GiB;
	p->load1 = p->load5 = p->load15 = m->load;
	p->on_battery = m->battery;
	p->nix_store_free = 100 * GiB;
}

static void
config_for(struct config *cfg, enum build_profile profile)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->build.profile = profile;
	cfg->build.max_jobs = CONFIG_AUTO;
	cfg->build.cores = CONFIG_AUTO;
	cfg->build.mem_per_job = 2 * GiB;
	cfg->build.min_free_disk = 5 * GiB;
	cfg->build.on_battery = ON_BATTERY_BUILD;
}

/* What must hold on every machine, whatever the exact numbers. */
static void
check_invariants(const struct platform *p,
    enum build_profile profile, const struct tune_result *t)
{
	bool ws = profile == PROFILE_WORKSTATION;
	unsigned budget = platform_cpu_budget(p);
	uint64_t want = ws && budget > 1 ? budget - 1 : budget;
	uint64_t target = ws ? want : 2 * want;
	uint64_t memcap = p->mem_available / (2 * GiB);

	T_EQ_INT(t->cpu_budget, want);
	T_OK(t->max_jobs >= 1);
	T_OK(t->cores >= 1);
	T_OK((uint64_t)t->cores <= t->cpu_budget);
	/* near the budget: less than one core per job above the target */
	T_OK((uint64_t)t->max_jobs * (uint64_t)t->cores <
	    target + (uint64_t)t->max_jobs);
	/* and not wastefully below it, unless memory is what limits */
	if ((uint64_t)t->max_jobs < memcap)
		T_OK((uint64_t)t->max_jobs * (uint64_t)t->cores * 2 >= target);
	/* memory never oversubscribed */
	T_OK((uint64_t)t->max_jobs <= (memcap > 0 ? memcap : 1));
	T_EQ_INT(t->nice, ws ? 19 : 10);
	T_EQ_INT(t->idle_io, ws);
	T_OK(!t->defer);
	T_EQ_STR(t->reason, "");
}

static void
test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
		const struct machine *m = &machines[i];
		struct platform p;
		struct config cfg;
		struct tune_result t, t2;
		struct err e;
		int before = t_failed;

		machine_platform(m, &p);
		config_for(&cfg, PROFILE_WORKSTATION);
		T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
		check_invariants(&p, PROFILE_WORKSTATION, &t);
		T_EQ_INT(t.max_jobs, m->ws_jobs);
		T_EQ_INT(t.cores, m->ws_cores);

		/* load is reported, never subtracted */
		p.load1 = p.load5 = p.load15 = m->load + 50;
		T_OK(tune_choose(&p, &cfg, &t2, &e) == 0);
		T_OK(t2.max_jobs == t.max_jobs && t2.cores == t.cores);
		p.load1 = p.load5 = p.load15 = m->load;

		config_for(&cfg, PROFILE_SERVER);
		T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
		check_invariants(&p, PROFILE_SERVER, &t);
		T_EQ_INT(t.max_jobs, m->srv_jobs);
		T_EQ_INT(t.cores, m->srv_cores);
		if (t_failed != before)
			fprintf(stderr, "  in machine '%s'\n", m->name);
	}
}

/* Each explicit number wins on its own; the other one follows from it. */
static void
test_overrides(void)
{
	struct platform p;
	struct config cfg;
	struct tune_result t;
	struct err e;

	machine_platform(&machines[6], &p);	/* 16 cpu, 64 GiB */
	config_for(&cfg, PROFILE_WORKSTATION);
	cfg.build.max_jobs = 3;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_EQ_INT(t.max_jobs, 3);
	T_EQ_INT(t.cores, 5);

	cfg.build.max_jobs = CONFIG_AUTO;
	cfg.build.cores = 5;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_EQ_INT(t.max_jobs, 3);
	T_EQ_INT(t.cores, 5);

	cfg.build.cores = 0;	/* all of them, as nix means it */
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_EQ_INT(t.cores, 0);
	T_EQ_INT(t.max_jobs, 1);

	cfg.build.max_jobs = 40;
	cfg.build.cores = 7;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_EQ_INT(t.max_jobs, 40);
	T_EQ_INT(t.cores, 7);

	/* an explicit max_jobs is honoured even past the memory cap */
	p.mem_available = 1 * GiB;
	cfg.build.max_jobs = 4;
	cfg.build.cores = CONFIG_AUTO;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_EQ_INT(t.max_jobs, 4);
	T_EQ_INT(t.cores, 4);

	/* mem_per_job 0: no memory cap */
	cfg.build.max_jobs = CONFIG_AUTO;
	cfg.build.mem_per_job = 0;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_EQ_INT(t.max_jobs, 4);

	/* unknown MemAvailable: MemTotal caps instead */
	cfg.build.mem_per_job = 2 * GiB;
	p.mem_available = 0;
	p.mem_total = 4 * GiB;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_EQ_INT(t.max_jobs, 2);
	T_EQ_INT(t.cores, 8);
}

static void
test_disk(void)
{
	struct platform p;
	struct config cfg;
	struct tune_result t;
	struct err e;

	machine_platform(&machines[4], &p);
	config_for(&cfg, PROFILE_SERVER);
	p.nix_store_free = 3 * GiB + GiB / 5;
	T_OK(tune_choose(&p, &cfg, &t, &e) == -1);
	T_EQ_STR(e.msg, "only 3.2 GiB free in /nix/store, need 5.0 GiB");
	T_EQ_STR(t.reason, e.msg);
	T_OK(t.max_jobs >= 1);	/* still filled in for the status */

	p.nix_store_free = 5 * GiB;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_EQ_STR(t.reason, "");

	p.nix_store_free = 0;
	cfg.build.min_free_disk = 0;	/* check turned off */
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
}

static void
test_battery(void)
{
	struct platform p;
	struct config cfg;
	struct tune_result t;
	struct err e;

	machine_platform(&machines[3], &p);	/* on battery */
	config_for(&cfg, PROFILE_WORKSTATION);
	cfg.build.on_battery = ON_BATTERY_DEFER;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_OK(t.defer);
	T_EQ_STR(t.reason, "on battery");

	cfg.build.on_battery = ON_BATTERY_BUILD;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_OK(!t.defer);

	/* a server never defers; nor does a machine that cannot tell */
	config_for(&cfg, PROFILE_SERVER);
	cfg.build.on_battery = ON_BATTERY_DEFER;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_OK(!t.defer);
	config_for(&cfg, PROFILE_WORKSTATION);
	cfg.build.on_battery = ON_BATTERY_DEFER;
	p.on_battery = -1;
	T_OK(tune_choose(&p, &cfg, &t, &e) == 0);
	T_OK(!t.defer);

	/* the disk refusal wins over deferring */
	p.on_battery = 1;
	p.nix_store_free = GiB;
	T_OK(tune_choose(&p, &cfg, &t, &e) == -1);
	T_CONTAINS(t.reason, "only 1.0 GiB free");
}

int
main(void)
{
	test_table();
	test_overrides();
	test_disk();
	test_battery();
	return T_DONE();
}
