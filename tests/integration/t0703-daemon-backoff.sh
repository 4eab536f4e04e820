#!/usr/bin/env bash
# nixpull run's schedule, read from the next_poll_at it publishes: after
# failures in a row the interval doubles, up to an hour (bounded), and
# comes back after a success; poll.jitter spreads hosts of one fleet over
# interval +- jitter.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/daemon.sh"

test_require jq python3
daemon_repo h1 v1
DEAD=http://127.0.0.1:$(free_port)/infra.git	# connection refused

# delay_s: seconds from updated_at to next_poll_at in status.json.
delay_s() {
	local u n
	u=$(date -d "$(status_get .updated_at)" +%s) &&
	n=$(date -d "$(status_get .next_poll_at)" +%s) &&
	echo $((n - u))
}
# For wait_for: the document was written after N failures.
failures_seen() { test "$(grep -c "failure(s) in a row" daemon.log)" -ge "$1"; }

test_expect_success_here 'failures in a row: 20m, 40m, then capped at 1h' '
	DAEMON_INTERVAL=10m daemon_config dead.yaml "$DEAD" &&
	daemon_start -- -c dead.yaml &&
	wait_for 20 failures_seen 1 &&
	d1=$(delay_s) &&
	kill -USR1 $DAEMON_PID && wait_for 20 failures_seen 2 && d2=$(delay_s) &&
	kill -USR1 $DAEMON_PID && wait_for 20 failures_seen 3 && d3=$(delay_s) &&
	kill -USR1 $DAEMON_PID && wait_for 20 failures_seen 4 && d4=$(delay_s) &&
	echo "delays: $d1 $d2 $d3 $d4" &&
	test "$(status_get .state)" = failed &&
	test $d1 -ge 1199 && test $d1 -le 1201 &&
	test $d2 -ge 2399 && test $d2 -le 2401 &&
	test $d3 -ge 3599 && test $d3 -le 3601 &&
	test $d4 -ge 3599 && test $d4 -le 3601 &&
	test_grep "next poll in 3600s \(4 failure\(s\) in a row\)" daemon.log
'

test_expect_success 'a success brings the interval back' '
	sed "s|$DEAD|file://$TEST_DIR/srv/infra.git|" dead.yaml >config.yaml &&
	cp config.yaml dead.yaml &&
	kill -HUP $DAEMON_PID &&
	wait_for 60 deployed_is "$(git -C work rev-parse HEAD)" &&
	wait_for 10 state_is ok &&
	d=$(delay_s) &&
	echo "delay: $d" &&
	test $d -ge 599 && test $d -le 601 &&
	kill -TERM $DAEMON_PID && daemon_wait_exit 10 && test "$DAEMON_RC" -eq 0
'

test_expect_success 'poll.jitter spreads a fleet over interval +- jitter' '
	: >delays &&
	for h in alpha bravo charlie delta echo foxtrot golf hotel; do
		rm -rf state &&
		DAEMON_HOST=$h DAEMON_INTERVAL=1h daemon_config $h.yaml "$DEAD" &&
		sed -i "s/^  jitter: 0s/  jitter: 30m/" $h.yaml &&
		: >daemon.log &&
		daemon_start -- -c $h.yaml &&
		wait_for 20 failures_seen 1 &&
		delay_s >>delays &&
		kill -TERM $DAEMON_PID && daemon_wait_exit 10 || exit 1
	done &&
	cat delays &&
	test "$(sort -u delays | wc -l)" -ge 6 &&
	# 1h +- 30m: a failure does not back an interval of an hour off
	# further (the cap)
	test "$(sort -n delays | head -n 1)" -ge $((3600 - 1800 - 1)) &&
	test "$(sort -n delays | tail -n 1)" -le $((3600 + 1800 + 1)) &&
	test $(( $(sort -n delays | tail -n 1) - $(sort -n delays | head -n 1) )) -ge 600
'

test_done
