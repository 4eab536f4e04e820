#!/usr/bin/env bash
# The stand-ins for nixos-rebuild, darwin-rebuild and systemctl keep the
# contracts of the real programs (CONTRACTS.md).
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
test_require nix git jq flock
nix_offline_env
standin_env

R=$NIXPULL_TEST_ROOT
P=$R/nix/var/nix/profiles
top='config.system.build.toplevel'

git init -q -b main work
git init -q --bare repo.git

# commit_variant VARIANT: commits and pushes; sets url and out.
commit_variant() {
	nixflake_commit work "web-1 mac" "$1" &&
	git -C work push -q -f ../repo.git main &&
	url="git+file://$TEST_DIR/repo.git?ref=main&rev=$(git -C work rev-parse HEAD)"
}

test_expect_success 'the stand-ins are first on PATH and need NIXPULL_TEST_ROOT' '
	test "$(command -v nixos-rebuild)" = "$TESTLIB_DIR/bin/nixos-rebuild" &&
	test "$(command -v darwin-rebuild)" = "$TESTLIB_DIR/bin/darwin-rebuild" &&
	test "$(command -v systemctl)" = "$TESTLIB_DIR/bin/systemctl" &&
	(unset NIXPULL_TEST_ROOT && test_expect_code 1 nixos-rebuild switch 2>err) &&
	test_grep "NIXPULL_TEST_ROOT is not set" err
'

test_expect_success_here 'switch: builds, new generation, current-system, switch-to-configuration' '
	commit_variant v1 &&
	nixos-rebuild switch --flake "$url#web-1" --max-jobs 2 --cores 3 -L 2>err &&
	out1=$(nixflake_build "$url" "nixosConfigurations.\"web-1\".$top") &&
	test "$(readlink "$P/system")" = system-1-link &&
	test "$(readlink "$P/system-1-link")" = "$out1" &&
	test "$(readlink "$R/run/current-system")" = "$out1" &&
	echo "switch $out1" >expect &&
	test_cmp expect "$R/switch.log" &&
	test_grep "building the system configuration" err
'

test_expect_success 'calls.log has the argv, nix-calls.log the nix build with pass-through flags' '
	printf "%s\n" "nixos-rebuild switch --flake $(printf %q "$url#web-1") --max-jobs 2 --cores 3 -L" >expect &&
	test_cmp expect "$R/calls.log" &&
	head -n 1 "$R/nix-calls.log" >nix1 &&
	printf "%s\n" "nix build --no-link --json --max-jobs 2 --cores 3 -L $(printf %q "$url#nixosConfigurations.\"web-1\".$top")" >expect &&
	test_cmp expect nix1
'

test_expect_success 'switch to the same toplevel again: no new generation' '
	nixos-rebuild switch --flake "$url#web-1" 2>err &&
	test "$(readlink "$P/system")" = system-1-link &&
	test_must_fail test -e "$P/system-2-link" &&
	test "$(wc -l <"$R/switch.log")" -eq 2
'

test_expect_success_here 'boot: new generation, current-system unchanged' '
	commit_variant v2 &&
	nixos-rebuild boot --flake "$url#web-1" 2>err &&
	out2=$(readlink "$P/system-2-link") &&
	test "$out2" != "$out1" &&
	test "$(readlink "$P/system")" = system-2-link &&
	test "$(readlink "$R/run/current-system")" = "$out1" &&
	test "$(tail -n 1 "$R/switch.log")" = "boot $out2"
'

test_expect_success_here 'test: current-system moves, the profile does not' '
	commit_variant v3 &&
	nixos-rebuild test --flake "$url#web-1" 2>err &&
	out3=$(readlink "$R/run/current-system") &&
	test "$out3" != "$out2" && test "$out3" != "$out1" &&
	test "$(readlink "$P/system")" = system-2-link &&
	test "$(tail -n 1 "$R/switch.log")" = "test $out3"
'

test_expect_success 'build: ./result, nothing else; dry-build builds nothing' '
	commit_variant v4 &&
	mkdir scratch &&
	n=$(wc -l <"$R/switch.log") &&
	(cd scratch && nixos-rebuild build --flake "$url#web-1" 2>err) &&
	test -x scratch/result/bin/switch-to-configuration &&
	test "$(readlink "$P/system")" = system-2-link &&
	test "$(wc -l <"$R/switch.log")" -eq "$n" &&
	commit_variant v5 &&
	nixos-rebuild dry-build --flake "$url#web-1" 2>err &&
	test_grep "will be built" err
'

test_expect_success 'switch --rollback: back one generation, no build' '
	n=$(wc -l <"$R/nix-calls.log") &&
	nixos-rebuild switch --rollback --no-reexec 2>err &&
	test "$(readlink "$P/system")" = system-1-link &&
	test "$(readlink "$R/run/current-system")" = "$out1" &&
	test "$(tail -n 1 "$R/switch.log")" = "switch $out1" &&
	tail -n +$((n + 1)) "$R/nix-calls.log" >new &&
	echo "nix-env --rollback -p /nix/var/nix/profiles/system" >expect &&
	test_cmp expect new
'

test_expect_success 'switch --rollback at the oldest generation fails like nix-env' '
	test_expect_code 1 nixos-rebuild switch --rollback 2>err &&
	test_grep "no profile version older than the current \(1\) exists" err &&
	test "$(readlink "$P/system")" = system-1-link
'

test_expect_success_here 'NIXPULL_TEST_SWITCH_EXIT=4: switched, units failed, exit 4' '
	commit_variant v6 &&
	NIXPULL_TEST_SWITCH_EXIT=4 test_expect_code 4 \
	    nixos-rebuild switch --flake "$url#web-1" 2>err &&
	out6=$(readlink "$R/run/current-system") &&
	test "$(readlink -f "$P/system")" = "$out6" &&
	test "$(readlink "$P/system")" = system-3-link &&
	test "$(tail -n 1 "$R/switch.log")" = "switch $out6"
'

test_expect_success 'the switch-exit file works like the variable; bash flavour says 1' '
	echo 2 >"$R/switch-exit" &&
	test_expect_code 2 nixos-rebuild test --flake "$url#web-1" 2>err &&
	test_grep "error\(s\) occurred while switching" err &&
	NIXPULL_TEST_REBUILD_FLAVOR=bash test_expect_code 1 \
	    nixos-rebuild test --flake "$url#web-1" 2>err &&
	rm "$R/switch-exit" &&
	nixos-rebuild test --flake "$url#web-1"
'

test_expect_success 'usage errors: --flag=value, unknown option, no action' '
	n=$(wc -l <"$R/nix-calls.log") &&
	test_expect_code 1 nixos-rebuild switch --flake "$url#web-1" --max-jobs=3 >out 2>&1 &&
	test_grep "unknown option .--max-jobs=3." out &&
	test_expect_code 1 nixos-rebuild switch --bogus >out 2>&1 &&
	test_grep "unknown option .--bogus." out &&
	test_expect_code 1 nixos-rebuild --flake "$url#web-1" >out 2>&1 &&
	test_expect_code 1 nixos-rebuild switch --max-jobs >out 2>&1 &&
	NIXPULL_TEST_REBUILD_FLAVOR=bash test_expect_code 1 \
	    nixos-rebuild switch --no-reexec --flake "$url#web-1" >out 2>&1 &&
	test_grep "unknown option .--no-reexec." out &&
	NIXPULL_TEST_REBUILD_FLAVOR=ng test_expect_code 2 \
	    nixos-rebuild switch --bogus >out 2>&1 &&
	test "$(wc -l <"$R/nix-calls.log")" -eq "$n" &&
	tail -n 1 "$R/calls.log" >last &&
	test_grep "^nixos-rebuild switch --bogus$" last
'

test_expect_success 'ng flavour accepts --max-jobs=3 and --no-reexec' '
	NIXPULL_TEST_REBUILD_FLAVOR=ng nixos-rebuild test --no-reexec \
	    --flake "$url#web-1" --max-jobs=3 2>err &&
	tail -n 1 "$R/nix-calls.log" >last &&
	test_grep "^nix build --no-link --json --max-jobs 3 " last
'

test_expect_success 'a failed build exits 1 and touches nothing' '
	commit_variant fail-build &&
	before=$(readlink "$P/system") &&
	test_expect_code 1 nixos-rebuild switch --flake "$url#web-1" 2>err &&
	test_grep "fails on purpose" err &&
	test "$(readlink "$P/system")" = "$before"
'

test_expect_success 'two activations at once: the second fails' '
	commit_variant v7 &&
	(
		exec 9>>"$R/.activation.lock" &&
		flock 9 &&
		test_expect_code 1 nixos-rebuild test --flake "$url#web-1" 2>err
	) &&
	test_grep "nixos-rebuild-switch-to-configuration.service was already loaded" err
'

test_expect_success 'darwin-rebuild switch, build, --rollback' '
	D=$TEST_DIR/droot &&
	export NIXPULL_TEST_ROOT=$D &&
	commit_variant d1 &&
	darwin-rebuild switch --flake "$url#mac" --max-jobs 2 2>err &&
	s1=$(readlink "$D/nix/var/nix/profiles/system-1-link") &&
	test "$(cat "$s1/systemConfig")" = "$s1" &&
	test "$(readlink "$D/run/current-system")" = "$s1" &&
	test "$(cat "$D/switch.log")" = "activate $s1" &&
	grep -F "#darwinConfigurations.mac.system" "$D/nix-calls.log" &&
	commit_variant d2 &&
	darwin-rebuild switch --flake "$url#mac" 2>err &&
	s2=$(readlink "$D/nix/var/nix/profiles/system-2-link") &&
	test "$(readlink "$D/run/current-system")" = "$s2" &&
	darwin-rebuild --rollback 2>err &&
	test "$(readlink "$D/nix/var/nix/profiles/system")" = system-1-link &&
	test "$(readlink "$D/run/current-system")" = "$s1" &&
	test "$(tail -n 1 "$D/switch.log")" = "activate $s1" &&
	test_expect_code 1 darwin-rebuild --rollback 2>err &&
	test_grep "no profile version older than the current \(1\) exists" err &&
	mkdir dscratch && (cd dscratch && darwin-rebuild build --flake "$url#mac" 2>err) &&
	test -x dscratch/result/activate &&
	NIXPULL_TEST_SWITCH_EXIT=3 test_expect_code 3 darwin-rebuild activate &&
	test_expect_code 1 darwin-rebuild switch --max-jobs=2 --flake "$url#mac" >out &&
	test_grep "unknown option" out &&
	test_grep "^darwin-rebuild switch --flake " "$D/calls.log"
'

test_expect_success 'systemctl is-system-running: state from env or file' '
	test "$(systemctl is-system-running)" = running &&
	NIXPULL_TEST_SYSTEM_STATE=degraded test_expect_code 1 systemctl is-system-running >out &&
	test "$(cat out)" = degraded &&
	echo maintenance >"$R/system-state" &&
	test_expect_code 1 systemctl is-system-running --wait >out &&
	test "$(cat out)" = maintenance &&
	rm "$R/system-state"
'

calls_more() { [ "$(wc -l <"$R/calls.log")" -gt "$1" ]; }

test_expect_success 'systemctl is-system-running --wait waits while starting' '
	echo starting >"$R/system-state" &&
	n=$(wc -l <"$R/calls.log")
	# (not in the && chain: "&" would background all of it)
	{ systemctl is-system-running --wait >out; echo $? >rc; } &
	wait_for 10 calls_more "$n" &&
	test "$(tail -n 1 "$R/calls.log")" = "systemctl is-system-running --wait" &&
	test_must_fail test -e rc &&
	echo running >"$R/system-state.new" &&
	mv "$R/system-state.new" "$R/system-state" &&
	wait_for 10 test -s rc &&
	test "$(cat rc)" = 0 &&
	test "$(cat out)" = running &&
	rm "$R/system-state"
'

test_expect_success 'systemctl: other commands are recorded' '
	systemctl daemon-reload &&
	NIXPULL_TEST_SYSTEMCTL_EXIT=5 test_expect_code 5 systemctl restart foo &&
	test_grep "^systemctl daemon-reload$" "$R/calls.log" &&
	test_grep "^systemctl restart foo$" "$R/calls.log" &&
	systemctl --version >out &&
	test_grep "^systemd [0-9]+" out
'

test_done
