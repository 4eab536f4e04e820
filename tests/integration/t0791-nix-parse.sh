#!/usr/bin/env bash
# Every tracked .nix file is Nix: `nix-instantiate --parse` accepts each
# file `git ls-files '*.nix'` lists.  Templates that are not Nix until a
# script fills them in are named *.nix.in (tests/bench/tuning-flake).
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

test_require nix-instantiate git

# parse_all REPO: parses every .nix file tracked in REPO; prints one line
# per file that does not parse, naming it, and fails if there was one.
# Prints the number of files parsed to fd 3.
parse_all() {
	local repo=$1 f n=0 bad=0
	while IFS= read -r -d '' f; do
		n=$((n + 1))
		if ! nix-instantiate --parse "$repo/$f" >/dev/null 2>"$TEST_DIR/parse.err"; then
			echo "$f: does not parse: $(grep -m1 error "$TEST_DIR/parse.err")"
			bad=$((bad + 1))
		fi
	done < <(git -C "$repo" ls-files -z '*.nix')
	echo "$n" >&3
	test "$bad" -eq 0
}

if git -C "$NIXPULL_SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
	test_expect_success 'every tracked .nix file parses' '
		parse_all "$NIXPULL_SRCDIR" 3>count &&
		say "$(cat count) files" &&
		test "$(cat count)" -ge 5
	'
else
	test_count=$((test_count + 1))
	echo "ok $test_count # SKIP every tracked .nix file parses: $NIXPULL_SRCDIR is not a git work tree (git ls-files has nothing to list)"
fi

test_expect_success 'the check fails and names the file that does not parse' '
	git init -q scratch &&
	mkdir scratch/sub &&
	echo "{ a = 1; }" >scratch/good.nix &&
	echo "{ x = @SCALE@; }" >scratch/sub/template.nix &&
	echo "{ x = @SCALE@; }" >scratch/sub/template.nix.in &&
	echo "{ b = 2; }" >scratch/untracked.nix &&
	git -C scratch add good.nix sub/template.nix sub/template.nix.in &&
	test_must_fail parse_all scratch 3>count >out &&
	cat out &&
	test "$(cat count)" = 2 &&
	test "$(wc -l <out)" -eq 1 &&
	test_grep "^sub/template.nix: does not parse: .*error" out
'

test_expect_success 'the tuning benchmark template parses once filled in' '
	sed -e "s/@SYSTEM@/x86_64-linux/" -e "s/@SCALE@/1/" \
	    "$NIXPULL_SRCDIR/tests/bench/tuning-flake/flake.nix.in" >flake.nix &&
	test_must_fail grep -q @ flake.nix &&
	nix-instantiate --parse flake.nix >/dev/null
'

test_done
