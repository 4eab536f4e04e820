#!/bin/bash
# Regenerates tests/corpus/krl: good/ KRLs made by ssh-keygen -k (OpenSSH
# 9.2) from throw-away keys, bad/ ones hand-made from them (make_bad.py).
# Every file of good/ loads in ssh-keygen -Q and in nixpull's parser, no
# file of bad/ loads in either (t0300 checks both).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for k in a b c ca; do
	ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$tmp/$k"
done
ssh-keygen -q -t rsa -b 2048 -N '' -C rsa -f "$tmp/rsa"
ssh-keygen -q -s "$tmp/ca" -I cert-a -z 7 "$tmp/a.pub"
cd good
ssh-keygen -q -k -f explicit "$tmp/a.pub" "$tmp/rsa.pub"
printf 'sha1: %s\n' "$(cat "$tmp/a.pub")" >"$tmp/spec-sha1"
ssh-keygen -q -k -f sha1 "$tmp/spec-sha1"
printf 'sha256: %s\nhash: %s\n' "$(cat "$tmp/b.pub")" \
	"$(ssh-keygen -lf "$tmp/c.pub" | cut -d' ' -f2)" >"$tmp/spec-sha256"
ssh-keygen -q -k -z 42 -f sha256 "$tmp/spec-sha256"
{ printf 'serial: 1\nserial: 5-9\nid: cert-a\n'
	for i in $(seq 201 2 299); do echo "serial: $i"; done; } >"$tmp/spec-certs"
ssh-keygen -q -k -s "$tmp/ca.pub" -f certs "$tmp/spec-certs"
: >"$tmp/empty"
ssh-keygen -q -k -f empty "$tmp/empty"
ssh-keygen -q -k -f "$tmp/mixed" "$tmp/a.pub"
ssh-keygen -q -k -u -f "$tmp/mixed" "$tmp/spec-sha256"
cp "$tmp/mixed" mixed
cd ..
python3 make_bad.py
