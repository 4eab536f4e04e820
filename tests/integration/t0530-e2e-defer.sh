#!/usr/bin/env bash
# End to end with `nixpull once` (issue 5): a workstation on battery
# defers its build (state deferred, nothing built) unless build.on_battery
# says build; a server builds anyway; too little free disk in /nix/store
# refuses the build and says so.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require nix git jq ssh-keygen flock
nix_offline_env
standin_env

R=$NIXPULL_TEST_ROOT
S=$TEST_DIR/state
HOST=laptop
export NIXPULL_TEST_CPUS=4 NIXPULL_TEST_MEM_AVAILABLE=16GiB \
    NIXPULL_TEST_STORE_FREE=100GiB NIXPULL_TEST_ON_BATTERY=1 \
    NIXPULL_TEST_LOAD=0

signing_keygen alice
signing_allow allowed_signers alice@example.com alice
signing_repo_init work alice
git init -q --bare repo.git
mkdir -p "$R/run"

release() {
	nixflake_commit work "$HOST" "$1" &&
	git -C work push -q -f ../repo.git main &&
	rev=$(git -C work rev-parse HEAD)
}

# config BUILD_LINES
config() {
	cat >config.yaml <<EOF
host: $HOST
state_dir: $S
repo:
  url: file://$TEST_DIR/repo.git
trust:
  allowed_signers: $TEST_DIR/allowed_signers
build:
$1
activate:
  current_system: $R/run/current-system
EOF
}

once() { "$NIXPULL" once -c config.yaml >>"$TEST_DIR/once.log" 2>&1; }
st() { jq -r "$1" "$S/status.json"; }
current() { readlink "$R/run/current-system"; }
ncalls() { if [ -f "$R/calls.log" ]; then wc -l <"$R/calls.log"; else echo 0; fi; }
nothing_built() {
	test ! -e "$S/logs/$1.log" &&
	test ! -e "$S/gcroots/$1" &&
	test "$(ncalls)" = 0 &&
	test ! -e "$R/run/current-system"
}

config "  profile: workstation"

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
	config "  profile: workstation
  on_battery: build" &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test -n "$(current)" &&
	test "$(readlink "$S/gcroots/$rev1")" = "$(current)"
'

test_expect_success_here 'back on mains power, the default builds again' '
	config "  profile: workstation" &&
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
