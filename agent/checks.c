/* Health checks after an activation: each an argv, each with a time-out. */
#include "activate.h"
#include "config.h"
#include "cycle_int.h"
#include "log.h"
#include "timeutil.h"

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

/* Health checks after a (resumed) activation; boot mode has none to run:
 * the new system only starts at the next boot. */
int
checks_step(struct agent *a, const char *log_path,
    struct spawn_result *res, struct err *e)
{
	uint64_t t0 = time_monotonic_ms();
	int r;

	if (a->cfg->activate.mode == MODE_BOOT)
		return 0;
	a->st.last_attempt.phase = PHASE_CHECK;
	res->tail[0] = '\0';
	r = checks_run(a->cfg, log_path, res, e);
	attempt_duration(a, PHASE_CHECK, time_monotonic_ms() - t0);
	return r;
}
