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
. "$TESTLIB_DIR/reboot.sh"
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

# ---- nixpull ---------------------------------------------------------------

rm -rf "$R" && mkdir -p "$R/run"
reboot_clock

# rcfg REBOOT_LINES: config.yaml with a health check and a reboot section.
rcfg() {
	e2e_config "  profile: server" "  profile: $P
  health_checks:
    - systemctl is-system-running" "reboot:
$1"
}
WINDOW='  windows:
    - { days: "*", start: "02:00", length: 1h }
  tz: UTC
  notice: 0s'
nchecks() { grep -c "^systemctl is-system-running$" "$R/calls.log" || true; }

test_expect_success_here 'a system with switch inhibitors deployed and booted' '
	rcfg "  policy: never" &&
	release "v1,inhibit:dbus-implementation=dbus,inhibit:systemd=258" &&
	test_expect_code 0 once &&
	sys1=$(current) &&
	test -f "$sys1/switch-inhibitors" &&
	test "$(profile)" = "$sys1" &&
	ln -s "$sys1" "$R/run/booted-system" &&
	test "$(st .state)" = ok
'

test_expect_success_here 'equal inhibitors (one added): switched as usual' '
	release "v2,inhibit:dbus-implementation=dbus,inhibit:systemd=258,inhibit:tpm=2" &&
	n=$(nchecks) &&
	test_expect_code 0 once &&
	sys2=$(current) &&
	test "$sys2" != "$sys1" &&
	test "$(profile)" = "$sys2" &&
	test_grep "^switch $sys2$" "$R/switch.log" &&
	test "$(nchecks)" = $((n + 1)) &&
	test "$(st .last_attempt.error)" = null &&
	test "$(st .reboot_required)" = false &&
	test "$(st .reboot.pending)" != true
'

test_expect_success_here 'changed: installed for the next boot, nothing switched, no health check' '
	release "v3,inhibit:dbus-implementation=broker,inhibit:systemd=258" &&
	rev3=$rev &&
	n=$(ncalls) c=$(nchecks) &&
	test_expect_code 0 once &&
	sys3=$(built "$rev3") &&
	test -d "$sys3" &&
	test "$(current)" = "$sys2" &&
	test "$(profile)" = "$sys3" &&
	calls_since "$n" >new &&
	test_grep "^$(call_line nixos-rebuild boot --store-path "$sys3" --no-reexec)$" new &&
	test_grep_not "^nixos-rebuild switch" new &&
	test_grep "^boot $sys3$" "$R/switch.log" &&
	test_grep_not "^switch $sys3$" "$R/switch.log" &&
	test "$(nchecks)" = "$c" &&
	test "$(st .state)" = ok &&
	test "$(st .last_attempt.result)" = success &&
	test "$(st .deployed.rev)" = "$rev3" &&
	test "$(st .deployed.store_path)" = "$sys3" &&
	st .last_attempt.error >err &&
	test_grep "inhibited" err &&
	test_grep "dbus-implementation: dbus -> broker" err &&
	test_grep "installed for the next boot" err &&
	test_grep "switch to ${rev3:0:12} inhibited" once.log
'

test_expect_success 'policy never: the reboot it needs is reported, not done' '
	test "$(st .reboot_required)" = true &&
	test "$(st .reboot.pending)" = true &&
	test "$(st .reboot.reason)" = switch-inhibited &&
	test "$(st .reboot.blocked_by)" = "policy never" &&
	test "$(nreboots)" = 0 &&
	status_line reboot: >line &&
	test_grep "^reboot: +pending \(switch-inhibited\) since .*; not rebooted by nixpull \(policy never\)$" line
'

test_expect_success_here 'when-needed: waits for the window, then reboots into it' '
	rcfg "  policy: when-needed
$WINDOW" &&
	test_expect_code 0 once &&
	test "$(st .reboot.blocked_by)" = window &&
	test "$(st .reboot.reason)" = switch-inhibited &&
	test "$(nreboots)" = 0 &&
	NIXPULL_TEST_NOW=$WIN test_expect_code 0 once &&
	test "$(nreboots)" = 1 &&
	test "$(tail -n 1 "$R/calls.log")" = "systemctl reboot" &&
	test "$(rj .into)" = "$sys3" &&
	test "$(st .reboot.blocked_by)" = rebooting &&
	test "$(current)" = "$sys2"
'

test_expect_success_here 'after the reboot: confirmed, the health checks run, nothing pending' '
	ln -sfn "$sys3" "$R/run/booted-system" &&
	ln -sfn "$sys3" "$R/run/current-system" &&
	c=$(nchecks) &&
	NIXPULL_TEST_NOW=$((WIN + 60)) NIXPULL_TEST_BOOT_ID=boot-2 \
	    test_expect_code 0 once &&
	test "$(st .reboot.last.result)" = rebooted &&
	test "$(st .reboot.last.into)" = "$sys3" &&
	test "$(nchecks)" -gt "$c" &&
	test "$(st .reboot.pending)" != true &&
	test "$(st .reboot_required)" = false &&
	test "$(nreboots)" = 1
'

test_expect_success_here 'a refusal not foreseen (a file that is not JSON): recognised, installed for the next boot' '
	rcfg "  policy: never" &&
	release "v4,inhibit-bad" &&
	rev4=$rev &&
	n=$(ncalls) c=$(nchecks) &&
	NIXPULL_TEST_BOOT_ID=boot-2 test_expect_code 0 once &&
	sys4=$(built "$rev4") &&
	calls_since "$n" >new &&
	test_grep "^$(call_line nixos-rebuild switch --store-path "$sys4" --no-reexec)$" new &&
	test_grep "^$(call_line nixos-rebuild boot --store-path "$sys4" --no-reexec)$" new &&
	test "$(current)" = "$sys3" &&
	test "$(profile)" = "$sys4" &&
	test "$(nchecks)" = "$c" &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.store_path)" = "$sys4" &&
	test "$(st .reboot.reason)" = switch-inhibited &&
	st .last_attempt.error >err &&
	test_grep "refused" err &&
	test_grep "installed for the next boot" err &&
	! is_bad "$rev4"
'

test_expect_success_here 'NIXOS_NO_CHECK=1 in the agent'"'"'s environment: switched all the same' '
	ln -sfn "$sys4" "$R/run/booted-system" &&
	ln -sfn "$sys4" "$R/run/current-system" &&
	release "v5,inhibit:dbus-implementation=dbus" &&
	NIXPULL_TEST_BOOT_ID=boot-3 NIXOS_NO_CHECK=1 test_expect_code 0 once &&
	sys5=$(current) &&
	test "$sys5" != "$sys4" &&
	test "$(profile)" = "$sys5" &&
	test "$(st .last_attempt.error)" = null &&
	test "$(st .reboot.pending)" != true
'

test_expect_success_here 'without --store-path (nixos-rebuild of 25.11): nix-env --set, switch-to-configuration boot' '
	rcfg "  policy: never" &&
	release "v6,inhibit:dbus-implementation=broker" &&
	rev6=$rev &&
	n=$(ncalls) &&
	NIXPULL_TEST_BOOT_ID=boot-3 NIXPULL_TEST_REBUILD_FLAVOR=ng-2511 \
	    test_expect_code 0 once &&
	sys6=$(built "$rev6") &&
	calls_since "$n" >new &&
	test_grep "^$(call_line nix-env -p "$P" --set "$sys6")$" new &&
	test_grep_not "^nixos-rebuild (switch|boot)" new &&
	test "$(tail -n 1 "$R/switch.log")" = "boot $sys6" &&
	test "$(current)" = "$sys5" &&
	test "$(profile)" = "$sys6" &&
	test "$(st .last_attempt.activation)" = profile+switch-to-configuration &&
	test "$(st .reboot.reason)" = switch-inhibited &&
	st .last_attempt.error >err &&
	test_grep "dbus-implementation: dbus -> broker" err
'

test_expect_success 'activate.mode test: nothing activated, the attempt failed, the revision not marked bad' '
	e2e_config "  profile: server" "  profile: $P
  mode: test" &&
	release "v7,inhibit:dbus-implementation=other" &&
	rev7=$rev &&
	n=$(ncalls) &&
	NIXPULL_TEST_BOOT_ID=boot-3 test_expect_code 1 once &&
	calls_since "$n" >new &&
	test_grep_not "^nixos-rebuild (switch|boot|test) " new &&
	test "$(current)" = "$sys5" &&
	test "$(profile)" = "$sys6" &&
	test "$(st .state)" = failed &&
	test "$(st .last_attempt.result)" = failed &&
	st .last_attempt.error >err &&
	test_grep "dbus-implementation: dbus -> other); activate.mode test: not activated" err &&
	! is_bad "$rev7"
'

test_done
