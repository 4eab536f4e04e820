#!/usr/bin/env bash
# End to end with `nixpull once` and trust.follow_repo: true (issue 15),
# through the privilege-separated fetcher and real Nix builds: a rotation
# signed by the old key only is rejected with the reason in the status;
# signed by the new key too it is accepted, and a release by the new key
# alone deploys; a deploy resumed from inflight.json records its trust in
# trust.json (agent/resume.c, agent/state.c); trust rollback
# is refused; expired trust refuses new releases unless on_expired: warn.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/trust_oracle.sh"
. "$TESTLIB_DIR/e2e.sh"
e2e_init web-1
e2e_machine 2 64GiB
W=$TEST_DIR/work
mkdir -p bin

# The health check hangs (its pid in check.pid) while ./hang-check exists.
cat >bin/check <<EOF
#!/bin/sh
if [ -e "$TEST_DIR/hang-check" ]; then
	echo \$\$ >"$TEST_DIR/check.pid.tmp"
	mv "$TEST_DIR/check.pid.tmp" "$TEST_DIR/check.pid"
	exec sleep 60
fi
exit 0
EOF
chmod +x bin/check
test_atexit '[ -s check.pid ] && kill $(cat check.pid)'

# config [ON_EXPIRED]
config() {
	e2e_config "  profile: server" "  health_checks:
    - $TEST_DIR/bin/check" "${1:-}" &&
	sed -i "s|^trust:|trust:\n  follow_repo: true|" config.yaml
}

# rotate VERSION THRESHOLD NAME...: a commit (signed by work's key) that
# writes both trust files
rotate() {
	local v=$1 k=$2 n
	shift 2
	mkdir -p "$W/.nixpull" && : >"$W/.nixpull/allowed_signers" || return 1
	for n; do
		signing_allow "$W/.nixpull/allowed_signers" "$n@example.com" $n ||
			return 1
	done
	printf "version: %s\nthreshold: %s\n%s" "$v" "$k" "${EXTRA:-}" \
	    >"$W/.nixpull/trust.yaml" &&
	git -C "$W" add .nixpull &&
	git -C "$W" commit -q -S -m "trust version $v" &&
	push
}

push_tags() { git -C "$W" push -q -f "$E2E_BARE" --tags; }
sign_as() { git -C "$W" config user.signingkey "$TEST_DIR/keys/$1"; }
trust() { jq -r "$1" "$S/trust.json"; }
deployed() { jq -r "$1" "$S/deployed.json"; }

# killed_at PIDFILE: once in the background until PIDFILE appears (the
# hanging check started), then SIGKILL for the agent and our sleep.
killed_at() {
	local pid rc=0
	rm -f "$1"
	"$NIXPULL" once -c config.yaml >>once.log 2>&1 &
	pid=$!
	wait_for 30 test -s "$1" || { kill -9 $pid; return 1; }
	kill -9 $pid
	wait $pid || rc=$?
	kill "$(cat "$1")" 2>/dev/null
	test $rc -eq 137
}

test_expect_success_here 'a first release under the pinned root' '
	signing_keygen bob &&
	config &&
	deploy_v1 &&
	test "$(trust .rev)" = "$rev1" &&
	test "$(trust .version)" = 0 &&
	test "$(st .trust.version)" = 0 &&
	test "$(st .trust.expires_at)" = null &&
	test "$(st .trust.expired)" = false
'

test_expect_success_here 'a rotation adding bob, signed by alice only: rejected, the reason in the status' '
	rotate 1 1 alice bob &&
	ROT=$rev &&
	test_expect_code 1 once &&
	test "$(st .state)" = rejected &&
	st .last_attempt.error >why &&
	test_grep "trust change in $ROT adds the key of bob@example.com \(SHA256:.*\), which did not sign it" why &&
	test "$(deployed .rev)" = "$rev1" &&
	test "$(trust .version)" = 0
'

test_expect_success_here 'bob signs a tag at it, then releases alone: the rotation is accepted and the release deploys' '
	SIGNING_KEY=bob signed_tag "$W" rot1-bob "$ROT" &&
	push_tags &&
	sign_as bob &&
	release v2 &&
	rev2=$rev &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(deployed .rev)" = "$rev2" &&
	test "$(deployed .signer)" = bob@example.com &&
	test "$(trust .rev)" = "$rev2" &&
	test "$(trust .version)" = 1 &&
	test "$(st .trust.version)" = 1 &&
	test "$(st .trust.expired)" = false &&
	test "$(trust .allowed_signers)" = "$(git -C "$W" rev-parse "$ROT:.nixpull/allowed_signers")" &&
	test "$(trust .trust_file)" = "$(git -C "$W" rev-parse "$ROT:.nixpull/trust.yaml")"
'

test_expect_success_here 'a release that bob alone tags: its release time is the tag'"'"'s date, judged by the trust in effect' '
	git -C "$W" checkout -q -b tagged-by-bob "$rev2" &&
	printf "waves:\n  - name: all\n" >"$W/.nixpull/rollout.yaml" &&
	git -C "$W" add .nixpull/rollout.yaml &&
	GIT_COMMITTER_DATE="2026-01-02T03:04:00Z" \
	    git -C "$W" commit -q --no-gpg-sign -m "a plan, released by a tag" &&
	REL=$(git -C "$W" rev-parse HEAD) &&
	SIGNING_KEY=bob signed_tag "$W" rel-bob "$REL" &&
	git -C "$W" checkout -q main &&
	tagged=$(git -C "$W" for-each-ref --format="%(taggerdate:unix)" refs/tags/rel-bob) &&
	test_expect_code 1 "$NIXPULL" verify -c config.yaml --repo "$W" "$REL" >out &&
	test_grep "^rollout: \.nixpull/rollout\.yaml, released $(date -u -d "@$tagged" +%Y-%m-%dT%H:%MZ) \(the signed tag.s date\)" out
'

test_expect_success_here 'killed in the health check: inflight.json carries the trust' '
	release v3 &&
	rev3=$rev &&
	touch hang-check &&
	killed_at check.pid &&
	rm hang-check &&
	test "$(jq -r .rev "$S/inflight.json")" = "$rev3" &&
	test "$(jq -r .trust_repo "$S/inflight.json")" = true &&
	test "$(jq -r .trust_version "$S/inflight.json")" = 1 &&
	test "$(trust .rev)" = "$rev2"
'

test_expect_success_here 'the resumed deploy records its trust in trust.json' '
	test_expect_code 0 once &&
	test ! -e "$S/inflight.json" &&
	test "$(deployed .rev)" = "$rev3" &&
	test "$(trust .rev)" = "$rev3" &&
	test "$(trust .version)" = 1 &&
	test "$(trust .allowed_signers)" = "$(git -C "$W" rev-parse "$ROT:.nixpull/allowed_signers")"
'

test_expect_success_here 'and the next release by bob alone deploys from it' '
	release v4 &&
	rev4=$rev &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(deployed .rev)" = "$rev4" &&
	test_grep_not "is for .*, not for the deployed revision" once.log
'

test_expect_success_here 'trust rollback: a history under the pinned root is refused, though signed' '
	cp "$S/deployed.json" deployed.save &&
	rm "$S/deployed.json" &&
	sign_as alice &&
	git -C "$W" branch -f keep main &&
	git -C "$W" reset -q --hard "$rev1" &&
	release v5 &&
	OLD=$rev &&
	test_expect_code 1 once &&
	test "$(st .state)" = rejected &&
	st .last_attempt.error >why &&
	test_grep "refusing trust rollback: $OLD is under trust version 0, older than the recorded version 1" why &&
	test "$(current)" = "$(built "$rev4")" &&
	git -C "$W" reset -q --hard keep &&
	push &&
	cp deployed.save "$S/deployed.json"
'

test_expect_success_here 'expired trust: new releases refused with trust-expired' '
	EXTRA="expires: 2001-01-01T00:00:00Z
" rotate 2 1 alice bob &&
	EXP=$rev &&
	test_expect_code 1 once &&
	test "$(st .state)" = rejected &&
	st .last_attempt.error >why &&
	test_grep "trust-expired: trust version 2 expired at 2001-01-01T00:00:00Z" why &&
	test "$(st .trust.version)" = 2 &&
	test "$(st .trust.expires_at)" = 2001-01-01T00:00:00Z &&
	test "$(st .trust.expired)" = true &&
	test "$(deployed .rev)" = "$rev4"
'

test_expect_success_here 'on_expired: warn deploys the next release and says so' '
	config &&
	sed -i "s|^  follow_repo: true|&\n  on_expired: warn|" config.yaml &&
	release v6 &&
	: >once.log &&
	test_expect_code 0 once &&
	test "$(st .state)" = ok &&
	test "$(deployed .rev)" = "$rev" &&
	test "$(trust .version)" = 2 &&
	test "$(st .trust.version)" = 2 &&
	test "$(st .trust.expires_at)" = 2001-01-01T00:00:00Z &&
	test "$(st .trust.expired)" = true &&
	test_grep "trust-expired: trust version 2 expired at 2001-01-01T00:00:00Z" once.log
'

test_expect_success_here 'oracle: every signature of these histories agrees with git verify-commit / verify-tag under the trust files in effect' '
	trust_oracle "$W" "$TEST_DIR/allowed_signers"
'

test_done
