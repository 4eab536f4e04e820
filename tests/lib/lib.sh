# Shared library for the integration tests (in the manner of git's t/).
#
#   . "$NIXPULL_SRCDIR/tests/lib/lib.sh"
#   test_expect_success 'what it shows' '
#       some commands &&
#       test_must_fail other commands
#   '
#   test_done
#
# Output is TAP.  Each test script gets a fresh scratch directory in
# $TEST_DIR (cwd); cleanup functions registered with test_atexit run on exit,
# whatever happened.  A missing prerequisite fails loudly (Bail out!), it is
# never passed silently.

set -u

: "${NIXPULL_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${NIXPULL_BUILDDIR:=$NIXPULL_SRCDIR/build}"
: "${NIXPULL:=$NIXPULL_BUILDDIR/agent/nixpull}"
: "${NIXPULL_TESTLIB:=$NIXPULL_BUILDDIR/tests/lib}"
export NIXPULL_SRCDIR NIXPULL_BUILDDIR NIXPULL NIXPULL_TESTLIB
TESTLIB_DIR=$NIXPULL_SRCDIR/tests/lib

test_count=0
test_failures=0
test_name=$(basename "$0" .sh)

TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nixpull-$test_name.XXXXXX")
export TEST_DIR
cd "$TEST_DIR" || exit 1
# The agent's fetcher runs as an unprivileged user: it must reach the test's
# repositories, trust files and state directory.
chmod 0755 "$TEST_DIR"
# That user (privsep.user).  The NixOS and nix-darwin modules create
# 'nixpull'; a test machine has no such user and nothing may be created by
# hand, so the tests use Debian's 'nobody'.
TEST_PRIVSEP_USER=${TEST_PRIVSEP_USER:-nobody}
export TEST_PRIVSEP_USER

# Every process this script starts carries the marker in its environment;
# test_done fails the script when one of them is still running after the
# cleanup (tests/lib/procmark.py finds them by the marker, never by name).
NIXPULL_TEST_MARK=$TEST_DIR
export NIXPULL_TEST_MARK

# A predictable environment for git and the agent.
export HOME=$TEST_DIR/home
mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME='A U Thor' \
    GIT_AUTHOR_EMAIL=author@example.com GIT_COMMITTER_NAME='C O Mitter' \
    GIT_COMMITTER_EMAIL=committer@example.com LC_ALL=C TZ=UTC
unset NIXPULL_CONFIG JOURNAL_STREAM NOTIFY_SOCKET
git config --global init.defaultBranch main
git config --global protocol.file.allow always

say() { printf '# %s\n' "$*"; }

# Registers a command to run at exit (last registered runs first).  The
# list is a file, so that a command registered inside a test body (a
# subshell) runs too.
test_atexit() { printf '%s\n' "$*" >>"$TEST_DIR/.atexit"; }

test_run_atexit() {
	local c
	[ -f "$TEST_DIR/.atexit" ] || return 0
	while IFS= read -r c; do
		eval "$c" >/dev/null 2>&1 || true
	done < <(tac "$TEST_DIR/.atexit")
	rm -f "$TEST_DIR/.atexit"
}

# test_leftovers: waits (at most 5 s) for the processes this script started
# to end; prints and kills those still running and fails if there were any.
test_leftovers() {
	python3 "$TESTLIB_DIR/procmark.py" NIXPULL_TEST_MARK "$TEST_DIR" --kill
}

test_cleanup() {
	test_run_atexit
	test_leftovers >/dev/null 2>&1
	if [ -z "${TEST_KEEP:-}" ]; then
		rm -rf "$TEST_DIR"
	else
		echo "# kept $TEST_DIR" >&2
	fi
}
trap test_cleanup EXIT
trap 'exit 130' INT TERM

# Bail out of the whole script: a prerequisite is missing.
bail() {
	echo "Bail out! $test_name: $*"
	exit 1
}

# test_require CMD...: every CMD must be on PATH.
test_require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			bail "missing prerequisite '$c' (run the README's test command to install it)"
	done
}

# Runs a test body in a subshell-free eval so that it can set variables for
# later tests, with its output shown only on failure.
test_expect_success() {
	local desc=$1 body=$2 out rc
	test_count=$((test_count + 1))
	out=$TEST_DIR/.out.$test_count
	(eval "set -e; $body") >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $test_count - $desc"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $desc"
		sed 's/^/#   /' "$out"
		echo "#   (exit status $rc)"
	fi
}

# Like test_expect_success, but the body runs in the current shell so that
# variables it sets are seen by later tests; a failure stops nothing.
test_expect_success_here() {
	local desc=$1 body=$2 out rc
	test_count=$((test_count + 1))
	out=$TEST_DIR/.out.$test_count
	{ eval "$body"; } >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $test_count - $desc"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $desc"
		sed 's/^/#   /' "$out"
	fi
}

# test_must_fail CMD...: CMD exits non-zero (and not by a signal).
test_must_fail() {
	local rc=0
	"$@" || rc=$?
	if [ $rc -eq 0 ]; then
		echo "test_must_fail: '$*' succeeded" >&2
		return 1
	elif [ $rc -gt 128 ] && [ $rc -le 192 ]; then
		echo "test_must_fail: '$*' died of signal $((rc - 128))" >&2
		return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD exits with status N.
test_expect_code() {
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "test_expect_code: '$*' exited $rc, wanted $want" >&2
		return 1
	fi
}

# test_grep PATTERN FILE: like grep, but shows FILE when it does not match.
test_grep() {
	if ! grep -E -e "$1" "$2" >/dev/null; then
		echo "test_grep: no '$1' in $2:" >&2
		sed 's/^/| /' "$2" >&2
		return 1
	fi
}

test_grep_not() {
	if grep -E -e "$1" "$2" >/dev/null; then
		echo "test_grep_not: '$1' found in $2:" >&2
		sed 's/^/| /' "$2" >&2
		return 1
	fi
}

# test_cmp EXPECTED ACTUAL
test_cmp() { diff -u "$1" "$2"; }

# wait_for TIMEOUT_S CMD...: polls CMD every 0.05 s until it succeeds, at
# most TIMEOUT_S seconds.  For waiting on an event (a file appears, a port
# answers), never as a fixed delay.
wait_for() {
	local limit=$1 i=0 n
	shift
	n=$((limit * 20))
	while [ $i -lt $n ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "wait_for: '$*' not true after ${limit}s" >&2
	return 1
}

# free_port: a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
	python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

test_done() {
	local left
	test_run_atexit
	test_count=$((test_count + 1))
	if left=$(test_leftovers); then
		echo "ok $test_count - every process the script started has ended"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - every process the script started has ended"
		printf '%s\n' "$left" | sed 's/^/#   left running (killed): /'
	fi
	echo "1..$test_count"
	if [ "$test_failures" -ne 0 ]; then
		echo "# failed $test_failures of $test_count"
		exit 1
	fi
	exit 0
}

# Helpers for servers, signing keys and test flakes (harness).
for _f in gitserver webdav signing nixflake; do
	[ -f "$TESTLIB_DIR/$_f.sh" ] && . "$TESTLIB_DIR/$_f.sh"
done
unset _f
