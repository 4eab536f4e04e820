#!/usr/bin/env bash
# Fault injection: kill -9 the agent (and its children, as systemd kills a
# unit's cgroup) while it is held at each phase of a cycle in turn: poll (a
# server that never answers), fetch (an endless pack), build (a builder
# that sleeps), activate (a stand-in held before and after it set the
# profile), report (a status endpoint that never answers the final PUT).
# Then `nixpull once` must bring the host to the newest signed revision
# with a consistent state directory (deployed.json, no inflight.json, no
# temp files, a usable mirror) and a truthful status.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/daemon.sh"

test_require python3 ss
daemon_repo h1 v1
REPO=file://$TEST_DIR/srv/infra.git
daemon_config good.yaml "$REPO"

# hostile MODE: a hostile git server; sets HOSTILE_PORT.
hostile() {
	python3 "$TESTLIB_DIR/hostile_server.py" "$1" "port.$1" 2>/dev/null &
	test_atexit "kill $!"
	wait_for 10 test -s "port.$1" || bail "hostile server '$1' did not start"
	HOSTILE_PORT=$(cat "port.$1")
}
hostile hang
HANG_PORT=$HOSTILE_PORT
hostile bigpack
PACK_PORT=$HOSTILE_PORT
daemon_config hang.yaml "http://127.0.0.1:$HANG_PORT/infra.git"
daemon_config pack.yaml "http://127.0.0.1:$PACK_PORT/infra.git"

# A status endpoint that stores PUTs and never answers one whose body
# matches the regular expression in report-hang (while it exists).
cat >report_server.py <<'PY'
import http.server, os, re, sys, threading, time
class H(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            pat = open("report-hang").read().strip()
        except FileNotFoundError:
            pat = None
        if pat and re.search(pat.encode(), body):
            open("report-held", "w").write(self.path + "\n")
            while os.path.exists("report-hang"):
                time.sleep(0.1)
            return
        name = os.path.basename(self.path)
        with open(os.path.join("reports", name + ".tmp"), "wb") as f:
            f.write(body)
        os.rename(os.path.join("reports", name + ".tmp"),
                  os.path.join("reports", name))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
open("report.port.tmp", "w").write("%d\n" % srv.server_address[1])
os.rename("report.port.tmp", "report.port")
srv.serve_forever()
PY
mkdir reports
python3 report_server.py 2>/dev/null &
test_atexit "kill $!"
wait_for 10 test -s report.port || bail "the report server did not start"
REPORT_URL=http://127.0.0.1:$(cat report.port)/status/
daemon_config report.yaml "$REPO" "report:
  url: $REPORT_URL
  timeout: 60s"

not_running() { ! pgrep -f "$1"; }
# Connections the agent holds to PORT.
connected() { ss -Htn state established "( dport = :$1 )" | grep -q .; }
# The slow builder runs under the agent.
builder_runs() { daemon_tree "$DAEMON_PID" | xargs ps -o args= -p 2>/dev/null | grep -q "^sleep"; }
# libgit2 is receiving a pack into the mirror.
pack_growing() { find state/mirror.git/objects/pack -name "pack_git2_*" -size +8k | grep -q .; }

mirror_usable() {
	git --git-dir=state/mirror.git fsck --no-progress --no-dangling 2>&1 &&
	test "$(git --git-dir=state/mirror.git rev-parse refs/heads/main 2>/dev/null ||
	    git --git-dir=state/mirror.git rev-parse main)" = "$1"
}

# after_crash REV: restart and check everything.
after_crash() {
	"$NIXPULL" once -c good.yaml &&
	state_consistent "$1" &&
	mirror_usable "$1" &&
	test -z "$(find state -name "pack_git2_*" -o -name "tmp_*" -o -name "*.lock" -newer good.yaml | grep -v "state/lock$")" &&
	test "$(status_get .last_attempt.result)" != null &&
	test "$(status_get .next_poll_at)" = null &&
	! pgrep -f "^$NIXPULL " >/dev/null
}

test_expect_success 'the first release is deployed' '
	"$NIXPULL" once -c good.yaml &&
	state_consistent "$(git -C work rev-parse HEAD)"
'

test_expect_success 'kill -9 while polling (the server never answers)' '
	daemon_release v2 && rev=$(git -C work rev-parse HEAD) &&
	daemon_start -- -c hang.yaml &&
	wait_for 20 connected $HANG_PORT &&
	kill_tree_9 $DAEMON_PID &&
	after_crash "$rev"
'

test_expect_success 'kill -9 while fetching (an endless pack)' '
	daemon_release v3 && rev=$(git -C work rev-parse HEAD) &&
	daemon_start -- -c pack.yaml &&
	wait_for 20 pack_growing &&
	kill_tree_9 $DAEMON_PID &&
	find state/mirror.git -name "pack_git2_*" | grep -q . &&
	after_crash "$rev"
'

test_expect_success 'kill -9 while building; a newer release is signed meanwhile' '
	daemon_release slow:300 && slow=$(git -C work rev-parse HEAD) &&
	daemon_start -- -c good.yaml &&
	wait_for 60 builder_runs &&
	test "$(status_get .state)" = building &&
	kill_tree_9 $DAEMON_PID &&
	wait_for 10 not_running "slow build" &&
	daemon_release v4 && rev=$(git -C work rev-parse HEAD) &&
	after_crash "$rev" &&
	! grep -q "$slow" "$NIXPULL_TEST_ROOT/switch.log"
'

test_expect_success 'kill -9 while activating, before the profile is set' '
	daemon_release v5 && rev=$(git -C work rev-parse HEAD) &&
	echo before >"$NIXPULL_TEST_ROOT/activation-hold" &&
	daemon_start -- -c good.yaml &&
	wait_for 60 test -s "$NIXPULL_TEST_ROOT/activation-held" &&
	test "$(status_get .state)" = activating &&
	test "$(jq -r .rev state/inflight.json)" = "$rev" &&
	sys=$(jq -r .store_path state/inflight.json) &&
	kill_tree_9 $DAEMON_PID &&
	rm -f "$NIXPULL_TEST_ROOT/activation-hold" "$NIXPULL_TEST_ROOT/activation-held" &&
	"$NIXPULL" once -c good.yaml 2>resume.err &&
	test_grep "activation of ${rev:0:12} was interrupted; the system still runs" resume.err &&
	after_crash "$rev" &&
	test "$(grep -c "^nixos-rebuild switch --store-path $sys " "$NIXPULL_TEST_ROOT/calls.log")" -eq 2
'

test_expect_success 'kill -9 while activating, after the profile was set' '
	daemon_release v6 && rev=$(git -C work rev-parse HEAD) &&
	echo after >"$NIXPULL_TEST_ROOT/activation-hold" &&
	daemon_start -- -c good.yaml &&
	wait_for 60 test -s "$NIXPULL_TEST_ROOT/activation-held" &&
	test "$(jq -r .rev state/inflight.json)" = "$rev" &&
	kill_tree_9 $DAEMON_PID &&
	rm -f "$NIXPULL_TEST_ROOT/activation-hold" "$NIXPULL_TEST_ROOT/activation-held" &&
	"$NIXPULL" once -c good.yaml 2>resume.err &&
	test_grep "resuming: ${rev:0:12} was activated but not checked" resume.err &&
	after_crash "$rev"
'

test_expect_success 'kill -9 while reporting the result' '
	daemon_release v7 && rev=$(git -C work rev-parse HEAD) &&
	echo "\"result\": *\"success\"" >report-hang &&
	daemon_start -- -c report.yaml &&
	wait_for 60 test -s report-held &&
	test "$(jq -r .rev state/deployed.json)" = "$rev" &&
	test ! -e state/inflight.json &&
	kill_tree_9 $DAEMON_PID &&
	rm -f report-hang &&
	"$NIXPULL" once -c report.yaml &&
	after_crash "$rev" &&
	jq -r .deployed.rev reports/h1.json >got &&
	echo "$rev" >want &&
	test_cmp want got &&
	test "$(jq -r .state reports/h1.json)" = ok &&
	test ! -e state/report-pending.json
'

test_done
