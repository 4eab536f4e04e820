#!/usr/bin/env bash
# The reboot step end to end (issue 12) through `nixpull once` with real
# Nix: a kernel change makes a reboot pending; policy never only reports
# it; when-needed waits for the maintenance window (the next one in the
# status), for a user logged in (users: wait), for a logind block
# inhibitor (who and why), gives notice with wall, then runs systemctl
# reboot after recording reboot.json; pending past max_defer is overdue
# but never reboots outside a window; after the "reboot" (booted-system
# moved, a new NIXPULL_TEST_BOOT_ID) the next start reports it rebooted,
# and a machine that came back on another system is reported and not
# rebooted again.  The stand-ins (tests/lib/bin: loginctl, busctl, wall,
# systemctl) record every call; the clock is NIXPULL_TEST_NOW.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
. "$TESTLIB_DIR/reboot.sh"
e2e_init web-1
e2e_machine 4 16GiB

reboot_clock

# rcfg REBOOT_LINES: config.yaml with a reboot section.
rcfg() {
	e2e_config "  profile: server" \
	    "  profile: $R/nix/var/nix/profiles/system" "reboot:
$1
report:
  url: file://$TEST_DIR/reports/
  prometheus_textfile: $TEST_DIR/nixpull.prom"
}
mkdir -p reports
WINDOW='  windows:
    - { days: "*", start: "02:00", length: 1h }
  tz: UTC'
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# prom NAME: the sample of NAME in the Prometheus textfile.
prom() { sed -n "s/^$1 //p" "$TEST_DIR/nixpull.prom"; }

test_expect_success_here 'policy never: a kernel change is reported, nothing else asked' '
	rcfg "  policy: never" &&
	deploy_v1 &&
	ln -s "$sys1" "$R/run/booted-system" &&
	release "v2,kernel:2" &&
	test_expect_code 0 once &&
	sys2=$(current) &&
	test "$sys2" != "$sys1" &&
	test "$(st .deployed.store_path)" = "$sys2" &&
	test "$(st .reboot_required)" = true &&
	test "$(st .reboot.pending)" = true &&
	test "$(st .reboot.reason)" = kernel &&
	test "$(st .reboot.blocked_by)" = "policy never" &&
	test "$(nreboots)" = 0 &&
	test_grep_not "^(loginctl|busctl|wall) " "$R/calls.log"
'

test_expect_success 'when-needed outside the window: deferred, the next window reported' '
	rcfg "  policy: when-needed
$WINDOW
  users: wait
  notice: 0s" &&
	n=$(ncalls) &&
	test_expect_code 0 once &&
	test "$(st .reboot.pending)" = true &&
	test "$(st .reboot.blocked_by)" = window &&
	test "$(st .reboot.next_window)" = "$(utc $((T0 + 14 * 3600)))" &&
	test "$(st .reboot.pending_since)" = "$(utc $T0)" &&
	test "$(st .reboot.overdue)" = false &&
	test "$(ncalls)" = "$n" &&
	test "$(rj .rebooting_at)" = 0 &&
	test "$(rj .pending_since)" = "$T0" &&
	status_line reboot: >line &&
	test_grep "^reboot: +pending \(kernel\) since $(utc $T0) \([^)]*\); reboots in the next window, $(utc $((T0 + 14 * 3600))) \(" line &&
	test "$(prom nixpull_reboot_pending)" = 1 &&
	test "$(prom nixpull_reboot_overdue)" = 0 &&
	test "$(prom nixpull_reboot_required)" = 1
'

test_expect_success 'inside the window, someone logged in: deferred, the user named' '
	cat >"$R/sessions.json" <<-\JSON &&
	[{"session":"c1","uid":60578,"user":"gdm","seat":"seat0","leader":601,
	  "class":"greeter","tty":null,"idle":false,"since":null},
	 {"session":"4","uid":1000,"user":"alice","seat":null,"leader":812,
	  "class":"user","tty":"pts/0","idle":false,"since":null}]
	JSON
	NIXPULL_TEST_NOW=$WIN test_expect_code 0 once &&
	test "$(st .reboot.blocked_by)" = "user alice" &&
	test "$(st .reboot.pending_since)" = "$(utc $T0)" &&
	status_line reboot: >line &&
	test_grep "^reboot: +pending \(kernel\) since .*; waits for user alice$" line &&
	test_grep "^loginctl list-sessions --no-legend --no-pager --output=json$" \
	    "$R/calls.log" &&
	test "$(nreboots)" = 0
'

# What the reboot waits for is logged when it changes, not at every start
# (each `once` is a new process; reboot.json remembers what was logged).
test_expect_success 'what a pending reboot waits for: logged once per change, across restarts' '
	test "$(grep -c "reboot pending (kernel): waiting for window$" "$TEST_DIR/once.log")" = 1 &&
	test "$(grep -c "reboot pending (kernel): waiting for user alice$" "$TEST_DIR/once.log")" = 1 &&
	test "$(rj .waiting_for)" = "user alice" &&
	NIXPULL_TEST_NOW=$WIN test_expect_code 0 once &&
	test "$(st .reboot.blocked_by)" = "user alice" &&
	test "$(grep -c "reboot pending (kernel): waiting for user alice$" "$TEST_DIR/once.log")" = 1
'

test_expect_success 'a greeter alone is nobody; users: ignore asks nobody' '
	jq ".[0:1]" "$R/sessions.json" >"$R/s.json" &&
	mv "$R/s.json" "$R/sessions.json" &&
	echo "[[\"shutdown\",\"backup.service\",\"nightly backup\",\"block\",0,4242]]" \
	    >"$R/inhibitors.json" &&
	NIXPULL_TEST_NOW=$WIN test_expect_code 0 once &&
	test "$(st .reboot.blocked_by)" = "inhibitor backup.service: nightly backup" &&
	rcfg "  policy: when-needed
$WINDOW
  users: ignore
  notice: 0s" &&
	n=$(ncalls) &&
	NIXPULL_TEST_NOW=$WIN test_expect_code 0 once &&
	calls_since "$n" >new &&
	test_grep_not "^loginctl" new &&
	test "$(st .reboot.blocked_by)" = "inhibitor backup.service: nightly backup"
'

test_expect_success 'a block inhibitor: deferred with who and why; delay and sleep-only ones do not count' '
	cat >"$R/inhibitors.json" <<-\JSON &&
	[["sleep","GNOME Shell","UPower is configured","block",1000,900],
	 ["shutdown:sleep","gdm","save the session","delay",60578,601],
	 ["idle:shutdown","backup.service","nightly backup","block",0,4242]]
	JSON
	NIXPULL_TEST_NOW=$WIN test_expect_code 0 once &&
	test "$(st .reboot.blocked_by)" = "inhibitor backup.service: nightly backup" &&
	test_grep "^busctl --json=short call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListInhibitors$" \
	    "$R/calls.log" &&
	test "$(nreboots)" = 0
'

test_expect_success 'pending past max_defer outside a window: overdue, still no reboot' '
	rm "$R/inhibitors.json" &&
	NIXPULL_TEST_NOW=$((T0 + 8 * DAY)) test_expect_code 0 once &&
	test "$(st .reboot.overdue)" = true &&
	test "$(st .reboot.blocked_by)" = window &&
	test "$(st .reboot.pending_since)" = "$(utc $T0)" &&
	test "$(nreboots)" = 0 &&
	status_line reboot: >line &&
	test_grep "^reboot: +pending \(kernel\) since .*, overdue; reboots in the next window" line &&
	test "$(prom nixpull_reboot_pending)" = 1 &&
	test "$(prom nixpull_reboot_overdue)" = 1
'

test_expect_success 'nixpull fleet: the overdue reboot in the table and the summary' '
	"$NIXPULL" fleet reports >out ||
	test $? = 1 &&
	# (the test clock is ahead of the real one: no age)
	test_grep "^web-1 +ok .* overdue +reboot overdue \(kernel\): window$" out &&
	test_grep "^1 hosts: .*; 1 reboots pending, 1 overdue$" out
'

test_expect_success_here 'notice: wall first, no reboot before the notice is over' '
	rcfg "  policy: when-needed
$WINDOW
  users: wait
  notice: 5m" &&
	rm "$R/sessions.json" &&
	n=$(ncalls) &&
	NIXPULL_TEST_NOW=$((WIN + 8 * DAY)) test_expect_code 0 once &&
	calls_since "$n" >new &&
	test_grep "^wall " new &&
	test_grep "reboots in 5m" "$R/wall.log" &&
	test "$(st .reboot.blocked_by)" = notice &&
	test "$(nreboots)" = 0 &&
	NIXPULL_TEST_NOW=$((WIN + 8 * DAY + 120)) test_expect_code 0 once &&
	test "$(st .reboot.blocked_by)" = notice &&
	test "$(grep -c "^wall " "$R/calls.log")" = 1 &&
	test "$(nreboots)" = 0
'

test_expect_success_here 'after the notice, inside the window: reboot.json written, then systemctl reboot' '
	TR=$((WIN + 8 * DAY + 360)) &&
	n=$(ncalls) &&
	NIXPULL_TEST_NOW=$TR test_expect_code 0 once &&
	test "$(nreboots)" = 1 &&
	calls_since "$n" | tail -n 1 >last &&
	test "$(cat last)" = "systemctl reboot" &&
	test "$(rj .into)" = "$sys2" &&
	test "$(rj .rebooting_at)" = "$TR" &&
	test "$(rj .boot_id)" = boot-1 &&
	test "$(st .reboot.blocked_by)" = rebooting
'

test_expect_success_here 'the next boot into it: confirmed, reported rebooted, nothing pending' '
	ln -sfn "$sys2" "$R/run/booted-system" &&
	n=$(ncalls) &&
	NIXPULL_TEST_NOW=$((TR + 90)) NIXPULL_TEST_BOOT_ID=boot-2 \
	    test_expect_code 0 once &&
	test "$(nreboots)" = 1 &&
	test "$(st .reboot.last.result)" = rebooted &&
	test "$(st .reboot.last.into)" = "$sys2" &&
	test "$(st .reboot.last.took_ms)" = 90000 &&
	test "$(st .reboot.last.at)" = "$(utc $((TR + 90)))" &&
	test "$(st .reboot.pending)" != true &&
	test "$(st .reboot_required)" = false &&
	test "$(rj .rebooting_at)" = 0 &&
	test "$(rj .pending_since)" = 0 &&
	status_line reboot: >line &&
	test_grep "^reboot: +not required$" line &&
	"$NIXPULL" status -c config.yaml >out &&
	test_grep "^last reboot: +$(utc $((TR + 90))) \(.*\), took 90s$" out &&
	test_grep "^ +rebooted into $sys2$" out &&
	test "$(prom nixpull_reboot_pending)" = 0 &&
	"$NIXPULL" fleet reports >out &&
	test_grep "^web-1 +ok .* no$" out &&
	test_grep_not "reboots pending" out
'

test_expect_success_here 'came back on another system: reported, not rebooted again' '
	rcfg "  policy: when-needed
$WINDOW
  notice: 0s" &&
	release "v3,kernel:3" &&
	NIXPULL_TEST_NOW=$((WIN + 9 * DAY)) NIXPULL_TEST_BOOT_ID=boot-2 \
	    test_expect_code 0 once &&
	sys3=$(current) &&
	test "$sys3" != "$sys2" &&
	test "$(nreboots)" = 2 &&
	test "$(rj .into)" = "$sys3" &&
	NIXPULL_TEST_NOW=$((WIN + 9 * DAY + 60)) NIXPULL_TEST_BOOT_ID=boot-3 \
	    test_expect_code 0 once &&
	test "$(st .reboot.last.result)" = "booted $sys2 instead" &&
	test "$(st .reboot.last.into)" = "$sys3" &&
	test "$(nreboots)" = 2 &&
	NIXPULL_TEST_NOW=$((WIN + 9 * DAY + 120)) NIXPULL_TEST_BOOT_ID=boot-3 \
	    test_expect_code 0 once &&
	test "$(nreboots)" = 2 &&
	test "$(st .reboot.pending)" != true &&
	test "$(rj .failed_into)" = "$sys3" &&
	"$NIXPULL" status -c config.yaml >out &&
	test_grep "^reboot: +required \(not retried: the last reboot came up on another system\)$" out &&
	test_grep "^ +booted $sys2 instead of $sys3$" out
'

test_done
