#!/bin/bash
# Our SSH signature verifier against ssh-keygen -Y verify (the oracle): on
# every vector in tests/corpus/sshsig and on signatures made in this run,
# both must give the same verdict, except in the cases where nixpull is
# documented to be stricter (common/trust/sshsig.c, common/trust/allowed_signers.h);
# there ssh-keygen accepts and we must refuse.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

test_require ssh-keygen
sigcheck=$NIXPULL_TESTLIB/sigcheck
sksign=$NIXPULL_TESTLIB/sksign
[ -x "$sigcheck" ] && [ -x "$sksign" ] ||
	bail "missing $sigcheck or $sksign (meson compile first)"
corpus=$NIXPULL_SRCDIR/tests/corpus/sshsig

# Cases where ssh-keygen (OpenSSH 9.2) accepts and we refuse, on purpose.
stricter="malformed--junk-after malformed--space malformed--version-0"
stricter+=" malformed--reserved bad-signature--sk-no-touch"
stricter+=" unsupported-key--rsa unsupported-key--ecdsa"

# The principal ssh-keygen is asked about (-I), from the vector's name.
principal_of() {
	case $1 in
	*alice*|*--truncated|*--bad-char|*--space|*--junk-*|*--no-*| \
	*--noncanonical-bits|*--wrong-magic|*--flipped-bit|*--other-payload)
		echo alice@example.com ;;
	*bob*|*--sk-*|*--trailing-bytes|*--version-*|*--reserved|*--hash-*)
		echo 'bob the builder' ;;
	*--carol*) echo carol@example.com ;;
	*--dave*) echo dave@example.com ;;
	*--erin*) echo erin@example.com ;;
	*--frank*) echo frank@example.com ;;
	*--grace*) echo grace@example.com ;;
	*--rsa) echo rsa@example.com ;;
	*--ecdsa) echo ecdsa@example.com ;;
	*--mallory) echo mallory@example.com ;;
	*) echo oscar@example.com ;;
	esac
}

# compare NAME ALLOWED REVOKED_OR_EMPTY PRINCIPAL SIG PAYLOAD [stricter]
compare() {
	local name=$1 allowed=$2 revoked=$3 principal=$4 sig=$5 payload=$6
	local oracle=bad ours=bad rflag=()
	[ -n "$revoked" ] && rflag=(-r "$revoked")
	ssh-keygen -Y verify -f "$allowed" -I "$principal" -n git \
		"${rflag[@]}" -s "$sig" <"$payload" >oracle.out 2>&1 &&
		oracle=good
	"$sigcheck" "$allowed" $revoked git "$sig" <"$payload" \
		>ours.out 2>&1 && ours=good
	echo "$name: ssh-keygen $oracle, nixpull $ours"
	cat ours.out
	if [ "${7:-}" = stricter ]; then
		[ $oracle = good ] && [ $ours = bad ]
	else
		[ $oracle = $ours ]
	fi
}

for sig in "$corpus"/good/*.sig "$corpus"/bad/*.sig; do
	name=$(basename "$sig" .sig)
	mode=same
	case " $stricter " in *" $name "*) mode=stricter ;; esac
	test_expect_success "$name: ${mode/same/agrees with ssh-keygen}" '
		compare "$name" "$corpus/allowed_signers" "$corpus/revoked" \
			"$(principal_of "$name")" "$sig" "$corpus/payload" \
			$mode
	'
done

test_expect_success 'corpus: every vector was compared' '
	n=$(ls "$corpus"/good/*.sig "$corpus"/bad/*.sig | wc -l) &&
	test "$n" -ge 30
'

test_expect_success 'fresh ed25519 key: good, sha256, wrong namespace' '
	ssh-keygen -q -t ed25519 -N "" -C me -f me &&
	echo "me@example.com $(cat me.pub)" >allowed &&
	printf "tree x\n\nfresh\n" >payload &&
	ssh-keygen -q -Y sign -n git -f me payload && mv payload.sig good.sig &&
	compare good allowed "" me@example.com good.sig payload &&
	grep -q "status=good" ours.out &&
	ssh-keygen -q -Y sign -n git -O hashalg=sha256 -f me payload &&
	mv payload.sig sha256.sig &&
	compare sha256 allowed "" me@example.com sha256.sig payload &&
	grep -q "status=good" ours.out &&
	ssh-keygen -q -Y sign -n file -f me payload && mv payload.sig file.sig &&
	compare file allowed "" me@example.com file.sig payload &&
	grep -q "status=wrong-namespace" ours.out
'

test_expect_success 'fresh key: namespaces, negation, windows, revocation' '
	k=$(cat me.pub) &&
	for opts in "namespaces=\"file\"" "namespaces=\"*,!git\"" \
	    "namespaces=\"g?t\"" "valid-before=\"20200101\"" \
	    "valid-after=\"29990101Z\"" "cert-authority" \
	    "valid-after=\"20200101\",valid-before=\"29990101\""; do
		echo "me@example.com $opts $k" >allowed &&
		compare "$opts" allowed "" me@example.com good.sig payload ||
		return 1
	done &&
	echo "me@example.com $k" >allowed &&
	cp me.pub revoked &&
	compare revoked allowed revoked me@example.com good.sig payload &&
	grep -q "status=revoked" ours.out
'

test_expect_success 'fresh key: tampered payload and truncated signature' '
	printf "tree x\n\nfresh!\n" >tampered &&
	compare tampered allowed "" me@example.com good.sig tampered &&
	grep -q "status=bad-signature" ours.out &&
	head -n 2 good.sig >cut.sig && tail -n 1 good.sig >>cut.sig &&
	compare truncated allowed "" me@example.com cut.sig payload &&
	grep -q "status=malformed" ours.out
'

test_expect_success 'sksign: ssh-keygen and we accept an sk-ed25519 signature' '
	"$sksign" -s t0300 -c 7 payload >sk.pub &&
	grep -q "^sk-ssh-ed25519@openssh.com AAAA" sk.pub &&
	echo "sk@example.com $(cat sk.pub)" >allowed-sk &&
	compare sk allowed-sk "" sk@example.com payload.sig payload &&
	grep -q "status=good key_type=sk-ssh-ed25519@openssh.com" ours.out
'

test_expect_success 'sksign: without user presence ssh-keygen accepts, we refuse' '
	"$sksign" -s t0300 -f 0 payload >/dev/null &&
	compare sk-no-touch allowed-sk "" sk@example.com payload.sig payload \
		stricter &&
	grep -q "lacks user presence" ours.out
'

test_expect_success 'sksign: another application is another key' '
	"$sksign" -s t0300 -a ssh:x payload >/dev/null &&
	compare sk-app allowed-sk "" sk@example.com payload.sig payload &&
	grep -q "status=unknown-key" ours.out
'

test_expect_success 'a malformed allowed_signers line: ssh-keygen skips, we refuse the file' '
	k=$(cat me.pub) &&
	{ echo "me@example.com bogus-option $k"; echo "me@example.com $k"; } >allowed &&
	ssh-keygen -Y verify -f allowed -I me@example.com -n git -s good.sig \
		<payload &&
	test_expect_code 2 "$sigcheck" allowed git good.sig <payload 2>err &&
	test_grep "allowed:1: unknown option .bogus-option." err
'

# KRLs (ssh-keygen -k) as the revocation file, against ssh-keygen -Y verify
# -r: a key revoked explicitly, by SHA-1, by SHA-256 and by fingerprint.
test_expect_success 'KRL: revoked explicitly, by SHA-1, SHA-256, fingerprint' '
	k=$(cat me.pub) &&
	echo "me@example.com $k" >allowed &&
	ssh-keygen -q -t ed25519 -N "" -C other -f other &&
	ssh-keygen -q -k -f krl-other other.pub &&
	compare krl-other allowed krl-other me@example.com good.sig payload &&
	grep -q "status=good" ours.out &&
	ssh-keygen -q -k -f krl-explicit me.pub &&
	printf "sha1: %s\n" "$k" >spec-sha1 &&
	ssh-keygen -q -k -f krl-sha1 spec-sha1 &&
	printf "sha256: %s\n" "$k" >spec-sha256 &&
	ssh-keygen -q -k -f krl-sha256 spec-sha256 &&
	printf "hash: %s\n" "$(ssh-keygen -lf me.pub | cut -d" " -f2)" \
	    >spec-hash &&
	ssh-keygen -q -k -f krl-hash spec-hash &&
	cp krl-other krl-updated &&
	ssh-keygen -q -k -u -f krl-updated spec-sha1 &&
	for krl in krl-explicit krl-sha1 krl-sha256 krl-hash krl-updated; do
		compare "$krl" allowed "$krl" me@example.com good.sig payload &&
		grep -q "status=revoked" ours.out || return 1
	done
'

test_expect_success 'KRL: an explicit sk-ed25519 key revokes it' '
	ssh-keygen -q -k -f krl-sk sk.pub &&
	compare krl-sk allowed-sk krl-sk sk@example.com payload.sig payload &&
	grep -q "status=revoked" ours.out
'

# tests/corpus/krl: good/ loads in ssh-keygen and in nixpull (it revokes
# none of our keys: both verify), bad/ in neither (both refuse); that
# includes the extension and signature sections (krl.h), which OpenSSH 9.2
# refuses as we do.
for krl in "$NIXPULL_SRCDIR"/tests/corpus/krl/good/* \
    "$NIXPULL_SRCDIR"/tests/corpus/krl/bad/*; do
	name=krl-${krl#"$NIXPULL_SRCDIR"/tests/corpus/krl/}
	test_expect_success "$name: agrees with ssh-keygen" '
		compare "$name" allowed "$krl" me@example.com good.sig payload &&
		case $name in
		krl-good/*) grep -q "status=good" ours.out ;;
		*) grep -q "KRL: " ours.out ;;
		esac
	'
done

test_done
