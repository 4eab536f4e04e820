#!/usr/bin/env bash
# nixpull run in a staged rollout: a host whose wave is not due yet sleeps
# until the wave starts (turn_cap_delay), not for poll.interval.  On the
# test clock (NIXPULL_TEST_NOW, test builds only) the wave starts a few
# seconds after "now", with poll.interval 1h: the next poll comes at the
# due time, seen in the attempts the daemon records.  The test clock does
# not move, so every poll defers again, one wave gap apart.  Every wait is
# bounded; nothing sleeps to synchronise.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/daemon.sh"

test_require jq
daemon_repo h1 v1
GAP=4	# seconds from the test clock to the wave's start

mkdir -p work/.nixpull &&
printf 'waves:\n  - name: canary\n    hosts: [lab-1]\n  - name: everyone\n    after: 2h\n' \
    >work/.nixpull/rollout.yaml &&
git -C work add .nixpull/rollout.yaml &&
daemon_release v2 || bail "cannot release the plan"
REV=$(git -C work rev-parse HEAD)
T0=$(git -C work log -1 --format=%ct)
DUE=$((T0 + 7200))

# started N: the start (epoch seconds) of the Nth recorded attempt of REV
started() {
	local f
	f=$(ls "$STATE/history/" | grep -e "-${REV:0:12}" | sort | sed -n "$1p") &&
	test -n "$f" &&
	date -u -d "$(jq -r .last_attempt.started_at "$STATE/history/$f")" +%s
}
attempts() { ls "$STATE/history/" 2>/dev/null | grep -c -e "-${REV:0:12}"; }
attempts_at_least() { test "$(attempts)" -ge "$1"; }

test_expect_success_here 'a deferred host polls again when its wave starts, not after poll.interval' '
	before=$(readlink "$NIXPULL_TEST_ROOT/run/current-system" || :) &&
	daemon_config config.yaml "file://$TEST_DIR/srv/infra.git" &&
	grep -q "^  interval: 1h" config.yaml &&
	daemon_start NIXPULL_TEST_NOW=$((DUE - GAP)) -- -c config.yaml &&
	wait_for 60 attempts_at_least 3 &&
	for n in 1 2 3; do
		f=$(ls "$STATE/history/" | grep -e "-${REV:0:12}" | sort | sed -n "${n}p") &&
		test "$(jq -r .last_attempt.result "$STATE/history/$f")" = deferred &&
		test "$(jq -r .last_attempt.error "$STATE/history/$f")" = \
		    "rollout: wave everyone starts $(date -u -d @$DUE +%Y-%m-%dT%H:%MZ)" &&
		test "$(jq -r .rollout.due_at "$STATE/history/$f")" = \
		    "$(date -u -d @$DUE +%Y-%m-%dT%H:%M:%SZ)" || return 1
	done &&
	s1=$(started 1) && s2=$(started 2) && s3=$(started 3) &&
	echo "attempts at $s1 $s2 $s3" &&
	test $((s2 - s1)) -ge $((GAP - 1)) && test $((s2 - s1)) -le $((GAP + 10)) &&
	test $((s3 - s2)) -ge $((GAP - 1)) && test $((s3 - s2)) -le $((GAP + 10)) &&
	test "$(readlink "$NIXPULL_TEST_ROOT/run/current-system" || :)" = "$before" &&
	test "$(status_get .deployed)" = null
'

test_expect_success 'the daemon stops cleanly' '
	kill -TERM $DAEMON_PID &&
	daemon_wait_exit 20 &&
	test "$DAEMON_RC" -eq 0
'

test_done
