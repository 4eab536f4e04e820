#!/bin/bash
# nixpull verify against git verify-commit / verify-tag (with the same
# allowed_signers and revocation files) on a corpus made here by ssh-keygen
# and git: signed commits and tags, hand-made objects (git hash-object
# --literally) with tampered payloads, moved or doubled signatures, other
# namespaces, key types and validity windows.
#
# Our verdict equals git's except where we are deliberately stricter
# (common/trust/gitsig.h, common/trust/sshsig.h, common/trust/allowed_signers.h); there git
# accepts and we reject:
#  - RSA and ECDSA keys: only ssh-ed25519 and sk-ssh-ed25519 are accepted;
#  - validity windows are checked against the current time, not against the
#    committer date the signer chose: a backdated commit by an expired key;
#  - two gpgsig headers: malformed (git reads the first armor);
#  - text after the armor's END line (ssh-keygen ignores it);
#  - a tag whose "tag" header does not match the ref it is under (git
#    verify-tag does not look at the ref);
#  - a malformed allowed_signers line (a carriage return inside the
#    principals, February 30th) refuses the whole file (exit 78) where
#    ssh-keygen skips the line;
#  - a configured revocation file that is missing (exit 78; git warns and
#    verifies without it);
#  - a tag object over 256 KiB (MAX_TAG_OBJECT_SIZE) is not even read: a
#    bound on what a hostile server makes the agent read.
# A KRL (ssh-keygen -k) as revocation file agrees with git (krl.h lists
# where the KRL parser is stricter than OpenSSH; t0300 checks those).
# The revocation list agrees because git is given it too
# (gpg.ssh.revocationFile); a cert-authority line agrees as well (ssh-keygen
# does not match a plain key against it).
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require git ssh-keygen awk

R=$TEST_DIR/repo
A=$TEST_DIR/allowed
V=$TEST_DIR/revoked

# ours REV CODE REGEX: nixpull verify's exit code and reason
ours() {
	local rc=0
	"$NIXPULL" verify --repo "$R" --allowed-signers "$A" \
	    --revoked-keys "$V" "$1" >"$TEST_DIR/out" 2>&1 || rc=$?
	if [ "$rc" -ne "$2" ]; then
		echo "nixpull verify $1 exited $rc, wanted $2:" >&2
		sed 's/^/| /' "$TEST_DIR/out" >&2
		return 1
	fi
	test_grep "$3" "$TEST_DIR/out"
}

# theirs commit|tag REV CODE: git's verdict (0 good, 1 not)
theirs() {
	local rc=0
	git -C "$R" -c gpg.ssh.allowedSignersFile="$A" \
	    -c gpg.ssh.revocationFile="$V" "verify-$1" "$2" \
	    >"$TEST_DIR/git.out" 2>&1 || rc=1
	if [ "$rc" -ne "$3" ]; then
		echo "git verify-$1 $2 gave $rc, wanted $3:" >&2
		sed 's/^/| /' "$TEST_DIR/git.out" >&2
		return 1
	fi
}

head_oid() { git -C "$R" rev-parse HEAD; }

# A raw object from stdin into the repository; prints its name.
store() { git -C "$R" hash-object -t "${1:-commit}" -w --literally --stdin; }

# with_sig PAYLOAD SIGFILE: the commit PAYLOAD with SIGFILE as its gpgsig
# header, formatted the way git writes it.
with_sig() {
	awk -v sig="$2" '!done && /^$/ {
		n = 0
		while ((getline l < sig) > 0)
			print (n++ ? " " : "gpgsig ") l
		done = 1
	}
	{ print }' "$1"
}

# sign_payload PAYLOAD KEY NAMESPACE [ssh-keygen options]: PAYLOAD.sig
sign_payload() {
	local p=$1 key=$2 ns=$3
	shift 3
	rm -f "$p.sig"
	ssh-keygen -Y sign -n "$ns" -f "$(signing_key "$key")" "$@" "$p" \
	    >/dev/null 2>&1
}

test_expect_success_here 'keys, allowed signers, revocation list' '
	for k in alice mallory revoked nsfile nsneg old future ca; do
		signing_keygen $k || return 1
	done &&
	signing_keygen rsa rsa &&
	signing_keygen ecdsa ecdsa &&
	signing_allow "$A" alice@example.com alice &&
	signing_allow "$A" rsa@example.com rsa &&
	signing_allow "$A" ecdsa@example.com ecdsa &&
	signing_allow "$A" revoked@example.com revoked &&
	signing_allow "$A" file@example.com nsfile "namespaces=\"file\"" &&
	signing_allow "$A" neg@example.com nsneg "namespaces=\"*,!git\"" &&
	signing_allow "$A" old@example.com old "valid-before=\"20200101\"" &&
	signing_allow "$A" future@example.com future \
	    "valid-after=\"29990101\"" &&
	signing_allow "$A" ca@example.com ca cert-authority &&
	cat "$TEST_DIR/keys/revoked.pub" >"$V" &&
	signing_repo_init "$R" alice &&
	signed_commit "$R" base a.txt one &&
	BASE=$(head_oid) &&
	signed_commit "$R" good a.txt two &&
	GOOD=$(head_oid) &&
	signed_tag "$R" v1 &&
	unsigned_commit "$R" plain a.txt three &&
	UNSIGNED=$(head_oid) &&
	git -C "$R" cat-file commit "$UNSIGNED" >"$TEST_DIR/payload"
'

test_expect_success 'good commit (git commit -S)' '
	ours "$GOOD" 0 "^commit $GOOD: good signature" &&
	test_grep "^signer: alice@example.com$" "$TEST_DIR/out" &&
	test_grep "^key: ssh-ed25519 SHA256:" "$TEST_DIR/out" &&
	test_grep "^deploy: yes$" "$TEST_DIR/out" &&
	theirs commit "$GOOD" 0
'

test_expect_success 'the fingerprint is the one ssh-keygen prints' '
	ours "$GOOD" 0 good &&
	fp=$(ssh-keygen -lf "$TEST_DIR/keys/alice.pub" | cut -d" " -f2) &&
	grep -qxF "key: ssh-ed25519 $fp" "$TEST_DIR/out"
'

test_expect_success 'good tag (git tag -s)' '
	ours v1 0 "good signature" &&
	test_grep "^tag: v1 -> commit $GOOD$" "$TEST_DIR/out" &&
	theirs tag v1 0
'

test_expect_success 'unsigned commit' '
	ours "$UNSIGNED" 1 "rejected: no signature" &&
	test_grep "^deploy: no" "$TEST_DIR/out" &&
	theirs commit "$UNSIGNED" 1
'

test_expect_success 'signature with hashalg=sha256' '
	sign_payload "$TEST_DIR/payload" alice git -O hashalg=sha256 &&
	oid=$(with_sig "$TEST_DIR/payload" "$TEST_DIR/payload.sig" | store) &&
	ours "$oid" 0 "good signature" &&
	theirs commit "$oid" 0
'

test_expect_success 'sha512 signature made by hand equals git commit -S' '
	sign_payload "$TEST_DIR/payload" alice git &&
	oid=$(with_sig "$TEST_DIR/payload" "$TEST_DIR/payload.sig" | store) &&
	ours "$oid" 0 "good signature" &&
	theirs commit "$oid" 0
'

test_expect_success 'untrusted key' '
	SIGNING_KEY=mallory signed_commit "$R" mallory &&
	oid=$(head_oid) &&
	ours "$oid" 1 "rejected: signature by unknown key SHA256:" &&
	theirs commit "$oid" 1
'

test_expect_success 'revoked key' '
	SIGNING_KEY=revoked signed_commit "$R" revoked &&
	oid=$(head_oid) &&
	ours "$oid" 1 "rejected: signature by revoked key" &&
	theirs commit "$oid" 1
'

test_expect_success 'tampered message' '
	oid=$(git -C "$R" cat-file commit "$GOOD" | sed "s/^good$/evil/" |
	    store) &&
	ours "$oid" 1 "rejected: bad signature by key" &&
	theirs commit "$oid" 1
'

test_expect_success 'tampered tree' '
	tree=$(git -C "$R" mktree </dev/null) &&
	oid=$(git -C "$R" cat-file commit "$GOOD" |
	    sed "s/^tree .*/tree $tree/" | store) &&
	ours "$oid" 1 "bad signature" &&
	theirs commit "$oid" 1
'

test_expect_success 'tampered author' '
	oid=$(git -C "$R" cat-file commit "$GOOD" |
	    sed "s/^author A U Thor/author E Vil/" | store) &&
	ours "$oid" 1 "bad signature" &&
	theirs commit "$oid" 1
'

test_expect_success 'tampered parent' '
	oid=$(git -C "$R" cat-file commit "$GOOD" |
	    sed "s/^parent .*/parent $UNSIGNED/" | store) &&
	ours "$oid" 1 "bad signature" &&
	theirs commit "$oid" 1
'

test_expect_success 'signature copied from another commit' '
	git -C "$R" cat-file commit "$GOOD" |
	    sed -n "/^gpgsig /,/^ -----END/p" |
	    sed "s/^gpgsig //; s/^ //" >"$TEST_DIR/copied.sig" &&
	oid=$(with_sig "$TEST_DIR/payload" "$TEST_DIR/copied.sig" | store) &&
	ours "$oid" 1 "bad signature" &&
	theirs commit "$oid" 1
'

test_expect_success 'signature moved into the message body' '
	oid=$(git -C "$R" cat-file commit "$GOOD" | awk "
	    /^gpgsig / { s = 1; sub(/^gpgsig /, \"\"); sig = sig \$0 \"\n\"; next }
	    s && /^ / { sub(/^ /, \"\"); sig = sig \$0 \"\n\"; next }
	    { s = 0; print }
	    END { printf \"%s\", sig }" | store) &&
	git -C "$R" cat-file commit "$oid" | test_grep "^-----BEGIN SSH" - &&
	ours "$oid" 1 "no signature" &&
	theirs commit "$oid" 1
'

test_expect_success 'two signature headers (stricter: git reads the first)' '
	oid=$(git -C "$R" cat-file commit "$GOOD" | awk "
	    /^gpgsig / { s = 1 }
	    s && !/^gpgsig / && !/^ / { printf \"%s\", sig; s = 0 }
	    s { sig = sig \$0 \"\n\" }
	    { print }" | store) &&
	test "$(git -C "$R" cat-file commit "$oid" | grep -c "^gpgsig ")" = 2 &&
	ours "$oid" 1 "more than one .gpgsig. header" &&
	theirs commit "$oid" 0
'

test_expect_success 'signature for namespace file' '
	sign_payload "$TEST_DIR/payload" alice file &&
	oid=$(with_sig "$TEST_DIR/payload" "$TEST_DIR/payload.sig" | store) &&
	ours "$oid" 1 "namespace .file., not .git." &&
	theirs commit "$oid" 1
'

test_expect_success 'key restricted to namespaces="file"' '
	SIGNING_KEY=nsfile signed_commit "$R" nsfile &&
	oid=$(head_oid) &&
	ours "$oid" 1 "not allowed for namespace .git." &&
	theirs commit "$oid" 1
'

test_expect_success 'key with a negated namespace' '
	SIGNING_KEY=nsneg signed_commit "$R" nsneg &&
	oid=$(head_oid) &&
	ours "$oid" 1 "not allowed for namespace .git." &&
	theirs commit "$oid" 1
'

test_expect_success 'expired key (valid-before in the past)' '
	SIGNING_KEY=old signed_commit "$R" old &&
	oid=$(head_oid) &&
	ours "$oid" 1 "key SHA256:.* expired at 2020-01-01" &&
	theirs commit "$oid" 1
'

test_expect_success 'expired key, backdated commit (stricter: git uses the date)' '
	GIT_COMMITTER_DATE="2019-06-01T00:00:00Z" SIGNING_KEY=old \
	    signed_commit "$R" backdated &&
	oid=$(head_oid) &&
	ours "$oid" 1 "key SHA256:.* expired at 2020-01-01" &&
	theirs commit "$oid" 0
'

test_expect_success 'not yet valid key (valid-after in the future)' '
	SIGNING_KEY=future signed_commit "$R" future &&
	oid=$(head_oid) &&
	ours "$oid" 1 "is not valid before 2999-01-01" &&
	theirs commit "$oid" 1
'

test_expect_success 'cert-authority line does not match a plain key' '
	SIGNING_KEY=ca signed_commit "$R" ca &&
	oid=$(head_oid) &&
	ours "$oid" 1 "only a cert-authority" &&
	theirs commit "$oid" 1
'

test_expect_success 'RSA key (stricter: unsupported)' '
	SIGNING_KEY=rsa signed_commit "$R" rsa &&
	oid=$(head_oid) &&
	ours "$oid" 1 "unsupported key type .ssh-rsa." &&
	theirs commit "$oid" 0
'

test_expect_success 'ECDSA key (stricter: unsupported)' '
	SIGNING_KEY=ecdsa signed_commit "$R" ecdsa &&
	oid=$(head_oid) &&
	ours "$oid" 1 "unsupported key type .ecdsa-sha2-nistp256." &&
	theirs commit "$oid" 0
'

# The first base64 line of the armor, as a line number of the object.
armor_line() {
	git -C "$R" cat-file commit "$GOOD" | grep -n "^gpgsig " | cut -d: -f1
}

test_expect_success 'truncated base64' '
	n=$(( $(armor_line) + 3 )) &&
	oid=$(git -C "$R" cat-file commit "$GOOD" | sed "${n}d" | store) &&
	ours "$oid" 1 "rejected: .*(truncated|base64|signature)" &&
	theirs commit "$oid" 1
'

test_expect_success 'corrupted base64 (a valid character changed)' '
	n=$(( $(armor_line) + 3 )) &&
	oid=$(git -C "$R" cat-file commit "$GOOD" | awk -v n=$n "
	    NR == n { c = substr(\$0, 20, 1); r = (c == \"A\") ? \"B\" : \"A\"
		\$0 = substr(\$0, 1, 19) r substr(\$0, 21) }
	    { print }" | store) &&
	ours "$oid" 1 "rejected: bad signature" &&
	theirs commit "$oid" 1
'

test_expect_success 'invalid base64 character' '
	n=$(( $(armor_line) + 2 )) &&
	oid=$(git -C "$R" cat-file commit "$GOOD" |
	    sed "${n}s/^ \(.....\)./ \1*/" | store) &&
	ours "$oid" 1 "rejected: invalid base64" &&
	theirs commit "$oid" 1
'

test_expect_success 'junk after the armor (stricter: ssh-keygen ignores it)' '
	oid=$(git -C "$R" cat-file commit "$GOOD" |
	    sed "s/^ -----END SSH SIGNATURE-----$/&\n junk/" | store) &&
	git -C "$R" cat-file commit "$oid" | test_grep "^ junk$" - &&
	ours "$oid" 1 "rejected: unexpected text after" &&
	theirs commit "$oid" 0
'

test_expect_success 'tag by an untrusted key' '
	SIGNING_KEY=mallory signed_tag "$R" evil "$GOOD" &&
	ours evil 1 "unknown key" &&
	theirs tag evil 1
'

test_expect_success 'tampered tag message' '
	oid=$(git -C "$R" cat-file tag v1 | sed "s/^v1$/v1 evil/" |
	    store tag) &&
	ours "$oid" 1 "bad signature" &&
	theirs tag "$oid" 1
'

test_expect_success 'tag re-pointed under another name (stricter)' '
	git -C "$R" update-ref refs/tags/v2 "$(git -C "$R" rev-parse v1)" &&
	ours v2 1 "tag .v1. is under ref .refs/tags/v2." &&
	theirs tag v2 0
'

test_expect_success 'tag with junk after the armor (stricter)' '
	oid=$( { git -C "$R" cat-file tag v1; echo junk; } | store tag) &&
	git -C "$R" update-ref refs/tags/v1junk "$oid" &&
	ours "$oid" 1 "unexpected text after" &&
	theirs tag "$oid" 0
'

# A tag with a "gpgsig " header block: git's remove_signature() drops it
# (as it drops gpgsig-sha256) before verifying, so a signature over the
# payload without it is good and one over the payload with it is not.
test_expect_success 'tag with a gpgsig header block agrees with git' '
	printf "object %s\ntype commit\ntag hs\ntagger T <t@example.com> %s\n" \
	    "$GOOD" "1700000000 +0000" >"$TEST_DIR/th" &&
	{ cat "$TEST_DIR/th"; printf "\nm\n"; } >"$TEST_DIR/tp" &&
	sign_payload "$TEST_DIR/tp" alice git &&
	oid=$( { cat "$TEST_DIR/th"; printf "gpgsig x\n y\n\nm\n";
	    cat "$TEST_DIR/tp.sig"; } | store tag) &&
	ours "$oid" 0 "good signature" &&
	theirs tag "$oid" 0 &&
	{ cat "$TEST_DIR/th"; printf "gpgsig x\n y\n\nm\n"; } \
	    >"$TEST_DIR/tp" &&
	sign_payload "$TEST_DIR/tp" alice git &&
	oid=$(cat "$TEST_DIR/tp" "$TEST_DIR/tp.sig" | store tag) &&
	ours "$oid" 1 "bad signature" &&
	theirs tag "$oid" 1
'

test_expect_success 'a tree is neither a commit nor a tag' '
	ours "$GOOD^{tree}" 1 "is a tree, not a commit or a tag"
'

test_expect_success 'unknown revision' '
	ours no-such-rev 1 "unknown revision .no-such-rev."
'

test_expect_success 'verify --repo . HEAD in a work tree' '
	git -C "$R" checkout -q "$GOOD" &&
	(cd "$R" && "$NIXPULL" verify --repo . --allowed-signers "$A" HEAD) \
	    >"$TEST_DIR/out" &&
	test_grep "good signature" "$TEST_DIR/out" &&
	mkdir -p "$R/sub" &&
	(cd "$R/sub" && "$NIXPULL" verify --repo . --allowed-signers "$A" \
	    HEAD) >"$TEST_DIR/out" &&
	test_grep "good signature" "$TEST_DIR/out" &&
	git -C "$R" checkout -q main
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 "$NIXPULL" verify --repo "$R" \
	    --allowed-signers "$A" &&
	test_expect_code 2 "$NIXPULL" verify --repo "$R" \
	    --allowed-signers "$A" HEAD HEAD &&
	test_expect_code 2 "$NIXPULL" verify --bogus HEAD
'

test_expect_success 'a bad allowed_signers file is a config error (78)' '
	echo "alice@example.com ssh-ed25519 !!!" >"$TEST_DIR/bad" &&
	test_expect_code 78 "$NIXPULL" verify --repo "$R" \
	    --allowed-signers "$TEST_DIR/bad" HEAD 2>"$TEST_DIR/err" &&
	test_grep "bad:1" "$TEST_DIR/err" &&
	test_expect_code 78 "$NIXPULL" verify --repo "$R" \
	    --allowed-signers "$TEST_DIR/missing" HEAD
'

test_expect_success 'without --allowed-signers the config is read' '
	mkdir -p "$TEST_DIR/state" &&
	git clone -q --mirror "$R" "$TEST_DIR/state/mirror.git" &&
	cat >"$TEST_DIR/config.yaml" <<-EOF &&
	repo:
	  url: file://$R
	trust:
	  allowed_signers: $A
	  revoked_keys: $V
	state_dir: $TEST_DIR/state
	EOF
	"$NIXPULL" verify -c "$TEST_DIR/config.yaml" "$GOOD" >"$TEST_DIR/out" &&
	test_grep "good signature" "$TEST_DIR/out" &&
	test_grep "^deploy: yes$" "$TEST_DIR/out" &&
	test_expect_code 1 "$NIXPULL" verify -c "$TEST_DIR/config.yaml" \
	    "$UNSIGNED" &&
	test_expect_code 78 "$NIXPULL" verify -c "$TEST_DIR/nonexistent.yaml" \
	    "$GOOD"
'

test_expect_success 'file options override the config' '
	: >"$TEST_DIR/empty" &&
	test_expect_code 1 "$NIXPULL" verify -c "$TEST_DIR/config.yaml" \
	    --allowed-signers "$TEST_DIR/empty" "$GOOD" >"$TEST_DIR/out" &&
	test_grep "unknown key" "$TEST_DIR/out"
'

test_expect_success 'threshold 2: a commit signature alone would not deploy' '
	sed "/^trust:/a\\  threshold: 2" "$TEST_DIR/config.yaml" \
	    >"$TEST_DIR/k2.yaml" &&
	"$NIXPULL" verify -c "$TEST_DIR/k2.yaml" "$GOOD" >"$TEST_DIR/out" &&
	test_grep "^deploy: no \(1 of 2 required distinct keys" \
	    "$TEST_DIR/out"
'

# --- allowed_signers read as ssh-keygen reads it (issue 10, item 8) ---
# git asks `ssh-keygen -Y find-principals` for the principals of the first
# line that holds the key, prints them one per line up to an empty one, and
# then `ssh-keygen -Y verify -I <principal>` for each: the principal is
# matched against every line's pattern list (match_pattern_list(), where a
# negation wins and a sub-pattern of 1023 bytes or more matches nothing).

# allow_as FILE TEXT...: an allowed_signers file of the lines given, where
# K stands for alice's key ("ssh-ed25519 AAAA...").
allow_as() {
	local f=$1 k l
	shift
	read -r k l <"$TEST_DIR/keys/alice.pub" || return 1
	k="$k ${l%% *}"
	: >"$f" || return 1
	for l in "$@"; do
		printf '%s\n' "${l//K/$k}" >>"$f" || return 1
	done
}

# both FILE OURS THEIRS [REGEX]: nixpull verify and git verify-commit of
# GOOD with FILE as allowed_signers: nixpull exits OURS, git gives THEIRS.
both() {
	A=$1 ours "$GOOD" "$2" "${4:-.}" && A=$1 theirs commit "$GOOD" "$3"
}

long() { head -c "$1" /dev/zero | tr '\0' "$2"; }

test_expect_success 'principals that can never match agree with git' '
	allow_as "$TEST_DIR/as" "!alice@example.com K" &&
	both "$TEST_DIR/as" 1 1 "no principal" &&
	allow_as "$TEST_DIR/as" "alice@example.com,!alice@example.com K" &&
	both "$TEST_DIR/as" 1 1 "no principal" &&
	allow_as "$TEST_DIR/as" ",alice@example.com K" &&
	both "$TEST_DIR/as" 1 1 "no principal"
'

test_expect_success 'principal lists and patterns that match agree with git' '
	allow_as "$TEST_DIR/as" "alice@example.com,bob@example.com K" &&
	both "$TEST_DIR/as" 0 0 "^signer: alice@example.com,bob@example.com$" &&
	allow_as "$TEST_DIR/as" "alice@example.com,,bob@example.com K" &&
	both "$TEST_DIR/as" 0 0 "^signer: alice@example.com$" &&
	allow_as "$TEST_DIR/as" "a* K" &&
	both "$TEST_DIR/as" 0 0 "^signer: a\*$" &&
	allow_as "$TEST_DIR/as" "\"alice smith\" K" &&
	both "$TEST_DIR/as" 0 0 "^signer: alice smith$"
'

test_expect_success 'the first line of the key names the principals, as in git' '
	allow_as "$TEST_DIR/as" "alice@example.com namespaces=\"file\" K" \
	    "bob@example.com K" &&
	both "$TEST_DIR/as" 1 1 "not allowed for namespace .git." &&
	allow_as "$TEST_DIR/as" "alice@example.com K" \
	    "bob@example.com namespaces=\"file\" K" &&
	both "$TEST_DIR/as" 0 0 "^signer: alice@example.com$" &&
	allow_as "$TEST_DIR/as" "old@example.com valid-before=\"20200101\" K" \
	    "alice@example.com K" &&
	both "$TEST_DIR/as" 0 0 "^signer: alice@example.com$"
'

test_expect_success 'a sub-pattern of 1023 bytes or more matches nothing' '
	allow_as "$TEST_DIR/as" \
	    "alice@example.com namespaces=\"git,$(long 1100 x)\" K" &&
	both "$TEST_DIR/as" 1 1 "not allowed for namespace" &&
	allow_as "$TEST_DIR/as" "$(long 1023 a) K" &&
	both "$TEST_DIR/as" 1 1 "no principal" &&
	allow_as "$TEST_DIR/as" "$(long 1022 a) K" &&
	both "$TEST_DIR/as" 0 0 "good signature"
'

test_expect_success 'a carriage return inside the principals is refused' '
	allow_as "$TEST_DIR/as" "$(printf "ali\rce@example.com") K" &&
	both "$TEST_DIR/as" 78 1 "carriage return in principals"
'

test_expect_success 'line ends and comments as ssh-keygen reads them' '
	allow_as "$TEST_DIR/as" "$(printf "alice@example.com K\r\r")" &&
	both "$TEST_DIR/as" 0 0 "good signature" &&
	allow_as "$TEST_DIR/as" "#$(long 9000 x)" "alice@example.com K" &&
	both "$TEST_DIR/as" 0 0 "good signature"
'

test_expect_success 'validity times as ssh-keygen parses them' '
	for t in 20200101000060 20200101000061 20200101z 20200101UTC \
	    20200101utc; do
		allow_as "$TEST_DIR/as" \
		    "alice@example.com valid-after=\"$t\" K" &&
		both "$TEST_DIR/as" 0 0 "good signature" || return 1
	done &&
	allow_as "$TEST_DIR/as" \
	    "alice@example.com valid-after=\"20200101000062\" K" &&
	both "$TEST_DIR/as" 78 1 "invalid time"
'

test_expect_success 'February 30th (stricter: ssh-keygen takes March 1st)' '
	allow_as "$TEST_DIR/as" "alice@example.com valid-after=\"20200230\" K" &&
	both "$TEST_DIR/as" 78 0 "invalid time .20200230."
'

test_expect_success 'a missing revocation file (stricter: git ignores it)' '
	V=$TEST_DIR/no-such-file ours "$GOOD" 78 "no-such-file" &&
	V=$TEST_DIR/no-such-file theirs commit "$GOOD" 0
'

test_expect_success 'a signed tag without a tagger is refused, as by git' '
	printf "object %s\ntype commit\ntag nt\n\nno tagger\n" "$GOOD" \
	    >"$TEST_DIR/tp" &&
	sign_payload "$TEST_DIR/tp" alice git &&
	oid=$(cat "$TEST_DIR/tp" "$TEST_DIR/tp.sig" | store tag) &&
	ours "$oid" 1 "without a .tagger. header" &&
	theirs tag "$oid" 1
'

test_expect_success 'a committer date in the year 10000 is refused, as by git' '
	GIT_COMMITTER_DATE="@253402300800 +0000" signed_commit "$R" y10k &&
	oid=$(head_oid) &&
	ours "$oid" 1 "year 10000" &&
	theirs commit "$oid" 1 &&
	GIT_COMMITTER_DATE="@253402300799 +0000" signed_commit "$R" y9999 &&
	oid=$(head_oid) &&
	ours "$oid" 0 "good signature" &&
	theirs commit "$oid" 0
'

test_expect_success 'a tagger date in the year 10000 is refused, as by git' '
	GIT_COMMITTER_DATE="@253402300800 +0000" signed_tag "$R" y10k "$GOOD" &&
	ours y10k 1 "year 10000" &&
	theirs tag y10k 1
'

test_expect_success 'a KRL as the revocation file agrees with git' '
	ssh-keygen -q -k -f "$TEST_DIR/krl-mallory" "$TEST_DIR/keys/mallory.pub" &&
	V=$TEST_DIR/krl-mallory ours "$GOOD" 0 "good signature" &&
	V=$TEST_DIR/krl-mallory theirs commit "$GOOD" 0 &&
	printf "hash: %s\n" "$(ssh-keygen -lf "$TEST_DIR/keys/alice.pub" |
	    cut -d" " -f2)" >"$TEST_DIR/krl-spec" &&
	cp "$TEST_DIR/krl-mallory" "$TEST_DIR/krl-alice" &&
	ssh-keygen -q -k -u -f "$TEST_DIR/krl-alice" "$TEST_DIR/krl-spec" &&
	V=$TEST_DIR/krl-alice ours "$GOOD" 1 "signature by revoked key" &&
	V=$TEST_DIR/krl-alice theirs commit "$GOOD" 1 &&
	V=$TEST_DIR/krl-alice ours v1 1 "signature by revoked key" &&
	V=$TEST_DIR/krl-alice theirs tag v1 1
'

test_expect_success 'a broken KRL is a config error; git refuses every signature' '
	head -c 30 "$TEST_DIR/krl-alice" >"$TEST_DIR/krl-cut" &&
	V=$TEST_DIR/krl-cut ours "$GOOD" 78 "krl-cut: KRL: invalid header" &&
	V=$TEST_DIR/krl-cut theirs commit "$GOOD" 1
'

test_expect_success 'a signed tag over 256 KiB (stricter: not read at all)' '
	{ printf "object %s\ntype commit\ntag huge\n" "$GOOD" &&
	  printf "tagger T <t@example.com> 1700000000 +0000\n\n" &&
	  head -c 300000 /dev/zero | tr "\0" m && echo; } >"$TEST_DIR/tp" &&
	sign_payload "$TEST_DIR/tp" alice git &&
	oid=$(cat "$TEST_DIR/tp" "$TEST_DIR/tp.sig" | store tag) &&
	ours "$oid" 1 "tag object .$oid. of [0-9]* bytes is larger than 262144" &&
	theirs tag "$oid" 0
'

test_done
