/* Health checks after an activation: each an argv, each with a time-out. */
#include "activate.h"
#include "config.h"
#include "log.h"

static int
check_one(const struct health_check *hc, const char *log_path,
    struct spawn_result *res, struct err *e)
{
	if (activate_spawn((const char *const *)hc->argv.v, "/", log_path,
	    hc->timeout_ms, res, e) == -1)
		return err_prefix(e, "health check '%s'", hc->argv.v[0]);
	if (res->timed_out)
		return err_set(e, "health check '%s' timed out",
		    hc->argv.v[0]);
	return spawn_check(res, hc->argv.v[0], e) == -1 ?
	    err_prefix(e, "health check failed") : 0;
}

int
checks_run(const struct config *cfg, const char *log_path,
    struct spawn_result *res, struct err *e)
{
	for (size_t i = 0; i < cfg->activate.nchecks; i++) {
		const struct health_check *hc = &cfg->activate.checks[i];

		if (hc->argv.n == 0)
			continue;
		log_info("health check: %s", hc->argv.v[0]);
		if (check_one(hc, log_path, res, e) == -1)
			return -1;
	}
	return 0;
}

