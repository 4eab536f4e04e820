#!/usr/bin/env bash
# End to end with `nixpull once` over smart HTTP, status to WebDAV (issue
# 5): a tampered tip, or one signed by an unknown key, is rejected for its
# signature; an unsigned tip is simply not released; a force-push back to
# an older signed commit is rejected as a rollback.  None of them touches
# the running system.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require nix git jq ssh-keygen flock nginx fcgiwrap
nix_offline_env
standin_env

R=$NIXPULL_TEST_ROOT
S=$TEST_DIR/state
HOST=web-1
export NIXPULL_TEST_CPUS=2 NIXPULL_TEST_MEM_AVAILABLE=64GiB \
    NIXPULL_TEST_STORE_FREE=100GiB NIXPULL_TEST_ON_BATTERY=0 \
    NIXPULL_TEST_LOAD=0

signing_keygen alice
signing_keygen mallory
signing_allow allowed_signers alice@example.com alice
signing_repo_init work alice
mkdir -p srv "$R/run"
git init -q --bare srv/infra.git
gitserver_start "$TEST_DIR/srv"
webdav_start

push() {
	git -C work push -q -f "$TEST_DIR/srv/infra.git" main &&
	rev=$(git -C work rev-parse HEAD)
}
release() { nixflake_commit work "$HOST" "$1" && push; }

cat >config.yaml <<EOF
host: $HOST
state_dir: $S
repo:
  url: ${GITSERVER_URL}infra.git
trust:
  allowed_signers: $TEST_DIR/allowed_signers
build:
  profile: server
activate:
  current_system: $R/run/current-system
report:
  url: $WEBDAV_URL
EOF

once() { "$NIXPULL" once -c config.yaml >>"$TEST_DIR/once.log" 2>&1; }
st() { jq -r "$1" "$S/status.json"; }
reported() { jq -r "$1" "$WEBDAV_DIR/$HOST.json"; }
current() { readlink "$R/run/current-system"; }
ncalls() { if [ -f "$R/calls.log" ]; then wc -l <"$R/calls.log"; else echo 0; fi; }
# untouched N SYS: no stand-in call since N, SYS still runs, rev1 on record
untouched() {
	test "$(ncalls)" = "$1" &&
	test "$(current)" = "$2" &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test "$(jq -r .rev "$S/deployed.json")" = "$rev1"
}

test_expect_success_here 'a signed release is deployed over HTTP, reported to WebDAV' '
	release v1 &&
	rev1=$rev &&
	test_expect_code 0 once &&
	sys1=$(current) &&
	test -n "$sys1" &&
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
