#!/usr/bin/env bash
# Polling and fetching over real smart HTTP (nginx + fcgiwrap + git
# http-backend): a no-change poll is one request, no process, no write; new
# commits, tags and force-pushes are fetched; basic and bearer tokens.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

test_require git strace
POLLTOOL=$NIXPULL_TESTLIB/polltool
[ -x "$POLLTOOL" ] || bail "missing $POLLTOOL (build tests/lib)"

mkdir srv
git init -q --bare srv/r.git
git clone -q srv/r.git work 2>/dev/null
commit() { git -C work commit -q --allow-empty -m "$1" && git -C work push -q origin HEAD:main; }
commit one

gitserver_start srv
URL=${GITSERVER_URL}r.git

# poll [polltool options]: polls $URL into ./state, output in ./out.
poll() { "$POLLTOOL" "$@" "$URL" state >out 2>err; }
field() { sed -n "s/^$1 //p" out; }
snapshot() { find state -printf '%p %s %T@\n' | sort; }

test_expect_success 'first poll fetches the tip into a bare mirror' '
	poll &&
	test "$(field changed)" = yes &&
	test "$(field tip)" = "$(git -C srv/r.git rev-parse main)" &&
	test "$(git -C state/mirror.git rev-parse refs/heads/main)" = "$(field tip)" &&
	test "$(git -C state/mirror.git rev-parse --is-bare-repository)" = true &&
	test "$(cat state/tip)" = "$(field tip)"
'

test_expect_success 'no-change poll: one GET, no pack, nothing written' '
	snapshot >before &&
	n=$(gitserver_requests) &&
	poll &&
	test "$(field changed)" = no &&
	test "$(field fetch_ms)" = 0 &&
	test "$(gitserver_requests)" = $((n + 1)) &&
	tail -n 1 "$GITSERVER_ACCESS_LOG" >last &&
	test_grep "\"GET /r.git/info/refs\?service=git-upload-pack " last &&
	test_grep_not "POST" last &&
	snapshot >after &&
	test_cmp before after
'

test_expect_success 'no-change poll spawns no process (strace)' '
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -e trace=execve,clone,clone3,fork,vfork -o trace \
	    "$POLLTOOL" "$URL" state >out &&
	test "$(field changed)" = no &&
	test "$(grep -c execve trace)" = 1 &&
	test_grep_not "clone|fork" trace
'

test_expect_success 'a new commit and its signed-style annotated tag are fetched' '
	commit two &&
	git -C work tag -a v2 -m "release two" &&
	git -C work push -q origin v2 &&
	poll &&
	test "$(field changed)" = yes &&
	test "$(field tip)" = "$(git -C srv/r.git rev-parse main)" &&
	test "$(git -C state/mirror.git rev-parse v2^{commit})" = "$(field tip)" &&
	poll && test "$(field changed)" = no
'

test_expect_success 'a force-push is fetched' '
	old=$(git -C work rev-parse HEAD) &&
	git -C work reset -q --hard HEAD^ &&
	git -C work commit -q --allow-empty -m rewritten &&
	git -C work push -q -f origin HEAD:main &&
	poll &&
	test "$(field changed)" = yes &&
	test "$(field tip)" = "$(git -C work rev-parse HEAD)" &&
	test "$(git -C state/mirror.git rev-parse main)" != "$old" &&
	git -C state/mirror.git fsck --no-dangling
'

test_expect_success 'a full ref name works, a missing ref is an error naming it' '
	poll -r refs/heads/main && test "$(field changed)" = no &&
	test_must_fail poll -r nosuch &&
	test_grep "poll of .${URL}.: no ref .refs/heads/nosuch." err
'

test_expect_success 'connection refused names the URL' '
	port=$(free_port) &&
	test_must_fail "$POLLTOOL" -t 5s "http://127.0.0.1:$port/r.git" st2 2>err &&
	test_grep "poll of .http://127.0.0.1:$port/r.git.: .*refused" err &&
	test ! -e st2
'

gitserver_start srv alice:s3cret
AURL=${GITSERVER_URL}r.git

test_expect_success 'basic auth: user:password token file' '
	printf "alice:s3cret\n" >token &&
	"$POLLTOOL" -T token "$AURL" astate >out &&
	test "$(field changed)" = yes &&
	test "$(field tip)" = "$(git -C srv/r.git rev-parse main)"
'

test_expect_success 'basic auth: the token goes with the first request' '
	n=$(gitserver_requests) &&
	"$POLLTOOL" -T token "$AURL" astate >out &&
	test "$(field changed)" = no &&
	test "$(gitserver_requests)" = $((n + 1)) &&
	tail -n 1 "$GITSERVER_ACCESS_LOG" >last &&
	test_grep "alice .* 200 " last
'

test_expect_success 'wrong token: clear 401 error naming URL and token file' '
	printf "alice:wrong\n" >bad &&
	test_must_fail "$POLLTOOL" -T bad "$AURL" bstate 2>err &&
	test_grep "poll of .${AURL}.: authentication failed \(HTTP 401\): token from .bad. rejected" err &&
	printf "bearer-token-without-colon" >bearer &&
	test_must_fail "$POLLTOOL" -T bearer "$AURL" bstate 2>err &&
	test_grep "HTTP 401" err &&
	test_must_fail "$POLLTOOL" "$AURL" bstate 2>err &&
	test_grep "authentication failed \(HTTP 401\): no repo.token_file" err
'

test_expect_success 'the token never shows in an error' '
	test_grep_not "s3cret|wrong|bearer-token" err
'

test_done
