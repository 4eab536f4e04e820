#!/usr/bin/env bash
# No process outlives its test: a test script that leaves one running fails
# (and the process is killed); the test command's own check finds what the
# suite left by its marker.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require python3

alive() { kill -0 "$1" 2>/dev/null; }

test_expect_success 'a script that leaves a process running fails, and it is killed' '
	cat >leaky.sh <<-\EOS &&
	. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
	test_expect_success "starts a process and forgets it" "
		sleep 300 </dev/null >/dev/null 2>&1 &
		echo \$! >\"$1\"
	"
	test_done
	EOS
	test_expect_code 1 bash leaky.sh "$TEST_DIR/leak.pid" >out &&
	pid=$(cat leak.pid) &&
	test_grep "^not ok 2 - every process the script started has ended" out &&
	test_grep "left running \(killed\): $pid sleep 300" out &&
	wait_for 5 eval "! alive $pid"
'

test_expect_success 'a process registered with test_atexit inside a test body is ended' '
	cat >tidy.sh <<-\EOS &&
	. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
	test_expect_success "starts a process and registers it" "
		sleep 300 </dev/null >/dev/null 2>&1 &
		echo \$! >\"$1\" &&
		test_atexit \"kill \$!\"
	"
	test_done
	EOS
	bash tidy.sh "$TEST_DIR/tidy.pid" >out &&
	test_grep "^ok 2 - every process the script started has ended" out &&
	wait_for 5 eval "! alive $(cat tidy.pid)"
'

test_expect_success 'the suite check finds a process by its marker, not its name' '
	(
		. "$NIXPULL_SRCDIR/scripts/lib/leftovers.sh"
		suite_mark
		sleep 300 </dev/null >/dev/null 2>&1 &
		echo $! >marked.pid
		NIXPULL_SUITE_MARK=other sleep 300 </dev/null >/dev/null 2>&1 &
		echo $! >other.pid
		test_must_fail suite_leftovers >found
	) &&
	test_grep "^left running by the suite \(killed\): $(cat marked.pid) sleep 300" found &&
	test_grep_not "^left running.*: $(cat other.pid) " found &&
	wait_for 5 eval "! alive $(cat marked.pid)" &&
	alive "$(cat other.pid)" &&
	kill "$(cat other.pid)"
'

test_done
