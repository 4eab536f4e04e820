/*
 * Child processes, in the manner of git's run-command.c.
 *
 * The parent prepares everything (resolved path, descriptors) so that the
 * forked child only makes async-signal-safe calls before execve().  An exec
 * failure travels back over a close-on-exec pipe, so "not found" is an error
 * and not status 127.  The leader's exit is noticed with waitid(WNOWAIT) and
 * it is reaped only at the very end: while it is an unreaped zombie its pid,
 * and therefore its process group id, cannot be reused, so killpg() can never
 * hit an unrelated group.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "evloop.h"
#include "log.h"
#include "spawn.h"
#include "timeutil.h"

extern char **environ;

#define DEFAULT_PATH	"/usr/bin:/bin"
#define READ_CHUNK	65536
#define DRAIN_READS	16	/* reads per pipe when draining after exit */
#define MAX_CLOSE_FD	65536	/* bound for the last-resort close loop */

/* Why the child gave up before or at execve. */
enum child_stage {
	STAGE_FDS = 1,
	STAGE_CHDIR,
	STAGE_NICE,
	STAGE_EXEC,
};

struct child_report {
	int stage;
	int err;
};

/* What the forked child needs, prepared by the parent. */
struct child {
	const char *path;
	char *const *argv;
	char *const *envp;
	const char *cwd;
	int null_fd;
	int out_fd;		/* becomes stdout */
	int err_fd;		/* becomes stderr */
	int report_fd;		/* close-on-exec, where failures go */
	int nice;
	int idle_io;
	int max_fd;
};

struct tail {
	char ring[MAX_LOG_TAIL];
	size_t pos;
	uint64_t total;
};

enum phase {
	PH_RUN,
	PH_TERM,	/* SIGTERM sent, SIGKILL at kill_at */
	PH_KILL,	/* SIGKILL sent, give up on EOF at give_up_at */
};

enum { P_OUT, P_CAPTURE, NPIPES };

struct run {
	const struct spawn_opts *o;
	struct spawn_result *res;
	pid_t pid;
	int pidfd;
	int pipe[NPIPES];	/* read ends; -1 when closed */
	int log_fd;
	int log_failed;
	int exited;		/* seen with WNOWAIT, not yet reaped */
	enum phase phase;
	uint64_t deadline;
	uint64_t kill_at;
	uint64_t give_up_at;
	struct tail tail;
};

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Moves *fd above stdio so that dup2() onto 0-2 always clears CLOEXEC. */
static int
fd_above_stdio(int *fd)
{
	int nfd;

	if (*fd > 2)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

static int
pipe_cloexec(int p[2])
{
	int i;

	if (pipe(p) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if (fcntl(p[i], F_SETFD, FD_CLOEXEC) == -1 ||
		    fd_above_stdio(&p[i]) == -1) {
			close(p[0]);
			close(p[1]);
			return -1;
		}
	}
	return 0;
}

static const char *
env_get(const char *const *envp, const char *name)
{
	size_t n = strlen(name);

	if (envp == NULL)
		return getenv(name);
	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* Like execvp's search, done in the parent.  *out is malloc'd. */
static int
path_resolve(const char *name, const char *const *envp, char **out)
{
	const char *path, *p, *end;
	struct stat st;
	int saw_eacces = 0;
	char *cand;

	if (strchr(name, '/') != NULL) {
		*out = xstrdup(name);
		return 0;
	}
	if ((path = env_get(envp, "PATH")) == NULL)
		path = DEFAULT_PATH;
	for (p = path;; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		if (end == p)
			cand = xasprintf("./%s", name);
		else
			cand = xasprintf("%.*s/%s", (int)(end - p), p, name);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0) {
				*out = cand;
				return 0;
			}
			saw_eacces = 1;
		}
		free(cand);
		if (*end == '\0')
			break;
	}
	errno = saw_eacces ? EACCES : ENOENT;
	return -1;
}

/* --- in the child: async-signal-safe calls only --- */

static void
child_fail(const struct child *c, int stage)
{
	struct child_report rep = { stage, errno };
	ssize_t n;

	do
		n = write(c->report_fd, &rep, sizeof(rep));
	while (n == -1 && errno == EINTR);
	_exit(127);
}

static void
child_reset_signals(void)
{
	struct sigaction sa;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
}

#ifdef __linux__
struct dirent64_raw {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Closes fds > 2 except keep by listing /proc/self/fd; -1 without /proc. */
static int
child_close_proc(int keep)
{
	char dbuf[4096];
	long n, off;
	int dfd, fd;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return -1;
	while ((n = syscall(SYS_getdents64, dfd, dbuf, sizeof(dbuf))) > 0) {
		for (off = 0; off < n;) {
			struct dirent64_raw *d = (void *)(dbuf + off);
			const char *s = d->name;

			off += d->reclen;
			for (fd = 0; *s >= '0' && *s <= '9' && fd < 1 << 24;
			    s++)
				fd = fd * 10 + (*s - '0');
			if (*s == '\0' && s != d->name && fd > 2 &&
			    fd != keep && fd != dfd)
				close(fd);
		}
	}
	close(dfd);
	return n == 0 ? 0 : -1;
}
#endif

static void
child_close_fds(const struct child *c)
{
	int fd, keep = c->report_fd;

#ifdef SYS_close_range
	if ((keep == 3 || syscall(SYS_close_range, 3, keep - 1, 0) == 0) &&
	    syscall(SYS_close_range, keep + 1, ~0U, 0) == 0)
		return;
#endif
#ifdef __linux__
	if (child_close_proc(keep) == 0)
		return;
#endif
	for (fd = 3; fd < c->max_fd; fd++)
		if (fd != keep)
			close(fd);
}

static void
child_io_idle(void)
{
#if defined(__linux__) && defined(SYS_ioprio_set)
	/* IOPRIO_WHO_PROCESS, this process, IOPRIO_CLASS_IDLE << 13 */
	(void)syscall(SYS_ioprio_set, 1, 0, 3 << 13);
#endif
}

static void
child_exec(const struct child *c)
{
	sigset_t none;

	(void)setpgid(0, 0);
	child_reset_signals();
	if (dup2(c->null_fd, 0) == -1 || dup2(c->out_fd, 1) == -1 ||
	    dup2(c->err_fd, 2) == -1)
		child_fail(c, STAGE_FDS);
	child_close_fds(c);
	if (c->cwd != NULL && chdir(c->cwd) == -1)
		child_fail(c, STAGE_CHDIR);
	if (c->nice > 0 && setpriority(PRIO_PROCESS, 0, c->nice) == -1)
		child_fail(c, STAGE_NICE);
	if (c->idle_io)
		child_io_idle();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(c->path, c->argv, c->envp);
	child_fail(c, STAGE_EXEC);
}

/* --- in the parent --- */

static int
report_error(const struct spawn_opts *o, const struct child_report *rep,
    struct err *e)
{
	const char *name = o->argv[0], *why = strerror(rep->err);

	switch (rep->stage) {
	case STAGE_CHDIR:
		return err_set(e, "cannot run '%s': cannot change to "
		    "directory '%s': %s", name, o->cwd, why);
	case STAGE_NICE:
		return err_set(e, "cannot run '%s': cannot set nice %d: %s",
		    name, o->nice, why);
	case STAGE_FDS:
		return err_set(e, "cannot run '%s': cannot set up standard "
		    "descriptors: %s", name, why);
	default:
		return err_set(e, "cannot run '%s': %s", name, why);
	}
}

/* 1 when the child wrote a report (it failed), 0 when it exec'd. */
static int
report_read(int fd, struct child_report *rep)
{
	ssize_t n;

	do
		n = read(fd, rep, sizeof(*rep));
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(*rep);
}

static pid_t
reap(pid_t pid, int *status)
{
	pid_t w;

	do
		w = waitpid(pid, status, 0);
	while (w == -1 && errno == EINTR);
	return w;
}

static int
open_pidfd(pid_t pid)
{
#if defined(__linux__) && defined(SYS_pidfd_open)
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	return fd;
#else
	return -1;
#endif
}

/*
 * Forks and execs.  The child-side descriptors in c are closed here.
 * 0 with r->pid set, or -1.
 */
static int
run_start(struct run *r, struct child *c, int report_rd, struct err *e)
{
	struct child_report rep;
	sigset_t all, old;
	int status;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	r->pid = fork();
	if (r->pid == 0)
		child_exec(c);
	if (r->pid > 0)
		(void)setpgid(r->pid, r->pid);	/* EACCES after exec: fine */
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r->pid == -1)
		return err_errno(e, "cannot run '%s': fork", r->o->argv[0]);
	close_fd(&c->report_fd);
	if (c->out_fd != c->err_fd)
		close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	c->out_fd = -1;
	if (report_read(report_rd, &rep)) {
		reap(r->pid, &status);
		return report_error(r->o, &rep, e);
	}
	r->pidfd = open_pidfd(r->pid);
	return 0;
}

static void
tail_add(struct tail *t, const char *p, size_t n)
{
	size_t chunk;

	t->total += n;
	if (n > MAX_LOG_TAIL) {
		p += n - MAX_LOG_TAIL;
		n = MAX_LOG_TAIL;
	}
	while (n > 0) {
		chunk = MAX_LOG_TAIL - t->pos;
		if (chunk > n)
			chunk = n;
		memcpy(t->ring + t->pos, p, chunk);
		t->pos = (t->pos + chunk) % MAX_LOG_TAIL;
		p += chunk;
		n -= chunk;
	}
}

static size_t
tail_copy(const struct tail *t, char *dst)
{
	size_t n;

	if (t->total < MAX_LOG_TAIL) {
		n = (size_t)t->total;
		memcpy(dst, t->ring, n);
	} else {
		n = MAX_LOG_TAIL;
		memcpy(dst, t->ring + t->pos, n - t->pos);
		memcpy(dst + n - t->pos, t->ring, t->pos);
	}
	dst[n] = '\0';
	return n;
}

static void
log_append(struct run *r, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && !r->log_failed) {
		if ((w = write(r->log_fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("cannot write log file '%s'", r->o->log_path);
			r->log_failed = 1;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
run_deliver(struct run *r, int which, const char *p, size_t n)
{
	struct buf *cap = r->o->capture;
	size_t room;

	if (which == P_CAPTURE) {
		room = cap->max - cap->len;
		if (room > n)
			room = n;
		if (room > 0 && buf_add(cap, p, room) == -1)
			room = 0;
		r->res->capture_dropped += n - room;
		return;
	}
	r->res->output_bytes += n;
	tail_add(&r->tail, p, n);
	if (r->log_fd >= 0)
		log_append(r, p, n);
}

/* One read from a pipe; 1 when something was read, 0 otherwise. */
static int
run_read(struct run *r, int which)
{
	char chunk[READ_CHUNK];
	ssize_t n;

	n = read(r->pipe[which], chunk, sizeof(chunk));
	if (n > 0) {
		run_deliver(r, which, chunk, (size_t)n);
		return 1;
	}
	if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(&r->pipe[which]);
	return 0;
}

/* Reads what is already in the pipes (bounded), noticing EOF. */
static void
run_drain(struct run *r)
{
	int i, k;

	for (i = 0; i < NPIPES; i++)
		for (k = 0; k < DRAIN_READS && r->pipe[i] >= 0; k++)
			if (!run_read(r, i))
				break;
}

static int
pipes_open(const struct run *r)
{
	return r->pipe[P_OUT] >= 0 || r->pipe[P_CAPTURE] >= 0;
}

/* Notices the leader's exit without reaping it. */
static void
run_check_exit(struct run *r)
{
	siginfo_t si;

	if (r->exited)
		return;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)r->pid, &si,
	    WEXITED | WNOHANG | WNOWAIT) == 0) {
		if (si.si_pid == r->pid)
			r->exited = 1;
	} else if (errno == ECHILD) {
		r->exited = 1;	/* reaped behind our back (SIGCHLD ignored) */
	}
}

static void
run_signal(struct run *r, int sig)
{
	/* The leader is not reaped yet, so neither id can have been reused. */
	(void)killpg(r->pid, sig);
	(void)kill(r->pid, sig);
}

static void
run_terminate(struct run *r, uint64_t now)
{
	uint64_t grace = r->o->grace_ms ? r->o->grace_ms : SPAWN_GRACE_MS;

	run_signal(r, SIGTERM);
	run_signal(r, SIGCONT);
	r->phase = PH_TERM;
	r->kill_at = now + grace;
}

static void
run_advance(struct run *r, uint64_t now)
{
	const struct spawn_opts *o = r->o;

	if (r->phase == PH_RUN) {
		if (o->timeout_ms > 0 && now >= r->deadline) {
			r->res->timed_out = true;
			run_terminate(r, now);
		} else if (o->cancel != NULL && *o->cancel) {
			r->res->cancelled = true;
			run_terminate(r, now);
		} else if (r->exited) {
			/* Done, unless something it left keeps the pipe. */
			run_drain(r);
			if (pipes_open(r))
				run_terminate(r, now);
		}
	}
	if (r->phase == PH_TERM && now >= r->kill_at) {
		run_signal(r, SIGKILL);
		r->phase = PH_KILL;
		r->give_up_at = now + SPAWN_KILL_WAIT_MS;
	}
}

static int
min_wait(int wait, uint64_t until, uint64_t now)
{
	uint64_t d = until > now ? until - now : 0;

	if (d > INT32_MAX)
		d = INT32_MAX;
	return wait < 0 || (int)d < wait ? (int)d : wait;
}

static int
run_poll_timeout(const struct run *r, uint64_t now)
{
	int wait = -1;

	if (r->phase == PH_RUN && r->o->timeout_ms > 0)
		wait = min_wait(wait, r->deadline, now);
	if (r->phase == PH_TERM)
		wait = min_wait(wait, r->kill_at, now);
	if (r->phase == PH_KILL)
		wait = min_wait(wait, r->give_up_at, now);
	if ((r->phase == PH_RUN && r->o->cancel != NULL &&
	    !evloop_has_signals()) || (!r->exited && r->pidfd < 0))
		wait = min_wait(wait, now + SPAWN_TICK_MS, now);
	return wait;
}

static void
run_poll(struct run *r, uint64_t now)
{
	struct pollfd pfd[NPIPES + 1];
	int which[NPIPES + 1];
	nfds_t n = 0;
	int i;

	for (i = 0; i < NPIPES; i++) {
		if (r->pipe[i] < 0)
			continue;
		pfd[n].fd = r->pipe[i];
		pfd[n].events = POLLIN;
		which[n++] = i;
	}
	if (!r->exited && r->pidfd >= 0) {
		pfd[n].fd = r->pidfd;
		pfd[n].events = POLLIN;
		which[n++] = -1;
	}
	if (evloop_poll(pfd, n, run_poll_timeout(r, now)) <= 0)
		return;		/* time-out, or a signal: the loop re-checks */
	for (i = 0; i < (int)n; i++)
		if (which[i] >= 0 && (pfd[i].revents & (POLLIN | POLLHUP |
		    POLLERR | POLLNVAL)))
			run_read(r, which[i]);
}

static void
run_loop(struct run *r)
{
	uint64_t now;

	for (;;) {
		now = time_monotonic_ms();
		run_check_exit(r);
		if (r->exited && !pipes_open(r))
			break;
		run_advance(r, now);
		if (r->exited && !pipes_open(r))
			break;
		if (r->phase == PH_KILL && now >= r->give_up_at)
			break;
		run_poll(r, now);
	}
	run_drain(r);
}

static void
run_finish(struct run *r, uint64_t start)
{
	struct spawn_result *res = r->res;
	int status = 0;

	/* Whatever it left in its group goes too; then reap the leader. */
	(void)killpg(r->pid, SIGKILL);
	if (reap(r->pid, &status) != r->pid) {
		log_warn("cannot wait for '%s'", r->o->argv[0]);
		res->status = 255;
		res->exit_code = 255;
	} else if (WIFSIGNALED(status)) {
		res->term_signal = WTERMSIG(status);
		res->exit_code = -1;
		res->status = 128 + res->term_signal;
	} else {
		res->exit_code = WEXITSTATUS(status);
		res->status = res->exit_code;
	}
	res->duration_ms = time_monotonic_ms() - start;
	res->tail_len = tail_copy(&r->tail, res->tail);
}

static int
run_prepare(struct run *r, struct child *c, int report[2], struct err *e)
{
	const struct spawn_opts *o = r->o;
	int out[2] = { -1, -1 }, cap[2] = { -1, -1 };
	long max;
	int i;

	if (o->log_path != NULL && (r->log_fd = open(o->log_path,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600)) == -1)
		return err_errno(e, "cannot open log file '%s'", o->log_path);
	if ((c->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    fd_above_stdio(&c->null_fd) == -1)
		return err_errno(e, "cannot open '/dev/null'");
	if (pipe_cloexec(report) == -1)
		return err_errno(e, "cannot run '%s': pipe", o->argv[0]);
	c->report_fd = report[1];	/* c owns the child's ends */
	report[1] = -1;
	if (pipe_cloexec(out) == -1)
		return err_errno(e, "cannot run '%s': pipe", o->argv[0]);
	r->pipe[P_OUT] = out[0];
	c->err_fd = c->out_fd = out[1];
	if (o->capture != NULL) {
		if (pipe_cloexec(cap) == -1)
			return err_errno(e, "cannot run '%s': pipe",
			    o->argv[0]);
		r->pipe[P_CAPTURE] = cap[0];
		c->out_fd = cap[1];
	}
	for (i = 0; i < NPIPES; i++)
		if (r->pipe[i] >= 0)
			(void)fcntl(r->pipe[i], F_SETFL, O_NONBLOCK);
	c->argv = (char *const *)o->argv;
	c->envp = o->envp != NULL ? (char *const *)o->envp : environ;
	c->cwd = o->cwd;
	c->nice = o->nice;
	c->idle_io = o->idle_io;
	max = sysconf(_SC_OPEN_MAX);
	c->max_fd = max < 0 || max > MAX_CLOSE_FD ? MAX_CLOSE_FD : (int)max;
	return 0;
}

int
spawn_run(const struct spawn_opts *o, struct spawn_result *res,
    struct err *e)
{
	struct run r;
	struct child c;
	int report[2] = { -1, -1 };
	char *path = NULL;
	uint64_t start = time_monotonic_ms();
	int i, ret = -1;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	r.o = o;
	r.res = res;
	r.pid = -1;
	r.pidfd = r.log_fd = -1;
	r.pipe[P_OUT] = r.pipe[P_CAPTURE] = -1;
	c.null_fd = c.out_fd = c.err_fd = c.report_fd = -1;

	if (o->argv == NULL || o->argv[0] == NULL || o->argv[0][0] == '\0') {
		err_set(e, "cannot run an empty command");
		goto out;
	}
	if (path_resolve(o->argv[0], o->envp, &path) == -1) {
		err_errno(e, "cannot run '%s'", o->argv[0]);
		goto out;
	}
	c.path = path;
	if (run_prepare(&r, &c, report, e) == -1)
		goto out;
	r.deadline = start + o->timeout_ms;
	if (run_start(&r, &c, report[0], e) == -1)
		goto out;
	run_loop(&r);
	run_finish(&r, start);
	ret = 0;
 out:
	if (c.out_fd != c.err_fd)
		close_fd(&c.out_fd);
	close_fd(&c.err_fd);
	close_fd(&c.null_fd);
	close_fd(&c.report_fd);
	close_fd(&report[0]);
	close_fd(&report[1]);
	for (i = 0; i < NPIPES; i++)
		close_fd(&r.pipe[i]);
	close_fd(&r.pidfd);
	close_fd(&r.log_fd);
	free(path);
	return ret;
}

/* The last non-empty line of the tail, at most 300 bytes of it. */
static void
last_line(const struct spawn_result *res, const char **p, int *len)
{
	const char *s = res->tail, *end = res->tail + res->tail_len, *b;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' '))
		end--;
	for (b = end; b > s && b[-1] != '\n'; b--)
		;
	if (end - b > 300)
		b = end - 300;
	*p = b;
	*len = (int)(end - b);
}

int
spawn_check(const struct spawn_result *res, const char *what, struct err *e)
{
	char head[256];
	const char *line;
	int len;

	if (res->status == 0 && !res->timed_out && !res->cancelled)
		return 0;
	if (res->timed_out)
		snprintf(head, sizeof(head), "'%s' timed out after %llu ms",
		    what, (unsigned long long)res->duration_ms);
	else if (res->cancelled)
		snprintf(head, sizeof(head), "'%s' was cancelled", what);
	else if (res->term_signal != 0)
		snprintf(head, sizeof(head), "'%s' was killed by signal %d "
		    "(%s)", what, res->term_signal,
		    strsignal(res->term_signal));
	else
		snprintf(head, sizeof(head), "'%s' exited with status %d",
		    what, res->status);
	last_line(res, &line, &len);
	if (len == 0)
		return err_set(e, "%s", head);
	return err_set(e, "%s: %.*s", head, len, line);
}

int
spawn_capture(const char *const *argv, const char *const *envp,
    uint64_t timeout_ms, size_t max, struct buf *out, struct err *e)
{
	struct spawn_opts o;
	struct spawn_result *res;
	struct buf what = BUF_INIT(200);
	int i, r = -1;

	buf_init(out, max);
	res = xcalloc(1, sizeof(*res));
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.envp = envp;
	o.timeout_ms = timeout_ms;
	o.capture = out;
	if (spawn_run(&o, res, e) == -1)
		goto out;
	for (i = 0; argv[i] != NULL; i++)
		if (buf_addf(&what, "%s%s", i ? " " : "", argv[i]) == -1)
			break;
	if (spawn_check(res, buf_str(&what), e) == -1)
		goto out;
	if (res->capture_dropped > 0) {
		err_set(e, "'%s' printed more than %zu bytes", buf_str(&what),
		    max);
		goto out;
	}
	r = 0;
 out:
	buf_release(&what);
	free(res);
	return r;
}
