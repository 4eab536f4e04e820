#!/usr/bin/env bash
# Reporting from real cycles (issue 6): a report failure never fails or
# blocks a deploy; the newest undelivered status is kept and delivered when
# the endpoint is back, by a later agent process; a poll that finds nothing
# new sends a heartbeat and writes nothing.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
test_require nginx curl python3 md5sum
e2e_init db-2
e2e_machine 2 8GiB
webdav_start --bearer s3cret-token
printf 'wrong-token\n' >token
chmod 600 token

# write_config URL: no build section, reports to URL with the token
write_config() {
	e2e_config "" "" "report:
  url: $1
  token_file: $TEST_DIR/token
  timeout: 3s"
}
write_config "$WEBDAV_URL"

# once.log holds the last run only: what a test greps is from its run.
once() { "$NIXPULL" once -c config.yaml >"$TEST_DIR/once.log" 2>&1; }

test_expect_success_here 'a rejected report token does not stop the deploy' '
	release v1 &&
	rev1=$rev &&
	test_expect_code 0 once &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test "$(st .state)" = ok &&
	test_grep "401" once.log &&
	test_grep_not "wrong-token" once.log &&
	test ! -e "$WEBDAV_DIR/$HOST.json" &&
	test -s "$S/report-pending.json"
'

test_expect_success_here 'the kept status is delivered by the next agent once the token is right' '
	printf "s3cret-token\n" >token &&
	test_expect_code 0 once &&
	test "$(reported .deployed.rev)" = "$rev1" &&
	test "$(reported .state)" = ok &&
	test ! -e "$S/report-pending.json"
'

test_expect_success_here 'endpoint down during a deploy: deployed, the newest status kept' '
	webdav_stop &&
	release v2 &&
	rev2=$rev &&
	test_expect_code 0 once &&
	test "$(st .deployed.rev)" = "$rev2" &&
	test "$(jq -r .deployed.rev "$S/report-pending.json")" = "$rev2" &&
	test "$(jq -r .state "$S/report-pending.json")" = ok &&
	test "$(reported .deployed.rev)" = "$rev1"
'

test_expect_success_here 'endpoint back: the next poll with nothing new delivers it' '
	webdav_restart &&
	test_expect_code 0 once &&
	test "$(reported .deployed.rev)" = "$rev2" &&
	test ! -e "$S/report-pending.json"
'

test_expect_success_here 'a heartbeat moves the remote updated_at and rewrites nothing on disk' '
	sum=$(md5sum <"$S/status.json") &&
	listing=$(find "$S" -type f -printf "%p %T@\n" | sort) &&
	old=$(reported .updated_at) &&
	ts=$(date +%s) &&
	# updated_at has a resolution of a second: let one pass
	wait_for 5 sh -c "test \$(date +%s) -gt $ts" &&
	test_expect_code 0 once &&
	test "$(md5sum <"$S/status.json")" = "$sum" &&
	test "$(find "$S" -type f -printf "%p %T@\n" | sort)" = "$listing" &&
	test "$(reported .updated_at)" != "$old"
'

test_expect_success_here 'an endpoint that never answers costs at most report.timeout a report' '
	python3 "$TESTLIB_DIR/hostile_server.py" hang "$TEST_DIR/hang.port" \
	    >hang.log 2>&1 &
	hang=$!
	test_atexit "kill $hang"
	wait_for 10 test -s hang.port &&
	write_config "http://127.0.0.1:$(cat hang.port)/" &&
	release v3 &&
	rev3=$rev &&
	start=$(date +%s) &&
	test_expect_code 0 once &&
	end=$(date +%s) &&
	test "$(st .deployed.rev)" = "$rev3" &&
	test_grep "timed out|[Tt]imeout" once.log &&
	# building, activating, ok: three reports of at most 3 s each, plus
	# the flush of the pending one, plus the build
	test $((end - start)) -lt 40
'

test_done
