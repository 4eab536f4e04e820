#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds twice (warnings as
# errors, and with AddressSanitizer + UndefinedBehaviorSanitizer), runs the
# unit and integration tests in both, and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh || exit 1

# Nix runs offline here, from a nix.conf of the suite's own: nothing in
# /etc/nix helps or hurts.  One trivial build first: when Nix cannot build,
# say why in one line, and every Nix test bails out at once with it.
. scripts/lib/nixenv.sh
nixenv_setup "$PWD/build-nix" || exit 1
export NIXPULL_NIX_ENV=1
NIXPULL_NIX_PREFLIGHT=$(nixenv_preflight)
export NIXPULL_NIX_PREFLIGHT
echo "test.sh: nix: $NIXPULL_NIX_PREFLIGHT"

passed=0
failed=0
status=0

# Every process the suite starts carries NIXPULL_SUITE_MARK; one still
# running at the end fails the run.
. scripts/lib/leftovers.sh
suite_mark
host_before=$(host_snapshot)

run_suite() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	else
		meson configure "$dir" "$@" >/dev/null || return 1
	fi
	meson compile -C "$dir" || return 1
	meson test -C "$dir" --print-errorlogs --num-processes 2 \
	    ${MESON_TEST_ARGS:-} 2>&1 | tee "$dir.test.log"
	local ok fail
	ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$dir.test.log" | tail -1)
	fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$dir.test.log" | tail -1)
	local timeo=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$dir.test.log" | tail -1)
	local xpass=$(sed -n 's/^Unexpected Pass: *\([0-9]*\).*/\1/p' "$dir.test.log" | tail -1)
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0} + ${timeo:-0} + ${xpass:-0}))
	[ "${ok:-0}" -gt 0 ] && [ "${fail:-0}" -eq 0 ] && [ "${timeo:-0}" -eq 0 ]
}

if ! run_suite build-ci -Dwerror=true -Dtest_hooks=true; then
	status=1
fi
if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -Dwerror=true -Dtest_hooks=true -Db_sanitize=address,undefined \
    -Db_lundef=false; then
	status=1
fi

# The libFuzzer targets (clang): seed corpora replayed, a few seconds each.
if ! CC=clang MESON_TEST_ARGS="--suite fuzz" \
    run_suite build-fuzz -Dfuzz=true -Dtest_hooks=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dintegration=false; then
	status=1
fi

if ! suite_leftovers; then
	status=1
	failed=$((failed + 1))
fi
if [ "$(host_snapshot)" != "$host_before" ]; then
	echo "the suite changed this machine's system profile:"
	diff <(printf '%s\n' "$host_before") <(host_snapshot) | sed 's/^/  /'
	status=1
	failed=$((failed + 1))
fi

[ $status -eq 0 ] || [ $failed -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
exit $status
