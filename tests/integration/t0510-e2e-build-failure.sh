#!/usr/bin/env bash
# End to end with `nixpull once` (issue 5): a failing build leaves the
# running system alone and records the error, the log tail and the full
# log; a build past build.timeout is killed with its whole process tree
# (nix and the builder's children) in bounded time.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init web-1
e2e_machine 4 64GiB
# A salt unique to this run and variant: it marks the builder processes.
E2E_SALT_VARIANT=1

# config BUILD_LINES: a server, with these build: lines besides.
config() { e2e_config "  profile: server
$1"; }

# Processes left of a build: nix (its --out-link names the state dir) and
# whatever runs with the derivation's salt in its environment (the
# builder and its sleep).
leftovers() {
	local p
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' 2>/dev/null <"$p/cmdline" |
		    grep -qF -e "$S/gcroots/" ||
		    grep -qsaF -e "salt=$1" "$p/environ" 2>/dev/null; then
			echo "${p#/proc/}: $(tr '\0' ' ' 2>/dev/null <"$p/cmdline")"
		fi
	done
}
build_running() { test -n "$(leftovers "$salt")"; }

config "  timeout: 1h"

test_expect_success_here 'a first revision is deployed' '
	deploy_v1
'

test_expect_success_here 'a build failure: exit 1, the running system untouched' '
	release fail-build &&
	revf=$rev &&
	n=$(ncalls) &&
	test_expect_code 1 once &&
	test "$(current)" = "$sys1" &&
	test "$(ncalls)" = "$n" &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test "$(jq -r .rev "$S/deployed.json")" = "$rev1" &&
	test ! -e "$S/gcroots/$revf"
'

test_expect_success 'the status says failed in build, with the error and the log tail' '
	test "$(st .state)" = failed &&
	test "$(st .last_attempt.result)" = failed &&
	test "$(st .last_attempt.phase)" = build &&
	test "$(st .last_attempt.rev)" = "$revf" &&
	st .last_attempt.error >err &&
	test_grep "build of ${revf:0:12} failed" err &&
	st .last_attempt.log_tail >tail &&
	test_grep "this build fails on purpose" tail
'

test_expect_success 'the full log is in <state_dir>/logs/<rev>.log' '
	test_grep "this build fails on purpose \(variant fail-build\)" \
	    "$S/logs/$revf.log" &&
	test_grep "nixos-system-$HOST-test-fail-build" "$S/logs/$revf.log"
'

test_expect_success 'a build failure does not mark the revision bad' '
	test_must_fail grep -s "^$revf" "$S/bad-revisions"
'

config "  timeout: 3s"

test_expect_success_here 'a build past build.timeout: killed, failed, in bounded time' '
	release slow:300 &&
	revs=$rev &&
	salt="${TEST_DIR##*/}-slow:300" &&
	t0=$(date +%s) &&
	test_expect_code 1 timeout 60 "$NIXPULL" once -c config.yaml \
	    >>once.log 2>&1 &&
	t1=$(date +%s) &&
	echo "took $((t1 - t0)) s" &&
	test $((t1 - t0)) -lt 20 &&
	test "$(current)" = "$sys1"
'

test_expect_success 'the build had started, and the status names the time-out' '
	test_grep "slow build, sleeping 300 s" "$S/logs/$revs.log" &&
	test "$(st .state)" = failed &&
	test "$(st .last_attempt.phase)" = build &&
	st .last_attempt.error >err &&
	test_grep "build of ${revs:0:12} timed out after 3s" err
'

test_expect_success 'no process of that build is left: nix, the builder, its sleep' '
	leftovers "$salt" >left || true &&
	cat left &&
	test ! -s left
'

test_expect_success_here 'the same look finds a build that runs; SIGTERM stops it all' '
	config "  timeout: 1h" &&
	rm -f "$S/tip" &&
	{ "$NIXPULL" once -c config.yaml >>once.log 2>&1 & } &&
	pid=$! &&
	test_atexit "kill -TERM $pid" &&
	wait_for 30 build_running &&
	leftovers "$salt" >running &&
	cat running &&
	test_grep "sleeping 300" running &&
	kill -TERM $pid &&
	{ rc=0 && wait $pid || rc=$?; } &&
	test $rc -eq 1 &&
	test -z "$(leftovers "$salt")" &&
	test "$(current)" = "$sys1"
'

test_expect_success_here 'a newer good revision after the failures is deployed' '
	config "  timeout: 1h" &&
	release v2 &&
	rev2=$rev &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev2" &&
	test "$(current)" != "$sys1"
'

test_done
