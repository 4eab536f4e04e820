#!/usr/bin/env bash
# Hostile servers: one that never answers, one that drips a byte a second,
# one that sends garbage after the ref advertisement, one that streams an
# endless pack.  Each poll ends within its limit with an error naming the
# URL and what happened.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

test_require python3
POLLTOOL=$NIXPULL_TESTLIB/polltool
[ -x "$POLLTOOL" ] || bail "missing $POLLTOOL (build tests/lib)"

# hostile MODE: starts the server, sets URL.
hostile() {
	rm -f "port.$1"
	python3 "$TESTLIB_DIR/hostile_server.py" "$1" "port.$1" 2>"server.$1.log" &
	test_atexit "kill $!"
	wait_for 10 test -s "port.$1" || bail "hostile server '$1' did not start"
	URL=http://127.0.0.1:$(cat "port.$1")/r.git
}

now_ms() { date +%s%3N; }

# bounded MAX_MS polltool-args...: fails, and within MAX_MS.
bounded() {
	local max=$1 t0 t1
	shift
	t0=$(now_ms)
	test_must_fail "$POLLTOOL" "$@" 2>err >out
	t1=$(now_ms)
	echo "took $((t1 - t0)) ms"
	cat err
	[ $((t1 - t0)) -lt "$max" ]
}

hostile hang
test_expect_success 'a server that accepts and never answers: time-out' '
	bounded 4500 -t 2s "$URL" st &&
	test_grep "^polltool: poll of .${URL}. timed out after 2s$" err
'

hostile drip
test_expect_success 'a server that drips a byte a second: time-out' '
	bounded 4500 -t 2s "$URL" st &&
	test_grep "^polltool: poll of .${URL}. timed out after 2s$" err
'

hostile garbage
test_expect_success 'garbage after the ref advertisement: a clear error' '
	bounded 4500 -t 2s "$URL" st &&
	test_grep "^polltool: fetch from .${URL}.: " err &&
	test_grep "tip c0ffee0" out
'

hostile bigpack
test_expect_success 'an endless pack stops at repo.max_fetch_size' '
	bounded 9000 -t 8s -m 256KiB "$URL" st &&
	test_grep "^polltool: fetch from .${URL}. stopped: more than 256KiB received \(repo.max_fetch_size\)$" err
'

test_expect_success 'an endless pack stops at the time limit' '
	bounded 4500 -t 2s -m 1GiB "$URL" st &&
	test_grep "^polltool: fetch from .${URL}. timed out after 2s$" err
'

test_expect_success 'after all that the state directory holds no tip' '
	test ! -e st/tip
'

test_done
