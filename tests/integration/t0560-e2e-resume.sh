#!/usr/bin/env bash
# End to end with `nixpull once` (issue 5): the agent is killed (-9)
# between the switch and the end of its health checks, or during the
# activation itself.  The next `once` finds <state_dir>/inflight.json, runs
# the checks and records the deploy, or rolls back, or activates again;
# the status says what happened.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init web-1
e2e_machine 2 64GiB
mkdir -p bin

# The health check: counts its runs; while ./hang-check exists it hangs
# (its pid in check.pid), and it fails while ./fail-check exists.
cat >bin/check <<EOF
#!/bin/sh
echo run >>"$TEST_DIR/check.runs"
if [ -e "$TEST_DIR/hang-check" ]; then
	echo \$\$ >"$TEST_DIR/check.pid.tmp"
	mv "$TEST_DIR/check.pid.tmp" "$TEST_DIR/check.pid"
	exec sleep 60
fi
if [ -e "$TEST_DIR/fail-check" ]; then
	echo "check: the service does not answer" >&2
	exit 1
fi
exit 0
EOF
# activate.command: hangs before activating while ./hang-activate exists.
cat >bin/rebuild <<EOF
#!/bin/sh
if [ -e "$TEST_DIR/hang-activate" ]; then
	echo \$\$ >"$TEST_DIR/rebuild.pid.tmp"
	mv "$TEST_DIR/rebuild.pid.tmp" "$TEST_DIR/rebuild.pid"
	exec sleep 60
fi
exec nixos-rebuild "\$@"
EOF
chmod +x bin/check bin/rebuild

e2e_config "  profile: server" "  command: $TEST_DIR/bin/rebuild
  health_checks:
    - $TEST_DIR/bin/check"

# checks: how many times the health check ran
checks() { if [ -f check.runs ]; then wc -l <check.runs; else echo 0; fi; }

# killed_at PIDFILE: runs `once` in the background, waits until PIDFILE
# appears (the hanging step started), kills the agent with SIGKILL, then
# the hanging step (our own sleep, by its pid).
killed_at() {
	local pid rc=0
	rm -f "$1"
	"$NIXPULL" once -c config.yaml >>once.log 2>&1 &
	pid=$!
	wait_for 30 test -s "$1" || { kill -9 $pid; return 1; }
	kill -9 $pid
	wait $pid || rc=$?
	kill "$(cat "$1")" 2>/dev/null
	test $rc -eq 137
}
test_atexit 'for f in check.pid rebuild.pid; do [ -s $f ] && kill $(cat $f); done'

test_expect_success_here 'a first revision is deployed' '
	deploy_v1 &&
	test "$(checks)" = 1
'

test_expect_success_here 'killed while the health check runs: switched, inflight.json left' '
	release v2 &&
	rev2=$rev &&
	touch hang-check &&
	killed_at check.pid &&
	rm hang-check &&
	sys2=$(current) &&
	test "$sys2" != "$sys1" &&
	test "$(jq -r .rev "$S/inflight.json")" = "$rev2" &&
	test "$(jq -r .store_path "$S/inflight.json")" = "$sys2" &&
	test "$(jq -r .prev_system "$S/inflight.json")" = "$sys1" &&
	test "$(jq -r .rev "$S/deployed.json")" = "$rev1" &&
	test "$(st .state)" = activating
'

test_expect_success_here 'the next once runs the checks again and records the deploy' '
	n=$(ncalls) &&
	c=$(checks) &&
	test_expect_code 0 once &&
	test "$(checks)" = $((c + 1)) &&
	test "$(ncalls)" = "$n" &&
	test ! -e "$S/inflight.json" &&
	test "$(current)" = "$sys2" &&
	test "$(jq -r .rev "$S/deployed.json")" = "$rev2" &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev2" &&
	test "$(st .last_attempt.rev)" = "$rev2" &&
	test "$(st .last_attempt.result)" = success &&
	st .last_attempt.error >note &&
	test_grep "interrupted" note
'

test_expect_success 'the resumed attempt carries the tuner'"'"'s jobs and cores, not -1' '
	read -r jobs cores < <("$NIXPULL_TESTLIB/tuneprint" server) &&
	test "$jobs" -ge 1 &&
	test "$(st .last_attempt.max_jobs)" = "$jobs" &&
	test "$(st .last_attempt.cores)" = "$cores"
'

test_expect_success 'after that, nothing is left to do' '
	n=$(ncalls) &&
	c=$(checks) &&
	test_expect_code 0 once &&
	test "$(ncalls)" = "$n" &&
	test "$(checks)" = "$c" &&
	test "$(st .deployed.rev)" = "$rev2"
'

test_expect_success_here 'killed in the health check, which then fails: rolled back at restart' '
	release v3 &&
	rev3=$rev &&
	touch hang-check &&
	killed_at check.pid &&
	rm hang-check &&
	test "$(jq -r .rev "$S/inflight.json")" = "$rev3" &&
	sys3=$(current) &&
	test "$sys3" != "$sys2" &&
	touch fail-check &&
	n=$(ncalls) &&
	test_expect_code 1 once &&
	rm fail-check &&
	calls_since $n >actual &&
	test_grep "^nixos-rebuild switch --rollback --no-reexec$" actual &&
	test "$(current)" = "$sys2" &&
	test ! -e "$S/inflight.json" &&
	test "$(st .state)" = rolled-back &&
	test "$(st .last_attempt.rev)" = "$rev3" &&
	st .last_attempt.error >err &&
	test_grep "interrupted" err &&
	test_grep "health check" err &&
	st .last_attempt.log_tail >tail &&
	test_grep "the service does not answer" tail &&
	is_bad "$rev3" &&
	test "$(st .deployed.rev)" = "$rev2"
'

test_expect_success_here 'killed before the switch: the next once says so and activates again' '
	release v4 &&
	rev4=$rev &&
	touch hang-activate &&
	killed_at rebuild.pid &&
	rm hang-activate &&
	test "$(current)" = "$sys2" &&
	test "$(jq -r .rev "$S/inflight.json")" = "$rev4" &&
	test "$(jq -r .tries "$S/inflight.json")" = 0 &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	calls_since $n >actual &&
	call_line nixos-rebuild switch --store-path "$(built "$rev4")" \
	    --no-reexec >line &&
	grep -qxF -f line actual &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev4" &&
	test "$(current)" != "$sys2" &&
	test ! -e "$S/inflight.json"
'

test_expect_success 'the agent said it found the interrupted activation' '
	test_grep "activation of ${rev4:0:12} was interrupted; the system still runs $sys2; trying again" once.log
'

test_expect_success_here 'interrupted three times: marked bad, and the host stays on what ran' '
	sys4=$(current) &&
	release v5 &&
	rev5=$rev &&
	touch hang-activate &&
	killed_at rebuild.pid &&
	killed_at rebuild.pid &&
	killed_at rebuild.pid &&
	rm hang-activate &&
	test "$(jq -r .tries "$S/inflight.json")" = 2 &&
	test_expect_code 1 once &&
	st .last_attempt.error >err &&
	test_grep "activation of ${rev5:0:12} was interrupted 3 times" err &&
	is_bad "$rev5" &&
	test ! -e "$S/inflight.json" &&
	test "$(current)" = "$sys4" &&
	test "$(readlink -f "$R/nix/var/nix/profiles/system")" = "$sys4" &&
	test "$(st .deployed.rev)" = "$rev4"
'

test_done
