#!/bin/bash
# k-of-n trust through the CLI: `nixpull verify` says whether the agent
# would deploy a commit, counting its signature and the signed tags at it
# (distinct keys, tags only under their own name).  The walk, rollback and
# floor rules are covered by tests/unit/test_select.c over a real repository.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require git ssh-keygen

R=$TEST_DIR/repo
A=$TEST_DIR/allowed

# deploy_line REV: the "deploy:" line nixpull verify prints (threshold 2)
deploy_line() {
	"$NIXPULL" verify -c "$TEST_DIR/config.yaml" "$1" >"$TEST_DIR/out" ||
		true
	grep "^deploy:" "$TEST_DIR/out"
}

test_expect_success_here 'two trusted keys, one untrusted, a mirror' '
	signing_keygen alice && signing_keygen bob && signing_keygen eve &&
	signing_allow "$A" alice@example.com alice &&
	signing_allow "$A" bob@example.com bob &&
	signing_repo_init "$R" alice &&
	signed_commit "$R" one &&
	ONE=$(git -C "$R" rev-parse HEAD) &&
	signed_commit "$R" two &&
	TWO=$(git -C "$R" rev-parse HEAD) &&
	unsigned_commit "$R" three &&
	THREE=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_tag "$R" r1 "$ONE" &&
	signed_tag "$R" r2 "$TWO" &&
	SIGNING_KEY=eve signed_tag "$R" r2-eve "$TWO" &&
	SIGNING_KEY=bob signed_tag "$R" r3 "$THREE" &&
	SIGNING_KEY=bob signed_tag "$R" r3b "$THREE" &&
	SIGNING_KEY=bob signed_tag "$R" moved "$TWO" &&
	git -C "$R" update-ref refs/tags/elsewhere refs/tags/moved &&
	git -C "$R" tag -d moved >/dev/null &&
	mkdir -p "$TEST_DIR/state" &&
	git clone -q --mirror "$R" "$TEST_DIR/state/mirror.git" &&
	cat >"$TEST_DIR/config.yaml" <<-EOF
	repo:
	  url: file://$R
	trust:
	  allowed_signers: $A
	  threshold: 2
	state_dir: $TEST_DIR/state
	EOF
'

test_expect_success 'commit by alice + tag by bob: 2 of 2' '
	test "$(deploy_line "$ONE")" = \
	    "deploy: yes (2 distinct keys, threshold 2)"
'

test_expect_success 'same key twice counts once; an untrusted tag not at all' '
	test "$(deploy_line "$TWO")" = "deploy: no (1 of 2 required distinct keys, counting 1 signed tag)"
'

test_expect_success 'a re-pointed tag ref is refused' '
	test_expect_code 1 "$NIXPULL" verify -c "$TEST_DIR/config.yaml" \
	    elsewhere >"$TEST_DIR/out" 2>&1 &&
	test_grep "tag .moved. is under ref .refs/tags/elsewhere." \
	    "$TEST_DIR/out"
'

test_expect_success 'two tags by the same key on an unsigned commit: 1 key' '
	test "$(deploy_line "$THREE")" = "deploy: no (1 of 2 required distinct keys, counting 2 signed tags)" &&
	test_expect_code 1 "$NIXPULL" verify -c "$TEST_DIR/config.yaml" \
	    "$THREE"
'

test_expect_success 'threshold 1: an unsigned commit with a signed tag deploys' '
	sed "s/threshold: 2/threshold: 1/" "$TEST_DIR/config.yaml" \
	    >"$TEST_DIR/k1.yaml" &&
	"$NIXPULL" verify -c "$TEST_DIR/k1.yaml" "$THREE" >"$TEST_DIR/out" ||
	    true &&
	test_grep "^deploy: yes \(by a signed tag\)$" "$TEST_DIR/out" &&
	test_grep "rejected: no signature" "$TEST_DIR/out"
'

# Denial of service without any key (issue 10): a server offering many tag
# refs that all point at one huge tag object (compressed to almost nothing)
# made selection read and parse it once per ref.  Now a tag object's size
# is read from its header first: one over MAX_TAG_OBJECT_SIZE is ignored
# with a warning, never read nor parsed, and one object is looked at once
# however many refs point at it.
test_expect_success_here 'a mirror with 200 refs to one 16 MiB tag object' '
	git clone -q --mirror "$R" "$TEST_DIR/big.git" &&
	{ printf "object %s\ntype commit\ntag big\n" "$THREE" &&
	  printf "tagger T <t@example.com> 1700000000 +0000\n\n" &&
	  head -c 16777216 /dev/zero | tr "\0" x; } >"$TEST_DIR/bigtag" &&
	BIG=$(git -C "$TEST_DIR/big.git" hash-object -t tag --literally -w \
	    "$TEST_DIR/bigtag") &&
	rm -f "$TEST_DIR/bigtag" &&
	for i in $(seq 1 200); do
		echo "create refs/tags/big$i $BIG" || return 1
	done | git -C "$TEST_DIR/big.git" update-ref --stdin &&
	git -C "$TEST_DIR/big.git" gc -q &&
	test "$(git -C "$TEST_DIR/big.git" tag | wc -l)" -ge 200 &&
	sed "s|$TEST_DIR/state|$TEST_DIR/bigstate|" "$TEST_DIR/k1.yaml" \
	    >"$TEST_DIR/big.yaml" &&
	mkdir -p "$TEST_DIR/bigstate" &&
	mv "$TEST_DIR/big.git" "$TEST_DIR/bigstate/mirror.git"
'

test_expect_success 'the huge tag is ignored with a warning; the verdict stands' '
	"$NIXPULL" verify -c "$TEST_DIR/big.yaml" "$THREE" \
	    >"$TEST_DIR/out" 2>&1 || true &&
	test_grep "ignoring tag object $BIG under .refs/tags/big1. .and any other ref to it.: [0-9]* bytes is larger than 262144 bytes" \
	    "$TEST_DIR/out" &&
	test "$(grep -c "ignoring tag object" "$TEST_DIR/out")" = 1 &&
	test_grep "^deploy: yes \(by a signed tag\)$" "$TEST_DIR/out" &&
	"$NIXPULL" verify -c "$TEST_DIR/big.yaml" "$ONE" \
	    >"$TEST_DIR/out" 2>&1 &&
	test_grep "^deploy: yes" "$TEST_DIR/out"
'

test_expect_success 'the huge tag itself is refused by its size, never parsed' '
	test_expect_code 1 "$NIXPULL" verify -c "$TEST_DIR/big.yaml" big7 \
	    >"$TEST_DIR/out" 2>&1 &&
	test_grep "tag object .$BIG. of [0-9]* bytes is larger than 262144 bytes" \
	    "$TEST_DIR/out"
'

test_done
