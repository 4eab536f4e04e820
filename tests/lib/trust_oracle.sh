# The oracle for trust.follow_repo (issue 15): however the chain counts
# them, every single signature is judged as git judges it.
#
#   trust_oracle REPO PINNED
#	for every commit of every ref of REPO and every signed tag, the
#	signature's verdict by `nixpull verify --repo REPO --allowed-signers
#	FILE [--revoked-keys REVOKED]` (exit status and its "good signature"
#	line) must equal `git verify-commit` / `git verify-tag` with
#	gpg.ssh.allowedSignersFile=FILE (and gpg.ssh.revocationFile=REVOKED),
#	for each trust file that can be in effect at it: the pinned root
#	PINNED, the parent's .nixpull/allowed_signers (the trust before a
#	change) and the commit's own (after it), each with the keys its
#	.nixpull/trust.yaml revokes.  A tag is judged with the files of the
#	commit it points at.  Fails naming the first disagreement, and when
#	the history holds no good or no refused signature at all (the
#	comparison would prove nothing).  Counts in $TEST_DIR/oracle.count:
#	"AGREE GOOD".

# _oracle_files REPO COMMIT PINNED: prints "ALLOWED REVOKED" for each
# distinct trust file set (REVOKED "-" when none), under $TEST_DIR/oracle/
_oracle_files() {
	local repo=$1 c=$2 pinned=$3 rev at id
	mkdir -p "$TEST_DIR/oracle" || return 1
	printf '%s -\n' "$pinned"
	for rev in "$c^" "$c"; do
		at=$(git -C "$repo" rev-parse -q --verify \
		    "$rev:.nixpull/allowed_signers" 2>/dev/null) || continue
		id=$at-$(git -C "$repo" rev-parse -q --verify \
		    "$rev:.nixpull/trust.yaml" 2>/dev/null || echo none)
		if [ ! -e "$TEST_DIR/oracle/$id.allowed" ]; then
			git -C "$repo" cat-file blob "$at" \
			    >"$TEST_DIR/oracle/$id.allowed" || return 1
			git -C "$repo" show "$rev:.nixpull/trust.yaml" 2>/dev/null |
			    sed -n '/^revoked:/,/^[^ ]/s/^  - //p' \
			    >"$TEST_DIR/oracle/$id.revoked"
		fi
		if [ -s "$TEST_DIR/oracle/$id.revoked" ]; then
			printf '%s %s\n' "$TEST_DIR/oracle/$id.allowed" \
			    "$TEST_DIR/oracle/$id.revoked"
		else
			printf '%s -\n' "$TEST_DIR/oracle/$id.allowed"
		fi
	done | sort -u
}

# _oracle_one REPO commit|tag REV NAME ALLOWED REVOKED: 0 when both agree,
# counting the verdict
_oracle_one() {
	local repo=$1 kind=$2 rev=$3 name=$4 allowed=$5 revoked=$6
	local ours=0 theirs=0 out=$TEST_DIR/oracle.out
	local -a ov=() gv=()
	if [ "$revoked" != - ]; then
		ov=(--revoked-keys "$revoked")
		gv=(-c "gpg.ssh.revocationFile=$revoked")
	fi
	"$NIXPULL" verify --repo "$repo" --allowed-signers "$allowed" \
	    "${ov[@]}" "$name" </dev/null >"$out" 2>&1 || ours=1
	# the exit status and the line must say the same
	if grep -q "^$kind $rev: good signature$" "$out"; then
		[ $ours -eq 0 ] || { cat "$out" >&2; return 1; }
	else
		ours=1
	fi
	git -C "$repo" -c "gpg.ssh.allowedSignersFile=$allowed" "${gv[@]}" \
	    "verify-$kind" "$rev" </dev/null >"$out.git" 2>&1 || theirs=1
	if [ $ours -ne $theirs ]; then
		echo "oracle: $kind $rev ($name) with $allowed${ov[1]:+ and ${ov[1]}}: nixpull says $ours, git says $theirs" >&2
		sed 's/^/| nixpull: /' "$out" >&2
		sed 's/^/| git: /' "$out.git" >&2
		return 1
	fi
	oracle_agree=$((oracle_agree + 1))
	[ $ours -eq 0 ] && oracle_good=$((oracle_good + 1))
	return 0
}

trust_oracle() {
	local repo=$1 pinned=$2 c t target allowed revoked
	oracle_agree=0 oracle_good=0
	for c in $(git -C "$repo" rev-list --all); do
		while read -r allowed revoked; do
			_oracle_one "$repo" commit "$c" "$c" "$allowed" \
			    "$revoked" || return 1
		done < <(_oracle_files "$repo" "$c" "$pinned")
	done
	for t in $(git -C "$repo" for-each-ref --format='%(refname:strip=2)' \
	    refs/tags); do
		[ "$(git -C "$repo" cat-file -t "refs/tags/$t")" = tag ] ||
			continue
		git -C "$repo" cat-file tag "refs/tags/$t" |
		    grep -q '^-----BEGIN SSH SIGNATURE-----$' || continue
		target=$(git -C "$repo" rev-parse "refs/tags/$t^{commit}") &&
		c=$(git -C "$repo" rev-parse "refs/tags/$t") || return 1
		while read -r allowed revoked; do
			_oracle_one "$repo" tag "$c" "refs/tags/$t" "$allowed" \
			    "$revoked" || return 1
		done < <(_oracle_files "$repo" "$target" "$pinned")
	done
	echo "$oracle_agree $oracle_good" >"$TEST_DIR/oracle.count"
	say "oracle: git agrees on $oracle_agree verdicts, $oracle_good of them good"
	if [ $oracle_good -eq 0 ] || [ $oracle_good -eq $oracle_agree ]; then
		echo "oracle: $oracle_good good of $oracle_agree: proves nothing" >&2
		return 1
	fi
}
