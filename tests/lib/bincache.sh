# A real Nix binary cache for the tests, served by an nginx of our own on
# 127.0.0.1 (nginx.sh).  Sourced after lib.sh:
#   . "$TESTLIB_DIR/bincache.sh"
#
#   bincache_key NAME	writes $TEST_DIR/NAME.sec and NAME.pub with
#			nix-store --generate-binary-cache-key NAME; prints
#			the public key ("NAME:base64")
#   bincache_start	starts nginx serving $TEST_DIR/bincache/www; sets
#			BINCACHE_URL (http://127.0.0.1:PORT), BINCACHE_DIR
#			(the directory `nix copy --to file://` fills) and
#			BINCACHE_ACCESS_LOG; stopped at exit
#   bincache_copy PATH [SECRET_KEY_FILE]
#			nix copy --to file://$BINCACHE_DIR of PATH's closure,
#			its narinfo files signed with the key (unsigned
#			without one)
#   bincache_forget PATH	deletes PATH from the local store (the host must
#			then substitute it); fails if something still holds it
#
# Nothing here prints anything but errors.

. "$TESTLIB_DIR/nginx.sh"

bincache_key() {
	nix-store --generate-binary-cache-key "$1" "$TEST_DIR/$1.sec" \
	    "$TEST_DIR/$1.pub" || return 1
	cat "$TEST_DIR/$1.pub"
}

bincache_start() {
	local dir=$TEST_DIR/bincache
	test_require nginx curl
	mkdir -p "$dir/www" || return 1
	cat >"$dir/server.tmpl" <<EOF
$(nginx_srv_ready_location)
		root $dir/www;
		location / {
			autoindex off;
		}
EOF
	test_atexit "nginx_srv_stop $(printf %q "$dir")"
	nginx_srv_start_retry "$dir" '' "$dir/server.tmpl" ||
		bail "cannot start the binary cache (see $dir/error.log)"
	BINCACHE_URL=http://127.0.0.1:$NGINX_SRV_PORT
	BINCACHE_DIR=$dir/www
	BINCACHE_ACCESS_LOG=$dir/access.log
}

bincache_copy() {
	local to="file://$BINCACHE_DIR"
	[ -z "${2:-}" ] || to="$to?secret-key=$2"
	nix --extra-experimental-features nix-command copy --to "$to" "$1"
}

bincache_forget() {
	nix-store --delete "$1" >/dev/null 2>&1 && [ ! -e "$1" ]
}
