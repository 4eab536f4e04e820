#!/usr/bin/env bash
# The stand-ins the reboot step talks to (tests/lib/bin: loginctl, busctl,
# wall, systemctl reboot, runuser, notify-send) answer in the real
# programs' formats, driven by files under $NIXPULL_TEST_ROOT, and record
# every call; none of them reaches the real logind, switches users or
# reboots anything.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require jq
standin_env
R=$NIXPULL_TEST_ROOT

test_expect_success 'the stand-ins are first on PATH' '
	for p in loginctl busctl wall systemctl runuser notify-send; do
		test "$(command -v $p)" = "$TESTLIB_DIR/bin/$p" || exit 1
	done &&
	(unset NIXPULL_TEST_ROOT && test_expect_code 1 loginctl 2>err) &&
	test_grep "NIXPULL_TEST_ROOT is not set" err
'

test_expect_success 'loginctl list-sessions --output=json: nobody, then sessions.json' '
	loginctl list-sessions --no-legend --no-pager --output=json >out &&
	test "$(cat out)" = "[]" &&
	cat >"$R/sessions.json" <<-\JSON &&
	[{"session":"3","uid":1000,"user":"alice","seat":"seat0","leader":812,
	  "class":"user","tty":"tty2","idle":false,"since":null},
	 {"session":"c1","uid":60578,"user":"gdm","seat":"seat0","leader":601,
	  "class":"greeter","tty":null,"idle":false,"since":null}]
	JSON
	loginctl list-sessions --no-legend --no-pager --output=json >out &&
	test "$(jq -r ".[0].user, .[1].class, length" out | paste -sd " ")" = \
	    "alice greeter 2" &&
	test "$(wc -l <out)" = 1 &&
	test_grep "^loginctl list-sessions --no-legend --no-pager --output=json$" \
	    "$R/calls.log"
'

test_expect_success 'loginctl: the table, its legend, errors' '
	loginctl list-sessions >out &&
	test_grep "^SESSION +UID +USER" out &&
	test_grep "^3 1000 alice seat0 812 user tty2 false -$" out &&
	test_grep "^2 sessions listed\.$" out &&
	loginctl list-sessions --no-legend >out &&
	test_grep_not "SESSION|listed" out &&
	test_expect_code 1 loginctl frobnicate 2>err &&
	test_grep "Unknown command verb" err &&
	echo 1 >"$R/loginctl-exit" &&
	test_expect_code 1 loginctl list-sessions --output=json >out 2>err &&
	test_grep "Failed to list sessions" err &&
	test ! -s out &&
	rm "$R/loginctl-exit" "$R/sessions.json"
'

ARGS="call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListInhibitors"

test_expect_success 'busctl --json=short ListInhibitors: {"type","data"}, none, then inhibitors.json' '
	busctl --json=short $ARGS >out &&
	test "$(cat out)" = "{\"type\":\"a(ssssuu)\",\"data\":[[]]}" &&
	cat >"$R/inhibitors.json" <<-\JSON &&
	[["shutdown:sleep","backup","nightly \"full\" backup","block",0,4242],
	 ["sleep","GNOME Shell","UPower is configured","delay",1000,900]]
	JSON
	busctl --json=short $ARGS >out &&
	test "$(wc -l <out)" = 1 &&
	test "$(jq -r .type out)" = "a(ssssuu)" &&
	test "$(jq -r ".data[0][0][1], .data[0][0][3], .data[0][1][5]" out |
	    paste -sd " ")" = "backup block 900" &&
	busctl --json=pretty $ARGS | jq -e ".data[0] | length == 2" &&
	test_grep "^busctl --json=short call org.freedesktop.login1 " "$R/calls.log"
'

test_expect_success 'busctl without --json: the signature, the count, the fields' '
	busctl $ARGS >out &&
	test "$(cat out)" = "a(ssssuu) 2 \"shutdown:sleep\" \"backup\" \"nightly \\\"full\\\" backup\" \"block\" 0 4242 \"sleep\" \"GNOME Shell\" \"UPower is configured\" \"delay\" 1000 900"
'

test_expect_success 'busctl: another call fails, logind down fails' '
	test_expect_code 1 busctl --json=short call org.freedesktop.login1 \
	    /org/freedesktop/login1 org.freedesktop.login1.Manager Reboot b false 2>err &&
	test_grep "Call failed: Unknown method" err &&
	echo 1 >"$R/busctl-exit" &&
	test_expect_code 1 busctl --json=short $ARGS >out 2>err &&
	test_grep "Call failed" err &&
	test ! -s out &&
	rm "$R/busctl-exit" "$R/inhibitors.json"
'

test_expect_success 'wall: the message goes to wall.log, exit 0' '
	wall "the machine
reboots in 5m" &&
	test "$(cat "$R/wall.log")" = "wall: the machine reboots in 5m" &&
	test_grep "^wall " "$R/calls.log"
'

test_expect_success 'systemctl reboot: recorded, nothing rebooted, or refused' '
	systemctl reboot &&
	test "$(tail -n 1 "$R/calls.log")" = "systemctl reboot" &&
	test "$(cat "$R/reboots.log")" = reboot &&
	echo 1 >"$R/reboot-exit" &&
	test_expect_code 1 systemctl reboot 2>err &&
	test_grep "Call to Reboot failed" err &&
	test "$(wc -l <"$R/reboots.log")" = 1 &&
	rm "$R/reboot-exit"
'

test_expect_success 'systemctl reboot held: waits while reboot-hold exists, queues nothing when killed' '
	touch "$R/reboot-hold" &&
	(systemctl reboot & echo $! >held.pid) &&
	wait_for 10 test -s "$R/reboot-held" &&
	kill -9 "$(cat held.pid)" &&
	wait_for 10 sh -c "! kill -0 $(cat held.pid)" &&
	rm "$R/reboot-hold" "$R/reboot-held" &&
	test "$(wc -l <"$R/reboots.log")" = 1
'

test_expect_success 'loginctl show-session: the properties of a row, -p and --value' '
	cat >"$R/sessions.json" <<-\JSON &&
	[{"session":"3","uid":1000,"user":"alice","seat":"seat0","leader":812,
	  "class":"user","tty":"tty2","idle":false,"since":null,
	  "Type":"wayland"},
	 {"session":"4","uid":1001,"user":"bob","seat":null,"leader":900,
	  "class":"user","tty":"pts/0","idle":false,"since":null,
	  "Remote":true}]
	JSON
	loginctl show-session 3 -p Id -p Name -p User -p Type -p Class \
	    -p State >out &&
	printf "%s\n" Id=3 User=1000 Name=alice Type=wayland Class=user \
	    State=active >expect &&
	test_cmp expect out &&
	loginctl show-session 4 --property=Type --property=Remote >out &&
	printf "%s\n" Remote=yes Type=tty >expect &&
	test_cmp expect out &&
	test "$(loginctl show-session 3 -p Seat --value)" = seat0 &&
	loginctl show-session 4 >out &&
	test "$(wc -l <out)" = 13 &&
	loginctl list-sessions --no-legend --output=json >out &&
	test "$(jq -c ".[0] | keys_unsorted" out)" = \
	    "[\"session\",\"uid\",\"user\",\"seat\",\"leader\",\"class\",\"tty\",\"idle\",\"since\"]" &&
	test_expect_code 1 loginctl show-session 9 2>err &&
	test_grep "No session .9. known" err
'

test_expect_success 'runuser -u USER: the command runs with USER set, its status returned' '
	test "$(runuser -u alice -- sh -c "echo \$USER \$LOGNAME")" = \
	    "alice alice" &&
	test_expect_code 3 runuser -u alice -- sh -c "exit 3" &&
	echo bob >"$R/users" &&
	test_expect_code 1 runuser -u alice -- true 2>err &&
	test_grep "user alice does not exist" err &&
	rm "$R/users" &&
	test_grep "^runuser -u alice -- sh -c " "$R/calls.log"
'

test_expect_success 'notify-send: to notify.log on a bus, no bus or no summary fails' '
	DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus USER=alice \
	    notify-send --app-name=nixpull -u critical "Reboot" "in 5m" &&
	test "$(cat "$R/notify.log")" = \
	    "alice unix:path=/run/user/1000/bus | Reboot | in 5m" &&
	(unset DBUS_SESSION_BUS_ADDRESS &&
	    test_expect_code 1 notify-send "Reboot" 2>err) &&
	test_grep "Unable to autolaunch" err &&
	DBUS_SESSION_BUS_ADDRESS=x test_expect_code 1 notify-send -u low 2>err &&
	test_grep "No summary specified" err &&
	echo 2 >"$R/notify-exit" &&
	DBUS_SESSION_BUS_ADDRESS=x test_expect_code 2 notify-send "x" &&
	rm "$R/notify-exit" &&
	test "$(wc -l <"$R/notify.log")" = 2
'

test_done
