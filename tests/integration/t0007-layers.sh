#!/usr/bin/env bash
# The library's layers point one way and nothing includes itself around in
# a circle (tests/lib/layers.py): common/util uses nothing above it, trust
# and transport only util, model any of them, and no file of common/
# includes an agent/ header.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require python3

layers() { python3 "$TESTLIB_DIR/layers.py" "$@"; }

test_expect_success 'the source tree: no layer violation, no include cycle' '
	layers "$NIXPULL_SRCDIR" >out || { cat out; false; }
'

# tree: a small tree of common/ and agent/ to plant violations in.
tree() {
	rm -rf t && mkdir -p t/common/util t/common/trust t/common/transport \
	    t/common/model t/agent &&
	for m in util/buf trust/sshsig transport/git model/config agent/cycle; do
		printf '#include "buf.h"\n' >"t/common/$m.c" 2>/dev/null ||
		    printf '#include "buf.h"\n' >"t/$m.c"
		: >"t/common/$m.h" 2>/dev/null || : >"t/$m.h"
	done
	: >t/common/util/buf.c
}

test_expect_success 'a clean small tree passes' '
	tree && layers t
'

test_expect_success 'util including a model header is caught, with file:line' '
	tree &&
	printf "#include <stdio.h>\n#include \"config.h\"\n" >t/common/util/buf.c &&
	test_must_fail layers t >out &&
	test_grep "^common/util/buf.c:2: common/util includes config.h of common/model$" out
'

test_expect_success 'transport including trust, and common including agent/, are caught' '
	tree &&
	printf "#include \"sshsig.h\"\n" >>t/common/transport/git.c &&
	printf "#include \"cycle.h\"\n" >>t/common/model/config.c &&
	test_must_fail layers t >out &&
	test_grep "common/transport includes sshsig.h of common/trust" out &&
	test_grep "common/model includes cycle.h of agent" out
'

test_expect_success 'two modules including each other: an include cycle' '
	tree &&
	printf "#include \"select.h\"\n" >t/agent/cycle.c &&
	printf "#include \"cycle.h\"\n" >t/agent/select.c && : >t/agent/select.h &&
	test_must_fail layers t >out &&
	test_grep "^include cycle: cycle -> select -> cycle$" out
'

test_expect_success 'a step including publish.h (the status document) is caught' '
	tree &&
	printf "#include \"buf.h\"\n#include \"publish.h\"\n" >t/agent/select.c &&
	test_must_fail layers t >out &&
	test_grep "^agent/select.c:2: a step includes publish.h: only the driver \(cycle.c\) writes the status document$" out &&
	tree &&
	printf "#include \"publish.h\"\n" >>t/agent/cycle.c &&
	: >t/agent/publish.h &&
	layers t
'

test_expect_success 'the parts of one module may share a private header' '
	tree &&
	printf "#include \"config_int.h\"\n" >t/common/model/config.c &&
	printf "#include \"config.h\"\n" >t/common/model/config_int.h &&
	printf "#include \"config_int.h\"\n" >t/common/model/config_set.c &&
	layers t
'

test_done
