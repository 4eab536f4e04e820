/*
 * state: deployed.json and inflight.json round trips, absent and corrupt
 * files, the bad-revisions list (reasons, hand-edited lines, caps) and
 * state_resolve_system.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "state.h"
#include "t.h"

#define REV_A	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define REV_B	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define REV_C	"cccccccccccccccccccccccccccccccccccccccc"
#define REV_A_UPPER	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static char tmpdir[] = "/tmp/nixpull-test-state.XXXXXX";

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
put(const char *name, const char *text)
{
	char *p = tpath(name);
	struct err e;

	if (fs_write_atomic(p, text, strlen(text), 0600, &e) == -1)
		T_FAIL("%s", e.msg);
	free(p);
}

static void
rm(const char *name)
{
	char *p = tpath(name);

	(void)unlink(p);
	free(p);
}

static void
test_deployed(void)
{
	struct deployed d, got;
	struct err e;

	rm("deployed.json");
	T_EQ_INT(state_load_deployed(tmpdir, &got, &e), 0);
	T_EQ_STR(got.rev, "");
	T_OK(got.store_path == NULL);
	deployed_release(&got);

	memset(&d, 0, sizeof(d));
	memcpy(d.rev, REV_A, sizeof(d.rev));
	d.signer = "alice@example.com,ops@example.com";
	d.key_fingerprint = "SHA256:abc";
	d.store_path = "/nix/store/x-nixos-system-web-1";
	d.activated_at = 1700000000;
	d.committed_at = 1690000000;
	d.tofu = true;
	T_EQ_INT(state_save_deployed(tmpdir, &d, &e), 0);
	T_EQ_INT(state_load_deployed(tmpdir, &got, &e), 0);
	T_EQ_STR(got.rev, REV_A);
	T_EQ_STR(got.signer, d.signer);
	T_EQ_STR(got.key_fingerprint, d.key_fingerprint);
	T_EQ_STR(got.store_path, d.store_path);
	T_EQ_INT(got.activated_at, d.activated_at);
	T_EQ_INT(got.committed_at, d.committed_at);
	T_OK(got.tofu);
	deployed_release(&got);
	T_EQ_STR(got.rev, "");		/* released: zeroed */

	/* NULL strings are null in the file and NULL again. */
	d.signer = d.key_fingerprint = NULL;
	d.tofu = false;
	T_EQ_INT(state_save_deployed(tmpdir, &d, &e), 0);
	T_EQ_INT(state_load_deployed(tmpdir, &got, &e), 0);
	T_OK(got.signer == NULL && got.key_fingerprint == NULL);
	T_OK(!got.tofu);
	deployed_release(&got);

	/* A short or non-string rev is no rev. */
	put("deployed.json", "{\"rev\": \"abc\", \"store_path\": 7}");
	T_EQ_INT(state_load_deployed(tmpdir, &got, &e), 0);
	T_EQ_STR(got.rev, "");
	T_OK(got.store_path == NULL);
	deployed_release(&got);

	/* 40 characters but not hex digits is no rev either; a wrong type
	 * or a negative time reads as unset, the rest is kept. */
	put("deployed.json", "{\"rev\": \"" REV_A_UPPER "\", "
	    "\"signer\": \"bob\", \"activated_at\": -5, "
	    "\"committed_at\": \"1690000000\", \"tofu\": \"true\"}");
	T_EQ_INT(state_load_deployed(tmpdir, &got, &e), 0);
	T_EQ_STR(got.rev, "");
	T_EQ_STR(got.signer, "bob");
	T_EQ_INT(got.activated_at, 0);
	T_EQ_INT(got.committed_at, 0);
	T_OK(!got.tofu);
	deployed_release(&got);

	put("deployed.json", "{\"rev\": ");
	T_EQ_INT(state_load_deployed(tmpdir, &got, &e), -1);
	T_CONTAINS(e.msg, "deployed.json:");
	T_CONTAINS(e.msg, "corrupt state file");
	put("deployed.json", "[1, 2]");
	T_EQ_INT(state_load_deployed(tmpdir, &got, &e), -1);
	T_CONTAINS(e.msg, "not an object");
	rm("deployed.json");
}

static void
test_inflight(void)
{
	struct inflight f, got;
	struct err e;

	T_EQ_INT(state_clear_inflight(tmpdir, &e), 0);	/* none: fine */
	T_EQ_INT(state_load_inflight(tmpdir, &got, &e), 0);

	memset(&f, 0, sizeof(f));
	memcpy(f.rev, REV_B, sizeof(f.rev));
	f.store_path = "/nix/store/new";
	f.prev_system = "/nix/store/old";
	f.signer = "alice@example.com";
	f.started_at = 1700000001;
	f.committed_at = 1700000000;
	f.tries = 2;
	T_EQ_INT(state_save_inflight(tmpdir, &f, &e), 0);
	T_EQ_INT(state_load_inflight(tmpdir, &got, &e), 1);
	T_EQ_STR(got.rev, REV_B);
	T_EQ_STR(got.store_path, "/nix/store/new");
	T_EQ_STR(got.prev_system, "/nix/store/old");
	T_EQ_STR(got.signer, "alice@example.com");
	T_OK(got.key_fingerprint == NULL);
	T_EQ_INT(got.started_at, 1700000001);
	T_EQ_INT(got.tries, 2);
	inflight_release(&got);

	T_EQ_INT(state_clear_inflight(tmpdir, &e), 0);
	T_EQ_INT(state_load_inflight(tmpdir, &got, &e), 0);

	/* trust.follow_repo: the trust goes through inflight.json into
	 * trust.json when a resumed activation is recorded. */
	f.trust_repo = true;
	f.trust_version = 7;
	memcpy(f.trust_allowed, REV_A, sizeof(f.trust_allowed));
	memcpy(f.trust_file, REV_C, sizeof(f.trust_file));
	T_EQ_INT(state_save_inflight(tmpdir, &f, &e), 0);
	T_EQ_INT(state_load_inflight(tmpdir, &got, &e), 1);
	T_OK(got.trust_repo);
	trust_record_inflight(tmpdir, &got);
	inflight_release(&got);
	{
		struct trust_record t;

		T_EQ_INT(state_load_trust(tmpdir, &t, &e), 0);
		T_EQ_STR(t.rev, REV_B);
		T_EQ_INT(t.version, 7);
		T_EQ_STR(t.allowed, REV_A);
		T_EQ_STR(t.file, REV_C);
	}
	/* without it, trust.json is left alone */
	f.trust_repo = false;
	f.trust_version = 9;
	memcpy(f.rev, REV_C, sizeof(f.rev));
	T_EQ_INT(state_save_inflight(tmpdir, &f, &e), 0);
	T_EQ_INT(state_load_inflight(tmpdir, &got, &e), 1);
	trust_record_inflight(tmpdir, &got);
	inflight_release(&got);
	{
		struct trust_record t;

		T_EQ_INT(state_load_trust(tmpdir, &t, &e), 0);
		T_EQ_STR(t.rev, REV_B);
		T_EQ_INT(t.version, 7);
	}
	T_EQ_INT(state_clear_inflight(tmpdir, &e), 0);
	rm("trust.json");

	/* Without a revision or a store path it is useless: an error. */
	put("inflight.json", "{\"rev\": \"" REV_B "\"}");
	T_EQ_INT(state_load_inflight(tmpdir, &got, &e), -1);
	T_CONTAINS(e.msg, "inflight.json: corrupt state file");
	put("inflight.json", "{\"store_path\": \"/nix/store/new\"}");
	T_EQ_INT(state_load_inflight(tmpdir, &got, &e), -1);
	put("inflight.json", "not json");
	T_EQ_INT(state_load_inflight(tmpdir, &got, &e), -1);
	T_CONTAINS(e.msg, "inflight.json:1:");
	T_EQ_INT(state_clear_inflight(tmpdir, &e), 0);
}

static void
test_bad(void)
{
	char reason[64], tiny[8];
	struct err e;

	rm("bad-revisions");
	T_EQ_INT(state_is_bad(tmpdir, REV_A, reason, sizeof(reason), &e), 0);
	T_EQ_INT(state_mark_bad(tmpdir, REV_A, "health check failed", &e), 0);
	T_EQ_INT(state_mark_bad(tmpdir, REV_B, "two\nlines\tand a tab", &e),
	    0);
	T_EQ_INT(state_is_bad(tmpdir, REV_A, reason, sizeof(reason), &e), 1);
	T_EQ_STR(reason, "health check failed");
	T_EQ_INT(state_is_bad(tmpdir, REV_B, reason, sizeof(reason), &e), 1);
	T_EQ_STR(reason, "two lines and a tab");
	T_EQ_INT(state_is_bad(tmpdir, REV_C, reason, sizeof(reason), &e), 0);
	/* NULL reason buffer, truncated reason. */
	T_EQ_INT(state_is_bad(tmpdir, REV_A, NULL, 0, &e), 1);
	T_EQ_INT(state_is_bad(tmpdir, REV_A, tiny, sizeof(tiny), &e), 1);
	T_EQ_STR(tiny, "health ");
	/* Only whole revisions match, not a prefix. */
	T_EQ_INT(state_is_bad(tmpdir, "aaaaaaaaaaaa", reason, sizeof(reason),
	    &e), 0);
	/* Marked again: the newest reason. */
	T_EQ_INT(state_mark_bad(tmpdir, REV_A, "rolled back", &e), 0);
	T_EQ_INT(state_is_bad(tmpdir, REV_A, reason, sizeof(reason), &e), 1);
	T_EQ_STR(reason, "rolled back");
	/* An empty reason. */
	T_EQ_INT(state_mark_bad(tmpdir, REV_C, "", &e), 0);
	T_EQ_INT(state_is_bad(tmpdir, REV_C, reason, sizeof(reason), &e), 1);
	T_EQ_STR(reason, "");
}

/* Lines edited by hand: no reason field, no final newline, junk. */
static void
test_bad_hand_edited(void)
{
	char reason[64];
	struct err e;

	put("bad-revisions", REV_A "\t1700000000\n"
	    "junk\n"
	    REV_B "\t1700000000\tfrom the next line\n");
	T_EQ_INT(state_is_bad(tmpdir, REV_A, reason, sizeof(reason), &e), 1);
	T_EQ_STR(reason, "");
	T_EQ_INT(state_is_bad(tmpdir, REV_B, reason, sizeof(reason), &e), 1);
	T_EQ_STR(reason, "from the next line");

	put("bad-revisions", REV_C "\t1700000000\tno newline");
	T_EQ_INT(state_is_bad(tmpdir, REV_C, reason, sizeof(reason), &e), 1);
	T_EQ_STR(reason, "no newline");

	put("bad-revisions", REV_C "\t1700000000");
	T_EQ_INT(state_is_bad(tmpdir, REV_C, reason, sizeof(reason), &e), 1);
	T_EQ_STR(reason, "");
	put("bad-revisions", REV_C "\n");
	T_EQ_INT(state_is_bad(tmpdir, REV_C, reason, sizeof(reason), &e), 0);
	rm("bad-revisions");
}

static void
test_resolve(void)
{
	char *target = tpath("system-1"), *l1 = tpath("current-system");
	char *l2 = tpath("link-to-link"), *r;

	T_OK(mkdir(target, 0700) == 0);
	T_OK(symlink(target, l1) == 0);
	T_OK(symlink(l1, l2) == 0);
	r = state_resolve_system(l2);
	T_EQ_STR(r, target);
	free(r);
	rm("current-system");
	T_OK(state_resolve_system(l2) == NULL);	/* dangling */
	T_OK(state_resolve_system("/nonexistent/current-system") == NULL);
	rm("link-to-link");
	(void)rmdir(target);
	free(target);
	free(l1);
	free(l2);
}

int
main(void)
{
	struct err e;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_deployed();
	test_inflight();
	test_bad();
	test_bad_hand_edited();
	test_resolve();
	if (fs_remove_tree(tmpdir, &e) == -1)
		fprintf(stderr, "%s\n", e.msg);
	return T_DONE();
}
