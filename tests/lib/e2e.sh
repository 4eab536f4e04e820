# Helpers for the end-to-end tests of `nixpull once` (t05xx, t0610): real
# Nix builds of a signed test flake, activated by the stand-ins (see
# tests/lib/bin/standin-lib.sh).  Sourced after lib.sh:
#   . "$TESTLIB_DIR/e2e.sh"
#
#   e2e_init HOST	(top level) requires nix git jq ssh-keygen flock; an
#			offline Nix and the stand-ins on PATH (nix_offline_env,
#			standin_env); sets HOST, R and S; a key alice trusted
#			as alice@example.com in $TEST_DIR/allowed_signers, the
#			work tree $TEST_DIR/work signing with it, the bare
#			repository $E2E_BARE (empty) and $R/run.  Bails out if
#			any of it fails
#   e2e_machine CPUS MEM [ON_BATTERY]
#			the machine as the agent's probe sees it: exports
#			NIXPULL_TEST_CPUS=CPUS, NIXPULL_TEST_MEM_AVAILABLE=MEM,
#			NIXPULL_TEST_STORE_FREE=100GiB,
#			NIXPULL_TEST_ON_BATTERY=ON_BATTERY (default 0) and
#			NIXPULL_TEST_LOAD=0
#   e2e_config BUILD [ACTIVATE [MORE]]
#			writes ./config.yaml: host HOST, state_dir S, repo.url
#			$E2E_URL (and repo.ref $E2E_REF if set), the trust
#			above; "build:" and the lines BUILD (no build section
#			if BUILD is empty); "activate:" with current_system
#			$R/run/current-system and the lines ACTIVATE; then the
#			lines MORE (top-level sections, e.g. report:).  The
#			caller indents BUILD and ACTIVATE (two spaces)
#   push		force-pushes work's main to $E2E_BARE; sets rev
#   release VARIANT	a signed commit of the test flake for HOST
#			(nixflake_commit work HOST VARIANT), pushed; sets rev.
#			With E2E_SALT_VARIANT set, NIXFLAKE_SALT is
#			${TEST_DIR##*/}-VARIANT: each variant is built afresh
#			and its builder processes can be told apart
#   deploy_v1		(in test_expect_success_here) release v1, then once
#			must exit 0; sets rev1 and sys1 (current); fails
#			unless a system runs and the state is ok
#   once		$NIXPULL once -c config.yaml, output appended to
#			$TEST_DIR/once.log; returns the agent's exit status
#   st EXPR		jq -r EXPR of the local $S/status.json
#   reported EXPR	jq -r EXPR of the status PUT to the WebDAV server
#			($WEBDAV_DIR/$HOST.json, after webdav_start)
#   current		where $R/run/current-system points
#   ncalls		how many stand-in calls $R/calls.log holds (0 if none)
#   calls_since N	the lines of $R/calls.log after the first N
#   call_line PROG ARG...
#			the calls.log line of that stand-in call (each
#			argument as printf %q)
#   sp_calls MODE PATH	the calls.log lines of an activation of PATH with
#			nixos-rebuild --store-path (the --help that finds the
#			option, then nixos-rebuild MODE --store-path PATH
#			--no-reexec)
#   built REV		the system the agent built for REV (its GC root)
#   flake_ref REV	the --flake argument the agent passes for REV
#			(git+file://$S/mirror.git?ref=main&rev=REV#HOST)
#   is_bad REV		REV has a line (REV, a time, a reason) in
#			$S/bad-revisions
#
# Variables:
#   HOST		the host name given to e2e_init
#   R			$NIXPULL_TEST_ROOT, the stand-ins' root (calls.log,
#			switch.log, run/current-system, nix/var/nix/profiles)
#   S			$TEST_DIR/state, the agent's state_dir
#   rev			the commit pushed last (push, release)
#   rev1, sys1		the revision and system deploy_v1 deployed
#   E2E_BARE		the bare repository; $TEST_DIR/repo.git unless set
#			before e2e_init
#   E2E_URL		repo.url of e2e_config; file://$E2E_BARE if unset
#   E2E_REF		repo.ref of e2e_config if set (else the agent's default)
#   E2E_SALT_VARIANT	see release
#
# Nothing here prints anything but errors.

E2E_BARE=${E2E_BARE:-$TEST_DIR/repo.git}

e2e_init() {
	test_require nix git jq ssh-keygen flock
	nix_offline_env
	standin_env
	HOST=$1
	R=$NIXPULL_TEST_ROOT
	S=$TEST_DIR/state
	signing_keygen alice &&
	signing_allow "$TEST_DIR/allowed_signers" alice@example.com alice &&
	signing_repo_init "$TEST_DIR/work" alice &&
	git init -q --bare "$E2E_BARE" &&
	mkdir -p "$R/run" ||
		bail "e2e_init: cannot set up the signed repository"
}

e2e_machine() {
	export NIXPULL_TEST_CPUS=$1 NIXPULL_TEST_MEM_AVAILABLE=$2 \
	    NIXPULL_TEST_STORE_FREE=100GiB NIXPULL_TEST_ON_BATTERY=${3:-0} \
	    NIXPULL_TEST_LOAD=0
}

e2e_config() {
	{
		printf 'host: %s\nstate_dir: %s\n' "$HOST" "$S"
		printf 'repo:\n  url: %s\n' "${E2E_URL:-file://$E2E_BARE}"
		[ -z "${E2E_REF:-}" ] || printf '  ref: %s\n' "$E2E_REF"
		printf 'trust:\n  allowed_signers: %s\n' \
		    "$TEST_DIR/allowed_signers"
		printf 'privsep:\n  user: %s\n' "$TEST_PRIVSEP_USER"
		[ -z "$1" ] || printf 'build:\n%s\n' "$1"
		printf 'activate:\n  current_system: %s\n' \
		    "$R/run/current-system"
		[ -z "${2:-}" ] || printf '%s\n' "$2"
		[ -z "${3:-}" ] || printf '%s\n' "$3"
	} >config.yaml
}

push() {
	git -C "$TEST_DIR/work" push -q -f "$E2E_BARE" main &&
	rev=$(git -C "$TEST_DIR/work" rev-parse HEAD)
}

release() {
	if [ -n "${E2E_SALT_VARIANT:-}" ]; then
		NIXFLAKE_SALT="${TEST_DIR##*/}-$1" \
		    nixflake_commit "$TEST_DIR/work" "$HOST" "$1"
	else
		nixflake_commit "$TEST_DIR/work" "$HOST" "$1"
	fi && push
}

deploy_v1() {
	release v1 &&
	rev1=$rev &&
	test_expect_code 0 once &&
	sys1=$(current) &&
	test -n "$sys1" &&
	test "$(st .state)" = ok
}

once() { "$NIXPULL" once -c config.yaml >>"$TEST_DIR/once.log" 2>&1; }
st() { jq -r "$1" "$S/status.json"; }
reported() { jq -r "$1" "$WEBDAV_DIR/$HOST.json"; }
current() { readlink "$R/run/current-system"; }
ncalls() { if [ -f "$R/calls.log" ]; then wc -l <"$R/calls.log"; else echo 0; fi; }
calls_since() { tail -n "+$(($1 + 1))" "$R/calls.log"; }
call_line() { printf '%s' "$1"; shift; printf ' %q' "$@"; printf '\n'; }

sp_calls() {
	call_line nixos-rebuild --help
	call_line nixos-rebuild "$1" --store-path "$2" --no-reexec
}
built() { readlink "$S/gcroots/$1"; }

flake_ref() {
	printf 'git+file://%s?ref=main&rev=%s#%s' "$S/mirror.git" "$1" "$HOST"
}

is_bad() { grep -q "^$1	[0-9]*	" "$S/bad-revisions"; }
