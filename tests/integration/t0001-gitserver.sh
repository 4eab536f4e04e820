#!/usr/bin/env bash
# The test git server: clone and push over smart HTTP, with and without
# basic authentication.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require git nginx fcgiwrap curl

mkdir -p srv-open srv-auth
git init -q --bare srv-open/repo.git
git init -q --bare srv-auth/repo.git

gitserver_start srv-open
open_url=$GITSERVER_URL
open_log=$GITSERVER_ACCESS_LOG

test_expect_success 'server without auth: push, then clone what was pushed' '
	git init -q work &&
	echo one >work/file &&
	git -C work add file &&
	git -C work commit -q -m one &&
	git -C work push -q "${open_url}repo.git" main &&
	git --git-dir=srv-open/repo.git rev-parse main >expect &&
	git -C work rev-parse HEAD >actual &&
	test_cmp expect actual &&
	git clone -q "${open_url}repo.git" clone &&
	git -C clone rev-parse HEAD >actual &&
	test_cmp expect actual &&
	test "$(cat clone/file)" = one
'

test_expect_success 'access log has one line per request, with status and size' '
	log_wait "\"GET /repo.git/info/refs\?service=git-upload-pack HTTP/1.1\" 200 [0-9]+ " "$open_log" &&
	log_wait "\"POST /repo.git/git-receive-pack HTTP/1.1\" 200 [0-9]+ " "$open_log" &&
	log_wait "\"POST /repo.git/git-upload-pack HTTP/1.1\" 200 [1-9][0-9]* " "$open_log" &&
	n=$(gitserver_requests) &&
	test "$n" -eq "$(wc -l <"$open_log")" &&
	test "$n" -ge 4
'

test_expect_success 'a missing repository is a 404 and git fails' '
	test_must_fail git ls-remote "${open_url}nope.git" 2>err &&
	log_wait "\"GET /nope.git/info/refs\?service=git-upload-pack HTTP/1.1\" 404 " "$open_log"
'

gitserver_start srv-auth 'alice:s3cret pass'
auth_port=$GITSERVER_PORT
auth_log=$GITSERVER_ACCESS_LOG

test_expect_success 'two servers run side by side on different ports' '
	test "$auth_port" != "${open_url#http://127.0.0.1:}" &&
	test "$(http_code "${open_url}repo.git/info/refs")" = 200
'

test_expect_success 'with auth: right password pushes and clones' '
	git -C work push -q "http://alice:s3cret%20pass@127.0.0.1:$auth_port/repo.git" main &&
	git --git-dir=srv-auth/repo.git rev-parse main >actual &&
	git -C work rev-parse HEAD >expect &&
	test_cmp expect actual &&
	git clone -q "http://alice:s3cret%20pass@127.0.0.1:$auth_port/repo.git" clone2 &&
	test "$(cat clone2/file)" = one &&
	log_wait " - alice \[.*\"POST /repo.git/git-receive-pack HTTP/1.1\" 200 " "$auth_log"
'

test_expect_success 'with auth: wrong password is a 401 and git fails' '
	before=$(gitserver_requests) &&
	GIT_TERMINAL_PROMPT=0 test_must_fail git ls-remote \
	    "http://alice:wrong@127.0.0.1:$auth_port/repo.git" 2>err &&
	test_grep "Authentication failed|401" err &&
	log_wait " - alice \[.*\"GET /repo.git/info/refs\?service=git-upload-pack HTTP/1.1\" 401 " "$auth_log" &&
	test "$(gitserver_requests)" -gt "$before"
'

test_expect_success 'with auth: no credentials is a 401' '
	GIT_TERMINAL_PROMPT=0 test_must_fail git ls-remote \
	    "http://127.0.0.1:$auth_port/repo.git" 2>err &&
	test "$(http_code "http://127.0.0.1:$auth_port/repo.git/info/refs")" = 401
'

test_expect_success 'gitserver_stop stops the last server' '
	gitserver_stop &&
	test "$(http_code "http://127.0.0.1:$auth_port/__ready")" = 000 &&
	test "$(http_code "${open_url}__ready")" = 204
'

test_done
