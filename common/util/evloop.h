/*
 * One event loop per process.  Every wait of the root agent goes through
 * evloop_poll(): a build or an activation (spawn), the fetcher's answer
 * (msg_read), the daemon's sleep.  Besides the caller's file descriptors it
 * watches the signals (the read end of a self-pipe the signal handler
 * writes to) and runs the periodic timers (the systemd watchdog's pings),
 * so that signals, children, the fetcher's socket and timers are events of
 * one poll(2), in one thread.
 */
#ifndef NIXPULL_EVLOOP_H
#define NIXPULL_EVLOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

struct evloop_timer {
	uint64_t	 period_ms;
	void		(*fn)(void *arg);
	void		*arg;
	uint64_t	 next_ms;	/* set by evloop_add_timer */
	struct evloop_timer *link;
};

/* The read end of the self-pipe (non-blocking); -1 for none.  A byte on it
 * ends the current evloop_poll() (the caller then looks at its flags). */
void	evloop_set_signal_fd(int fd);
/* Whether a signal wakes evloop_poll(): otherwise callers must look at
 * their flags now and then themselves. */
bool	evloop_has_signals(void);
/* t must stay valid until removed; its first run is one period from now. */
void	evloop_add_timer(struct evloop_timer *t);
void	evloop_remove_timer(struct evloop_timer *t);
/*
 * poll(2) on fds for at most timeout_ms (-1: no limit), also woken by a
 * signal and by the timers, which it runs as they fall due.  The return
 * value is poll's: > 0 when some of fds are ready, 0 when the time ran
 * out or a signal arrived, -1 on an error (never EINTR).
 */
int	evloop_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

#endif
