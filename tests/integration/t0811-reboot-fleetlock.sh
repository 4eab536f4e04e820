#!/usr/bin/env bash
# The reboot step with a fleet-wide lock (issue 12, FleetLock) end to end
# through `nixpull once` with real Nix, against tests/lib/fleetlock_server.py:
# steady-state at agent start before anything is deployed; a slot held by
# another host: no reboot, the refusal's kind reported; the lock server
# down: no reboot, reported; the slot free: pre-reboot, then systemctl
# reboot; an agent restarted in the same boot keeps the slot and asks
# again; the next boot runs the health checks and gives the slot back
# (steady-state) only once they pass; a reboot that fails gives the slot
# back at once.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
. "$TESTLIB_DIR/reboot.sh"
test_require python3
e2e_init web-1
e2e_machine 4 16GiB
reboot_lock_id
echo '{"web": ["db-7"]}' >lock.json
python3 "$TESTLIB_DIR/fleetlock_server.py" lock.port lock.json --slots 1 \
    2>lock.log &
test_atexit "kill $!"
wait_for 10 test -s lock.port || bail "the FleetLock server did not start"
URL=http://127.0.0.1:$(cat lock.port)/

# lcfg URL: config.yaml, reboot when needed at any time, under the lock.
lcfg() {
	e2e_config "  profile: server" \
	    "  profile: $R/nix/var/nix/profiles/system
  health_checks:
    - systemctl is-system-running" "reboot:
  policy: when-needed
  users: ignore
  notice: 0s
  fleet_lock:
    url: $1
    group: web
    machine_id: $TEST_DIR/machine-id
    timeout: 2s"
}

test_expect_success_here 'at agent start: steady-state before anything is deployed' '
	lcfg "$URL" &&
	deploy_v1 &&
	head -n 1 "$R/calls.log" >first &&
	echo "fleetlock steady-state $ID web" >expect &&
	test_cmp expect first &&
	ln -s "$sys1" "$R/run/booted-system" &&
	test "$(holders)" = "[\"db-7\"]"
'

test_expect_success_here 'the slot held by another host: no reboot, the refusal reported' '
	release "v2,kernel:2" &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	sys2=$(current) &&
	test "$sys2" != "$sys1" &&
	calls_since "$n" >new &&
	test_grep "^fleetlock pre-reboot $ID web$" new &&
	test "$(st .reboot.pending)" = true &&
	test "$(st .reboot.blocked_by)" = "fleet-lock failed_lock_semaphore_full: semaphore currently full, 1 of 1 slots taken" &&
	test "$(nreboots)" = 0 &&
	test "$(holders)" = "[\"db-7\"]" &&
	test "$(rj .rebooting_at)" = 0
'

test_expect_success 'the lock server down: no reboot, reported' '
	lcfg "http://127.0.0.1:$(free_port)/" &&
	test_expect_code 0 once &&
	test_grep "^fleet-lock unavailable: fleet lock http://127.0.0.1:[0-9]+/v1/pre-reboot: " \
	    <(st .reboot.blocked_by) &&
	test "$(nreboots)" = 0 &&
	test_grep "steady-state tried again next cycle" "$TEST_DIR/once.log"
'

test_expect_success_here 'the slot free: pre-reboot, reboot.json, then systemctl reboot' '
	lcfg "$URL" &&
	echo "{\"web\": []}" >lock.json &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	calls_since "$n" >new &&
	{
		echo "fleetlock steady-state $ID web" &&
		call_line busctl --json=short call org.freedesktop.login1 \
		    /org/freedesktop/login1 org.freedesktop.login1.Manager \
		    ListInhibitors &&
		echo "fleetlock pre-reboot $ID web" &&
		echo "systemctl reboot"
	} >expect &&
	test_cmp expect new &&
	test "$(holders)" = "[\"$ID\"]" &&
	test "$(rj .into)" = "$sys2" &&
	test "$(rj .boot_id)" = boot-1
'

test_expect_success 'restarted before the reboot happened (same boot): the slot kept, the reboot asked again' '
	n=$(ncalls) &&
	test_expect_code 0 once &&
	calls_since "$n" >new &&
	{
		call_line busctl --json=short call org.freedesktop.login1 \
		    /org/freedesktop/login1 org.freedesktop.login1.Manager \
		    ListInhibitors &&
		echo "fleetlock pre-reboot $ID web" &&
		echo "systemctl reboot"
	} >expect &&
	test_cmp expect new &&
	test "$(holders)" = "[\"$ID\"]" &&
	test "$(rj .into)" = "$sys2"
'

test_expect_success 'the next boot, unhealthy: confirmed, the slot kept' '
	ln -sfn "$sys2" "$R/run/booted-system" &&
	echo degraded >"$R/system-state" &&
	n=$(ncalls) &&
	NIXPULL_TEST_BOOT_ID=boot-2 test_expect_code 0 once &&
	calls_since "$n" >new &&
	echo "systemctl is-system-running" >expect &&
	test_cmp expect new &&
	test "$(holders)" = "[\"$ID\"]" &&
	test_grep "^rebooted; health check failed: " <(st .reboot.last.result) &&
	test "$(st .reboot.pending)" != true &&
	test "$(rj .checks_due)" = true &&
	test_grep "fleet lock is kept" "$TEST_DIR/once.log"
'

test_expect_success 'healthy at the next cycle: the slot given back, once' '
	rm "$R/system-state" &&
	n=$(ncalls) &&
	NIXPULL_TEST_BOOT_ID=boot-2 test_expect_code 0 once &&
	calls_since "$n" >new &&
	printf "%s\n" "systemctl is-system-running" \
	    "fleetlock steady-state $ID web" >expect &&
	test_cmp expect new &&
	test "$(holders)" = "[]" &&
	test "$(st .reboot.last.result)" = rebooted &&
	test "$(rj .checks_due)" = false &&
	n=$(ncalls) &&
	NIXPULL_TEST_BOOT_ID=boot-2 test_expect_code 0 once &&
	calls_since "$n" >new &&
	echo "fleetlock steady-state $ID web" >expect &&
	test_cmp expect new
'

test_expect_success 'a reboot that fails: reported, the slot given back at once' '
	export NIXPULL_TEST_BOOT_ID=boot-2 &&
	echo 1 >"$R/reboot-exit" &&
	release "v3,kernel:3" &&
	test_expect_code 0 once &&
	test "$(nreboots)" = 3 &&
	test_grep "^reboot failed: " <(st .reboot.blocked_by) &&
	test "$(tail -n 1 "$R/calls.log")" = "fleetlock steady-state $ID web" &&
	test "$(holders)" = "[]" &&
	test "$(rj .rebooting_at)" = 0 &&
	rm "$R/reboot-exit" &&
	test_expect_code 0 once &&
	test "$(tail -n 1 "$R/calls.log")" = "systemctl reboot" &&
	test "$(nreboots)" = 4 &&
	test "$(st .reboot.blocked_by)" = rebooting &&
	test "$(holders)" = "[\"$ID\"]"
'

test_done
