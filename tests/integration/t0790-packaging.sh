#!/usr/bin/env bash
# Packaging checks that run offline, here:
#  - flake.nix and packaging/*.nix parse (nix-instantiate --parse; the
#    flakes under tests/ are templates with @VARIABLES@, not Nix yet);
#  - the NixOS and nix-darwin modules, applied to stub module arguments (a
#    small stand-in for nixpkgs' lib, a pkgs with formats.yaml, a config
#    with services.nixpull set), evaluate; the options are declared, the
#    unit / launchd daemon look right, and the config.yaml the module
#    renders is accepted by `nixpull check-config`;
#  - flake.nix's outputs, applied to a stub nixpkgs, evaluate: packages,
#    checks, nixosModules, darwinModules, and the package's inputs;
#  - systemd-analyze verify accepts packaging/nixpull.service.
# NOT checked here (no nixpkgs offline): the real module system's type
# checking and merging, and building the package with nixpkgs' stdenv
# (`nix build .#` / `nix flake check` need nixpkgs: run them where it can
# be fetched).
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

test_require nix-instantiate jq
nix_offline_env
PK=$NIXPULL_SRCDIR/packaging

cat >stub.nix <<'NIX'
# A stand-in for what the module system passes: just enough of lib and
# pkgs for these modules.  mkIf and options are kept as plain data.
rec {
  lib = rec {
    mkEnableOption = d: { _type = "option"; default = false; description = d; type = types.bool; };
    mkOption = a: a // { _type = "option"; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkDefault = v: v;
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    types = {
      bool = "bool"; str = "str"; package = "package"; path = "path";
      listOf = t: "listOf ${t}"; nullOr = t: "nullOr ${t}";
    };
    concatStringsSep = builtins.concatStringsSep;
    optionalAttrs = c: a: if c then a else { };
    filterAttrsRecursive = pred: set: builtins.listToAttrs (builtins.concatMap
      (name: let v = set.${name}; in
        if pred name v then [{ inherit name;
          value = if builtins.isAttrs v then filterAttrsRecursive pred v else v; }]
        else [ ]) (builtins.attrNames set));
    recursiveUpdate = a: b: a // builtins.mapAttrs (n: v:
      if builtins.isAttrs v && a ? ${n} && builtins.isAttrs a.${n}
      then recursiveUpdate a.${n} v else v) b;
    genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
  };
  pkgs = {
    formats.yaml = _: { type = "yaml value"; generate = name: value: { generated = name; inherit value; }; };
    writeText = builtins.toFile;
    coreutils = "/stub/coreutils"; nixos-rebuild = "/stub/nixos-rebuild";
    git = "/stub/git"; openssh = "/stub/openssh";
    stdenv = { mkDerivation = a: a; hostPlatform.system = "x86_64-linux"; };
    lib = lib // { licenses.isc = "isc"; platforms = { linux = [ "x86_64-linux" ]; darwin = [ "x86_64-darwin" ]; }; };
    meson = "meson"; ninja = "ninja"; pkg-config = "pkg-config";
    libgit2 = "libgit2"; libsodium = "libsodium"; curl = "curl";
    libyaml = "libyaml"; jansson = "jansson";
  };
  config = tokenDir: {
    services.nixpull = {
      enable = true;
      package = "/stub/nixpull";
      settings = {
        repo.url = "https://git.example.com/infra.git";
        poll.interval = "10m";
        activate.health_checks = [ "systemctl is-system-running --wait" ];
        report.url = "https://status.example.com/hosts/";
      };
      allowedSigners = [ "alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKcBjy9pwmWz+zL/OAutvaw2D4Ccm7gOhr44bp6zCbR1" ];
      repoTokenFile = null;
      reportTokenFile = "${tokenDir}/report-token";
      logFile = "/var/log/nixpull.log";
    };
    networking.hostName = "cinnabar";
    system.build = { };
    nix.package = "/stub/nix";
    systemd.package = "/stub/systemd";
  };
  eval = file: tokenDir:
    let m = import file { inherit lib pkgs; config = config tokenDir; };
    in { options = m.options; condition = m.config.condition; config = m.config.content; };
  flake = src: let
    outputs = (import "${src}/flake.nix").outputs;
    nixpkgs = {
      inherit lib;
      legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ]
        (system: pkgs // {
          stdenv = pkgs.stdenv // { hostPlatform.system = system; };
          callPackage = f: args: let fn = import f; in
            fn (builtins.intersectAttrs (builtins.functionArgs fn) pkgs // args);
        });
    };
    self = outputs { self = self // { outPath = src; }; inherit nixpkgs; };
  in {
    systems = builtins.attrNames self.packages;
    package = self.packages.x86_64-linux.default // { src = "self"; };
    check = self.checks.aarch64-darwin.default.pname;
    nixosModule = builtins.isFunction self.nixosModules.default;
    darwinModule = builtins.isFunction self.darwinModules.default;
  };
}
NIX

# --read-write-mode: builtins.toFile (pkgs.writeText) writes the file.
ev() { nix-instantiate --read-write-mode --eval --strict --json -E "$1"; }
echo secret >report-token
chmod 600 report-token

test_expect_success 'every .nix file of the packaging parses' '
	n=0 &&
	for f in flake.nix $(cd "$NIXPULL_SRCDIR" && echo packaging/*.nix); do
		nix-instantiate --parse "$NIXPULL_SRCDIR/$f" >/dev/null || exit 1
		n=$((n + 1))
	done &&
	test $n -ge 4
'

test_expect_success 'the NixOS module evaluates against stub arguments' '
	ev "(import ./stub.nix).eval $PK/nixos-module.nix \"$TEST_DIR\"" >nixos.json &&
	jq -r ".options.services.nixpull | keys | join(\" \")" nixos.json >opts &&
	echo "allowedSigners enable package repoTokenFile reportTokenFile settings" >want &&
	test_cmp want opts &&
	test "$(jq -r .condition nixos.json)" = true
'

test_expect_success 'its unit: notify, watchdog, reload, state and config directories' '
	jq ".config.systemd.services.nixpull" nixos.json >unit.json &&
	test "$(jq -r .serviceConfig.Type unit.json)" = notify &&
	test "$(jq -r .serviceConfig.ExecStart unit.json)" = \
	    "/stub/nixpull/bin/nixpull run -c /etc/nixpull/config.yaml" &&
	jq -r .serviceConfig.ExecReload unit.json | grep -q "kill -HUP \$MAINPID" &&
	test "$(jq -r .serviceConfig.StateDirectory unit.json)" = nixpull &&
	test "$(jq -r .serviceConfig.ConfigurationDirectory unit.json)" = nixpull &&
	test "$(jq -r .serviceConfig.WatchdogSec unit.json)" != null &&
	test "$(jq -r .restartIfChanged unit.json)" = false &&
	test "$(jq -r .reloadTriggers[0].generated unit.json)" = nixpull.yaml &&
	jq -r ".wantedBy[]" unit.json | grep -qx multi-user.target &&
	jq -r ".config.assertions[0].assertion" nixos.json | grep -qx true
'

# check_rendered JSON: the config.yaml the module renders, with the paths
# that only exist on a real host replaced, passes check-config.
check_rendered() {
	jq ".config.environment.etc[\"nixpull/config.yaml\"].source.value" "$1" >rendered.json &&
	cat rendered.json &&
	test "$(jq -r .host rendered.json)" = cinnabar &&
	test "$(jq -r .report.token_file rendered.json)" = "$TEST_DIR/report-token" &&
	test "$(jq -r .repo.token_file rendered.json)" = null &&
	signers=$(jq -r .trust.allowed_signers rendered.json) &&
	grep -q "^alice@example.com ssh-ed25519 " "$signers" &&
	test "$(jq -r .poll.interval rendered.json)" = 10m &&
	jq ".state_dir = \"$TEST_DIR/state\"" rendered.json >config.yaml &&
	"$NIXPULL" check-config -c config.yaml >effective 2>err &&
	cat err &&
	test_grep "interval: 10m" effective &&
	test_grep "^host: \"?cinnabar\"?$" effective
}

test_expect_success 'the config.yaml it renders is accepted by nixpull check-config' '
	check_rendered nixos.json
'

test_expect_success 'the nix-darwin module evaluates: a launchd daemon with a log file' '
	ev "(import ./stub.nix).eval $PK/darwin-module.nix \"$TEST_DIR\"" >darwin.json &&
	jq -r ".options.services.nixpull | keys | join(\" \")" darwin.json >opts &&
	echo "allowedSigners enable logFile package repoTokenFile reportTokenFile settings" >want &&
	test_cmp want opts &&
	jq ".config.launchd.daemons.nixpull.serviceConfig" darwin.json >plist.json &&
	test "$(jq -r ".ProgramArguments | join(\" \")" plist.json)" = \
	    "/stub/nixpull/bin/nixpull run -c /etc/nixpull/config.yaml" &&
	test "$(jq -r .KeepAlive plist.json)" = true &&
	test "$(jq -r .RunAtLoad plist.json)" = true &&
	test "$(jq -r .StandardErrorPath plist.json)" = /var/log/nixpull.log &&
	test "$(jq -r .ExitTimeOut plist.json)" -ge 600 &&
	jq -r .EnvironmentVariables.PATH plist.json | grep -q "/stub/nix/bin" &&
	test "$(jq -r ".config.assertions[0].assertion" darwin.json)" = true &&
	check_rendered darwin.json
'

test_expect_success 'flake.nix outputs evaluate against a stub nixpkgs' '
	ev "(import ./stub.nix).flake \"$NIXPULL_SRCDIR\"" >flake.json &&
	cat flake.json &&
	test "$(jq -r ".systems | join(\" \")" flake.json)" = \
	    "aarch64-darwin aarch64-linux x86_64-darwin x86_64-linux" &&
	test "$(jq -r .package.pname flake.json)" = nixpull &&
	test "$(jq -r ".package.nativeBuildInputs | join(\" \")" flake.json)" = "meson ninja pkg-config" &&
	test "$(jq -r ".package.buildInputs | join(\" \")" flake.json)" = \
	    "libgit2 libsodium curl libyaml jansson" &&
	test "$(jq -r .package.doCheck flake.json)" = true &&
	test "$(jq -r .check flake.json)" = nixpull &&
	test "$(jq -r .nixosModule flake.json)" = true &&
	test "$(jq -r .darwinModule flake.json)" = true &&
	version=$(grep -o "version: *.[0-9][0-9.]*" "$NIXPULL_SRCDIR/meson.build" | head -n 1 | grep -o "[0-9][0-9.]*") &&
	test "$(jq -r .package.version flake.json)" = "$version"
'

if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'systemd-analyze verify accepts the unit' '
		sed "s|/usr/bin/nixpull|$NIXPULL|" "$PK/nixpull.service" >nixpull.service &&
		systemd-analyze verify --man=no ./nixpull.service >out 2>&1 ;
		rc=$? && cat out && test $rc -eq 0 && test ! -s out
	'
else
	test_count=$((test_count + 1))
	echo "ok $test_count # SKIP systemd-analyze verify: systemd-analyze is not installed (apt-get install systemd)"
fi

say "not checked offline: nixpkgs' module system (types, merging) and the"
say "package build with nixpkgs' stdenv; run 'nix flake check' with network"
test_done
