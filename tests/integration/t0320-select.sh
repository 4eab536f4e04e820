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

test_done
