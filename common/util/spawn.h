/*
 * The one way nixpull starts a child process (nix, nixos-rebuild,
 * darwin-rebuild, health checks), in the manner of git's run-command.c: an
 * argv vector and no shell, an explicit environment, stdin from /dev/null,
 * every other descriptor closed, a process group per child so that a
 * time-out kills the whole tree, output appended to a log file with a
 * bounded tail kept in memory, and exit status 128+signal like a shell.
 *
 * The caller must not set SIGCHLD to SIG_IGN (children would be reaped
 * behind our back).  No global state: spawn_run() is reentrant.
 */
#ifndef NIXPULL_SPAWN_H
#define NIXPULL_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "caps.h"

struct spawn_opts {
	/* argv[0] is searched in the PATH of envp (of ours when envp is
	 * NULL) when it has no '/'. */
	const char *const *argv;
	const char *const *envp;	/* explicit environment; NULL = ours */
	const char *cwd;		/* NULL = ours */
	/* stdout+stderr appended here (created 0600); NULL = not kept */
	const char *log_path;
	uint64_t timeout_ms;		/* 0 = no limit */
	uint64_t grace_ms;		/* SIGTERM -> SIGKILL delay; 0 = 5000 */
	int nice;			/* >0: setpriority before exec */
	bool idle_io;			/* idle I/O class (Linux only) */
	/* Optional: when *cancel becomes nonzero, terminate the child like a
	 * time-out.  A signal handler setting it wakes spawn_run() at once;
	 * otherwise it is looked at every SPAWN_TICK_MS. */
	const volatile sig_atomic_t *cancel;
	/* Optional: stdout is kept here instead (up to capture->max, the rest
	 * is counted in capture_dropped), and only stderr goes to the log and
	 * the tail.  The buffer is appended to, not reset. */
	struct buf *capture;
};

struct spawn_result {
	int status;		/* exit code, or 128+signal (like a shell) */
	int exit_code;		/* -1 when killed by a signal */
	int term_signal;	/* 0 when exited */
	bool timed_out;
	bool cancelled;
	uint64_t duration_ms;
	char tail[MAX_LOG_TAIL + 1];	/* end of the output, NUL-terminated */
	size_t tail_len;
	uint64_t output_bytes;	/* everything read from the output pipe */
	uint64_t capture_dropped; /* stdout bytes past capture->max */
};

#define SPAWN_GRACE_MS		5000	/* default SIGTERM -> SIGKILL delay */
#define SPAWN_KILL_WAIT_MS	2000	/* after SIGKILL, give up on EOF */
#define SPAWN_TICK_MS		100	/* poll period for cancel / no pidfd */

/*
 * Runs the command to completion.  0 when the child ran (whatever its
 * status: see res), -1 when it could not be started, with e.g.
 *   cannot run 'nix': No such file or directory
 * When the command exits (or times out) anything it left running in its
 * process group is terminated too.  Processes that left the group (setsid)
 * and keep the output pipe open do not hold us past the time-out.
 */
int	spawn_run(const struct spawn_opts *o, struct spawn_result *res,
	    struct err *e);

/*
 * 0 when res says the command exited 0; otherwise -1 and e says why, naming
 * the command as what ("'nix build' exited with status 1: <last line>").
 */
int	spawn_check(const struct spawn_result *res, const char *what,
	    struct err *e);

/*
 * Convenience for short queries (`nix --version`, `nixos-version --json`):
 * runs argv, and fills out (initialised here with cap max, released by the
 * caller, also on error) with its stdout.  Fails unless the command exits 0
 * within timeout_ms and its stdout fits in max bytes.  stderr is not kept
 * except for the error message.
 */
int	spawn_capture(const char *const *argv, const char *const *envp,
	    uint64_t timeout_ms, size_t max, struct buf *out, struct err *e);

#endif
