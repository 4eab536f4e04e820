#!/usr/bin/env bash
# The signing helpers: SSH-signed commits and tags that git itself verifies.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require git ssh-keygen

test_expect_success 'signing_keygen makes key pairs of each type, silently' '
	signing_keygen alice >out 2>&1 &&
	signing_keygen bob rsa >>out 2>&1 &&
	signing_keygen carol ecdsa >>out 2>&1 &&
	test ! -s out &&
	test -f keys/alice && test -f keys/alice.pub &&
	test_grep "^ssh-ed25519 AAAA[^ ]+ alice$" keys/alice.pub &&
	test_grep "^ssh-rsa AAAA[^ ]+ bob$" keys/bob.pub &&
	test_grep "^ecdsa-sha2-nistp256 AAAA[^ ]+ carol$" keys/carol.pub &&
	test "$(signing_key alice)" = "$TEST_DIR/keys/alice" &&
	test_must_fail signing_keygen alice 2>err
'

test_expect_success 'signing_allow writes allowed_signers lines' '
	signing_allow allowed "alice@example.com" alice &&
	signing_allow allowed "bob@example.com,ops@example.com" bob "namespaces=\"git\"" &&
	alice_key=$(cut -d" " -f1,2 keys/alice.pub) &&
	bob_key=$(cut -d" " -f1,2 keys/bob.pub) &&
	printf "%s\n" "alice@example.com $alice_key" \
	    "bob@example.com,ops@example.com namespaces=\"git\" $bob_key" >expect &&
	test_cmp expect allowed
'

test_expect_success 'signed_commit: git verify-commit accepts it' '
	signing_repo_init repo alice &&
	test "$(git -C repo config gpg.format)" = ssh &&
	test_must_fail git -C repo config gpg.ssh.allowedSignersFile &&
	signed_commit repo "first" flake.nix "{ }" &&
	test "$(git -C repo show HEAD:flake.nix)" = "{ }" &&
	git -C repo cat-file commit HEAD >c &&
	test_grep "^gpgsig -----BEGIN SSH SIGNATURE-----" c &&
	git -C repo -c gpg.ssh.allowedSignersFile="$TEST_DIR/allowed" \
	    verify-commit HEAD 2>err &&
	test_grep "Good \"git\" signature for alice@example.com with ED25519 key" err
'

test_expect_success 'a key not in allowed_signers does not verify' '
	signing_allow only-bob "bob@example.com" bob &&
	test_must_fail git -C repo -c gpg.ssh.allowedSignersFile="$TEST_DIR/only-bob" \
	    verify-commit HEAD 2>err &&
	test_grep "No principal matched" err
'

test_expect_success 'unsigned_commit is not verified' '
	unsigned_commit repo "second" other "x" &&
	git -C repo cat-file commit HEAD >c &&
	test_grep_not "^gpgsig" c &&
	test_must_fail git -C repo -c gpg.ssh.allowedSignersFile="$TEST_DIR/allowed" \
	    verify-commit HEAD &&
	test "$(git -C repo rev-list --count HEAD)" = 2
'

test_expect_success 'signed_commit without a file is an empty commit; SIGNING_KEY picks the key' '
	SIGNING_KEY=bob signed_commit repo "third" &&
	git -C repo diff --quiet HEAD^ HEAD &&
	git -C repo -c gpg.ssh.allowedSignersFile="$TEST_DIR/allowed" \
	    verify-commit HEAD 2>err &&
	test_grep "for bob@example.com with RSA key" err
'

test_expect_success 'signed_tag: git verify-tag accepts it' '
	signed_tag repo v1 HEAD~2 &&
	test "$(git -C repo rev-parse v1^{commit})" = "$(git -C repo rev-parse HEAD~2)" &&
	git -C repo -c gpg.ssh.allowedSignersFile="$TEST_DIR/allowed" \
	    verify-tag v1 2>err &&
	test_grep "Good \"git\" signature for alice@example.com" err &&
	git -C repo tag -m unsigned v2 &&
	test_must_fail git -C repo -c gpg.ssh.allowedSignersFile="$TEST_DIR/allowed" \
	    verify-tag v2
'

test_expect_success 'an expired key (valid-before in the past) is rejected' '
	signing_keygen old &&
	signing_allow expired "old@example.com" old "valid-before=\"20000101\"" &&
	signing_repo_init repo-old old &&
	signed_commit repo-old "old" &&
	test_must_fail git -C repo-old -c gpg.ssh.allowedSignersFile="$TEST_DIR/expired" \
	    verify-commit HEAD
'

test_done
