#!/usr/bin/env bash
# Packaging checks that run offline, here:
#  - packaging/nixos-module.nix and darwin-module.nix are evaluated with
#    nixpkgs' real module system (lib.evalModules from NIXPKGS_LIB, else
#    ../shared/nixpkgs-lib/lib next to the source tree), next to option
#    declarations for what they set (tests/lib/module-env.nix: real
#    lib.types, modelled on NixOS and nix-darwin) and a pkgs whose
#    formats.yaml writes the rendered config to a file: their options and
#    defaults, a realistic host, the fetcher's user and group, the
#    module's own assertions, wrong types refused with the module system's
#    message, and the config.yaml they render passes `nixpull check-config`;
#  - flake.nix's outputs, applied to a stand-in nixpkgs with that lib,
#    evaluate: packages, checks, and both modules through evalModules;
#  - systemd-analyze verify accepts packaging/nixpull.service, and
#    systemd-sysusers makes the fetcher's user from packaging/nixpull.sysusers.
# Every tracked .nix file parses: t0791.
# NOT checked here (no nixpkgs package set offline): the real NixOS and
# nix-darwin modules around ours (systemd unit generation, user creation)
# and building the package with nixpkgs' stdenv (`nix build .#` / `nix
# flake check` need nixpkgs: run them where it can be fetched).
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

test_require nix-instantiate jq
nix_offline_env

# nixpkgs' lib: NIXPKGS_LIB when set (it must then be one), else the copy
# next to the source tree; none at all skips the module tests, loudly.
nixpkgs_lib=
if [ -n "${NIXPKGS_LIB:-}" ]; then
	[ -f "$NIXPKGS_LIB/modules.nix" ] ||
		bail "NIXPKGS_LIB='$NIXPKGS_LIB' is not nixpkgs' lib (no modules.nix in it)"
	nixpkgs_lib=$(cd "$NIXPKGS_LIB" && pwd)
elif [ -f "$NIXPULL_SRCDIR/../shared/nixpkgs-lib/lib/modules.nix" ]; then
	nixpkgs_lib=$(cd "$NIXPULL_SRCDIR/../shared/nixpkgs-lib/lib" && pwd)
fi

# ev EXPR: evaluates EXPR (with `env`, tests/lib/module-env.nix applied to
# nixpkgs' lib, and that `lib` in scope) to JSON.  --read-write-mode: builtins.toFile
# (pkgs.writeText, formats.yaml's generate) writes to the store.
ev() {
	nix-instantiate --read-write-mode --eval --strict --json -E "
	    let env = import $NIXPULL_SRCDIR/tests/lib/module-env.nix {
	      lib = import $nixpkgs_lib; };
	      inherit (env) lib;
	    in $1"
}

# host nixos|darwin OUT MODULE...: evaluates the packaging module of that
# platform with the MODULEs (Nix expressions, `env` and `lib` in scope)
# into OUT.
host() {
	local platform=$1 out=$2 m list=
	shift 2
	for m in "$@"; do list="$list ($m)"; done
	ev "env.$platform [ $list ]" >"$out"
}

# must_refuse nixos|darwin MODULE MESSAGE: the host of that platform with
# MODULE added fails to evaluate with MESSAGE.
must_refuse() {
	local h
	if [ "$1" = nixos ]; then h=$host_nixos; else h=$host_darwin; fi
	test_must_fail host "$1" refused.json "{ $h }" "$2" 2>err &&
	cat err &&
	grep -F -- "error: $3" err
}

echo secret >report-token
chmod 600 report-token

pkg='env.stubPackage "nixpull"'
host_nixos="
	networking.hostName = \"cinnabar\";
	services.nixpull = {
	  enable = true;
	  package = $pkg;
	  settings = {
	    repo.url = \"https://git.example.com/infra.git\";
	    poll.interval = \"10m\";
	    activate.health_checks = [ \"systemctl is-system-running --wait\" ];
	    report.url = \"https://status.example.com/hosts/\";
	  };
	  allowedSigners = [ \"alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKcBjy9pwmWz+zL/OAutvaw2D4Ccm7gOhr44bp6zCbR1\" ];
	  reportTokenFile = \"$TEST_DIR/report-token\";
	};"
host_darwin="$host_nixos
	services.nixpull.logFile = \"/var/log/nixpull.log\";"
S=$(printf '\001')	# separates the lines of a jq -r join below

# check_rendered JSON [USER]: the config.yaml the module renders (the file
# formats.yaml wrote) is the settings plus the module's defaults, with the
# fetcher's user USER (default nixpull), and nixpull check-config accepts
# that very file.
check_rendered() {
	src=$(jq -r '.etc["nixpull/config.yaml"].source' "$1") &&
	test "$(jq -r '.etc["nixpull/config.yaml"].target' "$1")" = nixpull/config.yaml &&
	jq . "$src" >rendered.json &&
	cat rendered.json &&
	test "$(jq -r .host rendered.json)" = cinnabar &&
	test "$(jq -r .state_dir rendered.json)" = /var/lib/nixpull &&
	test "$(jq -r .repo.url rendered.json)" = https://git.example.com/infra.git &&
	test "$(jq -r .report.token_file rendered.json)" = "$TEST_DIR/report-token" &&
	test "$(jq -r .repo.token_file rendered.json)" = null &&
	test "$(jq -r .privsep.user rendered.json)" = "${2:-nixpull}" &&
	test "$(jq -c .privsep rendered.json)" = "{\"user\":\"${2:-nixpull}\"}" &&
	signers=$(jq -r .trust.allowed_signers rendered.json) &&
	test "$(cut -d" " -f1-2 "$signers")" = "alice@example.com ssh-ed25519" &&
	test "$(jq -r .poll.interval rendered.json)" = 10m &&
	"$NIXPULL" check-config -c "$src" >effective 2>err &&
	cat err effective &&
	test_grep "^  interval: 10m$" effective &&
	test_grep "^host: \"cinnabar\"$" effective &&
	awk "/^privsep:/ { p = 1; print; next } /^[^ ]/ { p = 0 } p" effective >privsep &&
	printf "privsep:\n  user: \"%s\"\n" "${2:-nixpull}" >want &&
	test_cmp want privsep
}

module_tests=(
	'NixOS module, disabled: its options, their types and defaults; it sets nothing'
	'NixOS module, enabled with nothing else: its assertions name what is missing'
	'NixOS module, a realistic host: the unit, the fetcher user and group'
	'NixOS module: the config.yaml it renders passes nixpull check-config'
	'NixOS module: another fetcher user is created and rendered'
	'privsep.user in settings, or root: refused by an assertion'
	'wrong types are refused with the module system'"'"'s own message'
	'nix-darwin module, disabled: logFile and the fetcher uid and gid; it sets nothing'
	'nix-darwin module, a realistic host: the launchd daemon, the known user and group, check-config'
	'nix-darwin module: another fetcher user, uid and gid'
	'flake.nix outputs evaluate against a stand-in nixpkgs with the real lib'
)

if [ -z "$nixpkgs_lib" ]; then
	for t in "${module_tests[@]}"; do
		test_count=$((test_count + 1))
		echo "ok $test_count # SKIP $t: no nixpkgs lib (set NIXPKGS_LIB to nixpkgs' lib directory, or put it at $NIXPULL_SRCDIR/../shared/nixpkgs-lib/lib)"
	done
	say "SKIPPED: the modules were NOT evaluated (no nixpkgs lib)"
else
say "nixpkgs lib: $nixpkgs_lib ($(cat "$nixpkgs_lib/.version" 2>/dev/null))"

test_expect_success "${module_tests[0]}" '
	host nixos off.json "{ }" &&
	jq -c .options off.json >opts &&
	cat >want <<-\EOF &&
	{"allowedSigners":{"default":[],"type":"list of string"},"enable":{"default":false,"type":"boolean"},"package":{"type":"package"},"privsep":{"user":{"default":"nixpull","type":"string, not containing newlines or colons"}},"repoTokenFile":{"default":null,"type":"null or absolute path"},"reportTokenFile":{"default":null,"type":"null or absolute path"},"settings":{"default":{},"type":"open submodule of (YAML 1.1 value)"}}
	EOF
	test_cmp want opts &&
	test "$(jq -c "[.services, .users, .etc, .systemPackages, .failedAssertions]" off.json)" = \
	    "[{},{\"groups\":{},\"users\":{}},{},[],[]]"
'

test_expect_success "${module_tests[1]}" '
	host nixos min.json "{ services.nixpull = { enable = true; package = $pkg; }; }" &&
	jq -r ".failedAssertions[]" min.json >failed &&
	cat >want <<-\EOF &&
	services.nixpull.settings.repo.url must be set
	services.nixpull.allowedSigners (or settings.trust.allowed_signers) must be set: who may release
	EOF
	test_cmp want failed
'

test_expect_success "${module_tests[2]}" '
	host nixos nixos.json "{ $host_nixos }" &&
	test "$(jq -c .failedAssertions nixos.json)" = "[]" &&
	jq ".services.nixpull" nixos.json >unit.json &&
	jq -r ".serviceConfig.Type, .serviceConfig.ExecStart, .serviceConfig.ExecReload,
	    .serviceConfig.StateDirectory, .serviceConfig.StateDirectoryMode,
	    .serviceConfig.ConfigurationDirectory, .serviceConfig.UMask,
	    .serviceConfig.WatchdogSec, .restartIfChanged, (.wantedBy | join(\" \"))" \
	    unit.json >got &&
	store=$(jq -r .systemPackages[0] nixos.json | sed "s|-nixpull\$||") &&
	cat >want <<-EOF &&
	notify
	$store-nixpull/bin/nixpull run -c /etc/nixpull/config.yaml
	$store-coreutils/bin/kill -HUP \$MAINPID
	nixpull
	0711
	nixpull
	0077
	10min
	false
	multi-user.target
	EOF
	test_cmp want got &&
	test "$(jq -c .reloadTriggers unit.json)" = \
	    "[$(jq -c ".etc[\"nixpull/config.yaml\"].source" nixos.json)]" &&
	jq -c ".users.users" nixos.json >users &&
	echo "{\"nixpull\":{\"createHome\":false,\"description\":\"nixpull fetcher (unprivileged)\",\"group\":\"nixpull\",\"home\":\"/var/empty\",\"isNormalUser\":false,\"isSystemUser\":true,\"name\":\"nixpull\",\"uid\":null}}" >want &&
	test_cmp want users &&
	test "$(jq -c ".users.groups" nixos.json)" = \
	    "{\"nixpull\":{\"gid\":null,\"members\":[],\"name\":\"nixpull\"}}" &&
	names() { jq -r ".services.nixpull.path | map(sub(\"^[^-]*-\"; \"\")) | join(\" \")" "$1"; } &&
	test "$(names nixos.json)" = "nix git systemd util-linux" &&
	host nixos desktop.json "{ $host_nixos }" \
	    "{ services.graphical-desktop.enable = true; }" &&
	test "$(names desktop.json)" = "nix git systemd util-linux libnotify"
'

test_expect_success "${module_tests[3]}" '
	check_rendered nixos.json &&
	test "$(jq -r .activate.command rendered.json)" = \
	    "$(jq -r .systemPackages[0] nixos.json | sed "s|-nixpull\$|-nixos-rebuild|")/bin/nixos-rebuild"
'

test_expect_success "${module_tests[4]}" '
	host nixos renamed.json "{ $host_nixos }" "{ services.nixpull.privsep.user = \"deploy-fetch\"; }" &&
	test "$(jq -c .failedAssertions renamed.json)" = "[]" &&
	test "$(jq -r ".users.users | keys | join(\" \")" renamed.json)" = deploy-fetch &&
	test "$(jq -r ".users.users[\"deploy-fetch\"].group" renamed.json)" = deploy-fetch &&
	test "$(jq -r ".users.groups | keys | join(\" \")" renamed.json)" = deploy-fetch &&
	check_rendered renamed.json deploy-fetch
'

test_expect_success "${module_tests[5]}" '
	host nixos twice.json "{ $host_nixos }" "{ services.nixpull.settings.privsep.user = \"other\"; }" &&
	test "$(jq -r ".failedAssertions | join(\"$S\")" twice.json)" = \
	    "services.nixpull.settings.privsep.user is set: set services.nixpull.privsep.user instead (the module creates that user)" &&
	host nixos same.json "{ $host_nixos }" "{ services.nixpull.settings.privsep.user = \"nixpull\"; }" &&
	test "$(jq -c .failedAssertions same.json)" = "[]" &&
	host nixos root.json "{ $host_nixos }" "{ services.nixpull.privsep.user = \"root\"; }" &&
	test "$(jq -r ".failedAssertions | join(\"$S\")" root.json)" = \
	    "services.nixpull.privsep.user must not be root: the fetcher exists to run without root'"'"'s privileges"
'

test_expect_success "${module_tests[6]}" '
	must_refuse nixos "{ services.nixpull.allowedSigners = lib.mkForce \"alice@example.com ssh-ed25519 AAAA\"; }" \
	    "A definition for option \`services.nixpull.allowedSigners'"'"' is not of type \`list of string'"'"'." &&
	must_refuse nixos "{ services.nixpull.settings = [ \"poll\" ]; }" \
	    "A definition for option \`services.nixpull.settings'"'"' is not of type \`open submodule of (YAML 1.1 value)'"'"'." &&
	must_refuse nixos "{ services.nixpull.settings.poll.interval = x: x; }" \
	    "A definition for option \`services.nixpull.settings.poll.interval'"'"' is not of type \`YAML 1.1 value'"'"'." &&
	must_refuse nixos "{ services.nixpull.privsep.user = lib.mkForce \"fetch:er\"; }" \
	    "A definition for option \`services.nixpull.privsep.user'"'"' is not of type \`string, not containing newlines or colons'"'"'." &&
	must_refuse nixos "{ services.nixpull.reportTokenFile = lib.mkForce \"report-token\"; }" \
	    "A definition for option \`services.nixpull.reportTokenFile'"'"' is not of type \`null or absolute path'"'"'." &&
	must_refuse nixos "{ services.nixpull.package = lib.mkForce \"/opt/nixpull\"; }" \
	    "A definition for option \`services.nixpull.package'"'"' is not of type \`package'"'"'." &&
	must_refuse nixos "{ services.nixpull.allowedSigner = [ ]; }" \
	    "The option \`services.nixpull.allowedSigner'"'"' does not exist." &&
	must_refuse darwin "{ services.nixpull.privsep.uid = \"420\"; }" \
	    "A definition for option \`services.nixpull.privsep.uid'"'"' is not of type \`signed integer'"'"'."
'

test_expect_success "${module_tests[7]}" '
	host darwin doff.json "{ }" &&
	jq -c ".options | {logFile, privsep}" doff.json >opts &&
	echo "{\"logFile\":{\"default\":\"/var/log/nixpull.log\",\"type\":\"string\"},\"privsep\":{\"gid\":{\"default\":420,\"type\":\"signed integer\"},\"uid\":{\"default\":420,\"type\":\"signed integer\"},\"user\":{\"default\":\"nixpull\",\"type\":\"string, not containing newlines or colons\"}}}" >want &&
	test_cmp want opts &&
	test "$(jq -r ".options | keys | join(\" \")" doff.json)" = \
	    "allowedSigners enable logFile package privsep repoTokenFile reportTokenFile settings" &&
	test "$(jq -c "[.daemons, .users, .etc, .systemPackages, .failedAssertions]" doff.json)" = \
	    "[{},{\"groups\":{},\"knownGroups\":[],\"knownUsers\":[],\"users\":{}},{},[],[]]"
'

test_expect_success "${module_tests[8]}" '
	host darwin darwin.json "{ $host_darwin }" &&
	test "$(jq -c .failedAssertions darwin.json)" = "[]" &&
	jq ".daemons.nixpull.serviceConfig" darwin.json >plist.json &&
	store=$(jq -r .systemPackages[0] darwin.json | sed "s|-nixpull\$||") &&
	jq -r ".Label, (.ProgramArguments | join(\" \")), .KeepAlive, .RunAtLoad,
	    .ProcessType, .StandardOutPath, .StandardErrorPath, .ExitTimeOut,
	    .EnvironmentVariables.PATH, .UserName" plist.json >got &&
	cat >want <<-EOF &&
	org.nixpull.agent
	$store-nixpull/bin/nixpull run -c /etc/nixpull/config.yaml
	true
	true
	Background
	/var/log/nixpull.log
	/var/log/nixpull.log
	900
	$store-nix/bin:$store-git/bin:/run/current-system/sw/bin:/usr/bin:/bin:/usr/sbin:/sbin
	null
	EOF
	test_cmp want got &&
	jq -c ".users" darwin.json >users &&
	echo "{\"groups\":{\"nixpull\":{\"description\":\"nixpull fetcher\",\"gid\":420,\"members\":[],\"name\":\"nixpull\"}},\"knownGroups\":[\"nixpull\"],\"knownUsers\":[\"nixpull\"],\"users\":{\"nixpull\":{\"createHome\":false,\"description\":\"nixpull fetcher (unprivileged)\",\"gid\":420,\"home\":\"/var/empty\",\"isHidden\":true,\"name\":\"nixpull\",\"shell\":\"/usr/bin/false\",\"uid\":420}}}" >want &&
	test_cmp want users &&
	check_rendered darwin.json &&
	test "$(jq -r .activate.command rendered.json)" = /run/current-system/sw/bin/darwin-rebuild
'

test_expect_success "${module_tests[9]}" '
	host darwin drenamed.json "{ $host_darwin }" "{ services.nixpull.privsep = { user = \"_nixpullfetch\"; uid = 431; gid = 432; }; }" &&
	test "$(jq -c .failedAssertions drenamed.json)" = "[]" &&
	test "$(jq -c "[.users.knownUsers, .users.knownGroups]" drenamed.json)" = \
	    "[[\"_nixpullfetch\"],[\"_nixpullfetch\"]]" &&
	test "$(jq -c ".users.users._nixpullfetch | [.uid, .gid]" drenamed.json)" = "[431,432]" &&
	test "$(jq -c ".users.groups._nixpullfetch.gid" drenamed.json)" = 432 &&
	check_rendered drenamed.json _nixpullfetch
'

test_expect_success "${module_tests[10]}" '
	ev "env.flake $NIXPULL_SRCDIR" >flake.json &&
	test "$(jq -r ".systems | join(\" \")" flake.json)" = \
	    "aarch64-darwin aarch64-linux x86_64-darwin x86_64-linux" &&
	test "$(jq -r .package.pname flake.json)" = nixpull &&
	test "$(jq -r ".package.nativeBuildInputs | join(\" \")" flake.json)" = "meson ninja pkg-config" &&
	test "$(jq -r ".package.buildInputs | join(\" \")" flake.json)" = \
	    "libgit2 libsodium curl libyaml jansson" &&
	test "$(jq -r .package.doCheck flake.json)" = true &&
	test "$(jq -r .package.meta.license.spdxId flake.json)" = ISC &&
	test "$(jq -r .check flake.json)" = nixpull &&
	version=$(grep -o "version: *.[0-9][0-9.]*" "$NIXPULL_SRCDIR/meson.build" | head -n 1 | grep -o "[0-9][0-9.]*") &&
	test "$(jq -r .package.version flake.json)" = "$version" &&
	pkgpath=$(jq -r .packagePath flake.json) &&
	test "$(jq -r .nixos.services.nixpull.serviceConfig.ExecStart flake.json)" = \
	    "$pkgpath/bin/nixpull run -c /etc/nixpull/config.yaml" &&
	test "$(jq -r .darwin.daemons.nixpull.serviceConfig.ProgramArguments[0] flake.json)" = \
	    "$pkgpath/bin/nixpull" &&
	test "$(jq -r ".nixos.failedAssertions | join(\"$S\")" flake.json)" = \
	    "services.nixpull.allowedSigners (or settings.trust.allowed_signers) must be set: who may release"
'
fi

if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'systemd-analyze verify accepts the unit' '
		sed "s|/usr/bin/nixpull|$NIXPULL|" "$NIXPULL_SRCDIR/packaging/nixpull.service" >nixpull.service &&
		systemd-analyze verify --man=no ./nixpull.service >out 2>&1 ;
		rc=$? && cat out && test $rc -eq 0 && test ! -s out
	'
else
	test_count=$((test_count + 1))
	echo "ok $test_count # SKIP systemd-analyze verify: systemd-analyze is not installed (apt-get install systemd)"
fi

if command -v systemd-sysusers >/dev/null 2>&1; then
	test_expect_success 'systemd-sysusers creates the fetcher user and group from nixpull.sysusers' '
		mkdir -p root/etc &&
		systemd-sysusers --root="$TEST_DIR/root" "$NIXPULL_SRCDIR/packaging/nixpull.sysusers" &&
		test "$(cut -d: -f1,5-7 root/etc/passwd)" = \
		    "nixpull:nixpull fetcher (unprivileged):/var/empty:/usr/sbin/nologin" &&
		uid=$(cut -d: -f3 root/etc/passwd) && gid=$(cut -d: -f4 root/etc/passwd) &&
		test "$uid" -gt 0 && test "$uid" -lt 1000 &&
		test "$(cut -d: -f1,3 root/etc/group)" = "nixpull:$gid" &&
		sed -n "s/^ *user: *//p" "$NIXPULL_SRCDIR/packaging/example-config.yaml" >user &&
		echo nixpull >want && test_cmp want user
	'
else
	test_count=$((test_count + 1))
	echo "ok $test_count # SKIP systemd-sysusers: not installed (apt-get install systemd)"
fi

say "not checked offline: the NixOS and nix-darwin modules around ours and the"
say "package build with nixpkgs' stdenv; run 'nix flake check' with network"
test_done
