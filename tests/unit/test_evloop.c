/* The event loop: timers run while it waits, a byte on the signal pipe
 * ends the wait at once, and the caller's time-out holds. */
#include <fcntl.h>
#include <unistd.h>

#include "evloop.h"
#include "t.h"
#include "timeutil.h"

static int ticks;

static void
tick(void *arg)
{
	(void)arg;
	ticks++;
}

int
main(void)
{
	struct evloop_timer t = { 20, tick, NULL, 0, NULL };
	struct pollfd pfd;
	uint64_t t0;
	int sig[2], data[2];

	/* A timer of 20 ms runs about 5 times in a wait of 110 ms. */
	evloop_add_timer(&t);
	t0 = time_monotonic_ms();
	T_EQ_INT(evloop_poll(NULL, 0, 110), 0);
	T_OK(time_monotonic_ms() - t0 >= 110);
	T_OK(ticks >= 4 && ticks <= 6);
	evloop_remove_timer(&t);
	ticks = 0;
	T_EQ_INT(evloop_poll(NULL, 0, 50), 0);
	T_EQ_INT(ticks, 0);

	/* A byte on the signal pipe ends a long wait, and is drained. */
	T_EQ_INT(pipe(sig), 0);
	T_EQ_INT(fcntl(sig[0], F_SETFL, O_NONBLOCK), 0);
	evloop_set_signal_fd(sig[0]);
	T_OK(evloop_has_signals());
	T_EQ_INT(write(sig[1], "x", 1), 1);
	t0 = time_monotonic_ms();
	T_EQ_INT(evloop_poll(NULL, 0, 10000), 0);
	T_OK(time_monotonic_ms() - t0 < 5000);
	T_EQ_INT(evloop_poll(NULL, 0, 20), 0);	/* drained: a real wait */

	/* The caller's descriptor: ready is > 0 with its revents. */
	T_EQ_INT(pipe(data), 0);
	T_EQ_INT(write(data[1], "y", 1), 1);
	pfd.fd = data[0];
	pfd.events = POLLIN;
	T_EQ_INT(evloop_poll(&pfd, 1, 1000), 1);
	T_OK(pfd.revents & POLLIN);
	close(sig[0]);
	close(sig[1]);
	close(data[0]);
	close(data[1]);
	return T_DONE();
}
