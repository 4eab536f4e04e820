#!/usr/bin/env bash
# The test flake: Nix 2.8 builds it offline from a pinned revision of a bare
# repository, variants change the out path, fail-build fails.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require nix git jq
nix_offline_env

top='config.system.build.toplevel'

test_expect_success 'nix_offline_env: a nix.conf of its own, nothing from /etc/nix' '
	test "$NIXPULL_NIX_ENV" = 1 &&
	test -z "${NIX_CONFIG:-}" &&
	test -f "$NIX_CONF_DIR/nix.conf" &&
	test "$NIX_USER_CONF_FILES" = "$NIX_CONF_DIR/nix.conf" &&
	cp "$NIX_CONF_DIR/nix.conf" cfg &&
	test_grep "^build-users-group =$" cfg &&
	test_grep "^experimental-features = nix-command flakes$" cfg &&
	test_grep "^substituters =$" cfg &&
	test_grep "^sandbox = false$" cfg &&
	nix show-config >shown &&
	test_grep "^build-users-group = *$" shown &&
	test_grep "^sandbox = false$" shown
'

test_expect_success 'the preflight names why Nix cannot build (nixbld missing)' '
	(
		. "$NIXPULL_SRCDIR/scripts/lib/nixenv.sh" &&
		mkdir broken &&
		printf "build-users-group = nixpull-no-such-group\nexperimental-features = nix-command\nsubstituters =\n" >broken/nix.conf &&
		export NIX_CONF_DIR=$TEST_DIR/broken NIX_USER_CONF_FILES=$TEST_DIR/broken/nix.conf &&
		test_must_fail nixenv_preflight >why
	) &&
	test_grep "^nix cannot build: error: .*nixpull-no-such-group" why &&
	test "$(wc -l <why)" -eq 1
'

test_expect_success_here 'a flake for two hosts in a bare repository' '
	git init -q -b main work &&
	nixflake_commit work "web-1 mac.local" "v1,rev" &&
	git init -q --bare repo.git &&
	git -C work push -q ../repo.git main &&
	rev1=$(git -C work rev-parse HEAD) &&
	url1="git+file://$TEST_DIR/repo.git?ref=main&rev=$rev1" &&
	test_grep "nixosConfigurations" work/flake.nix
'

test_expect_success_here 'nix build at a pinned rev: a NixOS-shaped toplevel' '
	out1=$(nixflake_build "$url1" "nixosConfigurations.\"web-1\".$top") &&
	case $out1 in /nix/store/*-nixos-system-web-1-test-v1_rev) ;; *) false ;; esac &&
	test -x "$out1/bin/switch-to-configuration" &&
	test -f "$out1/kernel" && test -f "$out1/initrd" &&
	test "$(cat "$out1/nixos-version")" = "test-v1,rev" &&
	"$out1/sw/bin/nixos-version" --json >v.json &&
	jq -e --arg r "$rev1" ".configurationRevision == \$r" v.json
'

test_expect_success 'the --json output is what nixpull parses (2.8 shape)' '
	nix build --json --no-link "$url1#nixosConfigurations.\"web-1\".$top" >b.json &&
	jq -e --arg o "$out1" ".[0].outputs.out == \$o and (.[0].drvPath | endswith(\".drv\"))" b.json
'

test_expect_success 'the host name with a dash works unquoted too' '
	out=$(nixflake_build "$url1" "nixosConfigurations.web-1.$top") &&
	test "$out" = "$out1"
'

test_expect_success 'switch-to-configuration logs its action and exits as told' '
	mkdir root &&
	NIXPULL_TEST_ROOT=$TEST_DIR/root "$out1/bin/switch-to-configuration" test &&
	echo "test $out1" >expect &&
	test_cmp expect root/switch.log &&
	NIXPULL_TEST_ROOT=$TEST_DIR/root NIXPULL_TEST_SWITCH_EXIT=4 \
	    test_expect_code 4 "$out1/bin/switch-to-configuration" switch &&
	test_expect_code 1 "$out1/bin/switch-to-configuration" bogus &&
	test "$(wc -l <root/switch.log)" -eq 2
'

test_expect_success 'darwinConfigurations.HOST.system has activate and systemConfig' '
	d=$(nixflake_build "$url1" "darwinConfigurations.\"mac.local\".system") &&
	test -x "$d/activate" &&
	test "$(cat "$d/systemConfig")" = "$d" &&
	mkdir -p droot &&
	NIXPULL_TEST_ROOT=$TEST_DIR/droot "$d/activate" &&
	echo "activate $d" >expect &&
	test_cmp expect droot/switch.log
'

test_expect_success_here 'another variant at a new rev: another out path, same kernel' '
	nixflake_commit work "web-1 mac.local" "v2" &&
	git -C work push -q ../repo.git main &&
	rev2=$(git -C work rev-parse HEAD) &&
	url2="git+file://$TEST_DIR/repo.git?ref=main&rev=$rev2" &&
	out2=$(nixflake_build "$url2" "nixosConfigurations.\"web-1\".$top") &&
	test "$out2" != "$out1" &&
	test "$(readlink "$out2/kernel")" = "$(readlink "$out1/kernel")" &&
	out1again=$(nixflake_build "$url1" "nixosConfigurations.\"web-1\".$top") &&
	test "$out1again" = "$out1"
'

test_expect_success 'kernel:K changes the kernel' '
	nixflake_commit work "web-1" "v2,kernel:2" &&
	out=$(nixflake_build "git+file://$TEST_DIR/work?ref=main&rev=$(git -C work rev-parse HEAD)" \
	    "nixosConfigurations.\"web-1\".$top") &&
	test "$(readlink "$out/kernel")" != "$(readlink "$out2/kernel")"
'

test_expect_success 'fail-build: nix build exits 1 with the message' '
	nixflake_commit work "web-1" "fail-build" &&
	git -C work push -q ../repo.git main &&
	rev=$(git -C work rev-parse HEAD) &&
	test_expect_code 1 nix build --no-link \
	    "git+file://$TEST_DIR/repo.git?ref=main&rev=$rev#nixosConfigurations.\"web-1\".$top" 2>err &&
	test_grep "fails on purpose" err
'

test_expect_success 'parallel: the builders see --cores' '
	nixflake_commit work "web-1" "parallel" &&
	rev=$(git -C work rev-parse HEAD) &&
	out=$(nixflake_build "git+file://$TEST_DIR/work?ref=main&rev=$rev" \
	    "nixosConfigurations.\"web-1\".$top" --max-jobs 4 --cores 3) &&
	test "$(cat "$out/cores")" = 3 &&
	test "$(wc -w <"$out/parts")" -eq 4
'

test_expect_success 'slow:N builds take N seconds and can be cut short' '
	nixflake_commit work "web-1" "slow:2" &&
	rev=$(git -C work rev-parse HEAD) &&
	start=$(date +%s) &&
	out=$(nixflake_build "git+file://$TEST_DIR/work?ref=main&rev=$rev" \
	    "nixosConfigurations.\"web-1\".$top") &&
	test $(( $(date +%s) - start )) -ge 2 &&
	nixflake_commit work "web-1" "slow:60" &&
	rev=$(git -C work rev-parse HEAD) &&
	start=$(date +%s) &&
	test_must_fail timeout 3 nix build --no-link \
	    "git+file://$TEST_DIR/work?ref=main&rev=$rev#nixosConfigurations.\"web-1\".$top" &&
	test $(( $(date +%s) - start )) -lt 30
'

test_done
