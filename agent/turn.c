/*
 * This host's turn in a rollout (turn.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "fleet.h"
#include "log.h"
#include "rollout.h"
#include "timeutil.h"
#include "turn.h"

#define MAX_NAMED_HOSTS	5	/* failed hosts named in a halt */

time_t
turn_now(void)
{
#ifdef NIXPULL_TEST_HOOKS
	const char *s = getenv("NIXPULL_TEST_NOW");

	if (s != NULL && *s != '\0')
		return (time_t)strtoll(s, NULL, 10);
#endif
	return time_now();
}

static void
set(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

/* "2026-12-03T14:00Z" */
static void
minute(time_t t, char *out, size_t outsz)
{
	char full[TIME_RFC3339_LEN];

	if (time_format_rfc3339(t, full, sizeof(full)) == -1) {
		snprintf(out, outsz, "%lld", (long long)t);
		return;
	}
	snprintf(out, outsz, "%.16sZ", full);
}

/* The plan of the selected release: 1 and p filled, 0 when there is none,
 * -1 with e naming the file, line, column and the revision. */
static int
plan_load(const struct turn_input *c, struct rollout_plan *p, struct err *e)
{
	const struct release_info *ri = &c->sel->release;
	const char *path = c->cfg->rollout.plan;

	switch (ri->plan) {
	case PLAN_NONE:
		return 0;
	case PLAN_TOO_BIG:
		return err_set(e, "rollout plan of %s: %s: %zu bytes, "
		    "more than %d", c->sel->rev, path, ri->plan_len,
		    MAX_ROLLOUT_SIZE);
	case PLAN_NOT_FILE:
		return err_set(e, "rollout plan of %s: %s: not a file",
		    c->sel->rev, path);
	default:
		break;
	}
	if (rollout_parse(p, path, ri->plan_text, ri->plan_len,
	    e) == -1)
		return err_prefix(e, "rollout plan of %s", c->sel->rev);
	return 1;
}

struct failures {
	const char	*rev;
	unsigned	 n;
	struct buf	 names;
};

static void
count_failed(void *arg, const struct status *st)
{
	struct failures *f = arg;
	const struct status_attempt *la = &st->last_attempt;
	bool on_rev = (st->rollout.release &&
	    strcmp(st->rollout.release, f->rev) == 0) ||
	    (la->rev && strcmp(la->rev, f->rev) == 0);

	if (!on_rev || (la->result != RESULT_FAILED &&
	    la->result != RESULT_ROLLED_BACK))
		return;
	if (f->n < MAX_NAMED_HOSTS)
		buf_addf(&f->names, "%s%s", f->n ? ", " : "", st->host);
	else if (f->n == MAX_NAMED_HOSTS)
		buf_addf(&f->names, ", ...");
	f->n++;
}

/* Halted by the fleet's failures: 1 with the reason in why, else 0. */
static int
halted(const struct turn_input *c, const struct rollout_plan *p,
    struct status_rollout *sr, char **why)
{
	struct failures f = { c->sel->rev, 0, BUF_INIT(MAX_ERROR) };
	struct fleet_source src;
	struct err e;
	int r = 0;

	memset(&src, 0, sizeof(src));
	src.url = c->cfg->report.url;
	src.token_file = c->cfg->report.token_file;
	src.ca_file = c->cfg->report.ca_file;
	src.timeout_ms = MAX_ROLLOUT_FLEET_SECONDS * 1000ULL;
	src.max_bytes = MAX_ROLLOUT_FLEET_SIZE;
	if (src.url == NULL)
		err_set(&e, "no report.url to read the fleet's status from");
	if (src.url == NULL || fleet_each(&src, count_failed, &f, &e) == -1) {
		set(&sr->fleet_error, e.msg);
		if (p->require_status) {
			*why = xasprintf("rollout halted: the fleet's status "
			    "cannot be read (halt.require_status): %s", e.msg);
			r = 1;
		} else
			log_warnx("rollout: the fleet's status cannot be read "
			    "(not halting): %s", e.msg);
	} else if (f.n >= p->halt_failed) {
		*why = xasprintf("rollout halted: %u host%s failed on %s (%s)",
		    f.n, f.n == 1 ? "" : "s", c->sel->rev, buf_str(&f.names));
		r = 1;
	}
	buf_release(&f.names);
	return r;
}

enum turn_result
turn_decide(const struct turn_input *c, struct status_rollout *sr,
    struct outcome *o)
{
	struct rollout_plan p;
	struct err e;
	char when[32], *why = NULL;
	size_t w;
	time_t due, now = turn_now();
	int r;

	memset(sr, 0, sizeof(*sr));
	if ((r = plan_load(c, &p, &e)) <= 0) {
		if (r == 0)
			return TURN_NOW;	/* no plan: everyone now */
		outcome_set(o, RESULT_REJECTED, NULL, "%s", e.msg);
		return TURN_REJECTED;
	}
	w = rollout_wave_of(&p, c->cfg->host, c->cfg->rollout.group,
	    c->sel->rev);
	due = rollout_due(&p, w, (time_t)c->sel->release.time);
	set(&sr->release, c->sel->rev);
	set(&sr->wave, p.waves[w].name);
	sr->released_at = (time_t)c->sel->release.time;
	sr->due_at = due;
	if (now < due) {
		minute(due, when, sizeof(when));
		why = xasprintf("rollout: wave %s starts %s", p.waves[w].name,
		    when);
	} else if (!p.urgent && w > 0 && p.halt_failed > 0 &&
	    halted(c, &p, sr, &why))
		set(&sr->halted_by, why);
	rollout_release(&p);
	if (why == NULL)
		return TURN_NOW;
	outcome_set(o, RESULT_DEFERRED, NULL, "%s", why);
	free(why);
	return TURN_DEFERRED;
}

uint64_t
turn_cap_delay(const struct config *cfg, const struct status_rollout *r,
    bool deferred, uint64_t delay_ms)
{
	time_t now = turn_now();
	uint64_t until, j;

	if (!deferred || r->release == NULL || r->halted_by != NULL ||
	    r->due_at <= now)
		return delay_ms;
	until = (uint64_t)(r->due_at - now) * 1000;
	/* Spread a wave's hosts over the jitter, after the start. */
	j = cfg->poll.jitter_ms;
	if (j > 0)
		until += (uint64_t)rollout_bucket(cfg->host, "jitter",
		    r->release) * j / ROLLOUT_HASH_BUCKETS;
	return until < delay_ms ? until : delay_ms;
}
