#!/usr/bin/env bash
# nixpull run: the first cycle deploys, a second agent on the same state
# directory is refused (exit 69), SIGUSR1 polls now (poll.interval is an
# hour: only the signal can cause it), SIGHUP re-reads the config, keeping
# the running one when the new one is broken, and SIGTERM stops with 0.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/daemon.sh"

test_require nginx fcgiwrap curl
daemon_repo h1 v1
V1=$(git -C work rev-parse HEAD)
git clone -q --bare srv/infra.git srv/other.git
gitserver_start "$TEST_DIR/srv"
daemon_config config.yaml "${GITSERVER_URL}infra.git"

# Requests the agent made to NAME.git so far, and waiting for more.
repo_requests() { grep -c "GET /$1.git/info/refs" "$GITSERVER_ACCESS_LOG"; }
more_requests() { lines_above "GET /$1.git/info/refs" "$GITSERVER_ACCESS_LOG" "$2"; }

test_expect_success_here 'nixpull run deploys the signed release and sleeps' '
	daemon_start -- -c config.yaml &&
	wait_for 120 deployed_is "$V1" &&
	state_consistent "$V1" &&
	test_grep "watching ${GITSERVER_URL}infra.git \(main\) for h1" daemon.log &&
	kill -0 $DAEMON_PID
'

test_expect_success 'the status names the next poll, an hour away' '
	next=$(status_get .next_poll_at) &&
	now=$(date +%s) &&
	t=$(date -d "$next" +%s) &&
	test $((t - now)) -gt 3000 &&
	test $((t - now)) -le 3600
'

test_expect_success 'a second agent on the same state directory is refused' '
	test_expect_code 69 "$NIXPULL" run -c config.yaml 2>err &&
	test_grep "another nixpull \(pid $DAEMON_PID\) holds .*state/lock" err &&
	test_expect_code 69 "$NIXPULL" once -c config.yaml 2>err2 &&
	test_grep "another nixpull \(pid $DAEMON_PID\) holds" err2 &&
	kill -0 $DAEMON_PID
'

test_expect_success 'SIGUSR1 polls now' '
	n=$(repo_requests infra) &&
	kill -USR1 $DAEMON_PID &&
	wait_for 20 more_requests infra "$n" &&
	kill -0 $DAEMON_PID
'

test_expect_success 'SIGUSR1 after a release: deployed at once' '
	daemon_release v2 &&
	v2=$(git -C work rev-parse HEAD) &&
	kill -USR1 $DAEMON_PID &&
	wait_for 120 deployed_is "$v2" &&
	state_consistent "$v2"
'

test_expect_success 'signals in a burst: the agent stays up and polls again' '
	n=$(repo_requests infra) &&
	for i in 1 2 3 4 5 6 7 8 9 10; do kill -USR1 $DAEMON_PID; done &&
	wait_for 20 more_requests infra "$n" &&
	kill -0 $DAEMON_PID
'

test_expect_success 'SIGHUP with a broken config keeps the running one' '
	cp config.yaml good.yaml &&
	sed "s|infra.git|other.git|; s|^poll:|poll:\n  intervall: 5m|" \
	    good.yaml >config.yaml &&
	n=$(repo_requests infra) &&
	kill -HUP $DAEMON_PID &&
	wait_for 20 more_requests infra "$n" &&
	test_grep "config.yaml:[0-9]+:[0-9]+: unknown key .intervall. in .poll." daemon.log &&
	test_grep "config.yaml: invalid, keeping the running configuration" daemon.log &&
	test "$(repo_requests other)" -eq 0 &&
	kill -0 $DAEMON_PID
'

test_expect_success 'and keeps polling with it' '
	n=$(repo_requests infra) &&
	kill -USR1 $DAEMON_PID &&
	wait_for 20 more_requests infra "$n" &&
	test "$(repo_requests other)" -eq 0
'

test_expect_success 'SIGHUP with a fixed config applies it' '
	sed "s|infra.git|other.git|" good.yaml >config.yaml &&
	kill -HUP $DAEMON_PID &&
	wait_for 20 more_requests other 0 &&
	test_grep "configuration reloaded" daemon.log &&
	kill -0 $DAEMON_PID
'

test_expect_success 'SIGTERM while sleeping: stops at once with 0, lock released' '
	kill -TERM $DAEMON_PID &&
	daemon_wait_exit 10 &&
	test "$DAEMON_RC" -eq 0 &&
	test_grep "stopped" daemon.log &&
	"$NIXPULL" check-config -c config.yaml >/dev/null &&
	flock -n state/lock true
'

test_done
