#!/usr/bin/env bash
# Crash safety of the mirror: kill -9 in the middle of a fetch, stale
# locks, a half-created or damaged mirror; the next poll succeeds and the
# mirror is consistent.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

test_require git
POLLTOOL=$NIXPULL_TESTLIB/polltool
[ -x "$POLLTOOL" ] || bail "missing $POLLTOOL (build tests/lib)"

mkdir srv
git init -q --bare srv/r.git
git clone -q srv/r.git work 2>/dev/null
commit() { git -C work commit -q --allow-empty -m "$1" && git -C work push -q -f origin HEAD:main; }
commit one
gitserver_start srv
URL=${GITSERVER_URL}r.git
M=state/mirror.git

poll() { "$POLLTOOL" "$@" "$URL" state >out 2>err; }
field() { sed -n "s/^$1 //p" out; }
tmp_pack() { ls "$M"/objects/pack/pack_git2_* >/dev/null 2>&1; }
consistent() {
	test "$(field tip)" = "$(git -C srv/r.git rev-parse main)" &&
	test "$(git -C "$M" rev-parse main)" = "$(field tip)" &&
	git -C "$M" fsck --no-dangling --connectivity-only
}

test_expect_success 'setup: a mirror with the first commit' '
	poll && test "$(field changed)" = yes
'

test_expect_success 'kill -9 in the middle of a fetch, then poll again' '
	for i in $(seq 24); do head -c 2000000 /dev/urandom >work/f$i; done &&
	git -C work add . && commit big &&
	git -C srv/r.git repack -adq &&
	{ "$POLLTOOL" "$URL" state >/dev/null 2>&1 & }
	pid=$!
	wait_for 60 tmp_pack &&
	kill -9 $pid &&
	rc=0 && { wait $pid || rc=$?; } &&
	test "$rc" = 137 &&
	test "$(git -C "$M" rev-parse main)" != "$(git -C srv/r.git rev-parse main)" &&
	poll &&
	test "$(field changed)" = yes &&
	consistent &&
	! tmp_pack
'

test_expect_success 'a stale ref lock from a killed fetch is removed' '
	commit two &&
	: >"$M/refs/heads/main.lock" &&
	: >"$M/packed-refs.lock" &&
	poll && consistent &&
	test ! -e "$M/refs/heads/main.lock"
'

test_expect_success 'a half-created mirror is re-created' '
	commit three &&
	rm -rf "$M" && mkdir -p "$M" && echo "[core" >"$M/config" &&
	poll && test "$(field changed)" = yes && consistent
'

test_expect_success 'a mirror whose ref points at a missing object is re-created' '
	commit four &&
	echo 0123456789012345678901234567890123456789 >"$M/refs/heads/main" &&
	rm -f "$M"/objects/pack/* && rm -rf "$M"/objects/[0-9a-f][0-9a-f] &&
	poll 2>err && test "$(field changed)" = yes && consistent &&
	test_grep "re-creating" err
'

test_expect_success 'a damaged HEAD is re-created' '
	commit five &&
	echo garbage >"$M/HEAD" &&
	poll && consistent
'

test_done
