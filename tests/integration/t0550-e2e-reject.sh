#!/usr/bin/env bash
# End to end with `nixpull once` over smart HTTP, status to WebDAV (issue
# 5): a tampered tip, or one signed by an unknown key, is rejected for its
# signature; an unsigned tip is simply not released; a force-push back to
# an older signed commit is rejected as a rollback.  None of them touches
# the running system.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
test_require nginx fcgiwrap
E2E_BARE=$TEST_DIR/srv/infra.git
e2e_init web-1
e2e_machine 2 64GiB
signing_keygen mallory
gitserver_start "$TEST_DIR/srv"
webdav_start
E2E_URL=${GITSERVER_URL}infra.git

e2e_config "  profile: server" "" "report:
  url: $WEBDAV_URL"

# untouched N SYS: no stand-in call since N, SYS still runs, rev1 on record
untouched() {
	test "$(ncalls)" = "$1" &&
	test "$(current)" = "$2" &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test "$(jq -r .rev "$S/deployed.json")" = "$rev1"
}

test_expect_success_here 'a signed release is deployed over HTTP, reported to WebDAV' '
	deploy_v1 &&
	test "$(reported .state)" = ok &&
	test "$(reported .deployed.rev)" = "$rev1"
'

test_expect_success_here 'a tampered tip: rejected for its signature, not deployed' '
	nixflake_commit work "$HOST" v2 &&
	git -C work cat-file commit HEAD |
	    sed "s/^flake: v2\$/flake: v2, tampered with/" >tampered &&
	test_grep "tampered with" tampered &&
	test_grep "^gpgsig " tampered &&
	bad=$(git -C work hash-object -t commit -w --stdin <tampered) &&
	git -C work update-ref refs/heads/main "$bad" &&
	push &&
	revt=$rev &&
	n=$(ncalls) &&
	test_expect_code 1 once &&
	untouched $n "$sys1" &&
	test "$(st .state)" = rejected &&
	test "$(st .last_attempt.result)" = rejected &&
	test "$(st .tip.rev)" = "$revt" &&
	st .last_attempt.error >err &&
	test_grep "commit $revt: bad signature by key SHA256:" err &&
	test "$(reported .state)" = rejected
'

test_expect_success_here 'a tip signed by a key that is not trusted: rejected' '
	git -C work reset -q --hard "$rev1" &&
	SIGNING_KEY=mallory signed_commit work "mallory was here" evil "x" &&
	push &&
	n=$(ncalls) &&
	test_expect_code 1 once &&
	untouched $n "$sys1" &&
	test "$(st .state)" = rejected &&
	st .last_attempt.error >err &&
	test_grep "commit $rev: signature by unknown key SHA256:" err
'

test_expect_success_here 'an unsigned tip: not released yet, nothing happens' '
	git -C work reset -q --hard "$rev1" &&
	unsigned_commit work "work in progress" wip "x" &&
	push &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	untouched $n "$sys1" &&
	test "$(st .state)" = ok &&
	test_grep "1 unsigned commit\(s\) above ${rev1:0:12}: not released" \
	    once.log
'

test_expect_success_here 'the operator signs a release on top: deployed' '
	release v2 &&
	rev2=$rev &&
	test_expect_code 0 once &&
	sys2=$(current) &&
	test "$sys2" != "$sys1" &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev2"
'

test_expect_success_here 'force-push back to the older signed release: rejected as a rollback' '
	git -C work reset -q --hard "$rev1" &&
	push &&
	n=$(ncalls) &&
	test_expect_code 1 once &&
	test "$(ncalls)" = "$n" &&
	test "$(current)" = "$sys2" &&
	test "$(st .deployed.rev)" = "$rev2" &&
	test "$(st .state)" = rejected &&
	test "$(st .last_attempt.result)" = rejected &&
	st .last_attempt.error >err &&
	test_grep "refusing rollback: $rev1 on main does not descend from the deployed revision $rev2" err &&
	test "$(reported .state)" = rejected
'

test_done
