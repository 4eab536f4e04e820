# Shared by the stand-ins in this directory (sourced, not run).
#
# Everything lives under $NIXPULL_TEST_ROOT (required: a stand-in never
# touches the real /nix/var/nix/profiles or /run):
#   calls.log				one line per stand-in call: the
#					program's name and its arguments,
#					each quoted by bash's printf %q
#   nix-calls.log			the nix commands the stand-ins ran,
#					same format
#   switch.log				written by the test systems'
#					switch-to-configuration / activate
#   nix/var/nix/profiles/system		-> system-N-link -> store path
#   run/current-system			-> store path
#   switch-exit				if present, overrides
#					NIXPULL_TEST_SWITCH_EXIT (read by the
#					test systems, see nixflake.sh)
#   system-state			if present, overrides
#					NIXPULL_TEST_SYSTEM_STATE
#   activation-hold			if present, an activation (not a
#					rollback) of nixos-rebuild or
#					darwin-rebuild stops at a point and
#					waits (300 s at most) until the file
#					is removed: "before" (the default,
#					empty file) = after the build, before
#					the profile is set; "after" = the
#					profile set (nixos-rebuild: and
#					current-system), before
#					switch-to-configuration / activate
#   activation-held			written (the point's name) when the
#					stand-in waits there: a test waits
#					for it, then kills or lets go

standin_init() {
	standin_prog=$1
	shift
	if [ -z "${NIXPULL_TEST_ROOT:-}" ]; then
		echo "$standin_prog (test stand-in): NIXPULL_TEST_ROOT is not set" >&2
		exit 1
	fi
	mkdir -p "$NIXPULL_TEST_ROOT" || exit 1
	standin_log "$NIXPULL_TEST_ROOT/calls.log" "$standin_prog" "$@"
	standin_profiles=$NIXPULL_TEST_ROOT/nix/var/nix/profiles
	standin_profile=$standin_profiles/system
}

# standin_log FILE ARGV...: one line, appended in a single write.
standin_log() {
	local file=$1 line a
	shift
	line=$1
	shift
	for a in "$@"; do
		line+=" $(printf '%q' "$a")"
	done
	printf '%s\n' "$line" >>"$file"
}

# standin_nix ARGS...: runs nix, logged to nix-calls.log.
standin_nix() {
	standin_log "$NIXPULL_TEST_ROOT/nix-calls.log" nix "$@"
	nix "$@"
}

# standin_build INSTALLABLE BUILDFLAGS...: nix build, prints the out path.
standin_build() {
	local installable=$1 json rc=0
	shift
	json=$(standin_nix build --no-link --json "$@" "$installable") || rc=$?
	[ $rc -eq 0 ] || return $rc
	printf '%s\n' "$json" | sed -n 's/.*"out":"\([^"]*\)".*/\1/p' | head -n 1
}

# The current generation number of the profile (0: none).
standin_profile_gen() {
	local t
	t=$(readlink "$standin_profile" 2>/dev/null) || { echo 0; return; }
	t=${t##*/}
	t=${t#system-}
	echo "${t%-link}"
}

# All generation numbers, ascending.
standin_profile_gens() {
	local f n
	for f in "$standin_profiles"/system-*-link; do
		[ -L "$f" ] || continue
		n=${f##*/system-}
		echo "${n%-link}"
	done | sort -n
}

# nix-env -p PROFILE --set PATH: a new generation unless PATH is current.
standin_profile_set() {
	local path=$1 cur last n
	standin_log "$NIXPULL_TEST_ROOT/nix-calls.log" nix-env -p \
	    /nix/var/nix/profiles/system --set "$path"
	mkdir -p "$standin_profiles" || return 1
	cur=$(readlink -f "$standin_profile" 2>/dev/null || true)
	[ "$cur" = "$path" ] && return 0
	last=$(standin_profile_gens | tail -n 1)
	n=$(( ${last:-0} + 1 ))
	ln -s "$path" "$standin_profiles/system-$n-link" &&
	standin_profile_switch "$n"
}

standin_profile_switch() {
	ln -sfn "system-$1-link" "$standin_profile.tmp.$$" &&
	mv -T "$standin_profile.tmp.$$" "$standin_profile"
}

# The generation before the current one, or an error like nix-env's.
standin_profile_prev() {
	local cur prev=''
	cur=$(standin_profile_gen)
	prev=$(standin_profile_gens | awk -v c="$cur" '$1 < c' | tail -n 1)
	if [ -z "$prev" ]; then
		echo "error: no profile version older than the current ($cur) exists" >&2
		return 1
	fi
	echo "$prev"
}

# nix-env -p PROFILE --rollback
standin_profile_rollback() {
	local prev
	standin_log "$NIXPULL_TEST_ROOT/nix-calls.log" nix-env --rollback -p \
	    /nix/var/nix/profiles/system
	prev=$(standin_profile_prev) || return 1
	echo "switching profile from version $(standin_profile_gen) to $prev" >&2
	standin_profile_switch "$prev"
}

standin_set_current() {
	mkdir -p "$NIXPULL_TEST_ROOT/run" &&
	ln -sfn "$1" "$NIXPULL_TEST_ROOT/run/current-system.tmp.$$" &&
	mv -T "$NIXPULL_TEST_ROOT/run/current-system.tmp.$$" \
	    "$NIXPULL_TEST_ROOT/run/current-system"
}

# standin_lock: like systemd-run --unit=nixos-rebuild-switch-to-configuration,
# a second activation while one runs fails at once.  Held until exit.
standin_lock() {
	exec 9>>"$NIXPULL_TEST_ROOT/.activation.lock"
	if ! flock -n 9; then
		echo "Failed to start transient service unit: Unit $1.service was already loaded or has a fragment file." >&2
		exit 1
	fi
}

# standin_hold POINT: waits while activation-hold names POINT (see above).
standin_hold() {
	local hold=$NIXPULL_TEST_ROOT/activation-hold want i=0
	[ -e "$hold" ] || return 0
	want=$(cat "$hold" 2>/dev/null)
	[ "${want:-before}" = "$1" ] || return 0
	echo "$1" >"$NIXPULL_TEST_ROOT/activation-held"
	while [ -e "$hold" ] && [ $i -lt 3000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rm -f "$NIXPULL_TEST_ROOT/activation-held"
}
