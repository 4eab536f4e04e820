/*
 * A socket stream for libgit2 with time-outs and a byte cap, which libgit2
 * 1.5 does not have: connect, read and write wait in poll() against the
 * limits of the operation in flight on the calling thread, and an ssh
 * watchdog (SIGALRM timer) shuts down the socket libssh2 reads by itself.
 */
#ifndef NIXPULL_GITSTREAM_H
#define NIXPULL_GITSTREAM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* The limits of one network operation, and what hit them. */
struct gitstream_limits {
	uint64_t	 deadline;	/* monotonic ms; UINT64_MAX: none */
	uint64_t	 connect_timeout_ms;	/* 0: none */
	uint64_t	 max_bytes;	/* wire or pack bytes; 0: no cap */
	bool		 ssh;		/* the watchdog watches the socket */

	uint64_t	 wire_bytes;	/* read through the stream */
	uint64_t	 pack_bytes;	/* set by the caller's progress callback */
	bool		 connect_timed_out;
	bool		 timed_out;
	bool		 too_big;
};

/* Registers the stream as libgit2's GIT_STREAM_STANDARD; once. */
int	gitstream_register(struct err *e);

/* The limits the calling thread's connections obey until _end. */
void	gitstream_begin(struct gitstream_limits *l);
void	gitstream_end(void);

/* 0 while within the limits, else -1 with too_big or timed_out set. */
int	gitstream_check(struct gitstream_limits *l);

struct gitstream_watchdog {
	timer_t		 timer;
	struct sigaction old;
	bool		 armed;
};

/*
 * After ms (and every 100 ms after) shut down the ssh socket of the
 * current operation; disarm restores the old SIGALRM action.
 */
void	gitstream_watchdog_arm(struct gitstream_watchdog *w, uint64_t ms);
void	gitstream_watchdog_disarm(struct gitstream_watchdog *w);
/* Whether the watchdog went off since it was last armed. */
bool	gitstream_watchdog_fired(void);

#endif
