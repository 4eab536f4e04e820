# Helpers of the reboot tests (t0810-t0815), sourced after e2e.sh ($R, $S).
#   reboot_clock
#	T0 (Monday 2027-01-04 12:00 UTC), DAY, WIN (the Tuesday 02:10 after
#	it: the tests' maintenance window); exports NIXPULL_TEST_NOW=$T0 and
#	NIXPULL_TEST_BOOT_ID=boot-1 (test build only)
#   reboot_lock_id
#	TOOL (tests/lib/fleetlocktool), ./machine-id and ID, its FleetLock
#	client id; exports NIXPULL_TEST_BOOT_ID=boot-1
#   nreboots		how many `systemctl reboot` the stand-in recorded
#   rj EXPR		jq -r EXPR of <state_dir>/reboot.json
#   holders		the FleetLock test server's holders of group web
#   status_line PREFIX	the line of `nixpull status` that starts so

reboot_clock() {
	T0=$(date -u -d '2027-01-04 12:00' +%s)
	DAY=86400
	WIN=$((T0 + 14 * 3600 + 600))
	export NIXPULL_TEST_NOW=$T0 NIXPULL_TEST_BOOT_ID=boot-1
}

reboot_lock_id() {
	TOOL=$NIXPULL_TESTLIB/fleetlocktool
	[ -x "$TOOL" ] || bail "missing $TOOL (build tests/lib)"
	export NIXPULL_TEST_BOOT_ID=boot-1
	echo 0123456789abcdef0123456789abcdef >machine-id
	ID=$("$TOOL" id machine-id) || bail "no FleetLock id"
}

nreboots() { grep -c "^systemctl reboot$" "$R/calls.log" || true; }
rj() { jq -r "$1" "$S/reboot.json"; }
holders() { jq -c ".web" lock.json; }
status_line() { "$NIXPULL" status -c config.yaml | grep "^$1"; }
