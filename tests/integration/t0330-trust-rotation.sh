#!/bin/bash
# trust.follow_repo (issue 15): signers kept in the repository, rotated only
# by a commit that a threshold of the previous signers and of the new file
# signed, with a version that grows; revocations from that commit on;
# trust rollback and expiry.  Through `nixpull verify`, which walks the
# chain as the fetcher does, from the deployed revision of the state
# directory (the same select_release() the fetcher runs).  Last, every
# single signature of the histories built here is checked against git's
# own verification under the trust files in effect (tests/lib/trust_oracle.sh).
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/trust_oracle.sh"
test_require git ssh-keygen

R=$TEST_DIR/repo
A=$TEST_DIR/allowed
S=$TEST_DIR/state
T=.nixpull/trust.yaml
AS=.nixpull/allowed_signers

# verify REV [CONFIG]: nixpull verify's output in $TEST_DIR/out
verify() {
	"$NIXPULL" verify -c "${2:-$TEST_DIR/config.yaml}" --repo "$R" "$1" \
	    >"$TEST_DIR/out" 2>&1 || true
}

# allowed NAME...: an allowed_signers file for NAME@example.com keys
allowed() {
	local n f=$TEST_DIR/a.tmp
	: >"$f"
	for n; do signing_allow "$f" "$n@example.com" "$n" || return 1; done
	cat "$f"
}

pubkey() {
	cut -d" " -f1,2 "$TEST_DIR/keys/$1.pub"
}

# rotate MSG VERSION THRESHOLD NAME... : stage both trust files (no commit)
rotate_stage() {
	local v=$1 k=$2
	shift 2
	mkdir -p "$R/.nixpull" &&
	allowed "$@" >"$R/$AS" &&
	printf "version: %s\nthreshold: %s\n%s" "$v" "$k" "${EXTRA:-}" \
	    >"$R/$T" &&
	git -C "$R" add .nixpull
}

deployed() {
	mkdir -p "$S" && printf '{"rev": "%s"}\n' "$1" >"$S/deployed.json"
}

test_expect_success_here 'keys, a pinned root of alice, a deployed base' '
	for k in alice bob carol dave eve; do signing_keygen $k || return 1; done &&
	signing_allow "$A" alice@example.com alice &&
	signing_repo_init "$R" alice &&
	signed_commit "$R" base &&
	BASE=$(git -C "$R" rev-parse HEAD) &&
	deployed "$BASE" &&
	cat >"$TEST_DIR/config.yaml" <<-EOF
	repo:
	  url: file://$R
	trust:
	  allowed_signers: $A
	  follow_repo: true
	state_dir: $S
	EOF
'

test_expect_success_here 'a rotation adding bob, signed by alice only: rejected' '
	git -C "$R" checkout -q -b lonely &&
	rotate_stage 1 1 alice bob &&
	git -C "$R" commit -q -S -m "add bob, alice only" &&
	LONELY=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_commit "$R" "release by bob" &&
	verify "$LONELY" &&
	test_grep "^trust: rejected: trust change in $LONELY adds the key of bob@example.com \(SHA256:[^)]*\), which did not sign it$" "$TEST_DIR/out" &&
	test_grep "^deploy: no" "$TEST_DIR/out" &&
	verify HEAD &&
	test_grep "^deploy: no" "$TEST_DIR/out" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'signed by alice (commit) and bob (tag): accepted' '
	rotate_stage 1 1 alice bob &&
	git -C "$R" commit -q -S -m "add bob" &&
	ROT1=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_tag "$R" rot1-bob &&
	verify "$ROT1" &&
	test_grep "^trust: version 1 at $ROT1: signed by alice@example.com, bob@example.com \(previous signers 1 of 1, new signers 2 of 1\)$" "$TEST_DIR/out" &&
	test_grep "^deploy: yes \(trust version 1\)$" "$TEST_DIR/out"
'

test_expect_success_here 'a later release by bob alone deploys' '
	SIGNING_KEY=bob signed_commit "$R" "release by bob" &&
	REL1=$(git -C "$R" rev-parse HEAD) &&
	verify "$REL1" &&
	test_grep "^deploy: yes \(trust version 1\)$" "$TEST_DIR/out" &&
	SIGNING_KEY=eve signed_commit "$R" "release by eve" &&
	verify HEAD &&
	test_grep "^deploy: no" "$TEST_DIR/out" &&
	git -C "$R" reset -q --hard "$REL1"
'

test_expect_success_here 'an unsigned change of the trust file: the trust stays' '
	git -C "$R" checkout -q -b unsigned &&
	printf "version: 9\nthreshold: 1\n" >"$R/$T" &&
	unsigned_commit "$R" "sneaky" "$T" "$(cat "$R/$T")" &&
	U=$(git -C "$R" rev-parse HEAD) &&
	verify "$U" &&
	test_grep "^trust: rejected: trust change in $U is signed by 0 of the 1 required previous signers$" "$TEST_DIR/out" &&
	test_grep "^deploy: no" "$TEST_DIR/out" &&
	verify "$REL1" &&
	test_grep "^deploy: yes \(trust version 1\)$" "$TEST_DIR/out" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'threshold 2 of 3: carol proves her key; one old key suffices (1 of 1)' '
	rotate_stage 2 2 alice bob carol &&
	SIGNING_KEY=carol git -C "$R" -c user.signingkey="$TEST_DIR/keys/carol" commit -q -S -m "add carol, threshold 2" &&
	ROT2=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_tag "$R" rot2-bob &&
	verify "$ROT2" &&
	test_grep "^trust: version 2 at $ROT2" "$TEST_DIR/out" &&
	test_grep "^deploy: yes \(trust version 2\)$" "$TEST_DIR/out"
'

test_expect_success_here 'under threshold 2: a release by one key is not enough, two are' '
	signed_commit "$R" "release 2" &&
	REL2=$(git -C "$R" rev-parse HEAD) &&
	verify "$REL2" &&
	test_grep "^deploy: no" "$TEST_DIR/out" &&
	SIGNING_KEY=bob signed_tag "$R" rel2-bob &&
	verify "$REL2" &&
	test_grep "^deploy: yes \(trust version 2\)$" "$TEST_DIR/out"
'

test_expect_success_here 'a stolen key alone cannot rotate (1 of the 2 previous signers)' '
	git -C "$R" checkout -q -b stolen &&
	rotate_stage 3 1 alice bob carol eve &&
	SIGNING_KEY=eve signed_tag "$R" eve-tag HEAD &&
	git -C "$R" commit -q -S -m "eve sneaks in" &&
	EV=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=eve signed_tag "$R" ev-eve &&
	verify "$EV" &&
	test_grep "^trust: rejected: trust change in $EV is signed by 1 of the 2 required previous signers$" "$TEST_DIR/out" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'one key under two principals and two signatures counts once' '
	git -C "$R" checkout -q -b twice &&
	rotate_stage 3 2 alice bob carol &&
	signing_allow "$R/$AS" alice2@example.com alice &&
	git -C "$R" add .nixpull &&
	git -C "$R" commit -q -S -m "alice twice" &&
	TW=$(git -C "$R" rev-parse HEAD) &&
	signed_tag "$R" tw-alice &&
	verify "$TW" &&
	test_grep "^trust: rejected: trust change in $TW is signed by 1 of the 2 required previous signers$" "$TEST_DIR/out" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'a version that does not grow is rejected' '
	git -C "$R" checkout -q -b same &&
	rotate_stage 2 1 alice bob carol &&
	git -C "$R" commit -q -S -m "same version" &&
	SV=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_tag "$R" sv-bob &&
	verify "$SV" &&
	test_grep "^trust: rejected: trust change in $SV does not raise the version \(2 after 2\)$" "$TEST_DIR/out" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'carol removed and revoked: her signatures no longer count' '
	EXTRA="revoked:
  - $(pubkey carol) carol
" rotate_stage 3 2 alice bob &&
	git -C "$R" commit -q -S -m "revoke carol" &&
	ROT3=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_tag "$R" rot3-bob &&
	verify "$ROT3" &&
	test_grep "^deploy: yes \(trust version 3\)$" "$TEST_DIR/out" &&
	SIGNING_KEY=carol signed_commit "$R" "carol releases" &&
	CR=$(git -C "$R" rev-parse HEAD) &&
	signed_tag "$R" cr-alice &&
	verify "$CR" &&
	test_grep "^deploy: no" "$TEST_DIR/out"
'

test_expect_success_here 'a revoked key cannot sign the rotation that re-adds it' '
	git -C "$R" checkout -q -b readd &&
	EXTRA="revoked:
  - $(pubkey carol)
" rotate_stage 4 2 alice bob carol &&
	git -C "$R" -c user.signingkey="$TEST_DIR/keys/carol" commit -q -S -m "carol is back" &&
	RA=$(git -C "$R" rev-parse HEAD) &&
	signed_tag "$R" ra-alice &&
	verify "$RA" &&
	test_grep "^trust: rejected: trust change in $RA is signed by 1 of the 2 required previous signers$" "$TEST_DIR/out" &&
	rotate_stage 4 2 alice bob carol &&
	git -C "$R" commit -q -S -m "carol is back, revocation dropped" &&
	RB=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_tag "$R" rb-bob &&
	SIGNING_KEY=carol signed_tag "$R" rb-carol &&
	verify "$RB" &&
	test_grep "^trust: rejected: trust change in $RA" "$TEST_DIR/out" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'trust rollback: an older trust version is refused even when signed' '
	git -C "$R" checkout -q -b old "$REL1" &&
	SIGNING_KEY=bob signed_commit "$R" "old line, signed by bob" &&
	OLD=$(git -C "$R" rev-parse HEAD) &&
	git -C "$R" checkout -q main &&
	rm -f "$S/deployed.json" &&
	printf "{\"rev\": \"%s\", \"version\": 3}\n" "$ROT3" >"$S/trust.json" &&
	verify "$OLD" &&
	test_grep "^deploy: no \(refusing trust rollback: $OLD is under trust version 1, older than the recorded version 3\)$" "$TEST_DIR/out"
'

test_expect_success_here 'a lost state directory falls back to the pinned root' '
	rm -f "$S/trust.json" &&
	verify "$OLD" &&
	test_grep "^trust: version 0: the pinned" "$TEST_DIR/out" &&
	test_grep "^deploy: yes \(trust version 1\)$" "$TEST_DIR/out" &&
	deployed "$BASE"
'

test_expect_success_here 'expired trust refuses new releases; on_expired: warn deploys' '
	git -C "$R" checkout -q -b expiring "$REL1" &&
	EXTRA="expires: 2001-01-01T00:00:00Z
" rotate_stage 2 1 alice bob &&
	git -C "$R" commit -q -S -m "expiring" &&
	SIGNING_KEY=bob signed_tag "$R" exp-bob &&
	signed_commit "$R" "release under expired trust" &&
	EXP=$(git -C "$R" rev-parse HEAD) &&
	verify "$EXP" &&
	test_grep "^deploy: no \(trust-expired: trust version 2 expired at 2001-01-01T00:00:00Z: refusing $EXP\)$" "$TEST_DIR/out" &&
	sed "s/follow_repo: true/follow_repo: true\n  on_expired: warn/" \
	    "$TEST_DIR/config.yaml" >"$TEST_DIR/warn.yaml" &&
	verify "$EXP" "$TEST_DIR/warn.yaml" &&
	test_grep "^deploy: yes \(trust version 2, expired\)$" "$TEST_DIR/out" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'oracle: every signature of these histories agrees with git verify-commit / verify-tag under the trust files in effect' '
	trust_oracle "$R" "$A"
'

test_done
