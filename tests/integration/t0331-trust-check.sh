#!/bin/bash
# nixpull trust check (issue 15): before pushing, is a prepared rotation of
# the repository's trust files signed well enough under the rotation rule,
# and who still has to sign it (principal, fingerprint, how).  Drives
# agent/cmd_trust.c over the fetcher's trust_chain_build(); keys from
# ssh-keygen, signatures from git.  Also: nixpull verify applies the
# host's trust.revoked_keys to the repository's signers, as the fetcher
# does (agent/cmd_verify.c).
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/trust_oracle.sh"
test_require git ssh-keygen

R=$TEST_DIR/repo
A=$TEST_DIR/allowed
T=.nixpull/trust.yaml
AS=.nixpull/allowed_signers
OUT=$TEST_DIR/out

# check [ARGS...]: nixpull trust check -c config --repo R ARGS; stdout and
# stderr in $OUT, the exit status in $rc
check() {
	rc=0
	"$NIXPULL" trust check -c "$TEST_DIR/config.yaml" --repo "$R" "$@" \
	    >"$OUT" 2>&1 || rc=$?
}

# fpr NAME: the key's fingerprint as an extended regular expression
fpr() { ssh-keygen -lf "$TEST_DIR/keys/$1.pub" | cut -d" " -f2 | sed "s/[+.]/\\\\&/g"; }
pubkey() { cut -d" " -f1,2 "$TEST_DIR/keys/$1.pub"; }

# rotate_stage VERSION THRESHOLD NAME...: both trust files, staged
rotate_stage() {
	local v=$1 k=$2 n
	shift 2
	mkdir -p "$R/.nixpull" && : >"$R/$AS" || return 1
	for n; do signing_allow "$R/$AS" "$n@example.com" "$n" || return 1; done
	printf "version: %s\nthreshold: %s\n%s" "$v" "$k" "${EXTRA:-}" \
	    >"$R/$T" &&
	git -C "$R" add .nixpull
}

# oracle ALLOWED REV [TAG]: git itself accepts the commit (and the tag)
# under the allowed_signers file ALLOWED
oracle() {
	git -C "$R" -c gpg.ssh.allowedSignersFile="$1" verify-commit "$2" \
	    >/dev/null 2>&1 &&
	{ [ -z "${3:-}" ] ||
	  git -C "$R" -c gpg.ssh.allowedSignersFile="$1" verify-tag "$3" \
	    >/dev/null 2>&1; }
}

test_expect_success_here 'keys, a pinned root of alice, a signed base' '
	for k in alice bob carol dave; do signing_keygen $k || return 1; done &&
	signing_allow "$A" alice@example.com alice &&
	signing_repo_init "$R" alice &&
	signed_commit "$R" base &&
	BASE=$(git -C "$R" rev-parse HEAD) &&
	cat >"$TEST_DIR/config.yaml" <<-EOF
	repo:
	  url: file://$R
	trust:
	  allowed_signers: $A
	  follow_repo: true
	state_dir: $TEST_DIR/state
	EOF
'

test_expect_success_here 'a commit that changes no trust file: checked as a release' '
	check &&
	test $rc = 0 &&
	test_grep "^release: $BASE changes no trust file$" "$OUT" &&
	test_grep "^trust: version 0 \(the pinned trust.allowed_signers\), threshold 1$" "$OUT" &&
	test_grep "^signers: 1 of 1: alice@example.com$" "$OUT"
'

test_expect_success_here 'a rotation adding bob, signed by alice only: bob must sign' '
	rotate_stage 1 1 alice bob &&
	git -C "$R" commit -q -S -m "add bob" &&
	ROT1=$(git -C "$R" rev-parse HEAD) &&
	check "$ROT1" &&
	test $rc = 1 &&
	test_grep "^rotation: $ROT1$" "$OUT" &&
	test_grep "^previous trust: version 0 \(the pinned trust.allowed_signers\), threshold 1$" "$OUT" &&
	test_grep "^new trust: version 1, threshold 1$" "$OUT" &&
	test_grep "^previous signers: 1 of 1: alice@example.com$" "$OUT" &&
	test_grep "^needs: bob@example.com $(fpr bob) \(a new key: it must sign\)$" "$OUT" &&
	test_grep_not "^needs: .*alice" "$OUT" &&
	test_grep "^to sign: git tag -s NAME -m NAME $ROT1 " "$OUT" &&
	test_grep "^rejected: trust change in $ROT1 adds the key of bob@example.com \($(fpr bob)\), which did not sign it$" "$OUT"
'

test_expect_success_here 'the default revision is HEAD and the default repository the current directory' '
	rc=0 &&
	(cd "$R/.nixpull" && "$NIXPULL" trust check -c "$TEST_DIR/config.yaml") \
	    >"$OUT" 2>&1 || rc=$? &&
	test $rc = 1 &&
	test_grep "^rotation: $ROT1$" "$OUT"
'

test_expect_success_here 'bob signs a tag at it: accepted, and git agrees with each signature' '
	SIGNING_KEY=bob signed_tag "$R" rot1-bob "$ROT1" &&
	check "$ROT1" &&
	test $rc = 0 &&
	test_grep "^new signers: 2 of 1: alice@example.com, bob@example.com$" "$OUT" &&
	test_grep_not "^needs:" "$OUT" &&
	test_grep "^accepted: trust version 1 from $ROT1$" "$OUT" &&
	oracle "$A" "$ROT1" &&
	oracle "$R/$AS" "$ROT1" rot1-bob
'

test_expect_success_here 'threshold 2 of 3 at version 2: carol, a new key, and nobody else' '
	rotate_stage 2 2 alice bob carol &&
	git -C "$R" commit -q -S -m "add carol, threshold 2" &&
	ROT2=$(git -C "$R" rev-parse HEAD) &&
	check &&
	test $rc = 1 &&
	test_grep "^previous trust: version 1, threshold 1$" "$OUT" &&
	test_grep "^new signers: 1 of 2: alice@example.com$" "$OUT" &&
	test_grep "^needs: carol@example.com $(fpr carol) \(a new key: it must sign\)$" "$OUT" &&
	test_grep_not "more of the new signers" "$OUT" &&
	SIGNING_KEY=carol signed_tag "$R" rot2-carol &&
	check &&
	test $rc = 0 &&
	test_grep "^accepted: trust version 2 from $ROT2$" "$OUT" &&
	oracle "$R/$AS" "$ROT2" rot2-carol
'

test_expect_success_here 'under 2 of 3, one old signature: any one more, each key listed once' '
	rotate_stage 3 2 alice bob carol &&
	signing_allow "$R/$AS" alice2@example.com alice &&
	git -C "$R" add .nixpull &&
	git -C "$R" commit -q -S -m "version 3" &&
	ROT3=$(git -C "$R" rev-parse HEAD) &&
	signed_tag "$R" rot3-alice &&
	check &&
	test $rc = 1 &&
	test_grep "^previous signers: 1 of 2: alice@example.com$" "$OUT" &&
	test_grep "^needs: 1 more of the previous signers, any of:$" "$OUT" &&
	test_grep "^  bob@example.com $(fpr bob)$" "$OUT" &&
	test_grep "^  carol@example.com $(fpr carol)$" "$OUT" &&
	test_grep "^needs: 1 more of the new signers, any of:$" "$OUT" &&
	test_grep_not "$(fpr alice)" "$OUT" &&
	test_grep "^rejected: trust change in $ROT3 is signed by 1 of the 2 required previous signers$" "$OUT" &&
	SIGNING_KEY=bob signed_tag "$R" rot3-bob &&
	check &&
	test $rc = 0 &&
	test_grep "^accepted: trust version 3 from $ROT3$" "$OUT"
'

test_expect_success_here 'a release above it: signers of version 3, who may still sign' '
	SIGNING_KEY=carol signed_commit "$R" "release by carol" &&
	REL=$(git -C "$R" rev-parse HEAD) &&
	check &&
	test $rc = 1 &&
	test_grep "^release: $REL changes no trust file$" "$OUT" &&
	test_grep "^trust: version 3, threshold 2$" "$OUT" &&
	test_grep "^signers: 1 of 2: carol@example.com$" "$OUT" &&
	test_grep "^  bob@example.com $(fpr bob)$" "$OUT" &&
	SIGNING_KEY=bob signed_tag "$R" rel-bob &&
	check &&
	test $rc = 0
'

test_expect_success_here 'a version that does not grow: rejected, whoever signs' '
	git -C "$R" checkout -q -b same &&
	rotate_stage 3 1 alice bob carol &&
	git -C "$R" commit -q -S -m "same version" &&
	SV=$(git -C "$R" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_tag "$R" sv-bob &&
	check &&
	test $rc = 1 &&
	test_grep "^rejected: trust change in $SV does not raise the version \(3 after 3\)$" "$OUT" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'above a rejected rotation: rejected, naming it' '
	git -C "$R" checkout -q -b above "$SV" &&
	signed_commit "$R" "on top" &&
	check &&
	test $rc = 1 &&
	test_grep "^rejected: $(git -C "$R" rev-parse HEAD) is above a rejected trust change: trust change in $SV does not raise the version" "$OUT" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'a malformed trust file: 78, naming the revision and file:line:col' '
	git -C "$R" checkout -q -b bad &&
	mkdir -p "$R/.nixpull" &&
	printf "version: 4\nthreshold: two\n" >"$R/$T" &&
	git -C "$R" add "$T" &&
	git -C "$R" commit -q -S -m "bad trust file" &&
	BAD=$(git -C "$R" rev-parse HEAD) &&
	check &&
	test $rc = 78 &&
	test_grep "^nixpull trust: ${BAD:0:12}:$T:2:12: " "$OUT" &&
	git -C "$R" checkout -q main
'

test_expect_success_here 'a malformed config: 78, naming file:line:col' '
	printf "trust:\n  allowed_signers: %s\n  folow_repo: true\n" "$A" \
	    >"$TEST_DIR/bad.yaml" &&
	rc=0 &&
	"$NIXPULL" trust check -c "$TEST_DIR/bad.yaml" --repo "$R" >"$OUT" 2>&1 ||
	    rc=$? &&
	test $rc = 78 &&
	test_grep "bad.yaml:3:3: .*folow_repo" "$OUT"
'

test_expect_success_here 'usage errors: 2' '
	for args in "check a b" "sign" "" "check --bogus"; do
		rc=0 &&
		"$NIXPULL" trust $args >"$OUT" 2>&1 || rc=$? &&
		test $rc = 2 || return 1
	done &&
	test_expect_code 0 "$NIXPULL" trust check --help >"$OUT" &&
	test_grep "^usage: nixpull trust check " "$OUT"
'

test_expect_success_here 'an unknown revision: 1, naming it' '
	check no-such-rev &&
	test $rc = 1 &&
	test_grep "unknown revision '"'"'no-such-rev'"'"' in " "$OUT"
'

test_expect_success_here '--allowed-signers: the pinned root without a config' '
	rc=0 &&
	"$NIXPULL" trust check --allowed-signers "$A" --repo "$R" "$ROT1" \
	    >"$OUT" 2>&1 || rc=$? &&
	test $rc = 0 &&
	test_grep "^accepted: trust version 1 from $ROT1$" "$OUT"
'

test_expect_success_here 'the host revokes bob (trust.revoked_keys): check and verify leave him out' '
	pubkey bob >"$TEST_DIR/revoked" &&
	sed "s|follow_repo: true|follow_repo: true\n  revoked_keys: $TEST_DIR/revoked|" \
	    "$TEST_DIR/config.yaml" >"$TEST_DIR/revoked.yaml" &&
	rc=0 &&
	"$NIXPULL" trust check -c "$TEST_DIR/revoked.yaml" --repo "$R" "$ROT3" \
	    >"$OUT" 2>&1 || rc=$? &&
	test $rc = 1 &&
	test_grep "^previous signers: 1 of 2: alice@example.com$" "$OUT" &&
	test_grep "^  carol@example.com $(fpr carol)$" "$OUT" &&
	test_grep_not "$(fpr bob)" "$OUT" &&
	git -C "$R" checkout -q -b bobrel "$ROT1" &&
	SIGNING_KEY=bob signed_commit "$R" "release by bob" &&
	BR=$(git -C "$R" rev-parse HEAD) &&
	git -C "$R" checkout -q main &&
	{ "$NIXPULL" verify -c "$TEST_DIR/config.yaml" --repo "$R" "$BR" \
	    >"$OUT" 2>&1 || true; } &&
	test_grep "^deploy: yes \(trust version 1\)$" "$OUT" &&
	{ "$NIXPULL" verify -c "$TEST_DIR/revoked.yaml" --repo "$R" "$BR" \
	    >"$OUT" 2>&1 || true; } &&
	test_grep "^deploy: no" "$OUT"
'

test_expect_success_here 'oracle: every signature of these histories agrees with git verify-commit / verify-tag under the trust files in effect' '
	trust_oracle "$R" "$A"
'

test_done
