# An OpenSSH server for the tests: Debian's sshd on 127.0.0.1, its own host
# key, keys authorised from a file in $TEST_DIR, run as the test user.
#
#   sshserver_start PUBKEY_FILE
#	starts sshd on a free port; logins with the key PUBKEY_FILE belongs
#	to are accepted for the current user.  Sets SSHSERVER_PORT,
#	SSHSERVER_HOSTKEY (the public host key file), SSHSERVER_KNOWN_HOSTS (a
#	known_hosts file that holds it as [127.0.0.1]:PORT), SSHSERVER_DIR.
#	Stopped at exit.  The git commands run by a login shell with the
#	system PATH, so git-upload-pack must be in /usr/bin.
#
# Call it at the top level of a test script (it registers clean-up).

sshserver_start() {
	local pub=$1 dir port pid
	test_require ssh-keygen git-upload-pack
	[ -x /usr/sbin/sshd ] || bail "missing prerequisite '/usr/sbin/sshd' (openssh-server)"
	dir=$TEST_DIR/sshserver
	mkdir -p "$dir" || return 1
	# sshd insists on its privilege separation directory.
	mkdir -p /run/sshd 2>/dev/null
	ssh-keygen -q -t ed25519 -N '' -C testhost -f "$dir/host_ed25519" ||
		bail "ssh-keygen failed"
	cp "$pub" "$dir/authorized_keys"
	port=$(free_port)
	cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1:$port
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
PrintMotd no
LogLevel VERBOSE
CONF
	/usr/sbin/sshd -D -e -f "$dir/sshd_config" </dev/null >"$dir/sshd.log" 2>&1 &
	pid=$!
	test_atexit "sshserver_kill $pid"
	wait_for 10 sshserver_answers "$port" || {
		cat "$dir/sshd.log" >&2
		bail "sshd did not start (see $dir/sshd.log)"
	}
	SSHSERVER_DIR=$dir
	SSHSERVER_PORT=$port
	SSHSERVER_HOSTKEY=$dir/host_ed25519.pub
	SSHSERVER_KNOWN_HOSTS=$dir/known_hosts
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" \
	    >"$SSHSERVER_KNOWN_HOSTS"
	export SSHSERVER_DIR SSHSERVER_PORT SSHSERVER_HOSTKEY SSHSERVER_KNOWN_HOSTS
}

# The server sent its banner.
sshserver_answers() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
sys.exit(0 if s.recv(4).startswith(b"SSH-") else 1)
PY
}

sshserver_kill() {
	kill "$1" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $1 2>/dev/null"
}
