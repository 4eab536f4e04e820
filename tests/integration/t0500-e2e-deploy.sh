#!/usr/bin/env bash
# End to end with `nixpull once` (issue 5): a new signed revision is built
# by real Nix with the tuner's --max-jobs/--cores, that store path
# activated by the stand-in nixos-rebuild --store-path (issue 13: no second
# evaluation), checked and recorded; a
# commit that does not change the system is not activated; explicit
# build.max_jobs/cores win; GC roots keep the deployed and the previous
# revision only.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init web-1
TUNEPRINT=$NIXPULL_TESTLIB/tuneprint
[ -x "$TUNEPRINT" ] || bail "missing $TUNEPRINT (build the tests)"
# The machine, as the probe sees it: 6 CPUs, plenty of memory and disk.
e2e_machine 6 64GiB
mkdir -p reports
# A salt per variant: the "parallel" parts are built afresh.
E2E_SALT_VARIANT=1
E2E_REF=main

# config BUILD_LINES: the agent's config.yaml.
config() {
	e2e_config "$1" "  health_checks:
    - systemctl is-system-running --wait" "report:
  url: file://$TEST_DIR/reports/"
}

config "  profile: server"

test_expect_success 'the tuner chooses 4 jobs x 3 cores for 6 CPUs (server)' '
	# budget 6, target 12: jobs ceil(sqrt(12)) = 4, cores ceil(12/4) = 3
	test "$("$TUNEPRINT" server)" = "4 3"
'

test_expect_success_here 'a new signed revision: built with the tuned flags, that store path activated, ok' '
	release parallel &&
	rev1=$rev &&
	test_expect_code 0 once &&
	sp_calls switch "$(built "$rev1")" >expect &&
	call_line systemctl is-system-running --wait >>expect &&
	test_cmp expect "$R/calls.log" &&
	sys1=$(current) &&
	test -n "$sys1" &&
	test "$(st .state)" = ok &&
	test "$(st .last_attempt.result)" = success &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test "$(st .deployed.store_path)" = "$sys1" &&
	test "$(st .deployed.signer)" = alice@example.com &&
	test "$(st .last_attempt.max_jobs)" = 4 &&
	test "$(st .last_attempt.cores)" = 3 &&
	test "$(st .last_attempt.activation)" = store-path &&
	test "$(jq -r .rev "$S/deployed.json")" = "$rev1" &&
	test "$(jq -r .store_path "$S/deployed.json")" = "$sys1" &&
	test ! -e "$S/inflight.json"
'

test_expect_success 'the agent built it with --cores 3: $NIX_BUILD_CORES in the system' '
	# nixos-rebuild found it built; the parts saw the agent'"'"'s --cores.
	test "$(cat "$sys1/cores")" = 3 &&
	test -s "$S/logs/$rev1.log" &&
	test_grep "building .*nixos-system-$HOST-test-parallel" "$S/logs/$rev1.log" &&
	test "$(readlink "$S/gcroots/$rev1")" = "$sys1"
'

test_expect_success 'the status document was reported to the file:// endpoint' '
	test "$(jq -r .state "reports/$HOST.json")" = ok &&
	test "$(jq -r .deployed.rev "reports/$HOST.json")" = "$rev1"
'

test_expect_success 'nothing new: no build, no activation, exit 0' '
	n=$(ncalls) &&
	test_expect_code 0 once &&
	test "$(ncalls)" = "$n" &&
	test "$(st .deployed.rev)" = "$rev1"
'

test_expect_success_here 'a signed commit that does not change the system: not activated' '
	n=$(ncalls) &&
	signed_commit work "docs only" README "hello" &&
	push &&
	rev2=$rev &&
	test_expect_code 0 once &&
	test "$(ncalls)" = "$n" &&
	test "$(current)" = "$sys1" &&
	test "$(st .state)" = ok &&
	test "$(st .last_attempt.result)" = unchanged &&
	test "$(st .deployed.rev)" = "$rev2" &&
	test "$(jq -r .rev "$S/deployed.json")" = "$rev2"
'

test_expect_success_here 'build.max_jobs and build.cores in the config win over the tuner' '
	config "  profile: server
  max_jobs: 5
  cores: 2" &&
	release "parallel,v3" &&
	rev3=$rev &&
	test_expect_code 0 once &&
	sp_calls switch "$(built "$rev3")" >expect &&
	tail -n 3 "$R/calls.log" | head -n 2 >actual &&
	test_cmp expect actual &&
	sys3=$(current) &&
	test "$sys3" != "$sys1" &&
	test "$(cat "$sys3/cores")" = 2 &&
	test "$(st .last_attempt.max_jobs)" = 5 &&
	test "$(st .deployed.rev)" = "$rev3"
'

test_expect_success_here 'a workstation with little memory: jobs capped by mem_per_job' '
	# 6 CPUs, one kept for the user: budget 5 = target; 5 GiB / 2 GiB
	# per job = 2 jobs (sqrt would say 3), cores ceil(5/2) = 3.
	config "  profile: workstation" &&
	test "$(NIXPULL_TEST_MEM_AVAILABLE=5GiB "$TUNEPRINT" workstation)" = "2 3" &&
	release "parallel,v4" &&
	rev4=$rev &&
	NIXPULL_TEST_MEM_AVAILABLE=5GiB once &&
	sp_calls switch "$(built "$rev4")" >expect &&
	tail -n 3 "$R/calls.log" | head -n 2 >actual &&
	test_cmp expect actual &&
	test "$(cat "$(current)/cores")" = 3
'

test_expect_success 'GC roots: the deployed and the previous revision only' '
	ls "$S/gcroots" | sort >actual &&
	printf "%s\n" "$rev3" "$rev4" | sort >expect &&
	test_cmp expect actual &&
	test "$(readlink "$S/gcroots/$rev4")" = "$(current)" &&
	test "$(readlink "$S/gcroots/$rev3")" = "$sys3"
'

test_expect_success 'every phase was timed' '
	for ph in poll fetch verify build activate check; do
		d=$(st ".last_attempt.durations_ms.$ph") &&
		test "$d" -ge 0 || { echo "no duration for $ph: $d"; exit 1; }
	done
'

test_expect_success 'a no-change once runs no program: nixpull itself and its fetcher only' '
	test_require strace &&
	test -n "$(st .system.nix_version)" &&
	test "$(st .system.nix_version)" != null &&
	# LeakSanitizer (in the ASan build) traces the process at exit, which
	# it cannot do under strace.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -e trace=execve,clone,clone3,fork,vfork -o trace \
	    "$NIXPULL" once -c config.yaml >>once.log 2>&1 &&
	test "$(grep -c "execve(" trace)" = 1 &&
	test "$(grep -cE "^[0-9]+ +(clone|clone3|fork|vfork)\(" trace)" = 1 &&
	test_grep_not "nix\", \[\"nix\", \"--version\"" trace
'

test_done
