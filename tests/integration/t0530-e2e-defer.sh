#!/usr/bin/env bash
# End to end with `nixpull once` (issue 5): a workstation on battery
# defers its build (state deferred, nothing built) unless build.on_battery
# says build; a server builds anyway; too little free disk in /nix/store
# refuses the build and says so.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init laptop
e2e_machine 4 16GiB 1

# nothing_built REV: no log, no GC root, no stand-in call, no system
nothing_built() {
	test ! -e "$S/logs/$1.log" &&
	test ! -e "$S/gcroots/$1" &&
	test "$(ncalls)" = 0 &&
	test ! -e "$R/run/current-system"
}

e2e_config "  profile: workstation"

test_expect_success_here 'on battery, a workstation defers: state deferred, no build' '
	release v1 &&
	rev1=$rev &&
	test_expect_code 1 once &&
	nothing_built "$rev1" &&
	test "$(st .state)" = deferred &&
	test "$(st .last_attempt.result)" = deferred &&
	test "$(st .last_attempt.rev)" = "$rev1" &&
	test "$(st .system.on_battery)" = true &&
	st .last_attempt.error >err &&
	test_grep "deferred: on battery" err &&
	test "$(st .deployed)" = null
'

test_expect_success 'still on battery: deferred again, still nothing built' '
	test_expect_code 1 once &&
	nothing_built "$rev1" &&
	test "$(st .state)" = deferred
'

test_expect_success 'a server on battery builds' '
	mkdir server &&
	cp -r "$S" server/state &&
	sed -e "s|^state_dir: .*|state_dir: $TEST_DIR/server/state|" \
	    -e "s|$R/run/|$TEST_DIR/server/root/run/|" \
	    -e "s|profile: workstation|profile: server|" config.yaml \
	    >server/config.yaml &&
	NIXPULL_TEST_ROOT=$TEST_DIR/server/root \
	    "$NIXPULL" once -c server/config.yaml 2>server/err &&
	test "$(jq -r .state server/state/status.json)" = ok &&
	test "$(readlink "server/state/gcroots/$rev1")" = \
	    "$(readlink server/root/run/current-system)" &&
	nothing_built "$rev1"
'

test_expect_success_here 'build.on_battery: build: a workstation on battery builds' '
	e2e_config "  profile: workstation
  on_battery: build" &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test -n "$(current)" &&
	test "$(readlink "$S/gcroots/$rev1")" = "$(current)"
'

test_expect_success_here 'back on mains power, the default builds again' '
	e2e_config "  profile: workstation" &&
	release v2 &&
	rev2=$rev &&
	NIXPULL_TEST_ON_BATTERY=0 test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev2"
'

test_expect_success_here 'too little free disk in /nix/store: no build, failed, says so' '
	release v3 &&
	rev3=$rev &&
	sys=$(current) &&
	NIXPULL_TEST_ON_BATTERY=0 NIXPULL_TEST_STORE_FREE=1GiB \
	    test_expect_code 1 once &&
	test ! -e "$S/logs/$rev3.log" &&
	test "$(current)" = "$sys" &&
	test "$(st .state)" = failed &&
	st .last_attempt.error >err &&
	test_grep "only 1.0 GiB free in /nix/store, need 5.0 GiB" err
'

test_expect_success 'with space again, the same revision is built' '
	NIXPULL_TEST_ON_BATTERY=0 test_expect_code 0 once &&
	test "$(st .deployed.rev)" = "$rev3"
'

test_done
