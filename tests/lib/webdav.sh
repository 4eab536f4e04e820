# A WebDAV-ish status endpoint for the tests: nginx with PUT and DELETE on
# /status/, and a JSON directory listing for GET /status/.
#
#   webdav_start [USER:PASS | --bearer TOKEN]
#	Sets WEBDAV_URL (http://127.0.0.1:PORT/status/), WEBDAV_DIR (where
#	PUT files land: ${WEBDAV_URL}a/b.json is $WEBDAV_DIR/a/b.json),
#	WEBDAV_PORT, WEBDAV_ACCESS_LOG (addr - user [time] "request" status
#	bytes "agent").  With USER:PASS, HTTP basic authentication; with
#	--bearer TOKEN, any request without "Authorization: Bearer TOKEN" is
#	a 401.  Stopped at exit.
#   webdav_stop		stop the server (an outage); files stay
#   webdav_restart	start it again on the same port
#   webdav_fail CODE	every /status/ request answers CODE (500 or 503,
#			before authentication) until `webdav_fail off`
#   webdav_requests	how many requests were logged so far
#
# Call webdav_start at the top level of a test script (or in
# test_expect_success_here): the variables would be lost with a subshell.
# Several servers may run; the variables and webdav_stop, webdav_restart,
# webdav_fail refer to the last one started (its state is in WEBDAV_STATE).

. "$TESTLIB_DIR/nginx.sh"

webdav_count=0

webdav_start() {
	local dir auth=''
	test_require nginx curl openssl
	webdav_count=$((webdav_count + 1))
	dir=$TEST_DIR/webdav.$webdav_count
	mkdir -p "$dir/www/status" || return 1
	case ${1:-} in
	'') ;;
	--bearer)
		[ -n "${2:-}" ] || bail "webdav_start: --bearer needs a token"
		case $2 in
		*[\"\'\\\$\ ]*) bail "webdav_start: token must not contain quotes, spaces, \\ or \$" ;;
		esac
		auth="if (\$http_authorization != \"Bearer $2\") { return 401; }"
		;;
	*)
		nginx_srv_htpasswd "$dir/htpasswd" "$1"
		auth="auth_basic \"status\"; auth_basic_user_file $dir/htpasswd;"
		;;
	esac
	cat >"$dir/server.tmpl" <<EOF
$(nginx_srv_ready_location)
		root $dir/www;
		location /status/ {
			if (-f $dir/fail-503) { return 503; }
			if (-f $dir/fail-500) { return 500; }
			$auth
			dav_methods PUT DELETE;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
			autoindex on;
			autoindex_format json;
		}
EOF
	test_atexit "nginx_srv_stop $(printf %q "$dir")"
	nginx_srv_start_retry "$dir" '' "$dir/server.tmpl" ||
		bail "cannot start the WebDAV server (see $dir/error.log)"
	WEBDAV_STATE=$dir
	WEBDAV_PORT=$NGINX_SRV_PORT
	WEBDAV_URL=http://127.0.0.1:$WEBDAV_PORT/status/
	WEBDAV_DIR=$dir/www/status
	WEBDAV_ACCESS_LOG=$dir/access.log
	export WEBDAV_URL WEBDAV_DIR WEBDAV_PORT WEBDAV_ACCESS_LOG WEBDAV_STATE
}

webdav_stop() {
	[ -n "${WEBDAV_STATE:-}" ] || bail "webdav_stop: no webdav_start before"
	nginx_srv_stop "$WEBDAV_STATE"
}

webdav_restart() {
	local dir=${WEBDAV_STATE:-}
	[ -n "${WEBDAV_PORT:-}" ] || bail "webdav_restart: no webdav_start before"
	nginx_srv_stop "$dir" || return 1
	nginx_srv_start "$dir" "$WEBDAV_PORT" "$dir/server.conf"
}

webdav_fail() {
	[ -n "${WEBDAV_STATE:-}" ] || bail "webdav_fail: no webdav_start before"
	rm -f "$WEBDAV_STATE/fail-500" "$WEBDAV_STATE/fail-503"
	case $1 in
	off) ;;
	500|503) : >"$WEBDAV_STATE/fail-$1" ;;
	*) bail "webdav_fail: '$1' is not 500, 503 or off" ;;
	esac
}

webdav_requests() {
	wc -l <"$WEBDAV_ACCESS_LOG" | tr -d ' '
}
