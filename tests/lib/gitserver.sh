# A git smart-HTTP server for the tests: nginx + fcgiwrap + git http-backend.
#
#   gitserver_start ROOT [USER:PASS]
#	serves every bare repository under ROOT (ROOT/NAME.git) for fetch and
#	push; with USER:PASS, only with HTTP basic authentication.  Sets
#	GITSERVER_URL (http://127.0.0.1:PORT/, a repository is at
#	${GITSERVER_URL}NAME.git), GITSERVER_PORT, GITSERVER_ACCESS_LOG (one
#	line per request: addr - user [time] "request" status bytes "agent"),
#	GITSERVER_DIR (config, logs).  Stopped at exit.
#   gitserver_requests	prints how many requests were logged so far.
#   gitserver_stop	stops the last started server.
#
# Call gitserver_start at the top level of a test script (or in
# test_expect_success_here), not inside test_expect_success: the variables
# it sets and the clean-up it registers would be lost with the subshell.

. "$TESTLIB_DIR/nginx.sh"

gitserver_count=0

gitserver_start() {
	local root=$1 cred=${2:-} dir sock backend auth='' fpid i
	test_require nginx fcgiwrap git curl
	[ -d "$root" ] || bail "gitserver_start: no directory '$root'"
	root=$(cd "$root" && pwd)
	backend=$(git --exec-path)/git-http-backend
	[ -x "$backend" ] || bail "missing prerequisite '$backend'"
	gitserver_count=$((gitserver_count + 1))
	dir=$TEST_DIR/gitserver.$gitserver_count
	sock=$dir/fcgiwrap.sock
	mkdir -p "$dir/home" || return 1

	# fcgiwrap: 4 workers so that concurrent clients do not queue; its
	# own process group so that the workers go with it.
	setsid fcgiwrap -c 4 -s "unix:$sock" </dev/null \
	    >"$dir/fcgiwrap.log" 2>&1 &
	fpid=$!
	echo "$fpid" >"$dir/fcgiwrap.pid"
	test_atexit "gitserver_kill_fcgiwrap $(printf %q "$dir")"
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 200 ]; do
		srv_alive "$fpid" || break
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$sock" ] || {
		cat "$dir/fcgiwrap.log" >&2
		bail "fcgiwrap did not create $sock"
	}

	if [ -n "$cred" ]; then
		nginx_srv_htpasswd "$dir/htpasswd" "$cred"
		auth="auth_basic \"git\"; auth_basic_user_file $dir/htpasswd;"
	fi
	# The CGI environment is exactly the fastcgi_params below.  Pushing
	# needs http.receivepack when nobody authenticated (REMOTE_USER empty).
	cat >"$dir/server.tmpl" <<EOF
$(nginx_srv_ready_location)
		location / {
			$auth
			fastcgi_pass unix:$sock;
			fastcgi_param SCRIPT_FILENAME $backend;
			fastcgi_param GIT_PROJECT_ROOT $root;
			fastcgi_param GIT_HTTP_EXPORT_ALL 1;
			fastcgi_param GIT_CONFIG_NOSYSTEM 1;
			fastcgi_param GIT_CONFIG_COUNT 2;
			fastcgi_param GIT_CONFIG_KEY_0 http.receivepack;
			fastcgi_param GIT_CONFIG_VALUE_0 true;
			fastcgi_param GIT_CONFIG_KEY_1 safe.directory;
			fastcgi_param GIT_CONFIG_VALUE_1 *;
			fastcgi_param HOME $dir/home;
			fastcgi_param PATH /usr/local/bin:/usr/bin:/bin;
			fastcgi_param PATH_INFO \$uri;
			fastcgi_param QUERY_STRING \$query_string;
			fastcgi_param REQUEST_METHOD \$request_method;
			fastcgi_param CONTENT_TYPE \$content_type;
			fastcgi_param CONTENT_LENGTH \$content_length;
			fastcgi_param REQUEST_URI \$request_uri;
			fastcgi_param SERVER_PROTOCOL \$server_protocol;
			fastcgi_param SERVER_NAME \$server_name;
			fastcgi_param SERVER_PORT \$server_port;
			fastcgi_param REMOTE_ADDR \$remote_addr;
			fastcgi_param REMOTE_USER \$remote_user;
			fastcgi_param GATEWAY_INTERFACE CGI/1.1;
		}
EOF
	test_atexit "nginx_srv_stop $(printf %q "$dir")"
	nginx_srv_start_retry "$dir" '' "$dir/server.tmpl" ||
		bail "cannot start the git server (see $dir/error.log)"
	GITSERVER_DIR=$dir
	GITSERVER_PORT=$NGINX_SRV_PORT
	GITSERVER_URL=http://127.0.0.1:$GITSERVER_PORT/
	GITSERVER_ACCESS_LOG=$dir/access.log
	export GITSERVER_URL GITSERVER_PORT GITSERVER_ACCESS_LOG GITSERVER_DIR
}

gitserver_kill_fcgiwrap() {
	local pid
	[ -f "$1/fcgiwrap.pid" ] || return 0
	pid=$(cat "$1/fcgiwrap.pid")
	# Its own process group (setsid): the prefork workers too.
	srv_alive "$pid" && kill -TERM -- "-$pid" 2>/dev/null
	srv_kill "$pid"
	rm -f "$1/fcgiwrap.pid"
}

gitserver_stop() {
	[ -n "${GITSERVER_DIR:-}" ] || return 0
	nginx_srv_stop "$GITSERVER_DIR"
	gitserver_kill_fcgiwrap "$GITSERVER_DIR"
}

gitserver_requests() {
	wc -l <"$GITSERVER_ACCESS_LOG" | tr -d ' '
}
