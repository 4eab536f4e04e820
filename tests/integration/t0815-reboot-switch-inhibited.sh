#!/usr/bin/env bash
# Switch inhibitors (issue 12, item 4).  NixOS refuses to switch into a
# system whose switch-inhibitors differ from the running system's (the
# contract: tests/lib/nixflake.sh, header, "switch-inhibitors"; the
# stand-ins keep it, checked first).  nixpull compares them before it
# switches, the way switch-to-configuration does, and then installs the
# system for the next boot instead (nixos-rebuild boot --store-path): the
# profile moves, the running system does not, no health check runs
# against the old system, reboot.reason is switch-inhibited, and the
# reboot policy takes over: policy never only reports it; when-needed
# reboots inside the window; after that boot the health checks run and
# the reboot is confirmed.  Equal inhibitors (or only added or removed
# ones) switch as usual; a refusal nixpull did not foresee (a file that
# is not JSON) is recognised by its message and ends the same way.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init web-1
e2e_machine 4 16GiB
P=$R/nix/var/nix/profiles/system

# ---- the stand-ins keep the contract ---------------------------------------

# sysof VARIANT: builds the test flake's system for VARIANT (in ./sf).
sysof() {
	nixflake_write "$TEST_DIR/sf" "$HOST" "$1" &&
	nixflake_build "path:$TEST_DIR/sf" \
	    "nixosConfigurations.\"$HOST\".config.system.build.toplevel"
}
profile() { readlink -f "$P"; }

test_expect_success_here 'switch-inhibitors: a JSON object of strings, only with inhibit words' '
	a=$(sysof "a,inhibit:dbus-implementation=dbus,inhibit:systemd=258") &&
	test "$(jq -c . "$a/switch-inhibitors")" = \
	    "{\"dbus-implementation\":\"dbus\",\"systemd\":\"258\"}" &&
	plain=$(sysof a) &&
	test ! -e "$plain/switch-inhibitors" &&
	bad=$(sysof "a,inhibit-bad") &&
	test "$(cat "$bad/switch-inhibitors")" = "not json"
'

test_expect_success_here 'switch-to-configuration: the pre-switch check refuses a changed inhibitor' '
	b=$(sysof "b,inhibit:dbus-implementation=broker,inhibit:systemd=258") &&
	ln -sfn "$a" "$R/run/current-system" &&
	test_expect_code 1 "$b/bin/switch-to-configuration" switch 2>err &&
	test_grep "^dbus-implementation : dbus -> broker$" err &&
	test_grep "^Pre-switch check .switchInhibitors. failed$" err &&
	test_grep "^Pre-switch checks failed$" err &&
	test "$(current)" = "$a" &&
	test_grep_not "$b" "$R/switch.log" &&
	test_expect_code 1 "$b/bin/switch-to-configuration" test 2>/dev/null &&
	test_expect_code 1 "$b/bin/switch-to-configuration" check 2>/dev/null &&
	"$b/bin/switch-to-configuration" boot 2>err &&
	test_grep_not "Checking switch inhibitors" err &&
	"$b/bin/switch-to-configuration" dry-activate &&
	test "$(current)" = "$a" &&
	NIXOS_NO_CHECK=1 "$b/bin/switch-to-configuration" switch &&
	test "$(current)" = "$b"
'

test_expect_success_here 'equal, added and removed inhibitors switch; so does a system without any' '
	c=$(sysof "c,inhibit:dbus-implementation=broker,inhibit:kernel=6.18") &&
	"$c/bin/switch-to-configuration" switch 2>err &&
	test_grep "^Checking switch inhibitors\.\.\. done$" err &&
	test "$(current)" = "$c" &&
	"$plain/bin/switch-to-configuration" switch &&
	test "$(current)" = "$plain" &&
	"$b/bin/switch-to-configuration" switch &&
	test "$(current)" = "$b"
'

test_expect_success_here 'a switch-inhibitors file that is not JSON fails the check' '
	test_expect_code 1 "$bad/bin/switch-to-configuration" switch 2>err &&
	test_grep "^Pre-switch checks failed$" err &&
	test "$(current)" = "$b"
'

test_expect_success_here 'nixos-rebuild switch --store-path refused: profile moved, current-system not' '
	: >"$R/switch.log" &&
	nixos-rebuild boot --store-path "$a" --no-reexec &&
	test "$(profile)" = "$a" &&
	test "$(current)" = "$b" &&
	ln -sfn "$a" "$R/run/current-system" &&
	test_expect_code 1 nixos-rebuild switch --store-path "$b" --no-reexec 2>err &&
	test_grep "^Pre-switch checks failed$" err &&
	test_grep "error\(s\) occurred while switching" err &&
	test "$(profile)" = "$b" &&
	test "$(current)" = "$a" &&
	test_grep_not "^switch $b" "$R/switch.log" &&
	nixos-rebuild boot --store-path "$b" --no-reexec &&
	test_grep "^boot $b$" "$R/switch.log" &&
	test "$(current)" = "$a" &&
	NIXPULL_TEST_REBUILD_FLAVOR=ng test_expect_code 1 \
	    nixos-rebuild test --store-path "$b" 2>/dev/null &&
	test "$(current)" = "$a"
'

rm -rf "$R" && mkdir -p "$R/run"

test_done
