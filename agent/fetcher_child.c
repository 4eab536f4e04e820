/*
 * The fetcher's side (fetcher.h): read ahead what it may not open later,
 * confine itself, then answer the parent's requests until the socket
 * closes.  It never executes a program and writes nothing but the mirror.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "allowed_signers.h"
#include "config.h"
#include "fetcher.h"
#include "fsutil.h"
#include "log.h"
#include "sandbox.h"

struct child {
	const struct config *cfg;
	int		 fd;
	char		*mirror;
	struct gitx_preload pre;
};

/* What libc, TLS and NSS read at run time, besides the given files. */
static const char *const system_read[] = {
	"/usr", "/lib", "/lib64", "/nix/store", "/etc/static",
	"/etc/ssl", "/etc/pki", "/etc/ca-certificates", "/etc/resolv.conf",
	"/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf",
	"/etc/services", "/etc/protocols", "/etc/localtime", "/dev/null",
	"/dev/urandom",
};

/* A local remote (file:// or a path) must be readable. */
static const char *
local_remote(const char *url)
{
	if (strncmp(url, "file://", 7) == 0)
		return url + 7;
	if (url[0] == '/')
		return url;
	return NULL;
}

static void
sandbox_setup(const struct child *c, struct sandbox *sb)
{
	size_t i;

	memset(sb, 0, sizeof(*sb));
	sb->user = c->cfg->privsep.user;
	sandbox_allow_read(sb, c->cfg->trust.allowed_signers);
	sandbox_allow_read(sb, c->cfg->trust.revoked_keys);
	sandbox_allow_read(sb, c->cfg->repo.ca_file);
	sandbox_allow_read(sb, c->cfg->repo.known_hosts);
	sandbox_allow_read(sb, local_remote(c->cfg->repo.url));
	for (i = 0; i < sizeof(system_read) / sizeof(system_read[0]); i++)
		sandbox_allow_read(sb, system_read[i]);
	sb->write[sb->nwrite++] = c->mirror;
}

#ifdef NIXPULL_TEST_HOOKS
/* Test builds: NIXPULL_TEST_FETCHER_HANG=1 stands for a fetcher stuck in
 * a library (an endless loop on hostile input): it stops answering. */
static void
test_hang(void)
{
	int i;

	if (getenv("NIXPULL_TEST_FETCHER_HANG") == NULL)
		return;
	log_info("test hook: hanging");
	for (i = 0; i < 3600; i++)
		sleep(1);
	_exit(3);
}

/* Test builds: NIXPULL_TEST_FETCHER_ESCAPE=PATH tries what the sandbox
 * must stop, and logs what happened. */
static void
test_escape(void)
{
	const char *path = getenv("NIXPULL_TEST_FETCHER_ESCAPE");
	char *const argv[] = { (char *)"/bin/true", NULL };
	int fd;

	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		log_info("test hook: write '%s': %s", path, strerror(errno));
	else {
		log_info("test hook: write '%s': allowed", path);
		close(fd);
	}
	execv(argv[0], argv);
	log_info("test hook: exec '%s': %s", argv[0], strerror(errno));
}
#else
static void
test_hang(void)
{
}

static void
test_escape(void)
{
}
#endif

static void
confine(struct child *c)
{
	struct gitx_remote rm;
	struct sandbox_report rep;
	struct sandbox sb;
	struct err e;
	int level;

	poll_remote(c->cfg, NULL, &rm);
	if (gitx_preload(&rm, &c->pre, &e) == -1 || gitx_init(&rm, &e) == -1)
		fatalx("fetcher: %s", e.msg);
	/* No global, XDG or system git configuration: only the mirror's. */
	for (level = GIT_CONFIG_LEVEL_SYSTEM; level <= GIT_CONFIG_LEVEL_GLOBAL;
	    level++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
	/*
	 * A file:// remote belongs to someone else; libgit2 refuses such a
	 * repository ("safe.directory") because its configuration could
	 * make git run programs.  Here nothing runs (no execve under the
	 * seccomp filter, no hooks in libgit2), so the check only stands in
	 * the way.
	 */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	setenv("HOME", c->mirror, 1);
	sandbox_setup(c, &sb);
	if (sandbox_enter(&sb, &rep, &e) == -1)
		fatalx("fetcher: cannot confine itself: %s", e.msg);
	log_info("fetcher (pid %ld) runs as uid %u: no new privileges%s, "
	    "Landlock %s, seccomp %s", (long)getpid(), (unsigned)rep.uid,
	    rep.uid == 0 ? " (not started as root: no user to drop to)" : "",
	    rep.landlock_abi ? "on" : "not in this kernel",
	    rep.seccomp ? "on" : "off");
	test_escape();
}

static void
send_or_die(const struct child *c, struct msg *m)
{
	struct err e;

	if (msg_send(c->fd, m, &e) == -1)
		fatalx("fetcher: %s", e.msg);
	msg_release(m);
}

struct fetching_ctx {
	const struct child *c;
	struct poll_result *r;
};

static void
on_fetching(void *arg, const char *tip)
{
	struct fetching_ctx *fc = arg;
	struct msg m;

	fm_encode_fetching(&m, tip, fc->r->poll_ms);
	send_or_die(fc->c, &m);
}

static void
do_poll(const struct child *c, const struct msg_view *v)
{
	struct fetching_ctx fc;
	struct poll_result r;
	struct msg m;
	struct err e;
	char last[REV_HEX];
	int rc;

	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	if (fm_decode_poll_req(v, last, &e) == -1)
		fatalx("fetcher: bad request: %s", e.msg);
	fc.c = c;
	fc.r = &r;
	rc = poll_run_hook(c->cfg, &c->pre, last, on_fetching, &fc, &r, &e);
	fm_encode_polled(&m, rc, &r, &e);
	send_or_die(c, &m);
}

/* trust.follow_repo: what select_release needs besides the pinned root. */
static int
repo_trust_setup(const struct config *cfg, const struct fetcher_select_req *q,
    struct select_repo_trust *rt, struct buf *rv, struct err *e)
{
	if (trust_repo_init(rt, cfg, cfg->trust.revoked_keys, rv, e) != 0)
		return -1;
	rt->rec_version = q->rec_trust_version;
	memcpy(rt->rec_allowed, q->rec_trust_allowed, sizeof(rt->rec_allowed));
	memcpy(rt->rec_file, q->rec_trust_file, sizeof(rt->rec_file));
	return 0;
}

static int
select_in_mirror(const struct child *c, const struct fetcher_select_req *q,
    struct select_result *res, struct err *e)
{
	struct signers *signers = NULL;
	git_repository *repo = NULL;
	struct select_opts so;
	struct select_repo_trust rt;
	struct buf rv = BUF_INIT(MAX_SIGNERS_SIZE);
	git_oid tip, deployed;
	int r = -1;

	res->outcome = SELECT_ERROR;
	if (signers_load(&signers, c->cfg->trust.allowed_signers,
	    c->cfg->trust.revoked_keys, e) == -1)
		goto out;
	if (git_repository_open_bare(&repo, c->mirror) != 0) {
		err_set(e, "cannot open the mirror '%s': %s", c->mirror,
		    git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.ref = c->cfg->repo.ref;
	so.signers = signers;
	so.threshold = c->cfg->trust.threshold;
	so.max_walk = c->cfg->trust.max_walk;
	so.max_age_ms = c->cfg->trust.max_age_ms;
	so.now = q->now;
	so.system_rev = q->system_rev;
	if (c->cfg->trust.follow_repo) {
		if (repo_trust_setup(c->cfg, q, &rt, &rv, e) != 0)
			goto out;
		so.repo_trust = &rt;
	}
	if (git_oid_fromstr(&tip, q->tip) != 0) {
		err_set(e, "bad tip '%s'", q->tip);
		goto out;
	}
	if (q->deployed[0] && git_oid_fromstr(&deployed, q->deployed) == 0)
		so.deployed = &deployed;
	r = select_release(repo, &tip, &so, res, e);
	if (r == 0 && !res->at_floor && release_read_trust(repo, &res->oid,
	    res->commit_time, c->cfg->rollout.plan,
	    c->cfg->build.source == SOURCE_BUILD ? NULL : c->cfg->build.manifest,
	    signers, so.threshold, so.repo_trust, q->now, &res->release,
	    e) != 0) {
		res->outcome = SELECT_ERROR;
		r = -1;
	}
 out:
	buf_release(&rv);
	git_repository_free(repo);
	signers_free(signers);
	return r;
}

static void
do_select(const struct child *c, const struct msg_view *v)
{
	struct fetcher_select_req q;
	struct select_result res;
	struct msg m;
	struct err e;
	char sysrev[MAX_ERROR];
	int rc;

	memset(&e, 0, sizeof(e));
	memset(&res, 0, sizeof(res));
	if (fm_decode_select_req(v, &q, sysrev, sizeof(sysrev), &e) == -1)
		fatalx("fetcher: bad request: %s", e.msg);
	rc = select_in_mirror(c, &q, &res, &e);
	fm_encode_selected(&m, rc, &res, &e);
	send_or_die(c, &m);
}

void
fetcher_child(const struct config *cfg, int fd)
{
	struct msg_reader *rd = xcalloc(1, sizeof(*rd));
	struct child c;
	struct msg_view v;
	struct err e;
	int r;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.fd = fd;
	c.mirror = poll_mirror_path(cfg);
	log_init("nixpull[fetcher]", log_getlevel());
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);	/* the parent decides when we stop */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	confine(&c);
	for (;;) {
		r = msg_read(fd, rd, 0, &v, &e);
		if (r == 0)
			_exit(0);	/* the parent closed the socket */
		if (r < 0)
			fatalx("fetcher: %s", e.msg);
		test_hang();
		if (v.type == FM_POLL)
			do_poll(&c, &v);
		else if (v.type == FM_SELECT)
			do_select(&c, &v);
		else
			fatalx("fetcher: unknown request type %u", v.type);
	}
}
