#!/usr/bin/env bash
# kill -9 around a hands-off reboot (issue 12) through `nixpull once` and
# `nixpull run` with real Nix, the stand-ins and tests/lib/
# fleetlock_server.py: nothing lost, the FleetLock slot given back
# eventually.  Each kill is at a point a stand-in or the test server holds
# (no timing):
#   - the slot taken by the server, its 200 not yet seen (the server holds
#     its answer): the next start gives the slot back (steady-state at
#     start), takes it again and reboots; the pending reboot kept its
#     pending_since
#   - reboot.json written, killed inside `systemctl reboot` before the
#     reboot was queued (the stand-in holds): restarted in the same boot
#     while someone is logged in, the reboot that did not happen is
#     forgotten and the slot given back, the reboot still pending; once
#     nobody is, the lock is taken again and the host reboots; killed
#     there again and restarted when it still may reboot: it goes on with
#     the slot it holds (recursive pre-reboot, no steady-state between)
#   - rebooted (booted-system moved, a new boot id), killed in the health
#     check before steady-state: the next start does not confirm twice,
#     keeps the "rebooted" report, runs the checks and gives the slot back
#   - the lock server down when steady-state is due after the boot: the
#     daemon tries again at each cycle and gives the slot back once the
#     server is up again.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
. "$TESTLIB_DIR/reboot.sh"
. "$TESTLIB_DIR/daemon.sh"
test_require python3
e2e_init web-1
e2e_machine 4 16GiB
reboot_lock_id
echo '{"web": []}' >lock.json
PORT=$(free_port)
URL=http://127.0.0.1:$PORT/

# lock_start: the FleetLock server on $PORT, one slot; lock-hold holds it.
lock_start() {
	rm -f lock.port
	python3 "$TESTLIB_DIR/fleetlock_server.py" lock.port lock.json \
	    --slots 1 --port "$PORT" --hold "$TEST_DIR/lock-hold" \
	    2>>lock.log &
	echo $! >lock.pid
	test_atexit "kill $!"
	wait_for 10 test -s lock.port
}
lock_stop() { kill "$(cat lock.pid)" && wait_for 10 none_alive "$(cat lock.pid)"; }
lock_start || bail "the FleetLock server did not start"

# A health check the test can hold: while check-hold exists it writes its
# pid to check-held and waits (300 s at most).
cat >hold-check <<EOF
#!/bin/sh
[ -e "$TEST_DIR/check-hold" ] || exit 0
echo \$\$ >"$TEST_DIR/check-held"
i=0
while [ -e "$TEST_DIR/check-hold" ] && [ \$i -lt 3000 ]; do
	sleep 0.1
	i=\$((i + 1))
done
EOF
chmod +x hold-check

e2e_config "  profile: server" \
    "  profile: $R/nix/var/nix/profiles/system
  health_checks:
    - $TEST_DIR/hold-check" "reboot:
  policy: when-needed
  users: wait
  notice: 0s
  fleet_lock:
    url: $URL
    group: web
    machine_id: $TEST_DIR/machine-id
    timeout: 2s
poll:
  interval: 1h
  jitter: 0s"

# The reboots the systemctl stand-in queued (a held one that was killed
# queued none).
nqueued() { if [ -f "$R/reboots.log" ]; then wc -l <"$R/reboots.log"; else echo 0; fi; }
# bg_once: nixpull once in the background; its pid in agent.pid.
bg_once() {
	("$NIXPULL" once -c config.yaml >>"$TEST_DIR/once.log" 2>&1 &
	echo $! >agent.pid)
}
# kill_agent: kill -9 the agent and what it runs, as systemd kills the
# unit's cgroup; a held stand-in killed with it cannot clean up after itself.
kill_agent() {
	kill_tree_9 "$(cat agent.pid)" &&
	rm -f "$R/reboot-held" check-held
}
alice() {
	cat >"$R/sessions.json" <<-\JSON
	[{"session":"4","uid":1000,"user":"alice","seat":null,"leader":812,
	  "class":"user","tty":"pts/0","idle":false,"since":null}]
	JSON
}

test_expect_success_here 'v1 deployed, booted; the slot free' '
	deploy_v1 &&
	ln -s "$sys1" "$R/run/booted-system" &&
	test "$(holders)" = "[]" &&
	test "$(nqueued)" = 0
'

test_expect_success_here 'killed with the slot taken but its 200 unseen: the slot given back at start, taken again, rebooted' '
	release "v2,kernel:2" &&
	echo pre-reboot >lock-hold &&
	bg_once &&
	wait_for 300 test -s lock-hold.held &&
	test "$(holders)" = "[\"$ID\"]" &&
	test "$(rj .lock_held)" = true &&
	test "$(rj .rebooting_at)" = 0 &&
	since=$(rj .pending_since) &&
	test "$since" -gt 0 &&
	sys2=$(current) &&
	test "$sys2" != "$sys1" &&
	kill_agent &&
	rm lock-hold &&
	wait_for 10 test ! -e lock-hold.held &&
	echo hold >"$R/reboot-hold" &&
	n=$(ncalls) &&
	bg_once &&
	wait_for 120 test -s "$R/reboot-held" &&
	calls_since "$n" >new &&
	{
		echo "fleetlock steady-state $ID web" &&
		call_line loginctl list-sessions --no-legend --no-pager \
		    --output=json &&
		call_line busctl --json=short call org.freedesktop.login1 \
		    /org/freedesktop/login1 org.freedesktop.login1.Manager \
		    ListInhibitors &&
		echo "fleetlock pre-reboot $ID web" &&
		echo "systemctl reboot"
	} >expect &&
	test_cmp expect new &&
	test "$(holders)" = "[\"$ID\"]" &&
	test "$(rj .pending_since)" = "$since" &&
	test "$(rj .into)" = "$sys2" &&
	test "$(rj .boot_id)" = boot-1 &&
	test "$(rj .rebooting_at)" -gt 0 &&
	test "$(st .reboot.blocked_by)" = rebooting &&
	test "$(st .deployed.store_path)" = "$sys2"
'

test_expect_success 'killed in systemctl reboot, restarted while alice is logged in: forgotten, the slot given back, still pending' '
	kill_agent &&
	rm "$R/reboot-hold" &&
	test "$(nqueued)" = 0 &&
	alice &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	calls_since "$n" >new &&
	{
		call_line loginctl list-sessions --no-legend --no-pager \
		    --output=json &&
		echo "fleetlock steady-state $ID web"
	} >expect &&
	test_cmp expect new &&
	test "$(holders)" = "[]" &&
	test "$(rj .rebooting_at)" = 0 &&
	test "$(rj .lock_held)" = false &&
	test "$(rj .pending_since)" = "$since" &&
	test "$(st .reboot.pending)" = true &&
	test "$(st .reboot.blocked_by)" = "user alice" &&
	test "$(nqueued)" = 0 &&
	test_grep "did not happen and may not happen now" "$TEST_DIR/once.log"
'

test_expect_success 'alice gone: the lock taken again and the reboot asked for; killed there once more' '
	rm "$R/sessions.json" &&
	echo hold >"$R/reboot-hold" &&
	n=$(ncalls) &&
	bg_once &&
	wait_for 60 test -s "$R/reboot-held" &&
	calls_since "$n" >new &&
	test "$(grep -c "^fleetlock steady-state" new)" = 1 &&
	test "$(tail -n 2 new)" = "fleetlock pre-reboot $ID web
systemctl reboot" &&
	test "$(holders)" = "[\"$ID\"]" &&
	kill_agent &&
	rm "$R/reboot-hold" &&
	test "$(nqueued)" = 0
'

test_expect_success 'restarted when it still may reboot: it goes on with the slot it holds' '
	n=$(ncalls) &&
	test_expect_code 0 once &&
	calls_since "$n" >new &&
	test_grep_not "^fleetlock steady-state" new &&
	test "$(tail -n 2 new)" = "fleetlock pre-reboot $ID web
systemctl reboot" &&
	test "$(nqueued)" = 1 &&
	test "$(holders)" = "[\"$ID\"]" &&
	test "$(rj .lock_held)" = true &&
	test "$(rj .pending_since)" = "$since"
'

test_expect_success 'rebooted, killed in the health check before steady-state: reported once, the slot given back at the next start' '
	export NIXPULL_TEST_BOOT_ID=boot-2 &&
	ln -sfn "$sys2" "$R/run/booted-system" &&
	touch check-hold &&
	bg_once &&
	wait_for 60 test -s check-held &&
	test "$(st .reboot.last.result)" = rebooted &&
	at=$(st .reboot.last.at) &&
	test "$(rj .rebooting_at)" = 0 &&
	test "$(rj .checks_due)" = true &&
	test "$(holders)" = "[\"$ID\"]" &&
	kill_agent &&
	rm check-hold &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	calls_since "$n" >new &&
	echo "fleetlock steady-state $ID web" >expect &&
	test_cmp expect new &&
	test "$(holders)" = "[]" &&
	test "$(rj .checks_due)" = false &&
	test "$(rj .lock_held)" = false &&
	test "$(st .reboot.last.result)" = rebooted &&
	test "$(st .reboot.last.at)" = "$at" &&
	test "$(st .reboot.last.into)" = "$sys2" &&
	test "$(st .reboot.pending)" != true &&
	test "$(nqueued)" = 1
'

test_expect_success 'the lock server down when steady-state is due: tried at each cycle of the daemon, the slot given back once it is up' '
	release "v3,kernel:3" &&
	test_expect_code 0 once &&
	sys3=$(current) &&
	test "$(nqueued)" = 2 &&
	test "$(holders)" = "[\"$ID\"]" &&
	lock_stop &&
	ln -sfn "$sys3" "$R/run/booted-system" &&
	daemon_start NIXPULL_TEST_BOOT_ID=boot-3 -- -c config.yaml &&
	wait_for 60 lines_above "steady-state tried again next cycle" daemon.log 0 &&
	wait_for 10 test "$(st .reboot.last.into)" = "$sys3" &&
	test "$(st .reboot.last.result)" = rebooted &&
	test "$(rj .lock_held)" = true &&
	kill -USR1 "$DAEMON_PID" &&
	wait_for 60 lines_above "steady-state tried again next cycle" daemon.log 1 &&
	test "$(holders)" = "[\"$ID\"]" &&
	lock_start &&
	kill -USR1 "$DAEMON_PID" &&
	wait_for 60 test "$(holders)" = "[]" &&
	wait_for 10 test "$(rj .lock_held)" = false &&
	test_grep "fleet lock: steady-state" daemon.log &&
	kill -TERM "$DAEMON_PID" &&
	daemon_wait_exit 60 &&
	test "$DAEMON_RC" = 0 &&
	test "$(nqueued)" = 2
'

test_done
