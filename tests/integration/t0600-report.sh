#!/usr/bin/env bash
# Status reporting: PUT to a real nginx WebDAV endpoint with bearer and
# basic auth, undelivered documents kept and re-sent (newest wins, across a
# restart), time-outs against an endpoint that never answers, file:// URLs,
# the Prometheus textfile, and `nixpull status`.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/webdav.sh"

test_require python3 nginx
RT=$NIXPULL_TESTLIB/reporttool
[ -x "$RT" ] || bail "missing $RT (build the tests)"

now_ms() { date +%s%3N; }
REV1=1111111111111111111111111111111111111111
REV2=2222222222222222222222222222222222222222
REV3=3333333333333333333333333333333333333333

webdav_start --bearer goodtoken
echo goodtoken >token
echo wrongtoken >badtoken
mkdir -p state
rt() { "$RT" --state-dir state --url "$WEBDAV_URL" --token-file token "$@"; }

test_expect_success 'a status arrives by PUT with the bearer token' '
	"$RT" make host=alpha state=ok rev=$REV1 signer=alice@example.com \
	    activated=now-60 >doc1.json &&
	rt send doc1.json &&
	test_cmp doc1.json "$WEBDAV_DIR/alpha.json" &&
	test_grep "\"PUT /status/alpha.json HTTP/1.1\" 20[14] " "$WEBDAV_ACCESS_LOG" &&
	test_grep "nixpull/" "$WEBDAV_ACCESS_LOG" &&
	test ! -e state/report-pending.json
'

test_expect_success 'a wrong token: HTTP 401, not retried, token not in the error' '
	n0=$(webdav_requests) &&
	test_must_fail "$RT" --state-dir state --url "$WEBDAV_URL" \
	    --token-file badtoken send doc1.json 2>err &&
	test_grep "HTTP 401, check report.token_file \(1 try\)" err &&
	test_grep "alpha.json" err &&
	test_grep_not "wrongtoken|goodtoken" err &&
	test $(($(webdav_requests) - n0)) -eq 1 &&
	test_cmp doc1.json state/report-pending.json &&
	rt flush --host alpha &&
	test ! -e state/report-pending.json
'

test_expect_success 'endpoint down: the newest document is kept, delivered after a restart' '
	webdav_stop &&
	"$RT" make host=alpha state=building rev=$REV1 tip=$REV2 >doc2.json &&
	test_must_fail rt --timeout 1500 send doc2.json 2>err &&
	test_grep "alpha.json" err &&
	test_cmp doc2.json state/report-pending.json &&
	"$RT" make host=alpha state=ok rev=$REV2 tip=$REV2 >doc3.json &&
	test_must_fail rt --timeout 1500 send doc3.json &&
	test_cmp doc3.json state/report-pending.json &&
	test_must_fail rt --timeout 1500 --host alpha flush &&
	test_cmp doc3.json state/report-pending.json &&
	webdav_restart &&
	wait_for 10 curl -fsS -o /dev/null -H "Authorization: Bearer goodtoken" "$WEBDAV_URL" &&
	rt --host alpha flush &&
	test_cmp doc3.json "$WEBDAV_DIR/alpha.json" &&
	test ! -e state/report-pending.json
'

test_expect_success '503 is retried with back-off, within the time limit' '
	webdav_fail 503 &&
	n0=$(webdav_requests) &&
	t0=$(now_ms) &&
	test_must_fail rt --timeout 8000 --tries 3 send doc3.json 2>err &&
	t1=$(now_ms) &&
	webdav_fail off &&
	test_grep "HTTP 503 \(3 tries\)" err &&
	test $(($(webdav_requests) - n0)) -eq 3 &&
	test $((t1 - t0)) -ge 250 &&
	test $((t1 - t0)) -lt 8000 &&
	rt --host alpha flush
'

test_expect_success 'a heartbeat writes nothing to disk' '
	find state | sort >before &&
	"$RT" make host=alpha state=ok rev=$REV2 updated=now >hb.json &&
	rt heartbeat hb.json &&
	test_cmp hb.json "$WEBDAV_DIR/alpha.json" &&
	find state | sort >after &&
	test_cmp before after
'

test_expect_success 'an endpoint that never answers: time-out within the limit' '
	python3 -c "
import socket, sys
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(64)
open(sys.argv[1] + \".tmp\", \"w\").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + \".tmp\", sys.argv[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)
" port.txt &
	echo $! >silent.pid &&
	wait_for 10 test -s port.txt &&
	t0=$(now_ms) &&
	test_must_fail "$RT" --state-dir state2 --url "http://127.0.0.1:$(cat port.txt)/status/" \
	    --timeout 1200 send doc3.json 2>err &&
	t1=$(now_ms) &&
	kill $(cat silent.pid) &&
	test_grep "[Tt]imeout|timed out" err &&
	test $((t1 - t0)) -ge 1000 &&
	test $((t1 - t0)) -lt 3000
'
test_atexit 'kill $(cat "$TEST_DIR/silent.pid" 2>/dev/null) 2>/dev/null'

test_expect_success 'file:// writes <host>.json atomically into the folder' '
	mkdir -p shared &&
	"$RT" --state-dir state --url "file://$PWD/shared/" send doc3.json &&
	test_cmp doc3.json shared/alpha.json &&
	test "$(stat -c %a shared/alpha.json)" = 644 &&
	test "$(ls -A shared)" = alpha.json
'

test_expect_success 'the Prometheus textfile parses' '
	"$RT" make host=alpha state=failed rev=$REV2 activated=1795570000 \
	    committed=1795560000 result=failed phase=build ms_poll=12 \
	    ms_build=61234 reboot=true >m.json &&
	"$RT" metrics m.json nixpull.prom 1795575600 &&
	python3 - nixpull.prom <<-\PY
	import re, sys
	metric = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\})? (-?[0-9.e+]+)$")
	types, samples = {}, {}
	for line in open(sys.argv[1]):
	    line = line.rstrip("\n")
	    if line.startswith("# HELP "):
	        continue
	    if line.startswith("# TYPE "):
	        _, _, name, kind = line.split(" ")
	        assert kind == "gauge", line
	        types[name] = kind
	        continue
	    m = metric.match(line)
	    assert m, "bad line: %r" % line
	    assert m.group(1) in types, "no TYPE before %s" % m.group(1)
	    samples[m.group(1) + (m.group(2) or "")] = float(m.group(4))
	want = {
	    "nixpull_deployed_timestamp_seconds": 1795570000,
	    "nixpull_last_attempt_success": 0,
	    "nixpull_phase_duration_seconds{phase=\"build\"}": 61.234,
	    "nixpull_phase_duration_seconds{phase=\"poll\"}": 0.012,
	    "nixpull_reboot_required": 1,
	    "nixpull_release_age_seconds": 15600,
	}
	for k, v in want.items():
	    assert samples.get(k) == v, (k, samples.get(k), v)
	PY
'

cat >config.yaml <<EOF
host: alpha
repo:
  url: file://$TEST_DIR/repo
trust:
  allowed_signers: $TEST_DIR/allowed_signers
state_dir: $TEST_DIR/agent-state
EOF
: >allowed_signers

test_expect_success 'nixpull status: no status yet is exit 1 with a clear message' '
	test_expect_code 1 "$NIXPULL" status -c config.yaml 2>err &&
	test_grep "no status yet" err
'

test_expect_success 'nixpull status: human-readable and --json' '
	mkdir -p agent-state &&
	"$RT" make host=alpha state=failed rev=$REV1 signer=alice@example.com \
	    fpr=SHA256:abcd activated=now-7200 tip=$REV2 seen=now-30 \
	    result=failed phase=build error="nix build: exit status 1" \
	    ms_build=3000 log="error: builder for x failed" >st.json &&
	"$RT" --state-dir agent-state save st.json &&
	test -n "$(ls agent-state/history/)" &&
	"$NIXPULL" status -c config.yaml >out &&
	test_grep "^state: +failed" out &&
	test_grep "^running: +$REV1" out &&
	test_grep "since .*\(2h0m ago\)" out &&
	test_grep "^signed by: +alice@example.com \(SHA256:abcd\)" out &&
	test_grep "^tip: +$REV2" out &&
	test_grep "^last attempt: failed in build" out &&
	test_grep "error: +nix build: exit status 1" out &&
	test_grep "build 3.000s" out &&
	"$NIXPULL" status -c config.yaml --json >out.json &&
	test_cmp st.json out.json
'

test_expect_success 'nixpull status: a broken status.json is an error naming it' '
	printf "{\"schema\": 1, \"host\": " >agent-state/status.json &&
	test_expect_code 1 "$NIXPULL" status -c config.yaml 2>err &&
	test_grep "status.json" err
'

webdav_start alice:s3cret
printf 'alice:s3cret\n' >basic
printf 'alice:nope-nope\n' >basic-bad

test_expect_success 'basic auth from a user:pass token file' '
	"$RT" --state-dir state3 --url "$WEBDAV_URL" --token-file basic send doc3.json &&
	test_cmp doc3.json "$WEBDAV_DIR/alpha.json" &&
	test_must_fail "$RT" --state-dir state3 --url "$WEBDAV_URL" \
	    --token-file basic-bad send doc1.json 2>err &&
	test_grep "HTTP 401" err &&
	test_grep_not "nope-nope|s3cret" err
'

test_done
