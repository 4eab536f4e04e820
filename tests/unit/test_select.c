/*
 * Release selection over a repository built here with real git and
 * ssh-keygen: unsigned commits on top, rollbacks, unrelated history,
 * k-of-n with tags, re-pointed tag refs, max_walk, floors, freeze.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowed_signers.h"
#include "select.h"
#include "t.h"

static char dir[] = "/tmp/nixpull-test-select.XXXXXX";
static struct signers *signers;

/* Runs a shell command in the test repository; aborts when it fails. */
static void __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (asprintf(&full, "cd '%s' && { %s ; } >/dev/null 2>&1", dir,
	    cmd) < 0)
		abort();
	if (system(full) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		exit(1);
	}
	free(full);
	free(cmd);
}

/* A revision's full object name. */
static git_oid
rev(const char *name)
{
	char *cmd, line[128];
	git_oid oid;
	FILE *fp;

	if (asprintf(&cmd, "git -C '%s/repo' rev-parse '%s'", dir, name) < 0)
		abort();
	if ((fp = popen(cmd, "r")) == NULL || fgets(line, sizeof(line),
	    fp) == NULL || git_oid_fromstrn(&oid, line, GIT_OID_HEXSZ) != 0) {
		fprintf(stderr, "cannot resolve %s\n", name);
		exit(1);
	}
	pclose(fp);
	free(cmd);
	return oid;
}

static void
setup(void)
{
	struct err e;
	char *path;

	if (mkdtemp(dir) == NULL)
		abort();
	setenv("HOME", dir, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "A U Thor", 1);
	setenv("GIT_AUTHOR_EMAIL", "a@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "C O Mitter", 1);
	setenv("GIT_COMMITTER_EMAIL", "c@example.com", 1);
	sh("for k in k1 k2 k3; do ssh-keygen -q -t ed25519 -N '' -C $k "
	    "-f $k || exit 1; done");
	sh("for k in k1 k2; do printf '%%s@example.com %%s\\n' $k "
	    "\"$(cut -d' ' -f1,2 $k.pub)\" >>allowed || exit 1; done");
	sh("git init -q -b main repo && cd repo && git config gpg.format ssh "
	    "&& git config user.signingkey '%s/k1' && "
	    "git config tag.gpgsign false", dir);
	if (asprintf(&path, "%s/allowed", dir) < 0)
		abort();
	if (signers_load(&signers, path, NULL, &e) != 0) {
		fprintf(stderr, "signers_load: %s\n", e.msg);
		exit(1);
	}
	free(path);
}

/* git commit in repo at a fixed date; key NULL: unsigned. */
static void
commit(const char *msg, const char *key, long date)
{
	if (key != NULL)
		sh("cd repo && GIT_COMMITTER_DATE='%ld +0000' git -c "
		    "user.signingkey='%s/%s' commit -q -S --allow-empty -m '%s'",
		    date, dir, key, msg);
	else
		sh("cd repo && GIT_COMMITTER_DATE='%ld +0000' git commit -q "
		    "--no-gpg-sign --allow-empty -m '%s'", date, msg);
}

static void
tag(const char *name, const char *key, const char *target)
{
	sh("cd repo && git -c user.signingkey='%s/%s' tag -s -m '%s' '%s' "
	    "'%s'", dir, key, name, name, target);
}

static int
run(git_repository *repo, const char *tip, const git_oid *deployed,
    const char *system_rev, unsigned k, unsigned max_walk,
    struct select_result *res)
{
	struct select_opts o;
	struct err e;
	git_oid t = rev(tip);

	memset(&o, 0, sizeof(o));
	o.ref = "main";
	o.deployed = deployed;
	o.system_rev = system_rev;
	o.signers = signers;
	o.threshold = k;
	o.max_walk = max_walk;
	o.now = 1700000000 + 1000;
	e.msg[0] = '\0';
	return select_release(repo, &t, &o, res, &e);
}

static void
test_unsigned_on_top(git_repository *repo)
{
	struct select_result res;
	git_oid c1 = rev("c1"), c3;

	/* no floor: trust on first use, the signed commit below */
	T_EQ_INT(run(repo, "main", NULL, NULL, 1, 0, &res), 0);
	T_EQ_INT(res.outcome, SELECT_OK);
	T_OK(git_oid_equal(&res.oid, &c1));
	T_EQ_INT(res.skipped, 2);
	T_OK(res.tofu);
	T_EQ_INT(res.floor, FLOOR_NONE);
	T_EQ_STR(res.signer.principals, "k1@example.com");
	T_EQ_STR(res.signer.key_type, "ssh-ed25519");
	T_CONTAINS(res.signer.fingerprint, "SHA256:");
	T_CONTAINS(res.tip_why, "no signature");
	T_OK(!res.tip_bad_signature);
	T_CONTAINS(res.why, "trust on first use");

	/* deployed c1: nothing new, the walk stops there */
	T_EQ_INT(run(repo, "main", &c1, NULL, 1, 0, &res), 0);
	T_OK(res.at_floor);
	T_OK(git_oid_equal(&res.oid, &c1));
	T_OK(!res.tofu);

	/* deployed c3 (unsigned, deployed earlier by other means) */
	c3 = rev("main");
	T_EQ_INT(run(repo, "main", &c3, NULL, 1, 0, &res), 0);
	T_OK(res.at_floor);
	T_EQ_INT(res.skipped, 0);
}

static void
test_rollback(git_repository *repo)
{
	struct select_result res;
	git_oid c4 = rev("c4"), bogus;
	char hex[GIT_OID_HEXSZ + 1], c1hex[GIT_OID_HEXSZ + 1];

	/* c4 signed on top of c3: selected, descends from c1 */
	git_oid c1 = rev("c1");
	T_EQ_INT(run(repo, "c4", &c1, NULL, 1, 0, &res), 0);
	T_OK(git_oid_equal(&res.oid, &c4));
	T_OK(!res.at_floor && !res.rollback);
	T_EQ_INT(res.commit_time, 1700000004);

	/* force-push back to c1 while c4 is deployed */
	git_oid_tostr(hex, sizeof(hex), &c4);
	git_oid_tostr(c1hex, sizeof(c1hex), &c1);
	T_EQ_INT(run(repo, "c1", &c4, NULL, 1, 0, &res), -1);
	T_EQ_INT(res.outcome, SELECT_ROLLBACK);
	T_OK(res.rollback);
	T_CONTAINS(res.why, "refusing rollback");
	T_CONTAINS(res.why, hex);
	T_CONTAINS(res.why, c1hex);

	/* unrelated signed history */
	T_EQ_INT(run(repo, "other", &c4, NULL, 1, 0, &res), -1);
	T_EQ_INT(res.outcome, SELECT_ROLLBACK);
	T_CONTAINS(res.why, "does not descend");

	/* the same through the running system's revision */
	T_EQ_INT(run(repo, "c1", NULL, hex, 1, 0, &res), -1);
	T_EQ_INT(res.floor, FLOOR_SYSTEM);
	T_EQ_INT(res.outcome, SELECT_ROLLBACK);
	T_CONTAINS(res.why, "running system");
	T_EQ_INT(run(repo, "c4", NULL, c1hex, 1, 0, &res), 0);
	T_EQ_INT(res.floor, FLOOR_SYSTEM);
	T_OK(!res.tofu);

	/* a system revision not in the mirror: trust on first use */
	T_EQ_INT(run(repo, "c1", NULL,
	    "0123456789012345678901234567890123456789", 1, 0, &res), 0);
	T_OK(res.tofu);
	T_EQ_INT(run(repo, "c1", NULL, "dirty", 1, 0, &res), 0);
	T_OK(res.tofu);

	/* a deployed revision the mirror does not have */
	git_oid_fromstr(&bogus, "0123456789012345678901234567890123456789");
	T_EQ_INT(run(repo, "c4", &bogus, NULL, 1, 0, &res), -1);
	T_OK(res.deployed_unknown);
	T_EQ_INT(res.outcome, SELECT_ROLLBACK);
	T_CONTAINS(res.why, "not in the mirror");
}

static void
test_threshold(git_repository *repo)
{
	struct select_result res;
	git_oid c4 = rev("c4"), c1 = rev("c1");

	/* c6: k1 commit + tag by k1 again = 1 key; c5 unsigned;
	 * c4: k1 commit + tag by k2 = 2 keys */
	T_EQ_INT(run(repo, "c6", &c1, NULL, 2, 0, &res), 0);
	T_OK(git_oid_equal(&res.oid, &c4));
	T_EQ_INT(res.nkeys, 2);
	T_EQ_INT(res.ntags, 1);
	T_EQ_INT(res.skipped, 2);
	T_CONTAINS(res.tip_why, "1 of 2 required distinct keys");

	/* threshold 3: nothing (k3 is not trusted) */
	T_EQ_INT(run(repo, "c6", &c1, NULL, 3, 0, &res), 0);
	T_OK(res.at_floor);
	T_EQ_INT(run(repo, "c6", NULL, NULL, 3, 0, &res), -1);
	T_EQ_INT(res.outcome, SELECT_NONE);

	/* c7: k1 commit + a k2 tag re-pointed under another ref name */
	T_EQ_INT(run(repo, "c7", &c1, NULL, 2, 0, &res), 0);
	T_OK(git_oid_equal(&res.oid, &c4));
	T_CONTAINS(res.tip_why, "1 of 2");

	/* c8: unsigned commit, tag by k2 only: threshold 1 passes */
	T_EQ_INT(run(repo, "c8", &c1, NULL, 1, 0, &res), 0);
	T_EQ_STR(res.signer.principals, "k2@example.com");
	T_EQ_INT(res.skipped, 0);
	T_EQ_INT(res.ntags, 1);
}

static void
test_walk(git_repository *repo)
{
	struct select_result res;

	/* u1..u5 unsigned on top of c8 */
	T_EQ_INT(run(repo, "u5", NULL, NULL, 1, 5, &res), -1);
	T_EQ_INT(res.outcome, SELECT_NONE);
	T_CONTAINS(res.why, "within 5 first-parent commits");
	T_EQ_INT(run(repo, "u5", NULL, NULL, 1, 6, &res), 0);
	T_EQ_INT(res.skipped, 5);
	T_EQ_INT(run(repo, "u5", NULL, NULL, 1, 0, &res), 0);

	/* freeze detection: c8 is 1000 s old at "now" */
	{
		struct select_opts o;
		struct err e;
		git_oid t = rev("c8");

		memset(&o, 0, sizeof(o));
		o.signers = signers;
		o.now = 1700000008 + 1000;
		o.max_age_ms = 999 * 1000;
		T_EQ_INT(select_release(repo, &t, &o, &res, &e), 0);
		T_OK(res.stale_release);
		o.max_age_ms = 1001 * 1000;
		T_EQ_INT(select_release(repo, &t, &o, &res, &e), 0);
		T_OK(!res.stale_release);

		/*
		 * A committer date 2^62 s before now (at the floor, so its
		 * unsigned copy is the result): stale, without the age in ms
		 * wrapping around; and the oldest date git can write, without
		 * signed overflow.
		 */
		sh("cd repo && git cat-file commit c8 | sed -e '/^gpgsig/,"
		    "/END SSH/d' -e 's/^\\(committer .*>\\) [0-9]* /"
		    "\\1 -4611686016727386896 /' | git hash-object -t commit "
		    "-w --literally --stdin >../t && git update-ref "
		    "refs/tags/ancient $(cat ../t)");
		sh("cd repo && git cat-file commit c8 | sed -e '/^gpgsig/,"
		    "/END SSH/d' -e 's/^\\(committer .*>\\) [0-9]* /"
		    "\\1 -9223372036854775808 /' | git hash-object -t commit "
		    "-w --literally --stdin >../t && git update-ref "
		    "refs/tags/oldest $(cat ../t)");
		t = rev("ancient");
		o.deployed = &t;
		T_EQ_INT(select_release(repo, &t, &o, &res, &e), 0);
		T_OK(res.at_floor);
		T_EQ_INT(res.commit_time, -4611686016727386896LL);
		T_OK(res.stale_release);
		t = rev("oldest");
		T_EQ_INT(select_release(repo, &t, &o, &res, &e), 0);
		T_OK(res.at_floor);
		T_OK(res.stale_release);
	}

	/* a tampered commit on top: the tip's signature is refused */
	T_EQ_INT(run(repo, "tampered", NULL, NULL, 1, 0, &res), 0);
	T_OK(res.tip_bad_signature);
	T_CONTAINS(res.tip_why, "bad signature");
	T_EQ_INT(res.skipped, 1);
}

static void
test_version_json(git_repository *repo)
{
	char rev_[GIT_OID_HEXSZ + 1];
	git_oid oid;
	const char *j1 = "{\"configurationRevision\":"
	    "\"0123456789abcdef0123456789abcdef01234567\","
	    "\"nixosVersion\":\"24.05\"}";
	const char *j2 = "{\"configurationRevision\":null}";
	const char *j3 = "{\"configurationRevision\":"
	    "\"0123456789abcdef0123456789abcdef01234567-dirty\"}";

	T_EQ_INT(select_parse_version_json(j1, strlen(j1), rev_), 0);
	T_EQ_STR(rev_, "0123456789abcdef0123456789abcdef01234567");
	T_EQ_INT(select_parse_version_json(j2, strlen(j2), rev_), -1);
	T_EQ_INT(select_parse_version_json(j3, strlen(j3), rev_), -1);
	T_EQ_INT(select_parse_version_json("{", 1, rev_), -1);
	T_EQ_INT(select_parse_version_json("{}", 2, rev_), -1);
	T_EQ_INT(select_system_floor(repo, rev_, &oid), -1);
	T_EQ_INT(select_system_floor(repo, NULL, &oid), -1);
}

static void
build_history(void)
{
	commit("c1", "k1", 1700000001);
	sh("cd repo && git tag c1");
	commit("c2", NULL, 1700000002);
	commit("c3", NULL, 1700000003);
	sh("cd repo && git tag c3");
}

static void
build_more(void)
{
	commit("c4", "k1", 1700000004);
	sh("cd repo && git tag c4");
	tag("r4", "k2", "c4");
	commit("c5", NULL, 1700000005);
	commit("c6", "k1", 1700000006);
	sh("cd repo && git tag c6");
	tag("r6", "k1", "c6");
	commit("c7", "k1", 1700000007);
	sh("cd repo && git tag c7");
	tag("r7", "k2", "c7");
	sh("cd repo && git update-ref refs/tags/moved refs/tags/r7 && "
	    "git tag -d r7");
	commit("c8", NULL, 1700000008);
	sh("cd repo && git tag c8");
	tag("r8", "k2", "c8");
	for (int i = 1; i <= 5; i++) {
		char m[8];

		snprintf(m, sizeof(m), "u%d", i);
		commit(m, NULL, 1700000008 + i);
		sh("cd repo && git tag u%d", i);
	}
	/* c7 with a changed message and its signature kept */
	sh("cd repo && git cat-file commit c7 | sed 's/^c7$/c7 evil/' | "
	    "git hash-object -t commit -w --stdin >../t && "
	    "git update-ref refs/tags/tampered $(cat ../t)");
	/* an unrelated signed history */
	sh("cd repo && git checkout -q --orphan other && "
	    "git -c user.signingkey='%s/k1' commit -q -S --allow-empty "
	    "-m other && git checkout -q main", dir);
}

int
main(void)
{
	git_repository *repo = NULL;
	char *path;

	setup();
	build_history();
	build_more();
	git_libgit2_init();
	if (asprintf(&path, "%s/repo", dir) < 0 ||
	    git_repository_open(&repo, path) != 0) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	/* test_unsigned_on_top wants main at c3 */
	sh("cd repo && git branch -q -f at3 c3");
	{
		git_reference *r = NULL;
		git_oid c3 = rev("c3");

		git_reference_create(&r, repo, "refs/heads/main", &c3, 1,
		    NULL);
		git_reference_free(r);
	}
	test_unsigned_on_top(repo);
	test_rollback(repo);
	test_threshold(repo);
	test_walk(repo);
	test_version_json(repo);
	git_repository_free(repo);
	git_libgit2_shutdown();
	signers_free(signers);
	free(path);
	if (t_failed == 0)
		sh("cd / && rm -rf '%s'", dir);
	return T_DONE();
}
