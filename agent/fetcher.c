/*
 * The parent's side of the fetcher (fetcher.h): start it, ask it, time it
 * out, notice when it died, start it again.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "fetcher.h"
#include "fsutil.h"
#include "log.h"
#include "sandbox.h"
#include "timeutil.h"

#define FETCHER_GRACE_MS	5000	/* past repo.timeout before the kill */
#define FETCHER_EXIT_MS		2000	/* for the fetcher to exit on EOF */

void
fetcher_init(struct fetcher *f, const struct config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	f->fd = -1;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	if (st->st_uid != chown_uid || st->st_gid != chown_gid)
		return lchown(path, chown_uid, chown_gid) == -1 ? -1 : 0;
	return 0;
}

/*
 * The state directory must let the fetcher's user through (0711), and the
 * mirror must be that user's: created so, or handed over when an older
 * agent (or a user change) left it to someone else.
 */
static int
prepare_mirror(const struct config *cfg, const char *mirror, struct err *e)
{
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (fs_mkdir_p(cfg->state_dir, 0711, e) == -1)
		return -1;
	if (stat(cfg->state_dir, &st) == 0 && (st.st_mode & 0011) != 0011 &&
	    geteuid() == 0 && chmod(cfg->state_dir,
	    (st.st_mode & 07777) | 0011) == -1)
		return err_errno(e, "cannot open state_dir '%s' to the "
		    "fetcher", cfg->state_dir);
	if (mkdir(mirror, 0755) == -1 && errno != EEXIST)
		return err_errno(e, "cannot create mirror '%s'", mirror);
	if (geteuid() != 0)
		return 0;	/* the fetcher runs as us */
	if (sandbox_user(cfg->privsep.user, &uid, &gid, e) == -1)
		return -1;
	if (stat(mirror, &st) == -1)
		return err_errno(e, "cannot stat mirror '%s'", mirror);
	if (st.st_uid == uid && st.st_gid == gid)
		return 0;
	log_info("handing mirror '%s' over to user '%s'", mirror,
	    cfg->privsep.user);
	chown_uid = uid;
	chown_gid = gid;
	if (nftw(mirror, chown_one, 32, FTW_PHYS) != 0)
		return err_errno(e, "cannot hand mirror '%s' over to '%s'",
		    mirror, cfg->privsep.user);
	return 0;
}

int
fetcher_start(struct fetcher *f, struct err *e)
{
	char *mirror = poll_mirror_path(f->cfg);
	int sv[2], r;
	pid_t pid;

	r = prepare_mirror(f->cfg, mirror, e);
	free(mirror);
	if (r == -1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return err_errno(e, "socketpair");
	fflush(NULL);
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return err_errno(e, "cannot fork the fetcher");
	}
	if (pid == 0) {
		close(sv[0]);
		fetcher_child(f->cfg, sv[1]);
	}
	close(sv[1]);
	if (f->rd == NULL)
		f->rd = xcalloc(1, sizeof(*f->rd));
	f->pid = pid;
	f->fd = sv[0];
	f->starts++;
	log_debug("fetcher started (pid %ld)", (long)pid);
	return 0;
}

/* Reaps the fetcher; says how it ended into why (may be NULL). */
static void
reap(struct fetcher *f, bool kill_it, struct err *why)
{
	uint64_t deadline = time_monotonic_ms() + FETCHER_EXIT_MS;
	int status = 0;
	pid_t r;

	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	if (f->pid <= 0)
		return;
	if (kill_it)
		kill(f->pid, SIGKILL);
	while ((r = waitpid(f->pid, &status, WNOHANG)) == 0 &&
	    time_monotonic_ms() < deadline)
		poll(NULL, 0, 10);
	if (r == 0) {
		kill(f->pid, SIGKILL);
		r = waitpid(f->pid, &status, 0);
	}
	if (why != NULL && r == f->pid) {
		if (WIFSIGNALED(status))
			err_set(why, "the fetcher died of signal %d (%s)",
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			err_set(why, "the fetcher exited with status %d",
			    WEXITSTATUS(status));
	}
	f->pid = 0;
}

void
fetcher_stop(struct fetcher *f)
{
	reap(f, false, NULL);
	free(f->rd);
	f->rd = NULL;
}

static uint64_t
deadline_for(const struct fetcher *f)
{
	uint64_t t = f->cfg->repo.timeout_ms;

	if (t == 0 || t > UINT64_MAX / 4)
		return 0;
	return time_monotonic_ms() + t + FETCHER_GRACE_MS;
}

/* Sends a request, starting a fetcher first when none runs. */
static int
ask(struct fetcher *f, const struct msg *m, struct err *e)
{
	if (f->pid == 0 && fetcher_start(f, e) == -1)
		return -1;
	if (msg_send(f->fd, m, e) == 0)
		return 0;
	reap(f, true, NULL);
	return err_prefix(e, "fetcher");
}

/*
 * Reads the next answer.  On a time-out, a malformed answer or a dead
 * fetcher, kills and reaps it and returns -1 with e saying which.
 */
static int
answer(struct fetcher *f, uint64_t deadline, struct msg_view *v,
    bool *timed_out, struct err *e)
{
	struct err why;
	char lim[32];
	int r;

	r = msg_read(f->fd, f->rd, deadline, v, e);
	if (r == 1)
		return 0;
	if (r == -2) {
		duration_format(f->cfg->repo.timeout_ms, lim, sizeof(lim));
		reap(f, true, NULL);
		*timed_out = true;
		return err_set(e, "the fetcher did not answer within "
		    "repo.timeout (%s) of '%s'; killed it", lim,
		    f->cfg->repo.url);
	}
	if (r == 0) {
		err_set(&why, "the fetcher went away");
		reap(f, false, &why);
		return err_set(e, "%s during a poll of '%s'", why.msg,
		    f->cfg->repo.url);
	}
	reap(f, true, NULL);
	return err_prefix(e, "bad answer from the fetcher");
}

int
fetcher_poll(struct fetcher *f, const char *last,
    void (*fetching)(void *, const char *), void *arg,
    struct poll_result *r, struct err *e)
{
	struct msg_view v;
	struct msg m;
	struct err why;
	char tip[REV_HEX];
	uint64_t poll_ms = 0;
	bool timed_out = false;
	int rc;

	memset(r, 0, sizeof(*r));
	fm_encode_poll_req(&m, last);
	rc = ask(f, &m, e);
	msg_release(&m);
	if (rc == -1)
		return -1;
	if (answer(f, deadline_for(f), &v, &timed_out, e) == -1)
		goto failed;
	if (v.type == FM_FETCHING) {
		if (fm_decode_fetching(&v, tip, &poll_ms, e) == -1) {
			reap(f, true, NULL);
			err_prefix(e, "bad answer from the fetcher");
			goto failed;
		}
		r->poll_ms = poll_ms;
		if (fetching)
			fetching(arg, tip);
		if (answer(f, deadline_for(f), &v, &timed_out, e) == -1)
			goto failed;
	}
	rc = fm_decode_polled(&v, r, &why, e);
	if (rc == -1) {
		reap(f, true, NULL);
		err_prefix(e, "bad answer from the fetcher");
		goto failed;
	}
	if (rc == 0) {
		*e = why;
		return -1;
	}
	return 0;
 failed:
	r->timed_out = timed_out;
	if (r->poll_ms != 0)
		r->fetch_ms = 1;	/* the fetch had started */
	return -1;
}

int
fetcher_select(struct fetcher *f, const struct fetcher_select_req *q,
    struct select_result *res, struct err *e)
{
	struct msg_view v;
	struct msg m;
	struct err why;
	bool timed_out = false;
	int rc;

	memset(res, 0, sizeof(*res));
	res->outcome = SELECT_ERROR;
	fm_encode_select_req(&m, q);
	rc = ask(f, &m, e);
	msg_release(&m);
	if (rc == -1)
		return -1;
	if (answer(f, deadline_for(f), &v, &timed_out, e) == -1)
		return -1;
	rc = fm_decode_selected(&v, res, &why, e);
	if (rc == -1) {
		reap(f, true, NULL);
		memset(res, 0, sizeof(*res));
		res->outcome = SELECT_ERROR;
		return err_prefix(e, "bad answer from the fetcher");
	}
	if (rc == 0) {
		*e = why;
		return -1;
	}
	return 0;
}
