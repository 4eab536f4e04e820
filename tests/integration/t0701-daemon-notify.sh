#!/usr/bin/env bash
# nixpull run under a stand-in for systemd's notification socket (a Python
# datagram listener): READY=1 first, STATUS=<state> as the cycle goes,
# WATCHDOG=1 at half the period asked for by WATCHDOG_USEC, RELOADING=1
# (with MONOTONIC_USEC) then READY=1 on SIGHUP, STOPPING=1 last.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/daemon.sh"

test_require python3
daemon_repo h1 v1
V1=$(git -C work rev-parse HEAD)
daemon_config config.yaml "file://$TEST_DIR/srv/infra.git"

python3 "$TESTLIB_DIR/notify_listener.py" "$TEST_DIR/notify.sock" \
    "$TEST_DIR/notify.log" &
LISTENER=$!
test_atexit "kill $LISTENER"
wait_for 10 test -S "$TEST_DIR/notify.sock" || bail "the listener did not start"
touch notify.log

now_ms() { date +%s%3N; }
pings() { grep -c '^WATCHDOG=1$' notify.log; }
pings_above() { test "$(pings)" -gt "$1"; }

test_expect_success_here 'READY=1 first, then the states of the first cycle' '
	daemon_start NOTIFY_SOCKET="$TEST_DIR/notify.sock" \
	    WATCHDOG_USEC=1000000 -- -c config.yaml &&
	wait_for 120 deployed_is "$V1" &&
	wait_for 10 grep -q "^STATUS=ok$" notify.log &&
	test "$(head -n 1 notify.log)" = READY=1 &&
	grep -n "^STATUS=" notify.log >states &&
	test_grep "STATUS=building" states &&
	test_grep "STATUS=activating" states &&
	b=$(grep -n "^STATUS=building$" notify.log | head -n 1 | cut -d: -f1) &&
	a=$(grep -n "^STATUS=activating$" notify.log | head -n 1 | cut -d: -f1) &&
	o=$(grep -n "^STATUS=ok$" notify.log | head -n 1 | cut -d: -f1) &&
	test "$b" -lt "$a" && test "$a" -lt "$o" &&
	test_grep_not "^(STOPPING|RELOADING)" notify.log
'

test_expect_success 'the watchdog is pinged at least twice a second while asleep' '
	n0=$(pings) &&
	t0=$(now_ms) &&
	wait_for 10 pings_above $((n0 + 5)) &&
	t1=$(now_ms) &&
	n1=$(pings) &&
	el=$((t1 - t0)) &&
	echo "$((n1 - n0)) pings in ${el} ms" &&
	test "$el" -le 4500 &&
	test $((n1 - n0)) -le $((el / 400 + 2))
'

test_expect_success 'SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1' '
	kill -HUP $DAEMON_PID &&
	wait_for 10 grep -q "^RELOADING=1" notify.log &&
	test_grep "^RELOADING=1\\\\nMONOTONIC_USEC=[0-9]+$" notify.log &&
	r=$(grep -n "^RELOADING=1" notify.log | head -n 1 | cut -d: -f1) &&
	wait_for 10 lines_above "^READY=1$" notify.log 1 &&
	y=$(grep -n "^READY=1$" notify.log | sed -n 2p | cut -d: -f1) &&
	test "$r" -lt "$y"
'

test_expect_success 'SIGTERM: STOPPING=1 is the last message' '
	kill -TERM $DAEMON_PID &&
	daemon_wait_exit 30 &&
	test "$DAEMON_RC" -eq 0 &&
	wait_for 5 grep -q "^STOPPING=1$" notify.log &&
	n=$(pings) &&
	test "$(tail -n 1 notify.log)" = STOPPING=1 &&
	test "$(grep -c "^STOPPING=1$" notify.log)" -eq 1
'

test_expect_success 'a foreign WATCHDOG_PID: notifications but no pings' '
	: >notify.log &&
	daemon_start NOTIFY_SOCKET="$TEST_DIR/notify.sock" \
	    WATCHDOG_USEC=200000 WATCHDOG_PID=1 -- -c config.yaml &&
	wait_for 10 grep -q "^STATUS=ok$" notify.log &&
	# An observation window of 5 periods, not a synchronisation.
	sleep 1 &&
	kill -TERM $DAEMON_PID &&
	daemon_wait_exit 30 &&
	test "$DAEMON_RC" -eq 0 &&
	wait_for 5 grep -q "^STOPPING=1$" notify.log &&
	test "$(head -n 1 notify.log)" = READY=1 &&
	test_grep_not "^WATCHDOG" notify.log
'

test_expect_success 'without NOTIFY_SOCKET nothing is sent' '
	: >notify.log &&
	daemon_start WATCHDOG_USEC=1000000 -- -c config.yaml &&
	wait_for 10 lines_above "watching" daemon.log 2 &&
	kill -TERM $DAEMON_PID &&
	daemon_wait_exit 30 &&
	test "$DAEMON_RC" -eq 0 &&
	test ! -s notify.log
'

test_done
