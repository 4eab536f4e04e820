#!/usr/bin/env bash
# End to end with `nixpull once` (issue 5): a failed activation (status 2
# from switch-to-configuration; 4 from nixos-rebuild-ng, "units failed")
# and a failed health check roll the system back with `nixos-rebuild
# switch --rollback --no-reexec` (the installed one has --store-path), mark the revision bad and never retry it; a newer
# signed revision is deployed.  Two failures in a row end on the system
# that ran before them.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init web-1
e2e_machine 4 64GiB
mkdir -p bin

# activate.command: the stand-in, but a rollback clears switch-exit first,
# so that only the new system's activation fails (as a broken release).
cat >bin/rebuild <<'EOF'
#!/bin/sh
case " $* " in
*" --rollback "*) rm -f "$NIXPULL_TEST_ROOT/switch-exit" ;;
esac
exec nixos-rebuild "$@"
EOF
chmod +x bin/rebuild

e2e_config "  profile: server" "  command: $TEST_DIR/bin/rebuild
  health_checks:
    - systemctl is-system-running --wait"

test_expect_success_here 'a first revision is deployed' '
	deploy_v1
'

test_expect_success_here 'activation fails (status 2): rolled back without --flake' '
	release v2 &&
	rev2=$rev &&
	n=$(ncalls) &&
	echo 2 >"$R/switch-exit" &&
	test_expect_code 1 once &&
	sp_calls switch "$(built "$rev2")" >expect &&
	call_line nixos-rebuild switch --rollback --no-reexec >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	test "$(current)" = "$sys1" &&
	test "$(tail -n 1 "$R/switch.log")" = "switch $sys1"
'

test_expect_success 'the status: rolled-back, the error; the revision is bad' '
	test "$(st .state)" = rolled-back &&
	test "$(st .last_attempt.result)" = rolled-back &&
	test "$(st .last_attempt.phase)" = activate &&
	test "$(st .last_attempt.rev)" = "$rev2" &&
	st .last_attempt.error >err &&
	test_grep "exited with status 2" err &&
	test_grep "rolled back" err &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test "$(jq -r .rev "$S/deployed.json")" = "$rev1" &&
	is_bad "$rev2" &&
	test ! -e "$S/inflight.json"
'

# The tip is already handled, but the host does not run the newest signed
# revision: `nixpull once` still says so (exit 1).
test_expect_success 'the bad revision is not retried by the next cycle' '
	n=$(ncalls) &&
	test_expect_code 1 once &&
	test "$(ncalls)" = "$n" &&
	test "$(st .state)" = rolled-back &&
	test "$(current)" = "$sys1"
'

test_expect_success_here 'an unsigned commit on top: the bad revision is still not retried' '
	unsigned_commit work "not released" &&
	git -C work push -q ../repo.git main &&
	n=$(ncalls) &&
	test_expect_code 1 once &&
	test "$(ncalls)" = "$n" &&
	st .last_attempt.error >err &&
	test_grep "${rev2:0:12} is marked bad" err &&
	test "$(st .state)" = rolled-back &&
	test "$(st .last_attempt.result)" = rejected &&
	test "$(current)" = "$sys1"
'

test_expect_success_here 'nixos-rebuild-ng exits 4 (units failed): a failure, rolled back' '
	release v3 &&
	rev3=$rev &&
	n=$(ncalls) &&
	echo 4 >"$R/switch-exit" &&
	NIXPULL_TEST_REBUILD_FLAVOR=ng test_expect_code 1 once &&
	# --rollback steps down to the generation v2 left, so the deployed
	# revision is switched to again.
	sp_calls switch "$(built "$rev3")" >expect &&
	call_line nixos-rebuild switch --rollback --no-reexec >>expect &&
	sp_calls switch "$sys1" >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	test "$(st .state)" = rolled-back &&
	st .last_attempt.error >err &&
	test_grep "some units failed \(exit status 4\)" err &&
	is_bad "$rev3"
'

test_expect_success 'two failed releases in a row end on the system that ran before' '
	test "$(current)" = "$sys1" &&
	test "$(readlink -f "$R/nix/var/nix/profiles/system")" = "$sys1"
'

test_expect_success_here 'a failing health check: rolled back, its output in the log tail' '
	release v4 &&
	rev4=$rev &&
	n=$(ncalls) &&
	echo degraded >"$R/system-state" &&
	test_expect_code 1 once &&
	sp_calls switch "$(built "$rev4")" >expect &&
	call_line systemctl is-system-running --wait >>expect &&
	call_line nixos-rebuild switch --rollback --no-reexec >>expect &&
	calls_since $n >actual &&
	test_cmp expect actual &&
	test "$(current)" = "$sys1" &&
	test "$(st .state)" = rolled-back &&
	test "$(st .last_attempt.phase)" = check &&
	st .last_attempt.error >err &&
	test_grep "health check" err &&
	st .last_attempt.log_tail >tail &&
	test_grep degraded tail &&
	is_bad "$rev4" &&
	grep "^$rev4" "$S/bad-revisions" >line &&
	test_grep "health check" line
'

test_expect_success 'the system recovers; the bad revision is still not retried' '
	rm -f "$R/system-state" &&
	n=$(ncalls) &&
	{ once || :; } &&
	test "$(ncalls)" = "$n" &&
	test "$(current)" = "$sys1"
'

test_expect_success_here 'a newer signed revision after the bad ones is deployed' '
	release v5 &&
	rev5=$rev &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev5" &&
	test "$(current)" != "$sys1" &&
	test "$(readlink "$S/gcroots/$rev5")" = "$(current)"
'

test_expect_success_here 'the rollback fails too: state failed, saying why' '
	release v6 &&
	rev6=$rev &&
	n=$(ncalls) &&
	NIXPULL_TEST_SWITCH_EXIT=2 test_expect_code 1 once &&
	calls_since $n >actual &&
	test_grep "^nixos-rebuild switch --rollback --no-reexec$" actual &&
	test "$(st .state)" = failed &&
	test "$(st .last_attempt.result)" = failed &&
	st .last_attempt.error >err &&
	test_grep "; rollback failed: .*exited with status 2" err &&
	is_bad "$rev6" &&
	test "$(st .deployed.rev)" = "$rev5"
'

# An activation that cannot start has changed nothing: no rollback (which
# would step the profile below the running system), and the revision is
# not to blame.
test_expect_success_here 'the activation command cannot start: no rollback, not marked bad' '
	e2e_config "  profile: server" "  command: $TEST_DIR/bin/missing" &&
	release v7 &&
	rev7=$rev &&
	n=$(ncalls) &&
	cur=$(current) &&
	test_expect_code 1 once &&
	test "$(ncalls)" = "$n" &&
	test "$(current)" = "$cur" &&
	test "$(st .state)" = failed &&
	test "$(st .last_attempt.phase)" = activate &&
	st .last_attempt.error >err &&
	test_grep "cannot run" err &&
	test_grep_not "; roll" err &&
	! is_bad "$rev7" &&
	test ! -e "$S/inflight.json"
'

test_expect_success_here 'with the command back, the same revision is deployed' '
	e2e_config "  profile: server" "  command: $TEST_DIR/bin/rebuild" &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev7"
'

test_expect_success_here 'bad-revisions cannot be read: nothing is deployed' '
	mv "$S/bad-revisions" bad-revisions.saved &&
	mkdir "$S/bad-revisions" &&
	release v8 &&
	n=$(ncalls) &&
	test_expect_code 1 once &&
	test "$(ncalls)" = "$n" &&
	test "$(st .state)" = failed &&
	st .last_attempt.error >err &&
	test_grep "bad-revisions" err &&
	test "$(st .deployed.rev)" = "$rev7" &&
	rmdir "$S/bad-revisions" &&
	mv bad-revisions.saved "$S/bad-revisions"
'

test_done
