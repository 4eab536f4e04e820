/*
 * The time-out aware socket stream libgit2 makes every TCP connection
 * through (see gitstream.h), and the ssh watchdog.
 *
 * libgit2 1.5 has no server time-outs (GIT_OPT_SET_SERVER_TIMEOUT is 1.7),
 * and a server that accepts and never answers leaves it in recv() for
 * ever.  Rather than running every poll in a forked child with a deadline
 * (a process per poll, which a no-change poll must not cost), this stream
 * is registered as GIT_STREAM_STANDARD: libgit2 creates every TCP
 * connection through it (plain http, the socket under its mbedTLS stream,
 * and the ssh transport's socket), so connect, read and write all wait in
 * poll() against the connect time-out and the deadline of the whole
 * operation, and it counts the bytes against the size cap.  The ssh
 * transport hands the socket to libssh2, which reads it directly; for ssh
 * a one-shot POSIX timer (SIGALRM) shuts the socket down at the deadline,
 * so libssh2's next poll() or recv() returns at once.  The stream keeps
 * the layout of libgit2's git_socket_stream for that reason.  Name
 * resolution (getaddrinfo) is not bounded.
 *
 * The limits in force are thread-local (one operation per thread); the
 * watchdog's socket is process-wide, as a signal handler must see it.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/stream.h>

#include "buf.h"
#include "gitstream.h"
#include "log.h"
#include "timeutil.h"

static _Thread_local struct gitstream_limits *cur;
static volatile sig_atomic_t watch_fd = -1;
static volatile sig_atomic_t watch_fired;

int
gitstream_check(struct gitstream_limits *l)
{
	uint64_t max = l->max_bytes;

	if (max != 0 && (l->wire_bytes > max || l->pack_bytes > max)) {
		l->too_big = true;
		return -1;
	}
	if (time_monotonic_ms() >= l->deadline) {
		l->timed_out = true;
		return -1;
	}
	return 0;
}

void
gitstream_begin(struct gitstream_limits *l)
{
	cur = l;
}

void
gitstream_end(void)
{
	cur = NULL;
}

/* The socket stream: same first members as libgit2's git_socket_stream. */
struct tstream {
	git_stream	 parent;
	char		*host;
	char		*port;
	int		 s;
};

/* Waits for events on fd until deadline: 0 ready, 1 timed out, -1 error. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int n;

	for (;;) {
		now = time_monotonic_ms();
		if (now >= deadline)
			return 1;
		n = poll(&pfd, 1, (int)(deadline - now > 60000 ? 60000 :
		    deadline - now));
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

static int
tstream_connect_one(struct tstream *ts, const struct addrinfo *ai,
    uint64_t deadline)
{
	socklen_t len = sizeof(int);
	int fd, soerr = 0, w;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto ok;
	if (errno != EINPROGRESS)
		goto fail;
	if ((w = wait_fd(fd, POLLOUT, deadline)) != 0) {
		if (w == 1)
			errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
 ok:
	/* libgit2 writes a request in pieces: no Nagle + delayed-ACK stall */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	ts->s = fd;
	return 0;
 fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

static int
tstream_connect(git_stream *gs)
{
	struct tstream *ts = (struct tstream *)gs;
	struct addrinfo hints, *res = NULL, *ai;
	uint64_t deadline;
	int r, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(ts->host, ts->port, &hints, &res)) != 0) {
		git_error_set_str(GIT_ERROR_NET, gai_strerror(r));
		return -1;
	}
	deadline = cur ? cur->deadline : UINT64_MAX;
	if (cur && cur->connect_timeout_ms != 0 &&
	    time_monotonic_ms() + cur->connect_timeout_ms < deadline)
		deadline = time_monotonic_ms() + cur->connect_timeout_ms;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (tstream_connect_one(ts, ai, deadline) == 0)
			break;
		saved = errno;
	}
	freeaddrinfo(res);
	if (ts->s == -1) {
		if (saved == ETIMEDOUT && cur)
			cur->connect_timed_out = true;
		git_error_set_str(GIT_ERROR_NET, strerror(saved));
		return -1;
	}
	if (cur && cur->ssh)
		watch_fd = ts->s;
	return 0;
}

static int
tstream_wait(struct tstream *ts, short events)
{
	int w;

	w = wait_fd(ts->s, events, cur ? cur->deadline : UINT64_MAX);
	if (w == 1) {
		if (cur)
			cur->timed_out = true;
		git_error_set_str(GIT_ERROR_NET, "timed out");
	} else if (w == -1)
		git_error_set_str(GIT_ERROR_NET, strerror(errno));
	return w == 0 ? 0 : -1;
}

/*
 * After recv() or send() failed: waits for events when it would have
 * blocked, else sets the libgit2 error.  0: try again; -1: give up.
 */
static int
tstream_retry(struct tstream *ts, short events)
{
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		git_error_set_str(GIT_ERROR_NET, strerror(errno));
		return -1;
	}
	return tstream_wait(ts, events);
}

static ssize_t
tstream_read(git_stream *gs, void *data, size_t len)
{
	struct tstream *ts = (struct tstream *)gs;
	ssize_t n;

	for (;;) {
		n = recv(ts->s, data, len, 0);
		if (n >= 0) {
			if (cur) {
				cur->wire_bytes += (uint64_t)n;
				if (gitstream_check(cur) == -1) {
					git_error_set_str(GIT_ERROR_NET,
					    "limit reached");
					return -1;
				}
			}
			return n;
		}
		if (tstream_retry(ts, POLLIN) == -1)
			return -1;
	}
}

static ssize_t
tstream_write(git_stream *gs, const char *data, size_t len, int flags)
{
	struct tstream *ts = (struct tstream *)gs;
	ssize_t n;

	for (;;) {
		n = send(ts->s, data, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (tstream_retry(ts, POLLOUT) == -1)
			return -1;
	}
}

static int
tstream_close(git_stream *gs)
{
	struct tstream *ts = (struct tstream *)gs;

	if (ts->s == -1)
		return 0;
	if (watch_fd == ts->s)
		watch_fd = -1;
	close(ts->s);
	ts->s = -1;
	return 0;
}

static void
tstream_free(git_stream *gs)
{
	struct tstream *ts = (struct tstream *)gs;

	tstream_close(gs);
	free(ts->host);
	free(ts->port);
	free(ts);
}

static int
tstream_new(git_stream **out, const char *host, const char *port)
{
	struct tstream *ts;

	ts = xcalloc(1, sizeof(*ts));
	ts->parent.version = GIT_STREAM_VERSION;
	ts->parent.connect = tstream_connect;
	ts->parent.read = tstream_read;
	ts->parent.write = tstream_write;
	ts->parent.close = tstream_close;
	ts->parent.free = tstream_free;
	ts->host = xstrdup(host);
	ts->port = xstrdup(port);
	ts->s = -1;
	*out = &ts->parent;
	return 0;
}

/*
 * The ssh watchdog: at the deadline (and every 100 ms after) shut down the
 * socket libssh2 is waiting on.  shutdown() is async-signal-safe.
 */
static void
watch_alarm(int sig)
{
	int fd = watch_fd;

	watch_fired = 1;
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

void
gitstream_watchdog_arm(struct gitstream_watchdog *w, uint64_t ms)
{
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;

	memset(w, 0, sizeof(*w));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_alarm;
	sigemptyset(&sa.sa_mask);
	watch_fired = 0;
	if (sigaction(SIGALRM, &sa, &w->old) == -1)
		return;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &sev, &w->timer) == -1) {
		log_warn("timer_create");
		sigaction(SIGALRM, &w->old, NULL);
		return;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if (ms == 0)
		its.it_value.tv_nsec = 1;
	its.it_interval.tv_nsec = 100 * 1000000;
	timer_settime(w->timer, 0, &its, NULL);
	w->armed = true;
}

void
gitstream_watchdog_disarm(struct gitstream_watchdog *w)
{
	if (!w->armed)
		return;
	timer_delete(w->timer);
	sigaction(SIGALRM, &w->old, NULL);
	watch_fd = -1;
	w->armed = false;
}

bool
gitstream_watchdog_fired(void)
{
	return watch_fired != 0;
}

int
gitstream_register(struct err *e)
{
	git_stream_registration reg;

	memset(&reg, 0, sizeof(reg));
	reg.version = GIT_STREAM_VERSION;
	reg.init = tstream_new;
	if (git_stream_register(GIT_STREAM_STANDARD, &reg) < 0)
		return err_set(e, "cannot register the socket stream");
	return 0;
}
