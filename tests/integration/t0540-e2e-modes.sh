#!/usr/bin/env bash
# End to end with `nixpull once` (issue 5): activate.mode none builds
# only; test runs `nixos-rebuild test --store-path` (and rolls back by
# activating the old system the same way); boot runs `nixos-rebuild boot`
# and no health check.  reboot_required compares the kernel of the
# running and the booted system (kernel:K variants).
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init web-1
e2e_machine 2 64GiB
P=$R/nix/var/nix/profiles/system

# config MODE
config() {
	e2e_config "  profile: server" "  mode: $1
  profile: $P
  health_checks:
    - systemctl is-system-running"
}

# 2 CPUs, server: target 4, jobs 2, cores 2.
config none

test_expect_success_here 'mode none: built, GC root and log kept, nothing activated' '
	release none &&
	revn=$rev &&
	test_expect_code 0 once &&
	test "$(ncalls)" = 0 &&
	test ! -e "$R/run/current-system" &&
	sysn=$(readlink "$S/gcroots/$revn") &&
	test -d "$sysn" &&
	test_grep "nixos-system-$HOST-test-none" "$S/logs/$revn.log" &&
	test "$(st .state)" = ok &&
	test "$(st .last_attempt.result)" = success &&
	test "$(st .deployed)" = null &&
	test ! -e "$S/inflight.json"
'

config switch

test_expect_success_here 'mode switch: nixos-rebuild switch; reboot unknown without booted-system' '
	release v1 &&
	rev1=$rev &&
	test_expect_code 0 once &&
	sp_calls switch "$(built "$rev1")" >expect &&
	call_line systemctl is-system-running >>expect &&
	test_cmp expect "$R/calls.log" &&
	sys1=$(current) &&
	test "$(st .reboot_required)" = null &&
	ln -s "$sys1" "$R/run/booted-system"
'

test_expect_success_here 'same kernel as the booted system: no reboot required' '
	release v2 &&
	test_expect_code 0 once &&
	test "$(current)" != "$sys1" &&
	test "$(st .deployed.rev)" = "$rev" &&
	test "$(st .reboot_required)" = false
'

test_expect_success_here 'another kernel: reboot required' '
	release v3,kernel:2 &&
	test_expect_code 0 once &&
	test "$(st .deployed.rev)" = "$rev" &&
	test "$(readlink "$(current)/kernel")" != "$(readlink "$sys1/kernel")" &&
	test "$(st .reboot_required)" = true
'

config test

test_expect_success_here 'mode test: nixos-rebuild test, current-system moves, the profile does not' '
	prof=$(readlink -f "$P") &&
	release v4 &&
	rev4=$rev &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	sp_calls test "$(built "$rev4")" >expect &&
	call_line systemctl is-system-running >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	sys4=$(current) &&
	test "$(readlink -f "$P")" = "$prof" &&
	test "$(st .deployed.store_path)" = "$sys4" &&
	test "$(st .reboot_required)" = false
'

test_expect_success_here 'mode test, failing check: the old system activated again (test --store-path)' '
	release v5 &&
	rev5=$rev &&
	n=$(ncalls) &&
	echo degraded >"$R/system-state" &&
	test_expect_code 1 once &&
	rm -f "$R/system-state" &&
	sp_calls test "$(built "$rev5")" >expect &&
	call_line systemctl is-system-running >>expect &&
	call_line nixos-rebuild test --store-path "$sys4" --no-reexec >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	test "$(tail -n 1 "$R/switch.log")" = "test $sys4" &&
	test "$(st .state)" = rolled-back &&
	test "$(st .deployed.rev)" = "$rev4"
'

config boot

test_expect_success_here 'mode boot: nixos-rebuild boot, no health check, the profile moves' '
	release v6 &&
	rev6=$rev &&
	n=$(ncalls) &&
	cur=$(current) &&
	test_expect_code 0 once &&
	sp_calls boot "$(built "$rev6")" >expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	sys6=$(readlink -f "$P") &&
	test "$sys6" != "$cur" &&
	test "$(current)" = "$cur" &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev6" &&
	test "$(st .deployed.store_path)" = "$sys6"
'

test_expect_success 'mode boot: the new system runs after a reboot: reboot required' '
	test "$(st .reboot_required)" = true
'

# Before that reboot, a release that builds what runs now (sys4) is still a
# change for the next boot, whose profile says sys6: it is activated.
test_expect_success_here 'mode boot: a build equal to the running system but not the profile is activated' '
	ln -sfn "$sys4" "$R/run/current-system" &&
	release v4 &&
	rev7=$rev &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	sp_calls boot "$sys4" >expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	test "$(readlink -f "$P")" = "$sys4" &&
	test "$(st .deployed.rev)" = "$rev7"
'

test_expect_success_here 'mode boot: a build equal to the profile is not activated again' '
	n=$(ncalls) &&
	unsigned_commit work "docs only" &&
	SIGNING_KEY=alice signed_commit work "release: same system" &&
	push &&
	rev8=$(git -C work rev-parse HEAD) &&
	test_expect_code 0 once &&
	test "$(ncalls)" = "$n" &&
	test "$(st .deployed.rev)" = "$rev8" &&
	test "$(st .last_attempt.result)" = unchanged
'

test_done
