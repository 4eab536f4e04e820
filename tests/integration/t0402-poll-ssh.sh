#!/usr/bin/env bash
# Polling and fetching over ssh (Debian's sshd on a free port): key auth,
# host keys checked against known_hosts (plain, hashed, changed, unknown),
# and a server that never answers.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/sshserver.sh"

test_require git ssh-keygen python3
# libgit2 1.5.1's ssh transport leaks 128 bytes per connection inside
# git_remote_connect (its parsed URL); LeakSanitizer would fail every ssh
# poll of the sanitizer build over a leak that is not ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
POLLTOOL=$NIXPULL_TESTLIB/polltool
[ -x "$POLLTOOL" ] || bail "missing $POLLTOOL (build tests/lib)"

git init -q --bare srv/r.git
git clone -q srv/r.git work 2>/dev/null
git -C work commit -q --allow-empty -m one
git -C work push -q origin HEAD:main
ssh-keygen -q -t ed25519 -N '' -C client -f key
ssh-keygen -q -t ed25519 -N '' -C other -f other

sshserver_start key.pub
URL=ssh://$(id -un)@127.0.0.1:$SSHSERVER_PORT$TEST_DIR/srv/r.git
KH=$SSHSERVER_KNOWN_HOSTS

field() { sed -n "s/^$1 //p" out; }

test_expect_success 'ssh: key auth, host key in known_hosts, fetch' '
	"$POLLTOOL" -t 20s -k key -K "$KH" "$URL" state >out 2>err &&
	test "$(field changed)" = yes &&
	test "$(field tip)" = "$(git -C srv/r.git rev-parse main)" &&
	test "$(git -C state/mirror.git rev-parse main)" = "$(field tip)"
'

test_expect_success 'ssh: no-change poll' '
	"$POLLTOOL" -t 20s -k key -K "$KH" "$URL" state >out &&
	test "$(field changed)" = no
'

test_expect_success 'ssh: a new commit is fetched' '
	git -C work commit -q --allow-empty -m two &&
	git -C work push -q origin HEAD:main &&
	"$POLLTOOL" -t 20s -k key -K "$KH" "$URL" state >out &&
	test "$(field changed)" = yes &&
	test "$(field tip)" = "$(git -C srv/r.git rev-parse main)"
'

test_expect_success 'ssh: hashed known_hosts entries match' '
	cp "$KH" hashed &&
	ssh-keygen -q -H -f hashed 2>/dev/null &&
	test_grep "^\|1\|" hashed &&
	"$POLLTOOL" -t 20s -k key -K hashed "$URL" st2 >out &&
	test "$(field changed)" = yes
'

test_expect_success 'ssh: a changed host key is refused' '
	echo "[127.0.0.1]:$SSHSERVER_PORT $(cut -d" " -f1,2 other.pub)" >changed &&
	test_must_fail "$POLLTOOL" -t 20s -k key -K changed "$URL" st3 2>err &&
	test_grep "poll of .${URL}.: refusing: host key of .\[127.0.0.1\]:$SSHSERVER_PORT. does not match" err &&
	test ! -e st3/mirror.git
'

test_expect_success 'ssh: an unknown host key is refused' '
	echo "[127.0.0.1]:1 $(cut -d" " -f1,2 "$SSHSERVER_HOSTKEY")" >unknown &&
	test_must_fail "$POLLTOOL" -t 20s -k key -K unknown "$URL" st3 2>err &&
	test_grep "refusing unknown host key of .127.0.0.1." err
'

test_expect_success 'ssh: a revoked host key is refused' '
	{ cat "$KH"; echo "@revoked * $(cut -d" " -f1,2 "$SSHSERVER_HOSTKEY")"; } >revoked &&
	test_must_fail "$POLLTOOL" -t 20s -k key -K revoked "$URL" st3 2>err &&
	test_grep "is revoked" err
'

test_expect_success 'ssh: a key the server does not know fails clearly' '
	test_must_fail "$POLLTOOL" -t 20s -k other -K "$KH" "$URL" st3 2>err &&
	test_grep "poll of .${URL}.: ssh authentication failed with key .other." err
'

test_expect_success 'ssh: a server that never answers times out' '
	python3 "$TESTLIB_DIR/hostile_server.py" hang port.hang &
	pid=$! &&
	test_atexit "kill $pid" &&
	wait_for 10 test -s port.hang &&
	hurl=ssh://git@127.0.0.1:$(cat port.hang)/r.git &&
	t0=$(date +%s%3N) &&
	test_must_fail "$POLLTOOL" -t 2s -k key -K "$KH" "$hurl" st4 2>err &&
	t1=$(date +%s%3N) &&
	cat err && echo "took $((t1 - t0)) ms" &&
	test $((t1 - t0)) -lt 4500 &&
	test_grep "poll of .${hurl}. timed out after 2s" err
'

test_done
