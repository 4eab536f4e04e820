#!/usr/bin/env bash
# Reporting from real cycles (issue 6): a report failure never fails or
# blocks a deploy; the newest undelivered status is kept and delivered when
# the endpoint is back, by a later agent process; a poll that finds nothing
# new sends a heartbeat and writes nothing.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require nix git jq ssh-keygen nginx curl python3 md5sum
nix_offline_env
standin_env

R=$NIXPULL_TEST_ROOT
S=$TEST_DIR/state
HOST=db-2
export NIXPULL_TEST_CPUS=2 NIXPULL_TEST_MEM_AVAILABLE=8GiB \
    NIXPULL_TEST_STORE_FREE=100GiB NIXPULL_TEST_ON_BATTERY=0

signing_keygen alice
signing_allow allowed_signers alice@example.com alice
signing_repo_init work alice
git init -q --bare repo.git
mkdir -p "$R/run"
webdav_start --bearer s3cret-token
printf 'wrong-token\n' >token
chmod 600 token

release() {
	nixflake_commit work "$HOST" "$1" &&
	git -C work push -q -f ../repo.git main &&
	rev=$(git -C work rev-parse HEAD)
}

write_config() {
	cat >config.yaml <<END_CONFIG
host: $HOST
state_dir: $S
repo:
  url: file://$TEST_DIR/repo.git
trust:
  allowed_signers: $TEST_DIR/allowed_signers
activate:
  current_system: $R/run/current-system
report:
  url: $1
  token_file: $TEST_DIR/token
  timeout: 3s
END_CONFIG
}
write_config "$WEBDAV_URL"

once() { "$NIXPULL" once -c config.yaml >"$TEST_DIR/once.log" 2>&1; }
local_st() { jq -r "$1" "$S/status.json"; }
remote() { jq -r "$1" "$WEBDAV_DIR/$HOST.json"; }

test_expect_success_here 'a rejected report token does not stop the deploy' '
	release v1 &&
	rev1=$rev &&
	test_expect_code 0 once &&
	test "$(local_st .deployed.rev)" = "$rev1" &&
	test "$(local_st .state)" = ok &&
	test_grep "401" once.log &&
	test_grep_not "wrong-token" once.log &&
	test ! -e "$WEBDAV_DIR/$HOST.json" &&
	test -s "$S/report-pending.json"
'

test_expect_success_here 'the kept status is delivered by the next agent once the token is right' '
	printf "s3cret-token\n" >token &&
	test_expect_code 0 once &&
	test "$(remote .deployed.rev)" = "$rev1" &&
	test "$(remote .state)" = ok &&
	test ! -e "$S/report-pending.json"
'

test_expect_success_here 'endpoint down during a deploy: deployed, the newest status kept' '
	webdav_stop &&
	release v2 &&
	rev2=$rev &&
	test_expect_code 0 once &&
	test "$(local_st .deployed.rev)" = "$rev2" &&
	test "$(jq -r .deployed.rev "$S/report-pending.json")" = "$rev2" &&
	test "$(jq -r .state "$S/report-pending.json")" = ok &&
	test "$(remote .deployed.rev)" = "$rev1"
'

test_expect_success_here 'endpoint back: the next poll with nothing new delivers it' '
	webdav_restart &&
	test_expect_code 0 once &&
	test "$(remote .deployed.rev)" = "$rev2" &&
	test ! -e "$S/report-pending.json"
'

test_expect_success_here 'a heartbeat moves the remote updated_at and rewrites nothing on disk' '
	sum=$(md5sum <"$S/status.json") &&
	listing=$(find "$S" -type f -printf "%p %T@\n" | sort) &&
	old=$(remote .updated_at) &&
	ts=$(date +%s) &&
	# updated_at has a resolution of a second: let one pass
	wait_for 5 sh -c "test \$(date +%s) -gt $ts" &&
	test_expect_code 0 once &&
	test "$(md5sum <"$S/status.json")" = "$sum" &&
	test "$(find "$S" -type f -printf "%p %T@\n" | sort)" = "$listing" &&
	test "$(remote .updated_at)" != "$old"
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
	test "$(local_st .deployed.rev)" = "$rev3" &&
	test_grep "timed out|[Tt]imeout" once.log &&
	# building, activating, ok: three reports of at most 3 s each, plus
	# the flush of the pending one, plus the build
	test $((end - start)) -lt 40
'

test_done
