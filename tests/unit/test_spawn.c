/*
 * spawn_run(): exit codes, signals, exec failures, the child's environment
 * and descriptors, the log and its tail, time-outs that must kill a whole
 * process tree (including members ignoring SIGTERM), cancellation, priority.
 *
 * The test makes itself a child subreaper (Linux), so that grandchildren
 * orphaned by a killed leader become its children: it can then reap them and
 * prove with kill(pid, 0) == ESRCH that nothing was left running.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

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
#include "fsutil.h"
#include "spawn.h"
#include "t.h"

#define SLACK_MS	3000	/* scheduling slack for the time bounds */

static char tmpdir[] = "/tmp/nixpull-test-spawn.XXXXXX";

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* Runs argv with default options plus what the caller set in o. */
static int
run(struct spawn_opts *o, const char *const *argv, struct spawn_result *res,
    struct err *e)
{
	o->argv = argv;
	memset(e, 0, sizeof(*e));
	return spawn_run(o, res, e);
}

static void
test_exit_codes(void)
{
	const char *ok[] = { "true", NULL };
	const char *three[] = { "sh", "-c", "exit 3", NULL };
	const char *term[] = { "sh", "-c", "kill -TERM $$", NULL };
	const char *kill9[] = { "sh", "-c", "kill -KILL $$", NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct err e;

	T_EQ_INT(run(&o, ok, &res, &e), 0);
	T_EQ_INT(res.status, 0);
	T_EQ_INT(res.exit_code, 0);
	T_EQ_INT(res.term_signal, 0);
	T_OK(!res.timed_out && !res.cancelled);
	T_EQ_INT(spawn_check(&res, "true", &e), 0);

	T_EQ_INT(run(&o, three, &res, &e), 0);
	T_EQ_INT(res.status, 3);
	T_EQ_INT(res.exit_code, 3);
	T_EQ_INT(spawn_check(&res, "sh -c", &e), -1);
	T_EQ_STR(e.msg, "'sh -c' exited with status 3");

	T_EQ_INT(run(&o, term, &res, &e), 0);
	T_EQ_INT(res.status, 128 + SIGTERM);
	T_EQ_INT(res.exit_code, -1);
	T_EQ_INT(res.term_signal, SIGTERM);

	T_EQ_INT(run(&o, kill9, &res, &e), 0);
	T_EQ_INT(res.status, 137);
	T_EQ_INT(res.term_signal, SIGKILL);
	T_EQ_INT(spawn_check(&res, "x", &e), -1);
	T_CONTAINS(e.msg, "'x' was killed by signal 9");
}

static void
test_exec_failure(void)
{
	const char *abs[] = { "/nonexistent/prog", NULL };
	const char *rel[] = { "nixpull-no-such-command", NULL };
	const char *envv[] = { "env", NULL };
	const char *nopath[] = { "PATH=/nonexistent", NULL };
	const char *pwd[] = { "pwd", NULL };
	const char *empty[] = { NULL };
	char *noexec = tpath("noexec"), *log = tpath("nodir/log");
	const char *noexec_argv[] = { noexec, NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct err e;
	int fd;

	T_EQ_INT(run(&o, abs, &res, &e), -1);
	T_EQ_STR(e.msg, "cannot run '/nonexistent/prog': "
	    "No such file or directory");
	T_EQ_INT(run(&o, rel, &res, &e), -1);
	T_EQ_STR(e.msg, "cannot run 'nixpull-no-such-command': "
	    "No such file or directory");
	T_EQ_INT(run(&o, empty, &res, &e), -1);
	T_CONTAINS(e.msg, "empty command");

	/* The search uses the PATH of the environment given. */
	o.envp = nopath;
	T_EQ_INT(run(&o, envv, &res, &e), -1);
	T_EQ_STR(e.msg, "cannot run 'env': No such file or directory");
	o.envp = NULL;

	/* Failures after fork come back through the report pipe. */
	fd = open(noexec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	T_OK(fd >= 0 && write(fd, "#!/bin/sh\n", 10) == 10);
	close(fd);
	T_EQ_INT(run(&o, noexec_argv, &res, &e), -1);
	T_CONTAINS(e.msg, "Permission denied");
	T_CONTAINS(e.msg, noexec);

	o.cwd = "/nonexistent/dir";
	T_EQ_INT(run(&o, pwd, &res, &e), -1);
	T_EQ_STR(e.msg, "cannot run 'pwd': cannot change to directory "
	    "'/nonexistent/dir': No such file or directory");
	o.cwd = NULL;

	o.log_path = log;
	T_EQ_INT(run(&o, pwd, &res, &e), -1);
	T_CONTAINS(e.msg, "cannot open log file");
	T_CONTAINS(e.msg, log);
	free(noexec);
	free(log);
}

static void
test_child_environment(void)
{
	const char *in[] = { "sh", "-c", "readlink /proc/$$/fd/0; cat", NULL };
	const char *fds[] = { "sh", "-c", "ls /proc/$$/fd", NULL };
	const char *envv[] = { "env", NULL };
	const char *env[] = { "FOO=bar baz", "PATH=/usr/bin:/bin", NULL };
	const char *inherit[] = { "sh", "-c", "echo \"$NIXPULL_T_VAR\"", NULL };
	const char *pwd[] = { "pwd", NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct err e;
	char *real;
	int fd;

	/* stdin is /dev/null: cat sees EOF at once. */
	o.timeout_ms = 20000;
	T_EQ_INT(run(&o, in, &res, &e), 0);
	T_EQ_STR(res.tail, "/dev/null\n");
	T_EQ_INT(res.status, 0);
	T_OK(!res.timed_out);

	/* An fd we leave open without CLOEXEC does not reach the child. */
	fd = open("/dev/null", O_RDONLY);
	T_OK(fd >= 0 && dup2(fd, 57) == 57);
	T_EQ_INT(run(&o, fds, &res, &e), 0);
	T_EQ_STR(res.tail, "0\n1\n2\n");
	close(57);
	close(fd);

	o.envp = env;
	T_EQ_INT(run(&o, envv, &res, &e), 0);
	T_EQ_STR(res.tail, "FOO=bar baz\nPATH=/usr/bin:/bin\n");
	o.envp = NULL;
	setenv("NIXPULL_T_VAR", "inherited", 1);
	T_EQ_INT(run(&o, inherit, &res, &e), 0);
	T_EQ_STR(res.tail, "inherited\n");

	real = realpath(tmpdir, NULL);
	o.cwd = tmpdir;
	T_EQ_INT(run(&o, pwd, &res, &e), 0);
	T_OK(real != NULL && res.tail_len == strlen(real) + 1 &&
	    strncmp(res.tail, real, strlen(real)) == 0);
	free(real);
}

static void
test_log_and_tail(void)
{
	const char *big[] = { "sh", "-c", "i=0; while [ $i -lt 20000 ]; do "
	    "echo \"line $i\"; i=$((i + 1)); done; echo end >&2", NULL };
	const char *small[] = { "echo", "hi", NULL };
	char *log = tpath("big.log"), *small_log = tpath("small.log");
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct buf want = BUF_INIT(1 << 20), got;
	struct stat st;
	struct err e;
	int i;

	for (i = 0; i < 20000; i++)
		buf_addf(&want, "line %d\n", i);
	buf_addstr(&want, "end\n");

	o.log_path = log;
	T_EQ_INT(run(&o, big, &res, &e), 0);
	T_EQ_INT(res.status, 0);
	T_EQ_INT(res.output_bytes, want.len);
	T_EQ_INT(res.tail_len, MAX_LOG_TAIL);
	T_EQ_INT(strlen(res.tail), MAX_LOG_TAIL);
	T_OK(memcmp(res.tail, want.data + want.len - MAX_LOG_TAIL,
	    MAX_LOG_TAIL) == 0);
	T_EQ_INT(fs_read_file(log, 1 << 20, &got, &e), 0);
	T_EQ_INT(got.len, want.len);
	T_OK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
	buf_release(&got);
	T_OK(stat(log, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* Appended, not truncated. */
	o.log_path = small_log;
	T_EQ_INT(run(&o, small, &res, &e), 0);
	T_EQ_INT(run(&o, small, &res, &e), 0);
	T_EQ_STR(res.tail, "hi\n");
	T_EQ_INT(res.tail_len, 3);
	T_EQ_INT(fs_read_file(small_log, 100, &got, &e), 0);
	T_EQ_STR(buf_str(&got), "hi\nhi\n");
	buf_release(&got);
	buf_release(&want);
	free(log);
	free(small_log);
}

/* Reads up to max pids from a file, one a line. */
static int
read_pids(const char *path, pid_t *pids, int max)
{
	struct buf b;
	struct err e;
	char *p, *end;
	int n = 0;

	if (fs_read_file(path, 4096, &b, &e) == -1)
		return 0;
	for (p = b.data; p != NULL && *p != '\0' && n < max; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		pids[n++] = (pid_t)v;
	}
	buf_release(&b);
	return n;
}

/*
 * Each pid must die within a moment (SIGKILL is not instantaneous): pidfd
 * poll, bounded.  As our (subreaper) child it is then reaped, after which it
 * must be gone entirely.  A survivor is killed to not leak it.
 */
static void
assert_gone(const pid_t *pids, int n)
{
	struct pollfd pfd;
	int i, died;

	for (i = 0; i < n; i++) {
		pfd.fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		pfd.events = POLLIN;
		died = pfd.fd == -1 ? errno == ESRCH : poll(&pfd, 1, 2000) == 1;
		T_OK(died);
		if (!died) {
			fprintf(stderr, "pid %ld survived\n", (long)pids[i]);
			kill(pids[i], SIGKILL);
		}
		if (pfd.fd >= 0)
			close(pfd.fd);
		(void)waitpid(pids[i], NULL, 0);
		T_OK(kill(pids[i], 0) == -1 && errno == ESRCH);
	}
}

static void
test_timeout_kills_tree(void)
{
	char *pidfile = tpath("tree.pids");
	const char *argv[] = { "sh", "-c",
	    "trap '' TERM\n"
	    "sh -c 'echo $$ >> \"$1\"; exec sleep 300' sh \"$1\" &\n"
	    "sh -c 'trap \"\" TERM; echo $$ >> \"$1\"; sleep 300 &\n"
	    "echo $! >> \"$1\"; wait' sh \"$1\" &\n"
	    "echo $$ >> \"$1\"\n"
	    "echo started\n"
	    "wait\n", "sh", pidfile, NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct err e;
	pid_t pids[8];
	int n;

	o.timeout_ms = 1000;
	o.grace_ms = 500;
	T_EQ_INT(run(&o, argv, &res, &e), 0);
	T_OK(res.timed_out);
	T_OK(!res.cancelled);
	T_EQ_INT(res.term_signal, SIGKILL);	/* it ignored SIGTERM */
	T_EQ_INT(res.status, 128 + SIGKILL);
	T_OK(res.duration_ms >= 1000 + 500);
	T_OK(res.duration_ms < 1000 + 500 + SLACK_MS);
	T_CONTAINS(res.tail, "started");
	T_EQ_INT(spawn_check(&res, "tree", &e), -1);
	T_CONTAINS(e.msg, "'tree' timed out after ");
	n = read_pids(pidfile, pids, 8);
	T_EQ_INT(n, 4);
	assert_gone(pids, n);
	free(pidfile);
}

static void
test_leftovers(void)
{
	char *pidfile = tpath("left.pids"), *pidfile2 = tpath("left2.pids");
	/* Background child keeps the pipe after the leader exits. */
	const char *keeps[] = { "sh", "-c", "sleep 300 & echo $! > \"$1\"",
	    "sh", pidfile, NULL };
	/* Background child with its output elsewhere. */
	const char *quiet[] = { "sh", "-c",
	    "sleep 300 >/dev/null 2>&1 & echo $! > \"$1\"", "sh", pidfile2,
	    NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct err e;
	pid_t pids[2];

	o.grace_ms = 2000;
	T_EQ_INT(run(&o, keeps, &res, &e), 0);
	T_EQ_INT(res.status, 0);
	T_OK(!res.timed_out);
	T_OK(res.duration_ms < 2000);	/* SIGTERM sufficed */
	T_EQ_INT(read_pids(pidfile, pids, 1), 1);
	assert_gone(pids, 1);

	T_EQ_INT(run(&o, quiet, &res, &e), 0);
	T_EQ_INT(res.status, 0);
	T_EQ_INT(read_pids(pidfile2, pids, 1), 1);
	assert_gone(pids, 1);
	free(pidfile);
	free(pidfile2);
}

/* A process that left the group (setsid) and holds the pipe: bounded. */
static void
test_escapee(void)
{
	char *pidfile = tpath("escapee.pids");
	/* The leader waits (bounded) until the escapee has left the group. */
	const char *argv[] = { "sh", "-c",
	    "setsid sh -c 'echo $$ > \"$1\"; exec sleep 300' sh \"$1\" &\n"
	    "i=0; while [ ! -s \"$1\" ] && [ $i -lt 1000 ]; do "
	    "sleep 0.01; i=$((i + 1)); done; exit 4", "sh", pidfile, NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct err e;
	pid_t pid;

	o.grace_ms = 200;
	o.timeout_ms = 60000;
	T_EQ_INT(run(&o, argv, &res, &e), 0);
	T_EQ_INT(res.status, 4);
	T_OK(!res.timed_out);
	/* Waited for its EOF in vain, then gave up. */
	T_OK(res.duration_ms >= 200 + SPAWN_KILL_WAIT_MS);
	T_OK(res.duration_ms < 200 + SPAWN_KILL_WAIT_MS + SLACK_MS);
	T_EQ_INT(read_pids(pidfile, &pid, 1), 1);
	if (read_pids(pidfile, &pid, 1) == 1) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
	}
	free(pidfile);
}

static volatile sig_atomic_t cancel_flag;

static void
on_alarm(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

static void
test_cancel(void)
{
	const char *argv[] = { "sleep", "300", NULL };
	struct itimerval it = { { 0, 0 }, { 0, 300000 } };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct sigaction sa;
	struct err e;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	o.cancel = &cancel_flag;
	setitimer(ITIMER_REAL, &it, NULL);
	T_EQ_INT(run(&o, argv, &res, &e), 0);
	T_OK(res.cancelled);
	T_OK(!res.timed_out);
	T_EQ_INT(res.status, 128 + SIGTERM);
	T_OK(res.duration_ms >= 300 && res.duration_ms < 300 + SLACK_MS);
	T_EQ_INT(spawn_check(&res, "sleep", &e), -1);
	T_EQ_STR(e.msg, "'sleep' was cancelled");
	signal(SIGALRM, SIG_DFL);
}

static void
test_priority(void)
{
	const char *argv[] = { "sh", "-c",
	    "cut -d' ' -f19 /proc/$$/stat; ionice -p $$", NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct err e;

	o.nice = 7;
	o.idle_io = true;
	T_EQ_INT(run(&o, argv, &res, &e), 0);
	T_EQ_STR(res.tail, "7\nidle\n");
	o.nice = 0;
	o.idle_io = false;
	T_EQ_INT(run(&o, argv, &res, &e), 0);
	T_OK(strncmp(res.tail, "0\n", 2) == 0);
	T_OK(strstr(res.tail, "idle") == NULL);
}

static void
test_capture(void)
{
	const char *both[] = { "sh", "-c", "echo out; echo err >&2", NULL };
	const char *fails[] = { "sh", "-c", "echo partial; echo 'first\n"
	    "oops: it broke' >&2; exit 2", NULL };
	const char *big[] = { "echo", "hello", NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	struct buf out;
	struct err e;

	T_EQ_INT(spawn_capture(both, NULL, 10000, 100, &out, &e), 0);
	T_EQ_STR(buf_str(&out), "out\n");
	buf_release(&out);

	T_EQ_INT(spawn_capture(fails, NULL, 10000, 100, &out, &e), -1);
	T_CONTAINS(e.msg, "exited with status 2: oops: it broke");
	T_CONTAINS(e.msg, "'sh -c echo partial;");
	buf_release(&out);

	T_EQ_INT(spawn_capture(big, NULL, 10000, 4, &out, &e), -1);
	T_EQ_STR(e.msg, "'echo hello' printed more than 4 bytes");
	buf_release(&out);

	/* With spawn_run: stdout captured, stderr alone in the tail. */
	buf_init(&out, 100);
	o.capture = &out;
	T_EQ_INT(run(&o, both, &res, &e), 0);
	T_EQ_STR(buf_str(&out), "out\n");
	T_EQ_STR(res.tail, "err\n");
	T_EQ_INT(res.capture_dropped, 0);
	buf_release(&out);
}

int
main(void)
{
	struct err e;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_OK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	test_exit_codes();
	test_exec_failure();
	test_child_environment();
	test_log_and_tail();
	test_timeout_kills_tree();
	test_leftovers();
	test_escapee();
	test_cancel();
	test_priority();
	test_capture();
	/* Reap what became ours as subreaper; each test asserted its own. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (fs_remove_tree(tmpdir, &e) == -1)
		fprintf(stderr, "%s\n", e.msg);
	return T_DONE();
}
