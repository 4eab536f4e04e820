/*
 * The build tuner.  The rules, proved on tests/bench/tuning:
 *
 * - CPU budget: min(online, affinity, ceil(cgroup quota)).  A workstation
 *   keeps one CPU for its user (budget - 1, at least 1) and builds at nice
 *   19 with idle I/O; a server uses all of it at nice 10, so that its own
 *   services still come first.
 * - Load average is reported, not subtracted: it is a one-minute snapshot
 *   while a build lasts minutes to hours, and at nice 19 / idle I/O the
 *   build already yields to whatever the user runs.  Memory is what a busy
 *   machine lacks, and MemAvailable says so directly.
 * - Nix runs max-jobs derivations at once, each told to use `cores`.  Many
 *   small derivations want jobs; one big one wants cores; which phase a
 *   build is in is unknown in advance.  Giving both sqrt(target) keeps
 *   jobs × cores near the target (instead of the CPUs² that max-jobs=auto +
 *   cores=0 allow) while neither phase is starved:
 *       jobs  = ceil(sqrt(target)), at most floor(MemAvailable/mem_per_job)
 *       cores = ceil(target / jobs), at most the budget
 *   with target = budget on a workstation and 2 × budget on a server: the
 *   benchmark shows CPUs left idle while a lone derivation finishes cost
 *   more than a mild oversubscription, which only a server may pay for.
 * - Explicit max_jobs / cores in the config win, each on its own; the other
 *   one is then derived from it as above.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "platform.h"
#include "tune.h"

#define GIB		(1024.0 * 1024 * 1024)
#define NICE_WORKSTATION	19
#define NICE_SERVER		10

static unsigned
ceil_sqrt(unsigned n)
{
	unsigned r = 1;

	while (r * r < n)
		r++;
	return r;
}

static unsigned
ceil_div(unsigned a, unsigned b)
{
	return (a + b - 1) / b;
}

/* How many jobs memory allows; UINT32_MAX when unknown or unlimited. */
static unsigned
mem_cap(const struct platform *p, uint64_t mem_per_job)
{
	uint64_t mem = p->mem_available ? p->mem_available : p->mem_total;
	uint64_t n;

	if (mem_per_job == 0 || mem == 0)
		return UINT32_MAX;
	n = mem / mem_per_job;
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	return n > 0 ? (unsigned)n : 1;
}

static void
choose_split(unsigned budget, unsigned target, unsigned memcap,
    const struct config *cfg, struct tune_result *out)
{
	unsigned jobs, cores;

	if (cfg->build.max_jobs != CONFIG_AUTO) {
		jobs = (unsigned)cfg->build.max_jobs;
	} else if (cfg->build.cores != CONFIG_AUTO) {
		cores = cfg->build.cores > 0 ?
		    (unsigned)cfg->build.cores : budget;
		jobs = target / cores;
	} else
		jobs = ceil_sqrt(target);
	if (cfg->build.max_jobs == CONFIG_AUTO && jobs > memcap)
		jobs = memcap;
	if (jobs < 1)
		jobs = 1;
	if (cfg->build.cores != CONFIG_AUTO) {
		out->cores = cfg->build.cores;
	} else {
		cores = ceil_div(target, jobs);
		out->cores = (int)(cores > budget ? budget : cores);
	}
	out->max_jobs = (int)jobs;
}

static void
format_gib(char *out, size_t n, uint64_t bytes)
{
	snprintf(out, n, "%.1f GiB", (double)bytes / GIB);
}

int
tune_choose(const struct platform *p, const struct config *cfg,
    struct tune_result *out, struct err *e)
{
	bool ws = cfg->build.profile == PROFILE_WORKSTATION;
	unsigned budget = platform_cpu_budget(p), target;
	char have[32], need[32];

	memset(out, 0, sizeof(*out));
	if (ws && budget > 1)
		budget--;
	target = ws ? budget : 2 * budget;
	out->cpu_budget = budget;
	out->nice = ws ? NICE_WORKSTATION : NICE_SERVER;
	out->idle_io = ws;
	choose_split(budget, target, mem_cap(p, cfg->build.mem_per_job), cfg,
	    out);

	if (cfg->build.min_free_disk > 0 &&
	    p->nix_store_free < cfg->build.min_free_disk) {
		format_gib(have, sizeof(have), p->nix_store_free);
		format_gib(need, sizeof(need), cfg->build.min_free_disk);
		snprintf(out->reason, sizeof(out->reason),
		    "only %s free in /nix/store, need %s", have, need);
		return err_set(e, "%s", out->reason);
	}
	if (ws && p->on_battery == 1 &&
	    cfg->build.on_battery == ON_BATTERY_DEFER) {
		out->defer = true;
		snprintf(out->reason, sizeof(out->reason), "on battery");
	}
	return 0;
}
