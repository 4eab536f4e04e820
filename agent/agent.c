/*
 * The agent (agent.h): what lives across the cycles of one agent process,
 * started, reloaded and released; the machine's facts for the tuner and
 * the status document.
 */
#include <string.h>

#include "agent.h"
#include "log.h"

void
agent_init(struct agent *a, const struct config *cfg,
    const volatile sig_atomic_t *cancel)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->cancel = cancel;
	platform_init(&a->plat);
	platform_identify(&a->plat);
	status_init(&a->st);
	fetcher_init(&a->fetcher, cfg);
}

int
agent_start(struct agent *a, struct err *e)
{
	return fetcher_start(&a->fetcher, e);
}

void
agent_reload(struct agent *a, const struct config *cfg, bool new_host)
{
	fetcher_stop(&a->fetcher);
	fetcher_init(&a->fetcher, cfg);
	a->cfg = cfg;
	if (new_host) {
		status_release(&a->st);
		status_init(&a->st);
		a->st_loaded = false;
	}
}

void
agent_release(struct agent *a)
{
	fetcher_stop(&a->fetcher);
	status_release(&a->st);
}

/* The machine's facts, for the tuner and the status document: only when
 * the cycle will do something (on darwin the probe runs programs). */
void
agent_probe(struct agent *a)
{
	struct err e;

	platform_init(&a->plat);
	if (platform_probe(&a->plat, &e) == -1)
		log_warnx("probe: %s", e.msg);
}

void
agent_probe_nix(struct agent *a)
{
	struct err e;

	if (a->nix_probed)
		return;
	a->nix_probed = true;
	if (platform_probe_nix(&a->plat, NULL, &e) == -1)
		log_warnx("probe: %s", e.msg);
}
