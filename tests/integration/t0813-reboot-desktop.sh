#!/usr/bin/env bash
# The reboot notice on the desktop (issue 12, reboot.notice: "a desktop
# notification where one can be sent") through `nixpull once` with real
# Nix: besides wall, each person with a graphical session (logind: Type
# x11/wayland/mir, class user, not closing) gets one notify-send, run as
# that user on the user's bus (runuser -u NAME -- env
# DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/UID/bus notify-send ...);
# terminals, greeters and closing sessions get none; no notify-send on
# PATH sends nothing and says nothing; a notify-send that fails is logged
# and the reboot still follows the notice.  Stand-ins (tests/lib/bin):
# loginctl (list-sessions, show-session), runuser, notify-send, wall,
# systemctl; the clock is NIXPULL_TEST_NOW.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
. "$TESTLIB_DIR/reboot.sh"
e2e_init web-1
e2e_machine 4 16GiB

reboot_clock

e2e_config "  profile: server" \
    "  profile: $R/nix/var/nix/profiles/system" "reboot:
  policy: when-needed
  users: ignore
  notice: 5m
  windows:
    - { days: \"*\", start: \"02:00\", length: 1h }
  tz: UTC"

# The stand-ins without notify-send, for an agent that finds none.
mkdir nonotify
for f in "$TESTLIB_DIR"/bin/*; do
	[ "${f##*/}" = notify-send ] || ln -s "$f" nonotify/
done
NONOTIFY_PATH=$TEST_DIR/nonotify:${PATH//$TESTLIB_DIR\/bin:/}

nnotes() { if [ -f "$R/notify.log" ]; then wc -l <"$R/notify.log"; else echo 0; fi; }
SUMMARY="This machine reboots in 5m"
BODY="nixpull installed a new system that needs a reboot. Save your work."

test_expect_success_here 'a kernel change pending, people logged in' '
	deploy_v1 &&
	ln -s "$sys1" "$R/run/booted-system" &&
	cat >"$R/sessions.json" <<-\JSON &&
	[{"session":"c1","uid":60578,"user":"gdm","seat":"seat0","leader":601,
	  "class":"greeter","tty":null,"idle":false,"since":null,
	  "Type":"wayland"},
	 {"session":"2","uid":1000,"user":"alice","seat":"seat0","leader":812,
	  "class":"user","tty":"tty2","idle":false,"since":null,
	  "Type":"wayland"},
	 {"session":"4","uid":1001,"user":"bob","seat":null,"leader":1500,
	  "class":"user","tty":"pts/0","idle":false,"since":null,
	  "Remote":true,"Service":"sshd"},
	 {"session":"5","uid":1000,"user":"alice","seat":null,"leader":1633,
	  "class":"user","tty":null,"idle":false,"since":null,
	  "Type":"x11","Remote":true,"Service":"xrdp-sesman"},
	 {"session":"7","uid":1002,"user":"carol","seat":"seat0","leader":1700,
	  "class":"user","tty":"tty3","idle":false,"since":null,
	  "Type":"x11","state":"closing"}]
	JSON
	release "v2,kernel:2" &&
	test_expect_code 0 once &&
	test "$(st .reboot.pending)" = true &&
	test "$(st .reboot.blocked_by)" = window
'

test_expect_success 'no notify-send on PATH: wall alone, nothing else asked' '
	n=$(ncalls) &&
	PATH=$NONOTIFY_PATH NIXPULL_TEST_NOW=$WIN test_expect_code 0 once &&
	calls_since "$n" >new &&
	test "$(grep -c "^wall " new)" = 1 &&
	test_grep_not "^(loginctl|runuser|notify-send)" new &&
	test "$(nnotes)" = 0 &&
	test "$(st .reboot.blocked_by)" = notice &&
	test_grep_not "desktop notice" "$TEST_DIR/once.log"
'

test_expect_success 'the next notice: one notification for alice, on her bus, none for the terminal, the greeter or the closing session' '
	NIXPULL_TEST_NOW=$((T0 + DAY)) test_expect_code 0 once &&
	test "$(st .reboot.blocked_by)" = window &&
	n=$(ncalls) &&
	NIXPULL_TEST_NOW=$((WIN + DAY)) test_expect_code 0 once &&
	calls_since "$n" >new &&
	show() {
		call_line loginctl show-session "$1" --no-pager \
		    -p Id -p Name -p User -p Type -p Class -p State
	} &&
	{
		call_line busctl --json=short call org.freedesktop.login1 \
		    /org/freedesktop/login1 org.freedesktop.login1.Manager \
		    ListInhibitors &&
		call_line wall "nixpull: this machine reboots in 5m into a new system ($(current)); save your work" &&
		call_line loginctl list-sessions --no-legend --no-pager \
		    --output=json &&
		show c1 && show 2 &&
		call_line runuser -u alice -- env \
		    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus \
		    "$TESTLIB_DIR/bin/notify-send" --app-name=nixpull \
		    --urgency=critical --icon=system-reboot "$SUMMARY" "$BODY" &&
		call_line notify-send --app-name=nixpull --urgency=critical \
		    --icon=system-reboot "$SUMMARY" "$BODY" &&
		show 4 && show 5 && show 7
	} >expect &&
	test_cmp expect new &&
	echo "alice unix:path=/run/user/1000/bus | $SUMMARY | $BODY" >expect &&
	test_cmp expect "$R/notify.log" &&
	test_grep "desktop notice sent to alice \(session 2\)" \
	    "$TEST_DIR/once.log" &&
	test "$(st .reboot.blocked_by)" = notice &&
	test "$(nreboots)" = 0
'

test_expect_success 'a notify-send that fails: logged, the notice counts, the reboot follows it' '
	NIXPULL_TEST_NOW=$((T0 + 2 * DAY)) test_expect_code 0 once &&
	echo 1 >"$R/notify-exit" &&
	NIXPULL_TEST_NOW=$((WIN + 2 * DAY)) test_expect_code 0 once &&
	test "$(nnotes)" = 2 &&
	test_grep "desktop notice for alice \(session 2\): .*notify-send.* 1" \
	    "$TEST_DIR/once.log" &&
	test "$(st .reboot.blocked_by)" = notice &&
	test "$(nreboots)" = 0 &&
	NIXPULL_TEST_NOW=$((WIN + 2 * DAY + 360)) test_expect_code 0 once &&
	test "$(nreboots)" = 1 &&
	test "$(nnotes)" = 2
'

test_done
