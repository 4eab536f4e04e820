#!/usr/bin/env bash
# The privilege-separated fetcher: it runs unprivileged, without new
# privileges and under seccomp; it cannot write outside the mirror nor run a
# program; a crash or a hang fails that poll, truthfully, and the next poll
# gets a new fetcher.  (Needs a -Dtest_hooks build for the hooks.)
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
test_require python3
e2e_init web-1
e2e_config "  profile: server"

# fetcher_pid LOG: the pid the fetcher logged last in LOG.
fetcher_pid() {
	sed -n 's/.*nixpull\[fetcher\]: fetcher (pid \([0-9]*\)) runs as.*/\1/p' "$1" |
	    tail -n 1
}
proc_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | head -n 1; }

test_expect_success_here 'a release deploys through the fetcher, which runs as privsep.user' '
	release v1 &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev" &&
	test_grep "nixpull\[fetcher\]: fetcher \(pid [0-9]+\) runs as uid $(id -u nobody): no new privileges, Landlock (on|not in this kernel), seccomp on" once.log &&
	test_grep "nixpull\[fetcher\]: fetched .main. from" once.log &&
	test "$(stat -c %U "$S/mirror.git")" = nobody &&
	test "$(stat -c %U "$S/mirror.git/HEAD")" = nobody
'

hostile() {
	rm -f "port.$1"
	python3 "$TESTLIB_DIR/hostile_server.py" "$1" "port.$1" \
	    </dev/null >/dev/null 2>"server.$1.log" &
	test_atexit "kill $!"
	wait_for 10 test -s "port.$1" || bail "hostile server '$1' did not start"
	echo "http://127.0.0.1:$(cat "port.$1")/r.git"
}

test_expect_success 'the running fetcher: non-zero uid, NoNewPrivs 1, seccomp filter mode' '
	url=$(hostile hang) &&
	sed "s|^  url: .*|  url: $url|" config.yaml >hang.yaml || exit 1
	"$NIXPULL" once -c hang.yaml >hang.log 2>&1 &
	agent=$!
	test_atexit "kill -9 $agent"
	wait_for 10 eval "test -n \"\$(fetcher_pid hang.log)\"" &&
	pid=$(fetcher_pid hang.log) &&
	test "$(proc_field "$pid" Uid | cut -f1)" = "$(id -u nobody)" &&
	test "$(proc_field "$pid" Uid | cut -f2)" = "$(id -u nobody)" &&
	test "$(proc_field "$pid" Gid | cut -f1)" = "$(id -g nobody)" &&
	test "$(proc_field "$pid" NoNewPrivs)" = 1 &&
	test "$(proc_field "$pid" Seccomp)" = 2 &&
	test "$(proc_field "$pid" CapEff)" = 0000000000000000 &&
	kill -9 "$agent" "$pid"
'

test_expect_success 'the fetcher can neither write outside the mirror nor run a program' '
	mkdir -m 0777 open &&
	NIXPULL_TEST_FETCHER_ESCAPE=$TEST_DIR/open/escaped \
	    "$NIXPULL" once -c config.yaml >escape.log 2>&1 &&
	test_grep "test hook: write .$TEST_DIR/open/escaped.: Permission denied" escape.log &&
	test_grep "test hook: exec ./bin/true.: Operation not permitted" escape.log &&
	test ! -e open/escaped
'

test_expect_success 'kill -SEGV of the fetcher during a fetch: a failed poll, truthfully reported' '
	url=$(hostile bigpack) &&
	sed "s|^  url: .*|  url: $url|" config.yaml >big.yaml || exit 1
	# Under AddressSanitizer the fetcher must die of the signal itself,
	# not of the report ASan makes of it.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0 \
	    "$NIXPULL" once -c big.yaml >big.log 2>&1 &
	agent=$!
	test_atexit "kill -9 $agent"
	wait_for 20 test_grep "\"state\": *\"fetching\"" "$S/status.json" &&
	pid=$(fetcher_pid big.log) &&
	kill -SEGV "$pid" &&
	rc=0 && wait "$agent" || rc=$?
	test "$rc" = 1 &&
	test "$(st .state)" = failed &&
	test "$(st .last_attempt.result)" = failed &&
	test "$(st .last_attempt.phase)" = fetch &&
	st .last_attempt.error >err &&
	test_grep "the fetcher died of signal 11 \(Segmentation fault\)" err &&
	test "$(st .deployed.rev)" = "$rev"
'

test_expect_success 'the next poll gets a new fetcher and works' '
	release v2 &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev"
'

test_expect_success 'a fetcher that stops answering is killed at repo.timeout' '
	sed "s|^  url: \(.*\)|  url: \1\n  timeout: 1s|" config.yaml >slow.yaml &&
	grep -q "timeout: 1s" slow.yaml &&
	release v3 &&
	start=$(date +%s) &&
	rc=0 &&
	NIXPULL_TEST_FETCHER_HANG=1 "$NIXPULL" once -c slow.yaml >slow.log 2>&1 || rc=$?
	test "$rc" = 1 &&
	test $(( $(date +%s) - start )) -lt 60 &&
	st .last_attempt.error >err &&
	test_grep "the fetcher did not answer within repo.timeout \(1s\) of .file://.*; killed it" err &&
	test "$(st .state)" = failed &&
	test "$(st .last_attempt.phase)" = poll
'

test_expect_success 'no privsep.user on the machine: a clear configuration error' '
	sed "s|^  user: .*|  user: nixpull-no-such-user|" config.yaml >nouser.yaml &&
	test_expect_code 78 "$NIXPULL" once -c nouser.yaml 2>err &&
	test_grep "no user .nixpull-no-such-user. for privsep.user" err
'

test_done
