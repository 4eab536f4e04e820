#!/bin/bash
# Regenerates the fixed SSHSIG vectors in this directory with real
# ssh-keygen and tests/lib/sksign:  gen.sh BUILDDIR
#   payload            the signed bytes (a git commit object's text)
#   allowed_signers    the trust file all vectors are checked against
#   revoked            the revoked keys
#   good/*.sig         must verify
#   bad/STATUS--*.sig  must be refused with sig_status_name() STATUS
# Private keys are throw-away and not kept; ed25519 signatures are
# deterministic, so a vector only changes when its key does.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sksign=$(cd "${1:-build}" && pwd)/tests/lib/sksign
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
rm -rf "$here/good" "$here/bad"; mkdir -p "$here/good" "$here/bad"
cp "$here/payload" p
for k in alice carol dave erin frank grace mallory oscar; do
	ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$k"
done
ssh-keygen -q -t rsa -b 2048 -N '' -C rsa -f rsa
ssh-keygen -q -t ecdsa -N '' -C ecdsa -f ecdsa
pub() { cut -d' ' -f1,2 "$1.pub"; }
sign() { # KEY NAMESPACE OUT [ssh-keygen options]
	local k=$1 ns=$2 out=$3; shift 3
	ssh-keygen -q -Y sign -n "$ns" -f "$k" "$@" p 2>/dev/null
	mv p.sig "$out"
}
bob=$("$sksign" -p | cut -d' ' -f1,2)
cat > "$here/allowed_signers" <<EOT
# nixpull test vectors (tests/corpus/sshsig/gen.sh)
alice@example.com $(pub alice) alice's laptop
"bob the builder" $bob
carol@example.com namespaces="file" $(pub carol)
dave@example.com NAMESPACES="*,!git" $(pub dave)
erin@example.com valid-before="20200101Z" $(pub erin)
frank@example.com valid-after="29990101Z" $(pub frank)
*@example.com cert-authority $(pub grace)
rsa@example.com $(pub rsa)
ecdsa@example.com $(pub ecdsa)
mallory@example.com $(pub mallory)
EOT
printf '# revoked keys\n%s mallory\n' "$(pub mallory)" > "$here/revoked"
G=$here/good B=$here/bad
sign alice git $G/alice-sha512.sig
sign alice git $G/alice-sha256.sig -O hashalg=sha256
"$sksign" p >/dev/null && mv p.sig $G/bob-sk.sig
"$sksign" -c 4294967295 p >/dev/null && mv p.sig $G/bob-sk-counter.sig
awk '/^-----/ {print; next} {printf "%s", $0} /=$/ {print ""}' \
	$G/alice-sha512.sig > $G/alice-one-line.sig
sed 's/$/\r/' $G/alice-sha512.sig | sed '1s/\r$//' > $G/alice-crlf.sig
sign alice file $B/wrong-namespace--alice-file.sig
sign carol git $B/wrong-namespace--carol-only-file.sig
sign dave git $B/wrong-namespace--dave-not-git.sig
sign erin git $B/expired--erin.sig
sign frank git $B/not-yet-valid--frank.sig
sign grace git $B/cert-only--grace.sig
sign rsa git $B/unsupported-key--rsa.sig
sign ecdsa git $B/unsupported-key--ecdsa.sig
sign oscar git $B/unknown-key--oscar.sig
sign mallory git $B/revoked--mallory.sig
"$sksign" -f 0 p >/dev/null && mv p.sig $B/bad-signature--sk-no-touch.sig
"$sksign" -a ssh:other p >/dev/null && mv p.sig $B/unknown-key--sk-other-app.sig
"$sksign" -T x p >/dev/null && mv p.sig $B/malformed--trailing-bytes.sig
"$sksign" -V 0 p >/dev/null && mv p.sig $B/malformed--version-0.sig
"$sksign" -V 2 p >/dev/null && mv p.sig $B/malformed--version-2.sig
"$sksign" -R x p >/dev/null && mv p.sig $B/malformed--reserved.sig
"$sksign" -H sha1 p >/dev/null && mv p.sig $B/malformed--hash-sha1.sig
printf 'tampered\n' >> p
sign alice git $B/bad-signature--other-payload.sig
cp "$here/payload" p
a=$G/alice-sha512.sig
head -n 3 $a > $B/malformed--truncated.sig
tail -n 1 $a >> $B/malformed--truncated.sig
sed '2s/^U/!/' $a > $B/malformed--bad-char.sig
sed '2s/^U/ U/' $a > $B/malformed--space.sig
{ echo; cat $a; } > $B/malformed--junk-before.sig
{ cat $a; echo junk; } > $B/malformed--junk-after.sig
sed 's/=$//' $a > $B/malformed--no-padding.sig
grep -v END $a > $B/malformed--no-end.sig
python3 - "$a" "$B/malformed--wrong-magic.sig" "$B/bad-signature--flipped-bit.sig" \
	"$B/malformed--noncanonical-bits.sig" <<'PY'
import base64, sys
lines = open(sys.argv[1]).read().splitlines()
blob = base64.b64decode("".join(lines[1:-1]))
def armor(b, path):
    s = base64.b64encode(b).decode()
    open(path, "w").write("-----BEGIN SSH SIGNATURE-----\n" + "\n".join(
        s[i:i+70] for i in range(0, len(s), 70)) + "\n-----END SSH SIGNATURE-----\n")
armor(b"SSHSIH" + blob[6:], sys.argv[2])
armor(blob[:-1] + bytes([blob[-1] ^ 1]), sys.argv[3])
# the last base64 digit before '=' carries unused bits that must be zero
abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
text = open(sys.argv[1]).read()
i = text.index("=")
assert abc.index(text[i - 1]) % 4 == 0
open(sys.argv[4], "w").write(text[:i - 1] + abc[abc.index(text[i - 1]) + 1] + text[i:])
PY
