# Common code for the test web servers (gitserver.sh, webdav.sh): an nginx
# of our own on 127.0.0.1, every path it writes under one directory of
# $TEST_DIR, started in the foreground as a child of the test script and
# stopped by process id.
#
#   nginx_srv_start DIR PORT SERVER_FILE   write DIR/nginx.conf around the
#                                          server{} body in SERVER_FILE, run
#                                          nginx, wait until it answers
#   nginx_srv_stop DIR                     stop it, wait until it is gone
#
# A server{} body must contain the readiness location from
# nginx_srv_ready_location (no access log, no authentication).
#
#   log_wait PATTERN FILE	waits (10 s at most) for an ERE to match a line
#				of an access log, then is test_grep
#
# nginx writes a request's access-log line after it has sent the response:
# a client may have finished before the line is there.  Wait for it with
# log_wait rather than grepping at once.

# srv_alive PID: PID exists and is not a zombie.
srv_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# srv_wait_gone PID TENTHS: waits at most TENTHS/10 s for PID to be gone.
srv_wait_gone() {
	local i=0
	while srv_alive "$1" && [ $i -lt $(($2 * 2)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	! srv_alive "$1"
}

# srv_children PID: the ids of PID's child processes.
srv_children() {
	local f
	for f in /proc/[0-9]*/stat; do
		sed -n "s/^\([0-9]*\) (.*) . $1 .*/\1/p" "$f" 2>/dev/null
	done
}

# srv_kill PID [SIGNAL]: sends SIGNAL (default TERM) to PID, then TERM
# after 5 s, then KILL to it and its children after 5 s more; returns 0
# once it is gone.
srv_kill() {
	local pid=$1 sig=${2:-TERM} kids
	srv_alive "$pid" || return 0
	kill -s "$sig" "$pid" 2>/dev/null
	srv_wait_gone "$pid" 50 && return 0
	if [ "$sig" != TERM ]; then
		kill -s TERM "$pid" 2>/dev/null
		srv_wait_gone "$pid" 50 && return 0
	fi
	kids=$(srv_children "$pid")
	kill -s KILL "$pid" $kids 2>/dev/null
	srv_wait_gone "$pid" 50
}

log_wait() {
	wait_for 10 grep -Eq -e "$1" "$2"
	test_grep "$1" "$2"
}

# http_code URL [CURL ARGS...]: prints the HTTP status (000 if none).
http_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null
}

nginx_srv_ready_location() {
	cat <<'EOF'
		location = /__ready {
			access_log off;
			auth_basic off;
			return 204;
		}
EOF
}

# nginx_srv_htpasswd FILE USER:PASS: one apr1 line for auth_basic.
nginx_srv_htpasswd() {
	local user=${2%%:*} pass=${2#*:} hash
	case $2 in
	*:*) ;;
	*) bail "credentials '$2' are not USER:PASS" ;;
	esac
	hash=$(printf '%s\n' "$pass" | openssl passwd -apr1 -stdin) ||
		bail "openssl passwd -apr1 failed"
	printf '%s:%s\n' "$user" "$hash" >"$1"
}

nginx_srv_start() {
	local dir=$1 port=$2 body=$3 user_line='' pid i code
	test_require nginx curl openssl
	mkdir -p "$dir/tmp" || return 1
	# Run as root, the master would start its workers as "nobody", which
	# cannot enter $TEST_DIR (mode 0700) nor write into it.
	[ "$(id -u)" -eq 0 ] && user_line='user root;'
	cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
daemon off;
events {
	worker_connections 128;
}
http {
	log_format nixpull_test '\$remote_addr - \$remote_user [\$time_local] '
	    '"\$request" \$status \$body_bytes_sent "\$http_user_agent"';
	access_log $dir/access.log nixpull_test;
	client_body_temp_path $dir/tmp/body;
	fastcgi_temp_path $dir/tmp/fastcgi;
	proxy_temp_path $dir/tmp/proxy;
	scgi_temp_path $dir/tmp/scgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	default_type application/octet-stream;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:$port;
		server_name localhost;
$(cat "$body")
	}
}
EOF
	: >>"$dir/access.log"
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -t \
	    >"$dir/configtest.log" 2>&1 || {
		sed 's/^/# /' "$dir/configtest.log"
		bail "nginx rejects $dir/nginx.conf"
	}
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
	    </dev/null >>"$dir/nginx.out" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/master.pid"
	i=0
	while [ $i -lt 200 ]; do
		if ! srv_alive "$pid"; then
			echo "nginx in $dir exited at start:" >&2
			tail -5 "$dir/error.log" >&2
			return 1
		fi
		code=$(http_code "http://127.0.0.1:$port/__ready")
		[ "$code" = 204 ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "nginx in $dir not answering on port $port after 10s" >&2
	srv_kill "$pid"
	return 1
}

nginx_srv_stop() {
	local pid
	[ -f "$1/master.pid" ] || return 0
	pid=$(cat "$1/master.pid")
	# QUIT: graceful, lets the last response's log line be written.
	srv_kill "$pid" QUIT || return 1
	rm -f "$1/master.pid"
}

# nginx_srv_start_retry DIR FIXED_PORT SERVER_TEMPLATE: like nginx_srv_start,
# but the server{} body may contain @PORT@; with FIXED_PORT empty a free
# port is chosen, and another one if somebody took it in between.  Sets
# NGINX_SRV_PORT.  (Not for $(...): nginx must stay the script's child.)
nginx_srv_start_retry() {
	local dir=$1 port=$2 tmpl=$3 try=0
	NGINX_SRV_PORT=
	while [ $try -lt 5 ]; do
		[ -n "$2" ] || port=$(free_port)
		sed "s/@PORT@/$port/g" "$tmpl" >"$dir/server.conf"
		: >"$dir/error.log"
		if nginx_srv_start "$dir" "$port" "$dir/server.conf"; then
			NGINX_SRV_PORT=$port
			return 0
		fi
		[ -z "$2" ] && grep -q 'Address already in use' "$dir/error.log" ||
			return 1
		try=$((try + 1))
	done
	return 1
}
