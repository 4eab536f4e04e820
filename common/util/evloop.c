/* One event loop per process (evloop.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "timeutil.h"

#define EVLOOP_MAX_FDS	16

static int signal_fd = -1;
static struct evloop_timer *timers;

void
evloop_set_signal_fd(int fd)
{
	signal_fd = fd;
}

bool
evloop_has_signals(void)
{
	return signal_fd != -1;
}

void
evloop_add_timer(struct evloop_timer *t)
{
	t->next_ms = time_monotonic_ms() + t->period_ms;
	t->link = timers;
	timers = t;
}

void
evloop_remove_timer(struct evloop_timer *t)
{
	struct evloop_timer **p;

	for (p = &timers; *p != NULL; p = &(*p)->link)
		if (*p == t) {
			*p = t->link;
			return;
		}
}

/* Runs the timers that are due; returns the ms until the next one (-1). */
static int
run_timers(uint64_t now)
{
	struct evloop_timer *t;
	uint64_t next = UINT64_MAX;

	for (t = timers; t != NULL; t = t->link) {
		if (now >= t->next_ms) {
			t->fn(t->arg);
			t->next_ms = now + (t->period_ms ? t->period_ms : 1000);
		}
		if (t->next_ms < next)
			next = t->next_ms;
	}
	if (next == UINT64_MAX)
		return -1;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

static int
shorter(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void
drain(void)
{
	char buf[64];

	while (read(signal_fd, buf, sizeof(buf)) > 0)
		;
}

int
evloop_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct pollfd pfd[EVLOOP_MAX_FDS + 1];
	uint64_t start = time_monotonic_ms(), now;
	int left, wait, r;
	nfds_t i;

	if (n > EVLOOP_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		now = time_monotonic_ms();
		left = timeout_ms < 0 ? -1 : (now - start >= (uint64_t)timeout_ms ?
		    0 : (int)(timeout_ms - (now - start)));
		wait = shorter(left, run_timers(now));
		if (n > 0)
			memcpy(pfd, fds, n * sizeof(*fds));
		pfd[n].fd = signal_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		r = poll(pfd, n + (signal_fd != -1), wait);
		if (r == -1 && errno == EINTR) {
			if (signal_fd != -1)
				drain();
			for (i = 0; i < n; i++)
				fds[i].revents = 0;
			return 0;	/* a signal: the caller looks */
		}
		if (r == -1)
			return -1;
		for (i = 0; i < n; i++)
			fds[i].revents = pfd[i].revents;
		if (signal_fd != -1 && pfd[n].revents != 0) {
			drain();
			r -= r > 0;
			return r > 0 ? r : 0;
		}
		if (r > 0)
			return r;
		if (left == 0 || (left > 0 && wait == left))
			return 0;	/* the caller's time is up */
	}
}
