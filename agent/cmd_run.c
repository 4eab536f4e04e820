/*
 * `nixpull once` and `nixpull run`: the lock, the signals, the loop.
 *
 * run: cycle, then sleep poll.interval +- poll.jitter (spread by a per-host
 * seed so a fleet does not poll in lock-step), backing off after failures.
 * SIGHUP re-reads the config (keeping the old one when the new one is
 * invalid) and polls now; SIGUSR1 polls now; SIGTERM/SIGINT stop after the
 * current step, never in the middle of an activation (spawn_run is given
 * the stop flag only for builds).  systemd: READY=1, STATUS=<state>,
 * WATCHDOG=1, RELOADING=1, STOPPING=1 over $NOTIFY_SOCKET.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "cycle.h"
#include "evloop.h"
#include "fsutil.h"
#include "log.h"
#include "notify.h"
#include "timeutil.h"

#define MAX_BACKOFF_SHIFT	3		/* at most 8 x interval */
#define MAX_BACKOFF_MS		(3600 * 1000)	/* ... or an hour */
#define MIN_DELAY_MS		1000		/* jitter never goes below */
#define WATCHDOG_SLACK_MS	(60 * 1000)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t poll_requested;
static volatile sig_atomic_t reload_requested;
/* The handler writes a byte here, which ends the wait of the event loop
 * (evloop.h): a signal between the flag checks and the poll is not lost
 * (the byte waits in the pipe). */
static int wake_fds[2] = { -1, -1 };

/* The watchdog: a timer of the event loop pings systemd as long as the
 * agent is within the time it promised for its current step; a hung step
 * stops the pings (and a step that blocks outside the loop, such as a
 * report's HTTP request, is bounded by its own time-out, far below
 * WatchdogSec). */
static uint64_t wd_deadline_ms;
static struct evloop_timer wd_timer;

static void
on_signal(int sig)
{
	int saved = errno;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		stop_requested = 1;
		break;
	case SIGHUP:
		reload_requested = 1;
		poll_requested = 1;
		break;
	case SIGUSR1:
		poll_requested = 1;
		break;
	}
	/* A full pipe (EAGAIN) wakes the sleep all the same. */
	if (wake_fds[1] != -1 && write(wake_fds[1], "", 1) == -1)
		errno = saved;
	errno = saved;
}

static int
signals_setup(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct sigaction sa;

	if (wake_fds[0] == -1 && pipe(wake_fds) == -1) {
		log_warn("pipe");
		return -1;
	}
	for (int i = 0; i < 2; i++)
		if (fcntl(wake_fds[i], F_SETFD, FD_CLOEXEC) == -1 ||
		    fcntl(wake_fds[i], F_SETFL, O_NONBLOCK) == -1) {
			log_warn("fcntl");
			return -1;
		}
	evloop_set_signal_fd(wake_fds[0]);
	/* SA_RESTART: a poll request must not fail a read in libgit2 or
	 * libcurl with EINTR.  poll(2), where spawn_run waits, and our sleep
	 * are interrupted all the same. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1) {
			log_warn("sigaction");
			return -1;
		}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
watchdog_tick(void *arg)
{
	(void)arg;
	if (time_monotonic_ms() < wd_deadline_ms)
		notify_send("WATCHDOG=1");
}

static void
watchdog_start(void)
{
	uint64_t interval = notify_watchdog_ms();

	if (interval == 0)
		return;
	wd_timer.period_ms = interval / 2 ? interval / 2 : 1;
	wd_timer.fn = watchdog_tick;
	evloop_add_timer(&wd_timer);
}

static void
watchdog_promise(uint64_t ms)
{
	wd_deadline_ms = time_monotonic_ms() + ms + WATCHDOG_SLACK_MS;
	if (wd_timer.fn != NULL)
		notify_send("WATCHDOG=1");
}

static void
watchdog_stop(void)
{
	wd_deadline_ms = 0;
	if (wd_timer.fn != NULL)
		evloop_remove_timer(&wd_timer);
}

/* The longest a cycle may take if every step uses its whole time-out. */
static uint64_t
cycle_bound_ms(const struct config *cfg)
{
	uint64_t ms = 2 * (cfg->repo.timeout_ms + cfg->repo.connect_timeout_ms)
	    + cfg->build.timeout_ms + 2 * cfg->activate.timeout_ms +
	    2 * cfg->report.timeout_ms + 60000;

	for (size_t i = 0; i < cfg->activate.nchecks; i++)
		ms += cfg->activate.checks[i].timeout_ms;
	return ms;
}

static void
phase_notify(const char *phase)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "STATUS=%s", phase);
	notify_send(msg);
}

struct opts {
	const char	*config;
};

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		CMD_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	int ch, r;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, CMD_COMMON_SHORT, lopts,
	    NULL)) != -1)
		if ((r = cmd_common_opt(ch, argv[0], &o->config)) !=
		    CMD_CONTINUE)
			return r;
	if ((r = cmd_no_args(argc, argv)) != EXIT_OK)
		return r;
	return CMD_CONTINUE;
}

/* The state directory, and the lock that keeps one agent on it. */
static int
take_lock(const struct config *cfg, int *fd)
{
	char *path = xasprintf("%s/lock", cfg->state_dir);
	struct err e;

	*fd = -1;
	if (fs_mkdir_p(cfg->state_dir, 0700, &e) == -1) {
		fprintf(stderr, "nixpull: %s\n", e.msg);
		free(path);
		return EXIT_FAILED;
	}
	*fd = fs_lock(path, &e);
	free(path);
	if (*fd >= 0)
		return EXIT_OK;
	fprintf(stderr, "nixpull: %s\n", e.msg);
	return *fd == -2 ? EXIT_UNAVAILABLE : EXIT_FAILED;
}

/*
 * What once and run share: options, config, the state directory's lock,
 * signals.  CMD_CONTINUE when the agent may go on (release with stop()),
 * else the exit status, everything released.  SIGTERM then cancels a
 * build (spawn_run looks at the flag), never an activation.
 */
static int
start(int argc, char **argv, struct opts *o, struct config *cfg,
    int *lockfd)
{
	int r;

	if ((r = parse_opts(argc, argv, o)) != CMD_CONTINUE)
		return r;
	if ((r = cmd_load_config(cfg, o->config)) != EXIT_OK)
		return r;
	if ((r = take_lock(cfg, lockfd)) != EXIT_OK) {
		config_release(cfg);
		return r;
	}
	if (signals_setup() == -1) {
		fs_unlock(*lockfd);
		config_release(cfg);
		return EXIT_FAILED;
	}
	return CMD_CONTINUE;
}

static void
stop(struct config *cfg, int lockfd)
{
	fs_unlock(lockfd);
	config_release(cfg);
}

int
cmd_once(int argc, char **argv)
{
	struct config cfg;
	struct agent a;
	struct opts o;
	struct err e;
	int r, lockfd;

	if ((r = start(argc, argv, &o, &cfg, &lockfd)) != CMD_CONTINUE)
		return r;
	agent_init(&a, &cfg, &stop_requested);
	if (agent_start(&a, &e) == -1) {
		log_warnx("%s", e.msg);
		agent_release(&a);
		stop(&cfg, lockfd);
		return EXIT_CONFIG;
	}
	r = cycle_exit_status(&a, agent_cycle(&a));
	agent_release(&a);
	stop(&cfg, lockfd);
	return r;
}

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t
mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A per-host seed: FNV-1a of the host name. */
static uint64_t
host_seed(const char *host)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = host; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/*
 * The time to the next poll: interval, doubled after each failure in a row
 * (at most MAX_BACKOFF_SHIFT times, and not past MAX_BACKOFF_MS unless the
 * interval itself is longer), then +- jitter drawn from the host and the
 * round: hosts spread, one host's sequence is repeatable.  Never below
 * MIN_DELAY_MS (or the interval, when it is shorter).
 */
static uint64_t
next_delay_ms(const struct config *cfg, unsigned round, unsigned failures)
{
	uint64_t base = cfg->poll.interval_ms, j = cfg->poll.jitter_ms;
	uint64_t lo, hi, floor, d;
	unsigned shift = failures < MAX_BACKOFF_SHIFT ? failures :
	    MAX_BACKOFF_SHIFT;

	floor = base < MIN_DELAY_MS ? base : MIN_DELAY_MS;
	if (shift > 0) {
		base <<= shift;
		if (base > MAX_BACKOFF_MS)
			base = cfg->poll.interval_ms > MAX_BACKOFF_MS ?
			    cfg->poll.interval_ms : MAX_BACKOFF_MS;
	}
	if (j == 0)
		return base;
	lo = base > j ? base - j : 0;
	hi = base + j;
	d = lo + mix64(host_seed(cfg->host) + round) % (hi - lo + 1);
	return d < floor ? floor : d;
}

/* Sleeps up to ms, waking at once for a signal. */
static void
sleep_ms(uint64_t ms)
{
	uint64_t end = time_monotonic_ms() + ms, now, left;

	while (!stop_requested && !poll_requested && !reload_requested &&
	    (now = time_monotonic_ms()) < end) {
		left = end - now;
		if (evloop_poll(NULL, 0, left > INT32_MAX ? INT32_MAX :
		    (int)left) == -1)
			break;
	}
}

static void
reload(struct config *cfg, struct agent *a, const char *path)
{
	struct config fresh;
	char msg[96];
	bool new_host;

	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)time_monotonic_ms() * 1000ULL);
	notify_send(msg);
	log_info("reloading %s", config_path(path));
	if (cmd_load_config(&fresh, path) != EXIT_OK) {
		log_warnx("%s: invalid, keeping the running configuration",
		    config_path(path));
	} else if (strcmp(fresh.state_dir, cfg->state_dir) != 0) {
		log_warnx("state_dir cannot change on reload (restart the "
		    "agent); keeping the running configuration");
		config_release(&fresh);
	} else {
		new_host = strcmp(fresh.host, cfg->host) != 0;
		config_release(cfg);
		*cfg = fresh;
		agent_reload(a, cfg, new_host);
		log_info("configuration reloaded");
	}
	notify_send("READY=1");
}

static int
loop(struct config *cfg, const char *path)
{
	struct agent a;
	enum cycle_outcome o;
	unsigned round = 0, failures = 0;
	uint64_t delay;
	struct err e;

	agent_init(&a, cfg, &stop_requested);
	a.phase_hook = phase_notify;
	if (agent_start(&a, &e) == -1) {
		log_warnx("%s", e.msg);
		agent_release(&a);
		return EXIT_CONFIG;
	}
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			reload(cfg, &a, path);
		}
		poll_requested = 0;
		/* The document published during the cycle names the next
		 * poll as it will be when nothing changes. */
		agent_next_poll(&a, time_now() + (time_t)(next_delay_ms(cfg,
		    round, 0) / 1000), false);
		watchdog_promise(cycle_bound_ms(cfg));
		o = agent_cycle(&a);
		if (o == CYCLE_FAILED && failures < 32)
			failures++;
		else if (o != CYCLE_FAILED)
			failures = 0;
		delay = agent_next_delay(&a, next_delay_ms(cfg, round++,
		    failures));
		if (stop_requested || o == CYCLE_INTERRUPTED)
			break;
		if (o != CYCLE_NO_CHANGE)
			agent_next_poll(&a, time_now() + (time_t)(delay / 1000),
			    true);
		if (failures)
			log_info("next poll in %llus (%u failure(s) in a row)",
			    (unsigned long long)(delay / 1000), failures);
		watchdog_promise(delay);
		sleep_ms(delay);
	}
	agent_release(&a);
	return EXIT_OK;
}

int
cmd_run(int argc, char **argv)
{
	struct config cfg;
	struct opts o;
	int r, lockfd;

	if ((r = start(argc, argv, &o, &cfg, &lockfd)) != CMD_CONTINUE)
		return r;
	watchdog_start();
	log_info("nixpull %s: watching %s (%s) for %s", NIXPULL_VERSION,
	    cfg.repo.url, cfg.repo.ref, cfg.host);
	notify_send("READY=1");
	r = loop(&cfg, o.config);
	watchdog_stop();
	notify_send("STOPPING=1");
	log_info("stopped");
	stop(&cfg, lockfd);
	return r;
}
