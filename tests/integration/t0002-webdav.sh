#!/usr/bin/env bash
# The test WebDAV status endpoint: PUT, JSON listing, authentication,
# outages.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require nginx curl jq

webdav_start 'bob:pa:ss'

test_expect_success 'PUT with the right password lands in WEBDAV_DIR' '
	echo "{\"host\": \"web-1\"}" >body.json &&
	code=$(curl -s -o /dev/null -w "%{http_code}" -u "bob:pa:ss" \
	    -T body.json "${WEBDAV_URL}hosts/web-1.json") &&
	test "$code" = 201 &&
	test_cmp body.json "$WEBDAV_DIR/hosts/web-1.json" &&
	log_wait " - bob \[.*\"PUT /status/hosts/web-1.json HTTP/1.1\" 201 " "$WEBDAV_ACCESS_LOG"
'

test_expect_success 'PUT again replaces the file (204)' '
	echo "{\"host\": \"web-1\", \"n\": 2}" >body2.json &&
	code=$(curl -s -o /dev/null -w "%{http_code}" -u "bob:pa:ss" \
	    -T body2.json "${WEBDAV_URL}hosts/web-1.json") &&
	test "$code" = 204 &&
	test_cmp body2.json "$WEBDAV_DIR/hosts/web-1.json"
'

test_expect_success 'GET of the directory is a JSON listing' '
	curl -sf -u "bob:pa:ss" "${WEBDAV_URL}hosts/" >list.json &&
	jq -e "map(select(.name == \"web-1.json\" and .type == \"file\")) | length == 1" list.json &&
	curl -sf -u "bob:pa:ss" "${WEBDAV_URL}" >top.json &&
	jq -e "map(select(.name == \"hosts\" and .type == \"directory\")) | length == 1" top.json
'

test_expect_success 'GET of the file returns it' '
	curl -sf -u "bob:pa:ss" "${WEBDAV_URL}hosts/web-1.json" >got &&
	test_cmp body2.json got
'

test_expect_success 'wrong or no credentials: 401, nothing written' '
	test "$(http_code "${WEBDAV_URL}x.json" -u bob:nope -T body.json)" = 401 &&
	test "$(http_code "${WEBDAV_URL}x.json" -T body.json)" = 401 &&
	test "$(http_code "${WEBDAV_URL}")" = 401 &&
	test ! -e "$WEBDAV_DIR/x.json" &&
	log_wait " - bob \[.*\"PUT /status/x.json HTTP/1.1\" 401 " "$WEBDAV_ACCESS_LOG"
'

test_expect_success 'DELETE removes a file' '
	curl -sf -u "bob:pa:ss" -T body.json "${WEBDAV_URL}gone.json" &&
	test -f "$WEBDAV_DIR/gone.json" &&
	test "$(http_code "${WEBDAV_URL}gone.json" -u "bob:pa:ss" -X DELETE)" = 204 &&
	test ! -e "$WEBDAV_DIR/gone.json"
'

test_expect_success 'webdav_fail makes the endpoint answer 503 or 500' '
	webdav_fail 503 &&
	test "$(http_code "${WEBDAV_URL}y.json" -u "bob:pa:ss" -T body.json)" = 503 &&
	webdav_fail 500 &&
	test "$(http_code "${WEBDAV_URL}y.json" -u "bob:pa:ss" -T body.json)" = 500 &&
	webdav_fail off &&
	test "$(http_code "${WEBDAV_URL}y.json" -u "bob:pa:ss" -T body.json)" = 201
'

test_requests_are() { [ "$(webdav_requests)" -eq "$1" ]; }

test_expect_success 'webdav_stop: connection refused; webdav_restart: same port again' '
	port=$WEBDAV_PORT &&
	webdav_stop &&
	n=$(webdav_requests) &&
	test "$(http_code "${WEBDAV_URL}")" = 000 &&
	test_must_fail curl -s -u "bob:pa:ss" -T body.json "${WEBDAV_URL}z.json" &&
	webdav_restart &&
	test "$WEBDAV_PORT" = "$port" &&
	test "$(http_code "${WEBDAV_URL}z.json" -u "bob:pa:ss" -T body.json)" = 201 &&
	test -f "$WEBDAV_DIR/hosts/web-1.json" &&
	wait_for 10 test_requests_are $((n + 1))
'

webdav_start --bearer t0k.en-1

test_expect_success 'bearer token variant: a second server, token checked' '
	test "$(http_code "${WEBDAV_URL}a.json" -T body.json \
	    -H "Authorization: Bearer t0k.en-1")" = 201 &&
	test -f "$WEBDAV_DIR/a.json" &&
	test "$(http_code "${WEBDAV_URL}b.json" -T body.json \
	    -H "Authorization: Bearer wrong")" = 401 &&
	test "$(http_code "${WEBDAV_URL}b.json" -T body.json)" = 401 &&
	test "$(http_code "${WEBDAV_URL}b.json" -T body.json -u bob:pa:ss)" = 401 &&
	test ! -e "$WEBDAV_DIR/b.json" &&
	log_wait "\"PUT /status/b.json HTTP/1.1\" 401 " "$WEBDAV_ACCESS_LOG"
'

test_done
