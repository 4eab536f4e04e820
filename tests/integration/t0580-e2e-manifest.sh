#!/usr/bin/env bash
# End to end with `nixpull once` (issue 13): the signed system manifest.
# A "CI" builds a system, copies it with `nix copy --to file://` into a
# binary cache signed with a key of nix-store --generate-binary-cache-key,
# served by nginx, and forgets it locally; the release's
# .nixpull/systems.json names its store path and NAR hash.  The agent
# realises that path from the cache (Nix checks the narinfo signature
# against build.trusted_public_keys), checks the NAR hash, activates the
# path: no evaluation (no `nix build`, recorded by a shim in front of nix).
# A key the agent does not trust: Nix refuses, failed, nothing activated
# (auto with fallback build: built instead).  A NAR hash that differs:
# failed naming the path and both hashes, nothing activated.  No entry for
# this host: evaluated and built as before.  A manifest in an unsigned
# commit above the signed release is never read: the release's own entry
# is deployed, or (no entry) substitute refuses and auto builds.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
. "$TESTLIB_DIR/bincache.sh"
e2e_init web-1
e2e_machine 2 64GiB
E2E_SALT_VARIANT=1
E2E_REF=main
ATTR='nixosConfigurations."web-1".config.system.build.toplevel'

# Every nix and nix-store the agent runs, recorded, then the real one.
mkdir -p shim || bail "cannot make the shim directory"
for prog in nix nix-store; do
	real=$(command -v $prog) || bail "no $prog"
	printf '#!/bin/sh\nprintf "%%s\\n" "%s $*" >>"%s"\nexec %s "$@"\n' \
	    "$prog" "$TEST_DIR/agent-nix.log" "$real" >"shim/$prog"
	chmod +x "shim/$prog"
done

bincache_start
KEY=$(bincache_key test-cache-1) || bail "cannot make a cache key"
OTHER=$(bincache_key test-cache-2) || bail "cannot make a second key"

# config SOURCE TRUSTED [FALLBACK [VERIFY]]
config() {
	e2e_config "  profile: server
  source: $1
  fallback: ${3:-build}
  verify_manifest: ${4:-none}
  substituters: $BINCACHE_URL
  trusted_public_keys: $2" "  health_checks:
    - systemctl is-system-running"
}

# ci VARIANT: the system of VARIANT built at the work tree's HEAD, copied
# to the cache signed with test-cache-1 and forgotten here; sets ci_path.
ci() {
	NIXFLAKE_SALT="${TEST_DIR##*/}-$1" \
	    nixflake_write "$TEST_DIR/work" "$HOST" "$1" &&
	ci_path=$(nixflake_build "path:$TEST_DIR/work" "$ATTR") &&
	bincache_copy "$ci_path" "$TEST_DIR/test-cache-1.sec" &&
	bincache_forget "$ci_path"
}

# manifest HOST PATH HASH [unsigned]: the signed release commit (or an
# unsigned commit) with the flake and .nixpull/systems.json, pushed; sets
# rev.
manifest() {
	mkdir -p "$TEST_DIR/work/.nixpull" &&
	printf '{"version": 1, "systems": {"%s": {"path": "%s", "narHash": "%s"}}}\n' \
	    "$1" "$2" "$3" >"$TEST_DIR/work/.nixpull/systems.json" &&
	git -C "$TEST_DIR/work" add flake.nix .nixpull/systems.json &&
	if [ "${4:-}" = unsigned ]; then
		git -C "$TEST_DIR/work" -c commit.gpgsign=false \
		    commit -q -m "not released: $2"
	else
		git -C "$TEST_DIR/work" commit -q -S -m "release $2"
	fi &&
	push
}

# nar_hash PATH: its NAR hash as nix path-info --json prints it, read from
# the cache's narinfo (the path is not in the local store).
nar_hash() {
	sed -n 's/^NarHash: //p' "$BINCACHE_DIR/$(basename "$1" | cut -c1-32).narinfo"
}

# entry_ok MANIFEST PATH: PATH's narHash and narSize are the local store's,
# and the hash is the one the cache's narinfo holds.
entry_ok() {
	local h
	h=$(jq -r ".systems[] | select(.path == \"$2\") | .narHash" "$1") &&
	test "$h" = "$(nix-store --query --hash "$2")" &&
	test "$(jq -r ".systems[] | select(.path == \"$2\") | .narSize" "$1")" = \
	    "$(nix-store --query --size "$2")" &&
	test "$(nix --extra-experimental-features nix-command hash to-base32 \
	    "$(nar_hash "$2")")" = "${h#sha256:}"
}

# closure_size PATH: the NAR bytes of PATH's whole closure.
closure_size() {
	nix-store --query --requisites "$1" | xargs nix-store --query --size |
	    awk '{ n += $1 } END { print n }'
}

evaluated() { grep -q "^nix .* build .*#$ATTR" "$TEST_DIR/agent-nix.log"; }
eval_only() { grep -q "^nix .* eval --raw .*#$ATTR.outPath\$" "$TEST_DIR/agent-nix.log"; }
agent_once() { : >"$TEST_DIR/agent-nix.log"; PATH=$TEST_DIR/shim:$PATH once; }

test_expect_success_here 'no entry for this host (auto): evaluated and built as before' '
	config auto "$KEY" &&
	NIXFLAKE_SALT="${TEST_DIR##*/}-v1" nixflake_write "$TEST_DIR/work" "$HOST" v1 &&
	manifest other-host /nix/store/00mg534cpayw9392pf6vxjkaj0lnxjaq-x \
	    sha256-QCPhH9md9x1V2RM3CGluIx5gBYPoJcw/clspV2Zmsbg= &&
	rev1=$rev &&
	test_expect_code 0 agent_once &&
	evaluated &&
	sys1=$(built "$rev1") &&
	test "$(current)" = "$sys1" &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test "$(st .deployed.source)" = built &&
	test "$(st .last_attempt.source)" = built &&
	test "$(st .last_attempt.evaluations)" = 1 &&
	test "$(st .last_attempt.substituted_bytes)" = null
'

test_expect_success_here 'the CI side: a system in the signed cache, not in the local store' '
	ci v2 &&
	sys2=$ci_path &&
	test ! -e "$sys2" &&
	test -s "$BINCACHE_DIR/nix-cache-info" &&
	hash2=$(nar_hash "$sys2") &&
	test -n "$hash2" &&
	manifest "$HOST" "$sys2" "$hash2" &&
	rev2=$rev
'

test_expect_success 'substitute, a key the agent does not trust: Nix refuses, failed, nothing activated' '
	config substitute "$OTHER" &&
	n=$(ncalls) &&
	test_expect_code 1 agent_once &&
	! evaluated &&
	test ! -e "$sys2" &&
	test "$(ncalls)" = "$n" &&
	test "$(current)" = "$sys1" &&
	test "$(st .state)" = failed &&
	test "$(st .deployed.rev)" = "$rev1" &&
	test "$(st .deployed.source)" = built &&
	test "$(st .last_attempt.source)" = substituted &&
	test "$(st .last_attempt.evaluations)" = 0 &&
	st .last_attempt.error >err &&
	test_grep "cannot realise $sys2 from the binary caches" err
'

test_expect_success 'substitute, the trusted key: realised from the cache, no evaluation, that path activated' '
	config substitute "$KEY" &&
	n=$(ncalls) &&
	test_expect_code 0 agent_once &&
	! evaluated &&
	grep -q "^nix-store --realise $sys2 " "$TEST_DIR/agent-nix.log" &&
	grep -q "^nix-store --query --hash $sys2\$" "$TEST_DIR/agent-nix.log" &&
	log_wait "GET /[a-z0-9]*\\.narinfo .* 200 " "$BINCACHE_ACCESS_LOG" &&
	log_wait "GET /nar/.* 200 " "$BINCACHE_ACCESS_LOG" &&
	calls_since "$n" >got &&
	sp_calls switch "$sys2" >expect &&
	call_line systemctl is-system-running >>expect &&
	test_cmp expect got &&
	test "$(current)" = "$sys2" &&
	test "$(st .state)" = ok &&
	test "$(st .deployed.rev)" = "$rev2" &&
	test "$(st .deployed.store_path)" = "$sys2" &&
	test "$(st .deployed.source)" = substituted &&
	test "$(st .last_attempt.source)" = substituted &&
	test "$(st .last_attempt.evaluations)" = 0 &&
	test "$(jq -r .deployed.source "$(ls "$S"/history/*.json | tail -n 1)")" = substituted &&
	bytes=$(st .last_attempt.substituted_bytes) &&
	test "$bytes" -ge "$(nix-store --query --size "$sys2")" &&
	test "$bytes" -le "$(closure_size "$sys2")" &&
	test "$(readlink "$S/gcroots/$rev2")" = "$sys2"
'

test_expect_success_here 'a NAR hash that differs from the signed one: failed naming both, nothing activated' '
	ci v3 &&
	sys3=$ci_path &&
	manifest "$HOST" "$sys3" "$hash2" &&
	rev3=$rev &&
	n=$(ncalls) &&
	test_expect_code 1 agent_once &&
	! evaluated &&
	test "$(ncalls)" = "$n" &&
	test "$(current)" = "$sys2" &&
	test "$(st .state)" = failed &&
	test "$(st .deployed.rev)" = "$rev2" &&
	test "$(st .deployed.source)" = substituted &&
	test "$(st .last_attempt.source)" = substituted &&
	st .last_attempt.error >err &&
	test_grep "NAR hash mismatch for $sys3" err &&
	want=$(nix --extra-experimental-features nix-command hash to-base32 "$hash2") &&
	got=$(nix-store --query --hash "$sys3") &&
	test_grep "says sha256:$want, the store has $got" err
'

test_expect_success_here 'auto with fallback build, an untrusted key: built locally instead' '
	ci v4 &&
	sys4=$ci_path &&
	manifest "$HOST" "$sys4" "$(nar_hash "$sys4")" &&
	rev4=$rev &&
	config auto "$OTHER" build &&
	test_expect_code 0 agent_once &&
	evaluated &&
	test "$(current)" = "$sys4" &&
	test "$(st .deployed.rev)" = "$rev4" &&
	test "$(st .deployed.source)" = built &&
	test "$(st .last_attempt.source)" = built &&
	test "$(st .last_attempt.evaluations)" = 1 &&
	test_grep "building ${rev4:0:12} instead" "$TEST_DIR/once.log"
'

# A manifest is read from the selected signed release only: an unsigned
# commit above it changes nothing about where the system comes from.
test_expect_success_here 'a manifest in an unsigned commit above the signed release: never used, the release'"'"'s own entry deployed' '
	ci v5 &&
	sys5=$ci_path &&
	manifest "$HOST" "$sys5" "$(nar_hash "$sys5")" &&
	rev5=$rev &&
	ci v6 &&
	sys6=$ci_path &&
	manifest "$HOST" "$sys6" "$(nar_hash "$sys6")" unsigned &&
	rev6=$rev &&
	test "$(git -C "$TEST_DIR/work" rev-parse HEAD^)" = "$rev5" &&
	config substitute "$KEY" &&
	test_expect_code 0 agent_once &&
	! evaluated &&
	grep -q "^nix-store --realise $sys5 " "$TEST_DIR/agent-nix.log" &&
	! grep -q "$sys6" "$TEST_DIR/agent-nix.log" &&
	test ! -e "$sys6" &&
	test "$(current)" = "$sys5" &&
	test "$(st .state)" = ok &&
	test "$(st .tip.rev)" = "$rev6" &&
	test "$(st .deployed.rev)" = "$rev5" &&
	test "$(st .deployed.store_path)" = "$sys5" &&
	test "$(st .deployed.source)" = substituted
'

test_expect_success_here 'only the unsigned commit names this host: substitute refuses, auto builds the signed release' '
	ci v7 &&
	manifest other-host /nix/store/00mg534cpayw9392pf6vxjkaj0lnxjaq-x \
	    sha256-QCPhH9md9x1V2RM3CGluIx5gBYPoJcw/clspV2Zmsbg= &&
	rev7=$rev &&
	ci v8 &&
	sys8=$ci_path &&
	manifest "$HOST" "$sys8" "$(nar_hash "$sys8")" unsigned &&
	rev8=$rev &&
	config substitute "$KEY" &&
	n=$(ncalls) &&
	test_expect_code 1 agent_once &&
	! evaluated &&
	! grep -q "^nix-store --realise" "$TEST_DIR/agent-nix.log" &&
	test "$(ncalls)" = "$n" &&
	test "$(current)" = "$sys5" &&
	test "$(st .state)" = failed &&
	test "$(st .deployed.rev)" = "$rev5" &&
	st .last_attempt.error >err &&
	test_grep "${rev7:0:12}'"'"'s .nixpull/systems.json names no system for '"'"'$HOST'"'"'" err &&
	config auto "$KEY" &&
	test_expect_code 0 agent_once &&
	evaluated &&
	! grep -q "^nix-store --realise" "$TEST_DIR/agent-nix.log" &&
	test ! -e "$sys8" &&
	test "$(st .tip.rev)" = "$rev8" &&
	test "$(st .deployed.rev)" = "$rev7" &&
	test "$(current)" = "$(built "$rev7")" &&
	test "$(current)" != "$sys8" &&
	test "$(st .deployed.source)" = built &&
	test "$(st .last_attempt.evaluations)" = 1
'

# build.verify_manifest: eval evaluates the toplevel's outPath (no build)
# and refuses a manifest that disagrees, before anything is realised.
test_expect_success_here 'verify_manifest eval, the manifest agrees: evaluated once, not built, substituted' '
	ci v9 &&
	sys9=$ci_path &&
	manifest "$HOST" "$sys9" "$(nar_hash "$sys9")" &&
	rev9=$rev &&
	config auto "$KEY" build eval &&
	test_expect_code 0 agent_once &&
	eval_only &&
	! evaluated &&
	grep -q "^nix-store --realise $sys9 " "$TEST_DIR/agent-nix.log" &&
	test "$(current)" = "$sys9" &&
	test "$(st .deployed.rev)" = "$rev9" &&
	test "$(st .deployed.source)" = substituted &&
	test "$(st .last_attempt.evaluations)" = 1
'

test_expect_success_here 'verify_manifest eval, the manifest names another system: refused, nothing realised or built' '
	ci v11 &&
	sys11=$ci_path &&
	NIXFLAKE_SALT="${TEST_DIR##*/}-v10" \
	    nixflake_write "$TEST_DIR/work" "$HOST" v10 &&
	manifest "$HOST" "$sys11" "$(nar_hash "$sys11")" &&
	rev10=$rev &&
	n=$(ncalls) &&
	test_expect_code 1 agent_once &&
	eval_only &&
	! evaluated &&
	! grep -q "^nix-store --realise" "$TEST_DIR/agent-nix.log" &&
	test ! -e "$sys11" &&
	test "$(ncalls)" = "$n" &&
	test "$(current)" = "$sys9" &&
	test "$(st .state)" = failed &&
	test "$(st .deployed.rev)" = "$rev9" &&
	test "$(st .last_attempt.source)" = substituted &&
	test "$(st .last_attempt.evaluations)" = 1 &&
	st .last_attempt.error >err &&
	test_grep "build.verify_manifest: ${rev10:0:12}'"'"'s .nixpull/systems.json names $sys11 for '"'"'$HOST'"'"', but the configuration evaluates to /nix/store/.*; refused" err &&
	! grep -q "evaluates to $sys11" err
'

# nixpull manifest as CI runs it: a two-host flake, built (tuned), copied
# to the signed cache, the manifest written; the release that carries it
# is then deployed from the cache with no evaluation on the host.
test_expect_success 'nixpull manifest: --all or --hosts, and a host the flake lacks' '
	test_expect_code 2 "$NIXPULL" manifest --repo "$TEST_DIR/work" &&
	test_expect_code 2 "$NIXPULL" manifest --repo "$TEST_DIR/work" \
	    --all --hosts "$HOST" &&
	test_expect_code 1 "$NIXPULL" manifest --repo "$TEST_DIR/work" \
	    --hosts "$HOST,nosuch" -o "$TEST_DIR/nosuch.json" 2>err &&
	test_grep "no nixosConfigurations or darwinConfigurations entry for '"'"'nosuch'"'"'" err &&
	test ! -e "$TEST_DIR/nosuch.json"
'

test_expect_success_here 'nixpull manifest on a two-host flake: built, copied to the cache, the manifest the agent deploys' '
	NIXFLAKE_SALT="${TEST_DIR##*/}-v12" \
	    nixflake_write "$TEST_DIR/work" "$HOST web-2" v12 &&
	git -C "$TEST_DIR/work" add flake.nix &&
	: >"$TEST_DIR/agent-nix.log" &&
	PATH=$TEST_DIR/shim:$PATH "$NIXPULL" manifest --repo "$TEST_DIR/work" \
	    --all --copy-to "file://$BINCACHE_DIR?secret-key=$TEST_DIR/test-cache-1.sec" \
	    2>"$TEST_DIR/manifest.log" &&
	grep -q "^nix .* build --json --no-link --max-jobs [1-9][0-9]* --cores [0-9]* .*#nixosConfigurations.\"$HOST\".config.system.build.toplevel .*#nixosConfigurations.\"web-2\".config.system.build.toplevel\$" "$TEST_DIR/agent-nix.log" &&
	test "$(grep -c "^nix .* build " "$TEST_DIR/agent-nix.log")" = 1 &&
	m=$TEST_DIR/work/.nixpull/systems.json &&
	test "$(jq -r ".version" "$m")" = 1 &&
	test "$(jq -r ".systems | keys | join(\",\")" "$m")" = "$HOST,web-2" &&
	sys12=$(jq -r ".systems[\"$HOST\"].path" "$m") &&
	sys12b=$(jq -r ".systems[\"web-2\"].path" "$m") &&
	test "$sys12" != "$sys12b" &&
	entry_ok "$m" "$sys12" &&
	entry_ok "$m" "$sys12b" &&
	bincache_forget "$sys12" &&
	bincache_forget "$sys12b" &&
	git -C "$TEST_DIR/work" add .nixpull/systems.json &&
	git -C "$TEST_DIR/work" commit -q -S -m "release: nixpull manifest" &&
	push &&
	rev12=$rev &&
	config substitute "$KEY" &&
	test_expect_code 0 agent_once &&
	! evaluated &&
	! eval_only &&
	grep -q "^nix-store --realise $sys12 " "$TEST_DIR/agent-nix.log" &&
	test "$(current)" = "$sys12" &&
	test "$(st .deployed.rev)" = "$rev12" &&
	test "$(st .deployed.source)" = substituted &&
	test "$(st .last_attempt.evaluations)" = 0 &&
	test "$(st .last_attempt.substituted_bytes)" -ge "$(nix-store --query --size "$sys12")" &&
	test ! -e "$sys12b"
'

test_done
