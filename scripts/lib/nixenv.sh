# A hermetic, offline Nix for the demo, the test suite and the benchmarks
# (sourced by scripts/test.sh, scripts/demo.sh, tests/lib/nixflake.sh and
# tests/bench/tuning).
#
#   nixenv_setup DIR
#	writes DIR/nix.conf and exports NIX_CONF_DIR=DIR and
#	NIX_USER_CONF_FILES=DIR/nix.conf, and unsets NIX_CONFIG, so that
#	nothing in /etc/nix or ~/.config/nix helps or hurts.  The file is what
#	a single-user Nix on a machine that is not NixOS needs to build here:
#	no build users (Debian's nix-bin has no nixbld group, and Nix as root
#	wants one unless build-users-group is empty), no sandbox, no
#	substituters (the machine is offline), flakes.
#   nixenv_preflight
#	builds one trivial derivation; prints "ok", or one line saying why Nix
#	cannot build (the first error line) and returns 1.

nixenv_setup() {
	local dir=$1
	mkdir -p "$dir" || return 1
	cat >"$dir/nix.conf" <<'CONF' || return 1
# Written by nixpull's scripts/lib/nixenv.sh: an offline, single-user Nix.
build-users-group =
sandbox = false
substituters =
experimental-features = nix-command flakes
warn-dirty = false
CONF
	export NIX_CONF_DIR=$dir
	export NIX_USER_CONF_FILES=$dir/nix.conf
	unset NIX_CONFIG
}

nixenv_preflight() {
	local out err
	if ! command -v nix >/dev/null 2>&1; then
		echo "nix is not installed (run the README's test command to install nix-bin)"
		return 1
	fi
	err=$(mktemp) || return 1
	out=$(nix build --no-link --json --impure --expr \
	    "derivation { name = \"nixpull-preflight\"; system = builtins.currentSystem;
	      builder = \"/bin/sh\"; args = [ \"-c\" \"echo \$\$ >\$out\" ];
	      salt = \"$$-$RANDOM\"; }" 2>"$err")
	if [ $? -ne 0 ] || [ -z "$out" ]; then
		printf 'nix cannot build: %s\n' \
		    "$(grep -m1 '^error' "$err" || tail -n1 "$err")"
		rm -f "$err"
		return 1
	fi
	rm -f "$err"
	echo ok
}
