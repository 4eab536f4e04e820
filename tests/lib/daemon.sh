# Helpers for the daemon and fault-injection tests (t07xx), sourced after
# lib.sh:  . "$TESTLIB_DIR/daemon.sh"
#
#   daemon_repo HOST [VARIANT]
#	a signing key (alice), $TEST_DIR/allowed_signers, a signed flake
#	repository in $TEST_DIR/work for HOST, pushed to the bare
#	$TEST_DIR/srv/infra.git; nix offline and the stand-ins on PATH
#	(standin_env).  Call at top level.
#   daemon_release VARIANT	a new signed commit (flake VARIANT), pushed
#   daemon_config FILE URL [EXTRA YAML]
#	a config for host $DAEMON_HOST polling URL (poll.interval
#	$DAEMON_INTERVAL, default 1h; no jitter), state in $TEST_DIR/state,
#	switch mode with the stand-in's current-system, no health checks;
#	EXTRA is appended verbatim (e.g. a report: section)
#   daemon_start [ENV=VALUE...] -- ARGS...
#	runs "$NIXPULL run ARGS" in the background, output appended to
#	$TEST_DIR/daemon.log; sets DAEMON_PID; killed at exit
#   daemon_wait_exit SECONDS	waits for $DAEMON_PID to end; sets DAEMON_RC
#   deployed_is REV		(for wait_for) status.json's deployed.rev is REV
#   state_is STATE		(for wait_for) status.json's state is STATE
#   lines_above ERE FILE N	(for wait_for) more than N lines of FILE match
#   daemon_tree PID		PID and all its descendants, one a line
#   kill_tree_9 PID		kill -9 PID and all its descendants at once
#				(as systemd kills a unit's cgroup)
#   status_get EXPR		jq EXPR of $TEST_DIR/state/status.json
#   state_consistent REV	the state directory after a cycle: deployed
#				REV, no inflight.json, no temp files, the
#				status says ok/REV and nothing pending

DAEMON_HOST=${DAEMON_HOST:-h1}
DAEMON_INTERVAL=${DAEMON_INTERVAL:-1h}
STATE=$TEST_DIR/state

daemon_repo() {
	local host=$1 variant=${2:-v1}
	test_require nix jq git ssh-keygen
	nix_offline_env
	standin_env
	DAEMON_HOST=$host
	signing_keygen alice &&
	signing_allow "$TEST_DIR/allowed_signers" alice@example.com alice &&
	signing_repo_init "$TEST_DIR/work" alice &&
	nixflake_commit "$TEST_DIR/work" "$host" "$variant" &&
	git init -q --bare "$TEST_DIR/srv/infra.git" &&
	git -C "$TEST_DIR/work" push -q "$TEST_DIR/srv/infra.git" main ||
		bail "cannot set up the signed repository"
}

daemon_release() {
	nixflake_commit "$TEST_DIR/work" "$DAEMON_HOST" "$1" &&
	git -C "$TEST_DIR/work" push -q "$TEST_DIR/srv/infra.git" main
}

daemon_config() {
	local file=$1 url=$2 extra=${3:-}
	cat >"$file" <<YAML
host: $DAEMON_HOST
state_dir: $STATE
repo:
  url: $url
  ref: main
  connect_timeout: 5s
  timeout: 20s
trust:
  allowed_signers: $TEST_DIR/allowed_signers
poll:
  interval: $DAEMON_INTERVAL
  jitter: 0s
build:
  profile: server
  on_battery: build
  min_free_disk: 1M
  timeout: 10m
activate:
  mode: switch
  current_system: $NIXPULL_TEST_ROOT/run/current-system
  rollback: true
privsep:
  user: $TEST_PRIVSEP_USER
YAML
	[ -z "$extra" ] || printf '%s\n' "$extra" >>"$file"
}

daemon_start() {
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	rm -f "$TEST_DIR/daemon.pid" "$TEST_DIR/daemon.rc"
	# A wrapper keeps the exit status, for test bodies in subshells.
	env ${envs[@]+"${envs[@]}"} bash -c '"$@" & echo $! >"$TEST_DIR/daemon.pid.tmp"
	    mv "$TEST_DIR/daemon.pid.tmp" "$TEST_DIR/daemon.pid"
	    wait $!; echo $? >"$TEST_DIR/daemon.rc"' daemon "$NIXPULL" run "$@" \
	    >>"$TEST_DIR/daemon.log" 2>&1 &
	wait_for 10 test -s "$TEST_DIR/daemon.pid" || return 1
	DAEMON_PID=$(cat "$TEST_DIR/daemon.pid")
	test_atexit "kill_tree_9 $DAEMON_PID"
}

daemon_wait_exit() {
	wait_for "$1" test -s "$TEST_DIR/daemon.rc" || return 1
	DAEMON_RC=$(cat "$TEST_DIR/daemon.rc")
}

# For wait_for: the deployed revision in status.json is REV.
deployed_is() { test "$(status_get .deployed.rev 2>/dev/null)" = "$1"; }
# For wait_for: status.json's state is STATE.
state_is() { test "$(status_get .state 2>/dev/null)" = "$1"; }
# For wait_for: FILE has more than N lines matching ERE.
lines_above() { test "$(grep -c -E -e "$1" "$2")" -gt "$3"; }

daemon_tree() {
	local p
	echo "$1"
	for p in $(pgrep -P "$1" 2>/dev/null); do
		daemon_tree "$p"
	done
}

kill_tree_9() {
	local pids prev='' i=0
	# Stopped processes cannot fork: stop the tree until it stops
	# growing, then kill it all at once.
	pids=$(daemon_tree "$1" | sort -n)
	while [ "$pids" != "$prev" ] && [ $i -lt 20 ]; do
		kill -STOP $pids 2>/dev/null
		prev=$pids
		pids=$( (echo "$prev"; daemon_tree "$1") | sort -nu)
		i=$((i + 1))
	done
	kill -9 $pids 2>/dev/null
	# kill returns before the processes are gone (and their locks with
	# them): wait until none is left but zombies.
	wait_for 10 none_alive $pids
	return 0
}

# none_alive PID...: every PID is gone or a zombie.
none_alive() {
	local p st
	for p in "$@"; do
		st=$(ps -o stat= -p "$p" 2>/dev/null) || continue
		case $st in Z*) ;; *) return 1 ;; esac
	done
}

status_get() {
	jq -r "$1" "$STATE/status.json"
}

state_consistent() {
	local rev=$1 f
	test -f "$STATE/deployed.json" &&
	test "$(jq -r .rev "$STATE/deployed.json")" = "$rev" || {
		echo "deployed.json does not name $rev:" >&2
		cat "$STATE/deployed.json" >&2
		return 1
	}
	if test -e "$STATE/inflight.json"; then
		echo "a stale inflight.json:" >&2
		cat "$STATE/inflight.json" >&2
		return 1
	fi
	f=$(find "$STATE" -name '.*.tmp-*' -print)
	if [ -n "$f" ]; then
		echo "left-over temp files: $f" >&2
		return 1
	fi
	test "$(status_get .state)" = ok &&
	test "$(status_get .deployed.rev)" = "$rev" || {
		echo "status.json is not ok on $rev:" >&2
		cat "$STATE/status.json" >&2
		return 1
	}
	test "$(readlink -f "$NIXPULL_TEST_ROOT/run/current-system")" = \
	    "$(jq -r .store_path "$STATE/deployed.json")" || {
		echo "the running system is not the deployed one" >&2
		return 1
	}
}
