#!/usr/bin/env bash
# End to end with `nixpull once` (issue 13): what was built is activated,
# never evaluated again.  The installed nixos-rebuild has --store-path: the
# agent uses it, with --no-reexec (ng's re-exec would evaluate).  It has not
# (bash, ng as in NixOS 25.11): the agent takes nixos-rebuild's own steps,
# `nix-env -p PROFILE --set PATH` (switch, boot) and
# PATH/bin/switch-to-configuration MODE, under systemd-run when systemd
# runs; rollbacks in every mode; exit 2 and 4 of switch-to-configuration.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init web-1
e2e_machine 2 64GiB
P=$R/nix/var/nix/profiles/system
STC=nixos-rebuild-switch-to-configuration

# config MODE
config() {
	e2e_config "  profile: server" "  mode: $1${2:+
$2}
  profile: $P
  health_checks:
    - systemctl is-system-running"
}

# no_evaluation N: nix-calls.log has no line after the first N that
# evaluates (nix build, nix-build, nix eval, nix-instantiate).
no_evaluation() {
	if [ -f "$R/nix-calls.log" ]; then
		tail -n "+$(($1 + 1))" "$R/nix-calls.log" >nixcalls
	else
		: >nixcalls
	fi
	test_grep_not "^nix build|^nix-build|^nix eval|^nix-instantiate" nixcalls
}
nnix() { if [ -f "$R/nix-calls.log" ]; then wc -l <"$R/nix-calls.log"; else echo 0; fi; }
stc() { printf '%s/bin/switch-to-configuration' "$1"; }

config switch

test_expect_success_here 'nixos-rebuild with --store-path: that, no re-exec, no evaluation' '
	release v1 &&
	rev1=$rev &&
	test_expect_code 0 once &&
	sys1=$(built "$rev1") &&
	sp_calls switch "$sys1" >expect &&
	call_line systemctl is-system-running >>expect &&
	test_cmp expect "$R/calls.log" &&
	no_evaluation 0 &&
	test "$(current)" = "$sys1" &&
	test "$(readlink -f "$P")" = "$sys1" &&
	test "$(st .last_attempt.activation)" = store-path &&
	test "$(st .deployed.rev)" = "$rev1"
'

export NIXPULL_TEST_REBUILD_FLAVOR=bash

test_expect_success_here 'bash nixos-rebuild: nix-env --set, then switch-to-configuration switch' '
	release v2 &&
	rev2=$rev &&
	n=$(ncalls) &&
	m=$(nnix) &&
	test_expect_code 0 once &&
	sys2=$(built "$rev2") &&
	call_line nixos-rebuild --help >expect &&
	call_line nix-env -p "$P" --set "$sys2" >>expect &&
	call_line systemctl is-system-running >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	no_evaluation $m &&
	test "$(tail -n 1 "$R/switch.log")" = "switch $sys2" &&
	test "$(current)" = "$sys2" &&
	test "$(readlink -f "$P")" = "$sys2" &&
	test "$(st .last_attempt.activation)" = profile+switch-to-configuration &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.store_path)" = "$sys2"
'

test_expect_success_here 'systemd runs: switch-to-configuration in the transient unit nixos-rebuild-ng uses' '
	mkdir -p "$R/run/systemd/system" &&
	release v3 &&
	rev3=$rev &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	sys3=$(built "$rev3") &&
	call_line nixos-rebuild --help >expect &&
	call_line nix-env -p "$P" --set "$sys3" >>expect &&
	call_line systemd-run -E LOCALE_ARCHIVE -E NIXOS_INSTALL_BOOTLOADER \
	    -E NIXOS_NO_CHECK --collect --no-ask-password --pipe --quiet \
	    --service-type=exec --unit=$STC "$(stc "$sys3")" switch >>expect &&
	call_line systemctl is-system-running >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	test "$(tail -n 1 "$R/switch.log")" = "switch $sys3" &&
	test "$(current)" = "$sys3"
'

# switch-exit holds for every system, the one rolled back to as well: the
# rollback runs, and fails the same way.
test_expect_success_here 'switch-to-configuration exits 4 (units failed): a failure; rolled back by the same steps' '
	release v4 &&
	rev4=$rev &&
	n=$(ncalls) &&
	m=$(nnix) &&
	echo 4 >"$R/switch-exit" &&
	test_expect_code 1 once &&
	rm -f "$R/switch-exit" &&
	sys4=$(built "$rev4") &&
	call_line nixos-rebuild --help >expect &&
	call_line nix-env -p "$P" --set "$sys4" >>expect &&
	call_line systemd-run -E LOCALE_ARCHIVE -E NIXOS_INSTALL_BOOTLOADER \
	    -E NIXOS_NO_CHECK --collect --no-ask-password --pipe --quiet \
	    --service-type=exec --unit=$STC "$(stc "$sys4")" switch >>expect &&
	call_line nix-env -p "$P" --rollback >>expect &&
	call_line systemd-run -E LOCALE_ARCHIVE -E NIXOS_INSTALL_BOOTLOADER \
	    -E NIXOS_NO_CHECK --collect --no-ask-password --pipe --quiet \
	    --service-type=exec --unit=$STC "$(stc "$P")" switch >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	no_evaluation $m &&
	test "$(readlink -f "$P")" = "$sys3" &&
	test "$(tail -n 1 "$R/switch.log")" = "switch $sys3" &&
	test "$(current)" = "$sys3" &&
	st .last_attempt.error >err &&
	test_grep "^.switch-to-configuration switch. switched, but some units failed" err &&
	test_grep "rollback failed: .*exit status 4" err &&
	test "$(st .state)" = failed &&
	is_bad "$rev4"
'

test_expect_success_here 'a failing health check: nix-env --rollback; the deployed store path again' '
	rm -rf "$R/run/systemd" &&
	release v5 &&
	rev5=$rev &&
	n=$(ncalls) &&
	echo degraded >"$R/system-state" &&
	test_expect_code 1 once &&
	rm -f "$R/system-state" &&
	sys5=$(built "$rev5") &&
	call_line nixos-rebuild --help >expect &&
	call_line nix-env -p "$P" --set "$sys5" >>expect &&
	call_line systemctl is-system-running >>expect &&
	call_line nix-env -p "$P" --rollback >>expect &&
	# --rollback lands on the generation v4 left: the deployed system is
	# activated again, by its store path.
	call_line nixos-rebuild --help >>expect &&
	call_line nix-env -p "$P" --set "$sys3" >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	test "$(tail -n 1 "$R/switch.log")" = "switch $sys3" &&
	test "$(current)" = "$sys3" &&
	test "$(readlink -f "$P")" = "$sys3" &&
	test "$(st .state)" = rolled-back &&
	test "$(st .last_attempt.activation)" = profile+switch-to-configuration &&
	test "$(st .deployed.rev)" = "$rev3"
'

config test

test_expect_success_here 'mode test: no profile change; the check fails: the old system'"'"'s test' '
	release v6 &&
	rev6=$rev &&
	n=$(ncalls) &&
	prof=$(readlink "$P") &&
	echo degraded >"$R/system-state" &&
	test_expect_code 1 once &&
	rm -f "$R/system-state" &&
	sys6=$(built "$rev6") &&
	call_line nixos-rebuild --help >expect &&
	call_line systemctl is-system-running >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	tail -n 2 "$R/switch.log" >actual &&
	printf "test %s\ntest %s\n" "$sys6" "$sys3" >expect &&
	test_cmp expect actual &&
	test "$(readlink "$P")" = "$prof" &&
	test "$(current)" = "$sys3" &&
	test "$(st .state)" = rolled-back
'

config boot

test_expect_success_here 'mode boot: the profile moves, the running system does not' '
	release v7 &&
	rev7=$rev &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	sys7=$(built "$rev7") &&
	call_line nixos-rebuild --help >expect &&
	call_line nix-env -p "$P" --set "$sys7" >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	test "$(tail -n 1 "$R/switch.log")" = "boot $sys7" &&
	test "$(readlink -f "$P")" = "$sys7" &&
	test "$(current)" = "$sys3" &&
	test "$(st .deployed.rev)" = "$rev7"
'

test_expect_success_here 'mode boot, activation fails (2): nix-env --rollback, the old boot entry again' '
	release v8 &&
	rev8=$rev &&
	n=$(ncalls) &&
	echo 2 >"$R/switch-exit" &&
	test_expect_code 1 once &&
	rm -f "$R/switch-exit" &&
	sys8=$(built "$rev8") &&
	calls_since $n >actual &&
	test_grep "^nix-env -p .* --rollback$" actual &&
	tail -n 2 "$R/switch.log" >actual &&
	printf "boot %s\nboot %s\n" "$sys8" "$sys7" >expect &&
	test_cmp expect actual &&
	test "$(readlink -f "$P")" = "$sys7" &&
	test "$(current)" = "$sys3" &&
	is_bad "$rev8"
'

export NIXPULL_TEST_REBUILD_FLAVOR=ng-2511
config switch

test_expect_success_here 'nixos-rebuild-ng before --store-path: the same steps; never --flake' '
	release v9 &&
	rev9=$rev &&
	n=$(ncalls) &&
	m=$(nnix) &&
	test_expect_code 0 once &&
	sys9=$(built "$rev9") &&
	call_line nixos-rebuild --help >expect &&
	call_line nix-env -p "$P" --set "$sys9" >>expect &&
	call_line systemctl is-system-running >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	no_evaluation $m &&
	test "$(current)" = "$sys9" &&
	test "$(st .last_attempt.activation)" = profile+switch-to-configuration
'

test_expect_success 'no call ever asked for --flake' '
	test_grep_not -- "--flake" "$R/calls.log"
'

# Nix's fetcher cache is cold for the activation program (another HOME,
# a cleaned cache): its git reads the mirror, which the fetcher's user owns.
test_expect_success_here 'a toplevel without switch-to-configuration: --flake, whose Nix reads the fetcher'"'"'s mirror' '
	printf "#!/bin/sh\nXDG_CACHE_HOME=\$(mktemp -d %s/cold.XXXXXX) exec nixos-rebuild \"\$@\"\n" "$TEST_DIR" >cold-rebuild &&
	chmod +x cold-rebuild &&
	config switch "  command: $TEST_DIR/cold-rebuild" &&
	release v10,noswitch &&
	rev10=$rev &&
	n=$(ncalls) &&
	test_expect_code 1 once &&
	sys10=$(built "$rev10") &&
	test ! -e "$(stc "$sys10")" &&
	calls_since $n >actual &&
	test_grep "switch --flake git.file://.*mirror.git.*rev=$rev10#web-1 " actual &&
	test "$(st .last_attempt.activation)" = flake &&
	test "$(st .last_attempt.evaluations)" = 2 &&
	st .last_attempt.log_tail >tail &&
	test_grep_not "owned by|dubious|safe.directory" tail &&
	test_grep "^building the system configuration" tail &&
	test_grep "$sys10/bin/switch-to-configuration: No such file" tail &&
	test "$(st .state)" = rolled-back &&
	test "$(current)" = "$sys9"
'

test_done
