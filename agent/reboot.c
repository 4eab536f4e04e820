/*
 * The reboot step (reboot.h).  What it asks of the system, and where the
 * contracts come from:
 *   loginctl list-sessions --no-legend --no-pager --output=json
 *	systemd's loginctl(1): a JSON array of the session table's rows,
 *	keys the lowercased column names (session, uid, user, seat, tty;
 *	systemd 256 adds class, state, idle, since)
 *   busctl --json=short call org.freedesktop.login1 /org/freedesktop/login1
 *	org.freedesktop.login1.Manager ListInhibitors
 *	org.freedesktop.login1(5): ListInhibitors() -> a(ssssuu) (what, who,
 *	why, mode, uid, pid); busctl(1) --json prints {"type","data"}
 *   /usr/bin/stat -f %Su /dev/console	darwin's console user (platform.h)
 *   wall MESSAGE	the notice (util-linux wall(1)); and on graphical
 *			sessions notify-send (desktop.h)
 *   systemctl reboot / shutdown -r now (darwin)
 * Delay inhibitors need nothing from us: logind itself waits for them
 * (up to InhibitDelayMaxSec) once the reboot is asked for.
 */
#ifdef __APPLE__
#include <sys/types.h>
#include <sys/sysctl.h>
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "activate.h"
#include "config.h"
#include "desktop.h"
#include "duration.h"
#include "fleetlock.h"
#include "fsutil.h"
#include "log.h"
#include "platform.h"
#include "jfield.h"
#include "reboot.h"
#include "reboot_window.h"
#include "spawn.h"
#include "state.h"
#include "timeutil.h"

#define REBOOT_FILE		"reboot.json"
#define QUERY_TIMEOUT_MS	10000
#define REBOOT_CMD_TIMEOUT_MS	60000

/* <state_dir>/reboot.json: what must survive a restart or the reboot. */
struct rstate {
	time_t	 pending_since;	/* 0: nothing pending */
	time_t	 notice_at;	/* 0: no notice given */
	time_t	 rebooting_at;	/* 0: no reboot asked for */
	char	*into;		/* the system the reboot starts */
	char	*boot_id;	/* the boot it was asked from */
	char	*failed_into;	/* came back on another system: no retry */
	bool	 checks_due;	/* checks before steady-state */
	bool	 lock_held;	/* pre-reboot sent, no steady-state since */
	char	*waiting_for;	/* what the pending reboot was last logged
				   to wait for */
};

static bool resumed;	/* reboot_resume confirmed a reboot already */
static bool steady;	/* steady-state succeeded in this process */
static bool lock_down;	/* steady-state failed in this cycle */

/* reboot.json's fields, in file order (jfield.h); read leniently. */
#define RF(k, t, m)	JF_F(k, t, struct rstate, m, 0)
static const struct jf_field rstate_fields[] = {
	RF("pending_since", JF_EPOCH, pending_since),
	RF("notice_at", JF_EPOCH, notice_at),
	RF("rebooting_at", JF_EPOCH, rebooting_at),
	RF("into", JF_STR, into),
	RF("boot_id", JF_STR, boot_id),
	RF("failed_into", JF_STR, failed_into),
	RF("checks_due", JF_BOOL, checks_due),
	RF("lock_held", JF_BOOL, lock_held),
	RF("waiting_for", JF_STR, waiting_for),
};
static const struct jf_object rstate_obj = { JF_TABLE(rstate_fields) };

static void
rstate_release(struct rstate *r)
{
	jf_release(&rstate_obj, r);
	memset(r, 0, sizeof(*r));
}

void
reboot_result_init(struct reboot_result *res)
{
	memset(res, 0, sizeof(*res));
	res->required = -1;
	res->next_window = -1;
	res->last_took_ms = -1;
}

void
reboot_result_release(struct reboot_result *res)
{
	free(res->reason);
	free(res->blocked_by);
	free(res->last_into);
	free(res->last_result);
	free(res->error);
	reboot_result_init(res);
}

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

/* A reboot.json that cannot be read is as none: nothing pending. */
static void
rstate_load(const char *state_dir, struct rstate *r)
{
	struct err e;

	if (state_load_file(state_dir, REBOOT_FILE, &rstate_obj, r,
	    sizeof(*r), &e) == -1)
		log_warnx("%s: taken as no reboot pending", e.msg);
}

static void
rstate_save(const char *state_dir, const struct rstate *r)
{
	struct err e;

	if (state_save_file(state_dir, REBOOT_FILE, &rstate_obj, r, &e) == -1)
		log_warnx("%s", e.msg);
}

/* The clock; a test build may set it (NIXPULL_TEST_NOW, seconds). */
static time_t
now(void)
{
#ifdef NIXPULL_TEST_HOOKS
	const char *s = getenv("NIXPULL_TEST_NOW");

	if (s != NULL && *s != '\0')
		return (time_t)strtoll(s, NULL, 10);
#endif
	return time_now();
}

/* This boot's id, or "" when unknown. */
static char *
boot_id(void)
{
	struct buf b;
	struct err e;
	char *id;

#ifdef NIXPULL_TEST_HOOKS
	if (getenv("NIXPULL_TEST_BOOT_ID") != NULL)
		return xstrdup(getenv("NIXPULL_TEST_BOOT_ID"));
#endif
#ifdef __APPLE__
	/* darwin names each boot with a UUID (kern.bootsessionuuid); without
	 * one every start would look like the boot after our reboot, and an
	 * agent killed before its reboot would report it failed. */
	char uuid[64];
	size_t len = sizeof(uuid) - 1;

	(void)b;
	(void)e;
	(void)id;
	memset(uuid, 0, sizeof(uuid));
	if (sysctlbyname("kern.bootsessionuuid", uuid, &len, NULL, 0) == 0)
		return xstrndup(uuid, strcspn(uuid, "\n"));
	return xstrdup("");
#else
	if (fs_read_file("/proc/sys/kernel/random/boot_id", 128, &b, &e) ==
	    -1) {
		buf_release(&b);
		return xstrdup("");
	}
	id = xstrndup(b.data ? b.data : "", strcspn(b.data ? b.data : "",
	    "\n"));
	buf_release(&b);
	return id;
#endif
}

/* <dir of current_system>/booted-system, resolved; NULL when none. */
static char *
booted_system(const struct config *cfg)
{
	char *dir = xstrdup(cfg->activate.current_system), *slash, *p, *r;

	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	p = xasprintf("%s/booted-system", dir);
	r = state_resolve_system(p);
#ifdef __APPLE__
	/* nix-darwin has no booted-system: the running system stands for
	 * it (darwin has no kernel or initrd of the system's own). */
	if (r == NULL)
		r = state_resolve_system(cfg->activate.current_system);
#endif
	free(p);
	free(dir);
	return r;
}

static void
set_blocked(struct reboot_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_blocked(struct reboot_result *res, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_str(&res->blocked_by, msg);
}

static void
lock_client(const struct config *cfg, struct fleetlock_client *c, char *id)
{
	memset(c, 0, sizeof(*c));
	c->url = cfg->reboot.fleet_lock.url;
	c->group = cfg->reboot.fleet_lock.group;
	c->id = id;
	c->token_file = cfg->reboot.fleet_lock.token_file;
	c->ca_file = cfg->reboot.fleet_lock.ca_file;
	c->timeout_ms = cfg->reboot.fleet_lock.timeout_ms;
}

/* One FleetLock request; 0 on success, else e (and ans) say why. */
static int
lock_call(const struct config *cfg, bool take, struct fleetlock_answer *ans,
    struct err *e)
{
	struct fleetlock_client c;
	char id[FLEETLOCK_ID_LEN + 1];

	memset(ans, 0, sizeof(*ans));
	if (fleetlock_id(cfg->reboot.fleet_lock.machine_id, id, e) == -1)
		return -1;
	lock_client(cfg, &c, id);
	return take ? fleetlock_pre_reboot(&c, ans, e) :
	    fleetlock_steady_state(&c, ans, e);
}

/* After a reboot we asked for: is the booted system the one expected? */
static void
confirm(const struct reboot_request *q, struct reboot_result *res,
    struct rstate *r)
{
	char *booted = booted_system(q->cfg), *bid = boot_id();

	if (r->boot_id && bid[0] && strcmp(r->boot_id, bid) == 0) {
		/* Same boot: killed before the reboot, or it is under way;
		 * the step asks again. */
		free(booted);
		free(bid);
		return;
	}
	res->confirmed = true;
	res->last_at = now();
	set_str(&res->last_into, r->into);
	res->last_took_ms = (int64_t)(res->last_at - r->rebooting_at) * 1000;
	free(res->last_result);
	if (booted && r->into && strcmp(booted, r->into) == 0) {
		res->last_result = xstrdup("rebooted");
		log_info("rebooted into %s", r->into);
		free(r->failed_into);
		r->failed_into = NULL;
		r->pending_since = 0;
	} else {
		res->last_result = xasprintf("booted %s instead",
		    booted ? booted : "an unknown system");
		log_warnx("rebooted into %s, not %s: not retried",
		    booted ? booted : "an unknown system",
		    r->into ? r->into : "?");
		free(r->failed_into);
		r->failed_into = r->into ? xstrdup(r->into) : NULL;
	}
	r->rebooting_at = 0;
	r->notice_at = 0;
	r->checks_due = q->cfg->activate.nchecks > 0;
	free(r->into);
	r->into = NULL;
	free(booted);
	free(bid);
}

/*
 * After a boot we asked for, the health checks run before the FleetLock
 * slot is given back: a host that came up unhealthy keeps its slot, so
 * that no other host of the group reboots meanwhile.  false while they
 * fail (run again at the next call).
 */
static bool
healthy_after_boot(const struct reboot_request *q, struct reboot_result *res)
{
	struct spawn_result sres;
	struct rstate r;
	struct err e;
	char *dir, *log;
	bool ok = true;

	rstate_load(q->cfg->state_dir, &r);
	if (!r.checks_due)
		goto out;
	dir = xasprintf("%s/logs", q->cfg->state_dir);
	log = xasprintf("%s/reboot.log", dir);
	ok = fs_mkdir_p(dir, 0700, &e) == 0 &&
	    checks_run(q->cfg, log, &sres, &e) == 0;
	free(log);
	free(dir);
	res->confirming = !ok;
	if (ok) {
		log_info("after the reboot: health checks passed");
		res->checks = REBOOT_CHECKS_PASSED;
		r.checks_due = false;
		rstate_save(q->cfg->state_dir, &r);
	} else {
		log_warnx("after the reboot: %s (the fleet lock is kept; "
		    "checked again next cycle)", e.msg);
		res->checks = REBOOT_CHECKS_FAILED;
		set_str(&res->error, e.msg);
	}
	q->publish(q->arg, res);
 out:
	rstate_release(&r);
	return ok;
}

/*
 * steady-state: once per process at start (Zincati's rule: a host that
 * rebooted by hand returns its slot), and whenever the host holds a slot
 * (lock_held) it no longer needs.  The slot is kept while a reboot asked
 * for in this boot is still to come (rebooting_at: the step decides) and,
 * after a boot, until the health checks pass.  A failure is tried again
 * at the next call; lock_held survives restarts.
 */
static void
give_back(const struct reboot_request *q, struct reboot_result *res,
    struct rstate *r)
{
	struct fleetlock_answer ans;
	struct err e;

	if (q->cfg->reboot.fleet_lock.url == NULL || r->rebooting_at != 0 ||
	    r->checks_due || (steady && !r->lock_held) || lock_down)
		return;
	if (lock_call(q->cfg, false, &ans, &e) == 0) {
		steady = true;
		res->released = true;
		log_info("fleet lock: steady-state");
		if (r->lock_held) {
			r->lock_held = false;
			rstate_save(q->cfg->state_dir, r);
		}
	} else {
		lock_down = true;	/* once a cycle is enough */
		log_warnx("%s (steady-state tried again next cycle)", e.msg);
	}
}

void
reboot_resume(const struct reboot_request *q, struct reboot_result *res)
{
	struct rstate r;

	reboot_result_init(res);
	lock_down = false;
	if (!resumed) {
		resumed = true;
		rstate_load(q->cfg->state_dir, &r);
		if (r.rebooting_at != 0) {
			confirm(q, res, &r);
			/* The report first: killed in between, the next start
			 * confirms again rather than forget the reboot. */
			q->publish(q->arg, res);
			rstate_save(q->cfg->state_dir, &r);
		}
		rstate_release(&r);
	}
	if (!healthy_after_boot(q, res))
		return;
	rstate_load(q->cfg->state_dir, &r);
	give_back(q, res, &r);
	rstate_release(&r);
}

/* What differs between the booted system and the next boot's. */
static const char *
reason(const struct config *cfg, const char *into, const char *booted)
{
	static const char *const parts[] = { "kernel", "initrd",
	    "kernel-modules" };
	static const char *const names[] = { "kernel", "initrd", "modules" };
	char *pa, *pb, *ta, *tb, *cur;
	const char *why = NULL;

	/* Switch mode, and the next boot's system is not the one that runs:
	 * NixOS refused the switch, it was installed for the next boot
	 * (cycle.c, docs/switch-inhibitors.md). */
	cur = state_resolve_system(cfg->activate.current_system);
	if (cfg->activate.mode == MODE_SWITCH && into && cur &&
	    strcmp(into, cur) != 0)
		why = "switch-inhibited";
	free(cur);
	for (size_t i = 0; why == NULL && into && booted && i < 3; i++) {
		pa = xasprintf("%s/%s", into, parts[i]);
		pb = xasprintf("%s/%s", booted, parts[i]);
		ta = state_resolve_system(pa);
		tb = state_resolve_system(pb);
		if ((ta || tb) && (!ta || !tb || strcmp(ta, tb) != 0))
			why = names[i];
		free(pa);
		free(pb);
		free(ta);
		free(tb);
	}
	if (why == NULL && cfg->activate.mode == MODE_BOOT)
		why = "boot-mode";
	return why ? why : "kernel";
}

/* The first person logged in (a user-class session), or NULL. */
static char *
logged_in_user(struct err *e)
{
	const char *argv[] = { "loginctl", "list-sessions", "--no-legend",
	    "--no-pager", "--output=json", NULL };
	const char *cls, *state;
	struct buf out;
	json_t *j, *s;
	char *who = NULL;
	size_t i;

	if (spawn_capture(argv, NULL, QUERY_TIMEOUT_MS, MAX_LOGIND_OUTPUT,
	    &out, e) == -1) {
		buf_release(&out);
		return xstrdup("unknown (loginctl failed)");
	}
	j = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
	json_array_foreach(j, i, s) {
		cls = json_string_value(json_object_get(s, "class"));
		state = json_string_value(json_object_get(s, "state"));
		if ((cls && strncmp(cls, "user", 4) != 0) ||
		    (state && strcmp(state, "closing") == 0) ||
		    !json_is_string(json_object_get(s, "user")))
			continue;
		who = xstrdup(json_string_value(json_object_get(s, "user")));
		break;
	}
	if (j == NULL || !json_is_array(j))
		who = xstrdup("unknown (unreadable loginctl output)");
	json_decref(j);
	buf_release(&out);
	return who;
}

/* darwin: the person at the console (platform.h), or NULL. */
static char *
console_user(void)
{
	char user[256];
	struct err e;

	switch (platform_console_user(user, sizeof(user), &e)) {
	case 1:
		return xstrdup(user);
	case 0:
		return NULL;
	default:
		log_warnx("console user: %s", e.msg);
		return xstrdup("unknown (stat /dev/console failed)");
	}
}

static const char *
str_or(const json_t *j)
{
	return json_is_string(j) ? json_string_value(j) : "?";
}

static bool
what_has_shutdown(const char *what)
{
	const char *p = what;
	size_t n;

	for (; *p; p += n + (p[n] == ':')) {
		n = strcspn(p, ":");
		if (n == 8 && strncmp(p, "shutdown", 8) == 0)
			return true;
		if (p[n] == '\0')
			break;
	}
	return false;
}

/* "WHO: WHY" of the first shutdown inhibitor in block mode, or NULL. */
static char *
block_inhibitor(struct err *e)
{
	const char *argv[] = { "busctl", "--json=short", "call",
	    "org.freedesktop.login1", "/org/freedesktop/login1",
	    "org.freedesktop.login1.Manager", "ListInhibitors", NULL };
	const char *what, *mode;
	struct buf out;
	json_t *j, *list, *in;
	char *r = NULL;
	size_t i;

	if (spawn_capture(argv, NULL, QUERY_TIMEOUT_MS, MAX_LOGIND_OUTPUT,
	    &out, e) == -1) {
		buf_release(&out);
		return xstrdup("unknown: busctl failed");
	}
	j = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
	list = json_array_get(json_object_get(j, "data"), 0);
	json_array_foreach(list, i, in) {
		what = json_string_value(json_array_get(in, 0));
		mode = json_string_value(json_array_get(in, 3));
		if (what && mode && strcmp(mode, "block") == 0 &&
		    what_has_shutdown(what)) {
			r = xasprintf("%s: %s", str_or(json_array_get(in, 1)),
			    str_or(json_array_get(in, 2)));
			break;
		}
	}
	if (!json_is_array(list))
		r = xstrdup("unknown: unreadable busctl output");
	json_decref(j);
	buf_release(&out);
	return r;
}

static int
run(const char *const *argv, const char *what, struct err *e)
{
	struct spawn_opts o;
	struct spawn_result res;

	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.timeout_ms = REBOOT_CMD_TIMEOUT_MS;
	if (spawn_run(&o, &res, e) == -1)
		return -1;
	return spawn_check(&res, what, e);
}

static void
give_notice(const struct config *cfg, const char *into)
{
	char d[64], *msg;
	struct err e;
	const char *argv[3] = { "wall", NULL, NULL };

	duration_format(cfg->reboot.notice_ms, d, sizeof(d));
	msg = xasprintf("nixpull: this machine reboots in %s into a new "
	    "system (%s); save your work", d, into ? into : "?");
	argv[1] = msg;
	if (run(argv, "wall", &e) == -1)
		log_warnx("notice: %s", e.msg);
	free(msg);
	msg = xasprintf("This machine reboots in %s", d);
	desktop_notify(msg, "nixpull installed a new system that needs a "
	    "reboot. Save your work.");
	free(msg);
}

/* Why not now (res->blocked_by set), or 0 when nothing stands in the
 * way of the reboot but the lock. */
static int
wait_reason(const struct reboot_request *q, struct reboot_result *res,
    struct rstate *r, time_t t)
{
	const struct config *cfg = q->cfg;
	bool darwin = strcmp(q->os, "darwin") == 0;
	time_t next;
	char *who;
	struct err e;

	if (cfg->reboot.policy == REBOOT_NEVER) {
		set_blocked(res, "policy never");
		return -1;
	}
	if (reboot_window_next(cfg->reboot.windows, cfg->reboot.nwindows,
	    cfg->reboot.tz, t, &next, &e) == -1) {
		set_blocked(res, "window: %s", e.msg);
		return -1;
	}
	res->next_window = next > t ? next : 0;
	if (next > t) {
		set_blocked(res, "window");
		r->notice_at = 0;
		return -1;
	}
	if (cfg->reboot.users == USERS_WAIT && (who = darwin ?
	    console_user() : logged_in_user(&e)) != NULL) {
		set_blocked(res, "user %s", who);
		free(who);
		r->notice_at = 0;	/* notice again once they are gone */
		return -1;
	}
	if (!darwin && cfg->reboot.inhibitors == INHIBITORS_RESPECT &&
	    (who = block_inhibitor(&e)) != NULL) {
		set_blocked(res, "inhibitor %s", who);
		free(who);
		return -1;
	}
	if (cfg->reboot.notice_ms > 0 && r->notice_at == 0) {
		give_notice(cfg, r->into);
		r->notice_at = t;
	}
	if (r->notice_at > t)
		r->notice_at = t;	/* the clock went back: start over */
	if (r->notice_at != 0 && (uint64_t)(t - r->notice_at) * 1000 <
	    cfg->reboot.notice_ms) {
		set_blocked(res, "notice");
		return -1;
	}
	return 0;
}

/* Lock taken (or none configured), recorded, published, rebooted. */
static enum reboot_outcome
reboot_now(const struct reboot_request *q, struct reboot_result *res,
    struct rstate *r, time_t t)
{
	const char *nixos[] = { "systemctl", "reboot", NULL };
	const char *darwin[] = { "shutdown", "-r", "now", NULL };
	bool is_darwin = strcmp(q->os, "darwin") == 0;
	struct fleetlock_answer ans;
	struct err e;
	bool held = r->lock_held;
	int rc;

	if (q->cfg->reboot.fleet_lock.url != NULL) {
		/* Recorded first: a request whose answer is lost (killed,
		 * timed out) may still have taken the slot. */
		r->lock_held = true;
		rstate_save(q->cfg->state_dir, r);
	}
	if (q->cfg->reboot.fleet_lock.url != NULL &&
	    (rc = lock_call(q->cfg, true, &ans, &e)) != 0) {
		if (rc == FLEETLOCK_REFUSED && !held)
			r->lock_held = false;	/* the server said no */
		if (ans.kind[0])
			set_blocked(res, "fleet-lock %s: %s", ans.kind,
			    ans.value);
		else
			set_blocked(res, "fleet-lock unavailable: %s", e.msg);
		log_info("reboot deferred: %s", res->blocked_by);
		return REBOOT_DEFERRED;
	}
	lock_down = false;	/* it answered */
	free(r->boot_id);
	r->boot_id = boot_id();
	r->rebooting_at = t;
	rstate_save(q->cfg->state_dir, r);
	set_blocked(res, "rebooting");
	/* The report before the reboot: it may be the last one. */
	q->publish(q->arg, res);
	log_info("rebooting into %s (%s)", r->into ? r->into : "?",
	    res->reason ? res->reason : "?");
	if (run(is_darwin ? darwin : nixos, is_darwin ? "shutdown -r now" :
	    "systemctl reboot", &e) == 0)
		return REBOOT_STARTED;
	set_blocked(res, "reboot failed: %s", e.msg);
	set_str(&res->error, e.msg);
	log_warnx("%s", res->blocked_by);
	r->rebooting_at = 0;
	rstate_save(q->cfg->state_dir, r);
	give_back(q, res, r);
	return REBOOT_FAILED;
}

/*
 * Not rebooting now.  A reboot asked for earlier in this boot did not
 * happen (the agent was killed before or while asking for it, or the
 * reboot went nowhere) and may not happen now (the window closed, someone
 * logged in, it is no longer needed): it is forgotten and its slot given
 * back, so that the host does not keep a reboot slot of its group while
 * it waits.  The reboot itself stays pending and takes the lock again
 * when it may go on.
 */
static void
not_now(const struct reboot_request *q, struct reboot_result *res,
    struct rstate *r)
{
	char at[64];

	if (r->rebooting_at != 0) {
		if (time_format_rfc3339(r->rebooting_at, at, sizeof(at)) == -1)
			snprintf(at, sizeof(at), "?");
		log_info("the reboot asked for at %s did not happen and may "
		    "not happen now: forgotten, the fleet lock goes back", at);
		r->rebooting_at = 0;
		rstate_save(q->cfg->state_dir, r);
	}
	if (r->lock_held)
		give_back(q, res, r);
}

/* No reboot pending: the document's pending part cleared, published first
 * when there was one. */
static void
clear_pending(const struct reboot_request *q, struct reboot_result *res,
    struct rstate *r)
{
	bool was = r->pending_since != 0;

	res->pending = REBOOT_PENDING_CLEAR;
	res->overdue = false;
	res->pending_since = res->next_window = 0;
	free(res->reason);
	free(res->blocked_by);
	res->reason = res->blocked_by = NULL;
	r->pending_since = r->notice_at = 0;
	free(r->waiting_for);
	r->waiting_for = NULL;
	if (was) {
		rstate_save(q->cfg->state_dir, r);
		q->publish(q->arg, res);
	}
}

enum reboot_outcome
reboot_step(const struct reboot_request *q, struct reboot_result *res)
{
	char *booted = booted_system(q->cfg);
	time_t t = now();
	struct rstate r;

	reboot_result_init(res);
	res->outcome = REBOOT_DEFERRED;
	res->required = q->required;
	rstate_load(q->cfg->state_dir, &r);
	free(r.into);
	r.into = state_resolve_system(q->cfg->activate.profile);
	if (booted && r.into && strcmp(booted, r.into) == 0)
		res->required = 0;	/* it booted what it runs */
	if (res->required != 1 || (r.failed_into && r.into &&
	    strcmp(r.failed_into, r.into) == 0)) {
		clear_pending(q, res, &r);
		not_now(q, res, &r);
		res->outcome = REBOOT_NOT_NEEDED;
		goto out;
	}
	if (r.pending_since == 0)
		r.pending_since = t;
	res->pending = REBOOT_PENDING_SET;
	res->pending_since = r.pending_since;
	res->overdue = t > r.pending_since && (uint64_t)(t -
	    r.pending_since) * 1000 > q->cfg->reboot.max_defer_ms;
	res->reason = xstrdup(reason(q->cfg, r.into, booted));
	if (wait_reason(q, res, &r, t) == 0)
		res->outcome = reboot_now(q, res, &r, t);
	/* Logged when what it waits for changes, not every cycle. */
	if (res->outcome == REBOOT_DEFERRED && (r.waiting_for == NULL ||
	    strcmp(r.waiting_for, res->blocked_by) != 0)) {
		log_info("reboot pending (%s): waiting for %s", res->reason,
		    res->blocked_by);
		set_str(&r.waiting_for, res->blocked_by);
	}
	if (res->outcome == REBOOT_DEFERRED)
		not_now(q, res, &r);
	/* reboot_now published "rebooting"; the driver publishes the rest */
	if (res->outcome != REBOOT_STARTED)
		rstate_save(q->cfg->state_dir, &r);
 out:
	free(booted);
	rstate_release(&r);
	return res->outcome;
}
