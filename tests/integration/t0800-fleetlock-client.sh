#!/usr/bin/env bash
# The FleetLock client (common/transport/fleetlock.c) against the test
# server tests/lib/fleetlock_server.py (Zincati's protocol: a counting
# semaphore per group, owned and recursive locks, the header check, the
# {kind, value} error body): success, a full semaphore reported with its
# kind, steady-state releasing, a server that is down, a slow server
# bounded by the time-out.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

test_require python3
TOOL=$NIXPULL_TESTLIB/fleetlocktool
[ -x "$TOOL" ] || bail "missing $TOOL (build tests/lib)"
export NIXPULL_TEST_ROOT=$TEST_DIR/root
mkdir -p "$NIXPULL_TEST_ROOT"

# server NAME ARGS...: starts one, sets URL (with the trailing slash).
server() {
	local name=$1
	shift
	python3 "$TESTLIB_DIR/fleetlock_server.py" "port.$name" "state.$name" \
	    "$@" 2>"server.$name.log" &
	test_atexit "kill $!"
	wait_for 10 test -s "port.$name" || bail "fleetlock server $name did not start"
	URL=http://127.0.0.1:$(cat "port.$name")/
}

echo 0123456789abcdef0123456789abcdef >mid.a
echo fedcba9876543210fedcba9876543210 >mid.b
server one --slots 1

test_expect_success 'the id is a hash of the machine id, not the id' '
	"$TOOL" id mid.a >id.a &&
	test_grep "^[0-9a-f]{32}$" id.a &&
	test_grep_not 0123456789abcdef id.a &&
	"$TOOL" id mid.a | cmp - id.a &&
	! "$TOOL" id mid.b | cmp -s - id.a
'

test_expect_success 'pre-reboot takes the slot, again (recursive)' '
	"$TOOL" "$URL" default mid.a pre-reboot 5000 >out &&
	test_grep "^ok$" out &&
	"$TOOL" "$URL" default mid.a pre-reboot 5000 >out &&
	test_grep "^ok$" out &&
	test_grep "fleetlock pre-reboot $(cat id.a) default" root/calls.log
'

test_expect_success 'another host: refused, kind and value reported' '
	test_expect_code 2 "$TOOL" "$URL" default mid.b pre-reboot 5000 >out &&
	test_grep "^refused 409 failed_lock_semaphore_full semaphore currently full" out
'

test_expect_success 'another group has its own slot' '
	"$TOOL" "$URL" db.eu-1 mid.b pre-reboot 5000 >out &&
	test_grep "^ok$" out
'

test_expect_success 'steady-state releases it; then the other host gets it' '
	"$TOOL" "$URL" default mid.a steady-state 5000 >out &&
	test_grep "^ok$" out &&
	"$TOOL" "$URL" default mid.b pre-reboot 5000 >out &&
	test_grep "^ok$" out
'

test_expect_success 'a base URL without its slash loses its last segment' '
	"$TOOL" "${URL}lock" default mid.b steady-state 5000 >out &&
	test_grep "^ok$" out &&
	test_expect_code 2 "$TOOL" "${URL}lock/" default mid.b steady-state \
	    5000 >out &&
	test_grep "^refused 404 not_found" out
'

test_expect_success 'server down: an error, not a refusal' '
	port=$(free_port) &&
	test_expect_code 1 "$TOOL" "http://127.0.0.1:$port/" default mid.a \
	    pre-reboot 5000 >out &&
	test_grep "^error fleet lock http://127.0.0.1:$port/v1/pre-reboot: " out
'

server slow --delay 30
test_expect_success 'slow server: bounded by the time-out' '
	t0=$(date +%s%3N) &&
	test_expect_code 1 "$TOOL" "$URL" default mid.a pre-reboot 1000 >out &&
	t1=$(date +%s%3N) &&
	echo "took $((t1 - t0)) ms" &&
	test $((t1 - t0)) -lt 5000 &&
	test_grep "^error .*[Tt]imeout|timed out" out
'

test_done
