# The test command's check that nothing the suite started outlives it
# (sourced by scripts/test.sh).
#
#   suite_mark
#	exports NIXPULL_SUITE_MARK, a marker every process the suite starts
#	inherits in its environment
#   suite_leftovers
#	waits (at most 5 s) for the marked processes to end; prints those still
#	running, kills them and returns 1 if there were any
#   host_snapshot
#	prints what a test must never change on the machine: the system
#	profile and its generations, /run/current-system, /run/booted-system
#	(every test points the agent at a stand-in root instead)

suite_mark() {
	NIXPULL_SUITE_MARK=suite-$$-$RANDOM-$(date +%s%N)
	export NIXPULL_SUITE_MARK
}

suite_leftovers() {
	local procmark left
	procmark=$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/procmark.py
	left=$(python3 "$procmark" NIXPULL_SUITE_MARK "$NIXPULL_SUITE_MARK" \
	    --kill) && return 0
	printf '%s\n' "$left" | sed 's/^/left running by the suite (killed): /'
	return 1
}

host_snapshot() {
	local f
	for f in /nix/var/nix/profiles/system /nix/var/nix/profiles/system-*-link \
	    /run/current-system /run/booted-system; do
		[ -L "$f" ] || [ -e "$f" ] || continue
		printf '%s -> %s\n' "$f" "$(readlink "$f")"
	done
}
