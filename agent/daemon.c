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
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "cycle.h"
#include "fsutil.h"
#include "log.h"
#include "notify.h"
#include "timeutil.h"

#define MAX_BACKOFF_SHIFT	3		/* at most 8 x interval */
#define MAX_BACKOFF_MS		(3600 * 1000)	/* ... or an hour */
#define WATCHDOG_SLACK_MS	(60 * 1000)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t poll_requested;
static volatile sig_atomic_t reload_requested;

/* The watchdog thread pings systemd as long as the main loop is within the
 * time it promised for its current step: a hung step stops the pings. */
static _Atomic uint64_t wd_deadline_ms;
static uint64_t wd_interval_ms;

static void
on_signal(int sig)
{
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
}

static void
signals_setup(sigset_t *blocked, sigset_t *orig)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(blocked);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(blocked, sigs[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	/* Blocked except while we sleep in ppoll, so no wake-up is lost. */
	sigprocmask(SIG_BLOCK, blocked, orig);
}

static void *
watchdog_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	ts.tv_sec = (time_t)(wd_interval_ms / 2 / 1000);
	ts.tv_nsec = (long)((wd_interval_ms / 2) % 1000) * 1000000L;
	for (;;) {
		nanosleep(&ts, NULL);
		if (time_monotonic_ms() < atomic_load(&wd_deadline_ms))
			notify_send("WATCHDOG=1");
	}
	return NULL;
}

static void
watchdog_start(void)
{
	pthread_t t;
	sigset_t all, old;

	if ((wd_interval_ms = notify_watchdog_ms()) == 0)
		return;
	/* The thread takes no signals: they are for the main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, NULL, watchdog_main, NULL) == 0)
		pthread_detach(t);
	else
		log_warnx("cannot start the watchdog thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
watchdog_promise(uint64_t ms)
{
	atomic_store(&wd_deadline_ms, time_monotonic_ms() + ms +
	    WATCHDOG_SLACK_MS);
	if (wd_interval_ms)
		notify_send("WATCHDOG=1");
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
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:qvh", lopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'q':
			cmd_verbosity(-1);
			break;
		case 'v':
			cmd_verbosity(1);
			break;
		case 'h':
			cmd_usage(argv[0], 0);
			return EXIT_OK;
		default:
			cmd_usage(argv[0], 1);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nixpull %s: unexpected argument '%s'\n",
		    argv[0], argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
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

int
cmd_once(int argc, char **argv)
{
	struct config cfg;
	struct agent a;
	struct opts o;
	sigset_t blocked, orig;
	int r, lockfd;

	if ((r = parse_opts(argc, argv, &o)) != -1)
		return r;
	if ((r = cmd_load_config(&cfg, o.config)) != EXIT_OK)
		return r;
	if ((r = take_lock(&cfg, &lockfd)) == EXIT_OK) {
		signals_setup(&blocked, &orig);
		/* Builds are cancelled by the handler even while blocked:
		 * spawn_run unblocks nothing, it looks at the flag. */
		sigprocmask(SIG_SETMASK, &orig, NULL);
		agent_init(&a, &cfg, &stop_requested);
		r = cycle_exit_status(cycle_run(&a));
		agent_release(&a);
		fs_unlock(lockfd);
	}
	config_release(&cfg);
	return r;
}

/* Interval +- jitter, the jitter drawn from a per-host, per-round seed. */
static uint64_t
next_delay_ms(const struct config *cfg, unsigned round, unsigned failures)
{
	uint64_t base = cfg->poll.interval_ms, j = cfg->poll.jitter_ms, h;
	unsigned shift = failures < MAX_BACKOFF_SHIFT ? failures :
	    MAX_BACKOFF_SHIFT;

	if (failures) {
		base <<= shift;
		if (base > MAX_BACKOFF_MS && cfg->poll.interval_ms <
		    MAX_BACKOFF_MS)
			base = MAX_BACKOFF_MS;
	}
	if (j == 0)
		return base;
	/* FNV-1a of host and round: spread, but repeatable per host. */
	h = 1469598103934665603ULL;
	for (const char *p = cfg->host; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ round) * 1099511628211ULL;
	h ^= h >> 29;
	return base + (h % (2 * j + 1)) - (j < base ? j : base);
}

/* Sleeps up to ms, waking at once for a signal. */
static void
sleep_ms(uint64_t ms, const sigset_t *orig)
{
	uint64_t end = time_monotonic_ms() + ms, now;
	struct timespec ts;

	while (!stop_requested && !poll_requested &&
	    (now = time_monotonic_ms()) < end) {
		ts.tv_sec = (time_t)((end - now) / 1000);
		ts.tv_nsec = (long)((end - now) % 1000) * 1000000L;
		if (ppoll(NULL, 0, &ts, orig) == -1 && errno != EINTR)
			break;
	}
}

static void
reload(struct config *cfg, struct agent *a, const char *path)
{
	struct config fresh;

	notify_send("RELOADING=1");
	log_info("reloading %s", config_path(path));
	if (cmd_load_config(&fresh, path) != EXIT_OK) {
		log_warnx("keeping the running configuration");
	} else if (strcmp(fresh.state_dir, cfg->state_dir) != 0) {
		log_warnx("state_dir cannot change on reload (restart the "
		    "agent); keeping the running configuration");
		config_release(&fresh);
	} else {
		config_release(cfg);
		*cfg = fresh;
		a->cfg = cfg;
	}
	notify_send("READY=1");
}

static int
loop(struct config *cfg, const char *path, const sigset_t *blocked,
    const sigset_t *orig)
{
	struct agent a;
	enum cycle_outcome o;
	unsigned round = 0, failures = 0;
	uint64_t delay;

	agent_init(&a, cfg, &stop_requested);
	a.phase_hook = phase_notify;
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			reload(cfg, &a, path);
		}
		poll_requested = 0;
		watchdog_promise(cycle_bound_ms(cfg));
		/* Signals are taken during the cycle too (a stop cancels a
		 * build); they are only blocked between the checks. */
		sigprocmask(SIG_SETMASK, orig, NULL);
		o = cycle_run(&a);
		sigprocmask(SIG_BLOCK, blocked, NULL);
		failures = (o == CYCLE_FAILED) ? failures + 1 : 0;
		delay = next_delay_ms(cfg, round++, failures);
		a.next_poll_at = time_now() + (time_t)(delay / 1000);
		if (stop_requested)
			break;
		watchdog_promise(delay);
		sleep_ms(delay, orig);
	}
	agent_release(&a);
	return EXIT_OK;
}

int
cmd_run(int argc, char **argv)
{
	struct config cfg;
	struct opts o;
	sigset_t blocked, orig;
	int r, lockfd;

	if ((r = parse_opts(argc, argv, &o)) != -1)
		return r;
	if ((r = cmd_load_config(&cfg, o.config)) != EXIT_OK)
		return r;
	if ((r = take_lock(&cfg, &lockfd)) != EXIT_OK) {
		config_release(&cfg);
		return r;
	}
	signals_setup(&blocked, &orig);
	watchdog_start();
	log_info("nixpull %s: watching %s (%s) for %s", NIXPULL_VERSION,
	    cfg.repo.url, cfg.repo.ref, cfg.host);
	notify_send("READY=1");
	r = loop(&cfg, o.config, &blocked, &orig);
	notify_send("STOPPING=1");
	log_info("stopped");
	fs_unlock(lockfd);
	config_release(&cfg);
	return r;
}
