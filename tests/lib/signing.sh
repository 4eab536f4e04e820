# SSH signing keys and signed git history for the tests (real ssh-keygen
# and git only).
#
#   signing_keygen NAME [TYPE]	key pair $TEST_DIR/keys/NAME{,.pub}; TYPE is
#				ed25519 (default), rsa, ecdsa (P-256),
#				ecdsa-384, ecdsa-521; comment NAME
#   signing_key NAME		prints the private key's path
#   signing_allow FILE PRINCIPAL NAME [OPTIONS]
#				appends "PRINCIPAL [OPTIONS] KEYTYPE BASE64"
#				(an allowed_signers line) to FILE
#   signing_repo_init DIR NAME	git init DIR (branch main) to sign with key
#				NAME (gpg.format=ssh, user.signingkey); no
#				gpg.ssh.allowedSignersFile: the caller's
#   signed_commit DIR MSG [FILE CONTENT]
#				git commit -S; with FILE, writes CONTENT to
#				DIR/FILE and adds it, else --allow-empty.
#				SIGNING_KEY=NAME signs with another key
#   unsigned_commit DIR MSG [FILE CONTENT]
#				the same without a signature
#   signed_tag DIR TAG [REV]	git tag -s TAG -m TAG REV (HEAD)
#
# None of them prints anything but errors.

signing_key() {
	printf '%s\n' "$TEST_DIR/keys/$1"
}

signing_keygen() {
	local name=$1 type=${2:-ed25519} f
	local -a opt
	test_require ssh-keygen
	case $type in
	ed25519) opt=(-t ed25519) ;;
	rsa) opt=(-t rsa -b 3072) ;;
	ecdsa) opt=(-t ecdsa -b 256) ;;
	ecdsa-384) opt=(-t ecdsa -b 384) ;;
	ecdsa-521) opt=(-t ecdsa -b 521) ;;
	*) bail "signing_keygen: unknown key type '$type'" ;;
	esac
	f=$TEST_DIR/keys/$name
	mkdir -p "$TEST_DIR/keys" || return 1
	[ -e "$f" ] && { echo "signing_keygen: $f exists" >&2; return 1; }
	ssh-keygen -q "${opt[@]}" -N '' -C "$name" -f "$f" </dev/null >/dev/null ||
		{ echo "signing_keygen: ssh-keygen failed for '$name'" >&2; return 1; }
}

signing_allow() {
	local file=$1 principal=$2 name=$3 options=${4:-} type b64 rest
	read -r type b64 rest <"$TEST_DIR/keys/$name.pub" ||
		{ echo "signing_allow: no key '$name'" >&2; return 1; }
	if [ -n "$options" ]; then
		printf '%s %s %s %s\n' "$principal" "$options" "$type" "$b64" >>"$file"
	else
		printf '%s %s %s\n' "$principal" "$type" "$b64" >>"$file"
	fi
}

signing_repo_init() {
	local dir=$1 name=$2
	test_require git ssh-keygen
	[ -f "$TEST_DIR/keys/$name" ] ||
		{ echo "signing_repo_init: no key '$name'" >&2; return 1; }
	git init -q -b main "$dir" &&
	git -C "$dir" config gpg.format ssh &&
	git -C "$dir" config user.signingkey "$TEST_DIR/keys/$name"
}

_signing_stage() {
	local dir=$1 file=${2:-} content=${3:-}
	if [ -n "$file" ]; then
		mkdir -p "$(dirname "$dir/$file")" &&
		printf '%s\n' "$content" >"$dir/$file" &&
		git -C "$dir" add -- "$file"
	fi
}

signed_commit() {
	local dir=$1 msg=$2 empty=--allow-empty
	local -a key=()
	[ $# -ge 3 ] && empty=
	[ -n "${SIGNING_KEY:-}" ] &&
		key=(-c "user.signingkey=$TEST_DIR/keys/$SIGNING_KEY")
	_signing_stage "$dir" "${3:-}" "${4:-}" &&
	git -C "$dir" "${key[@]}" commit -q -S $empty -m "$msg"
}

unsigned_commit() {
	local dir=$1 msg=$2 empty=--allow-empty
	[ $# -ge 3 ] && empty=
	_signing_stage "$dir" "${3:-}" "${4:-}" &&
	git -C "$dir" -c commit.gpgsign=false commit -q $empty -m "$msg"
}

signed_tag() {
	local dir=$1 tag=$2 rev=${3:-HEAD}
	local -a key=()
	[ -n "${SIGNING_KEY:-}" ] &&
		key=(-c "user.signingkey=$TEST_DIR/keys/$SIGNING_KEY")
	git -C "$dir" "${key[@]}" tag -s -m "$tag" "$tag" "$rev"
}
