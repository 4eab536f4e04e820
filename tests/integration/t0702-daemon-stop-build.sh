#!/usr/bin/env bash
# SIGTERM while Nix builds a release (a builder that sleeps 300 s): the
# build is cancelled through the stop flag, nothing is activated, the agent
# exits 0 within seconds, and the state directory and the status document
# say what happened; the next start builds and deploys the release.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/daemon.sh"

daemon_repo h1 v1
V1=$(git -C work rev-parse HEAD)
daemon_config config.yaml "file://$TEST_DIR/srv/infra.git"

now_ms() { date +%s%3N; }
# The slow builder is running: a sleep under the agent's process tree.
builder_runs() { daemon_tree "$DAEMON_PID" | xargs ps -o args= -p 2>/dev/null | grep -q "^sleep"; }

test_expect_success 'the first release is deployed' '
	"$NIXPULL" once -c config.yaml &&
	state_consistent "$V1"
'

test_expect_success_here 'a slow release is being built' '
	daemon_release slow:300 &&
	V2=$(git -C work rev-parse HEAD) &&
	daemon_start -- -c config.yaml &&
	wait_for 60 state_is building &&
	wait_for 60 builder_runs &&
	test -z "$(status_get .deployed.rev | grep "$V2")"
'

test_expect_success_here 'SIGTERM: the build is cancelled, exit 0 within seconds' '
	t0=$(now_ms) &&
	kill -TERM $DAEMON_PID &&
	daemon_wait_exit 20 &&
	t1=$(now_ms) &&
	echo "stopped in $((t1 - t0)) ms" &&
	test "$DAEMON_RC" -eq 0 &&
	test $((t1 - t0)) -lt 10000 &&
	test_grep "was cancelled|interrupted" daemon.log &&
	test_grep "stopped" daemon.log
'

test_expect_success 'no process of the build is left' '
	! pgrep -f "nixos-system-h1.*slow" &&
	! pgrep -f "nix build.*$V2"
'

test_expect_success 'nothing was activated: the host still runs the first release' '
	state_consistent_rev=$(jq -r .rev state/deployed.json) &&
	test "$state_consistent_rev" = "$V1" &&
	test ! -e state/inflight.json &&
	test "$(grep -c "^nixos-rebuild switch " "$NIXPULL_TEST_ROOT/calls.log")" -eq 1 &&
	test -z "$(find state -name ".*.tmp-*")"
'

test_expect_success 'the status is truthful: not building, the attempt interrupted' '
	cat state/status.json &&
	test "$(status_get .state)" = ok &&
	test "$(status_get .deployed.rev)" = "$V1" &&
	test "$(status_get .last_attempt.rev)" = "$V2" &&
	test "$(status_get .last_attempt.phase)" = build &&
	status_get .last_attempt.error | grep -E "cancelled|interrupted" &&
	test "$(status_get .next_poll_at)" = null
'

test_expect_success 'the next start builds the release again (quick now) and deploys it' '
	daemon_release v3 &&
	v3=$(git -C work rev-parse HEAD) &&
	"$NIXPULL" once -c config.yaml &&
	state_consistent "$v3"
'

test_done
