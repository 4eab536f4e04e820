# The world packaging/nixos-module.nix and darwin-module.nix are evaluated
# in by t0790: nixpkgs' real lib (passed in, never copied here), option
# declarations for everything the modules set, written with the real
# lib.types and modelled on NixOS and nix-darwin (their names, types and
# defaults; not their code), and a `pkgs` stand-in whose formats.yaml has a
# type modelled on nixpkgs' and writes its value as a file.
#
#   (import ./module-env.nix { lib = import NIXPKGS_LIB; }).nixos [ MODULE ... ]
#   ... .darwin [ MODULE ... ]
#	evaluate the packaging module with MODULEs through lib.evalModules
#	and return a JSON-able summary (see `summary`)
#   ... .stubPackage NAME
#	a derivation-shaped value with a store path, for services.nixpull.package
#   ... .flake SRC
#	evaluate SRC/flake.nix's outputs against a stand-in nixpkgs with that
#	lib, and its nixosModules.default / darwinModules.default
{ lib }:

let
  inherit (lib) mkOption types;

  storePath = name: "${builtins.storeDir}/00000000000000000000000000000000-${name}";
  # What types.package accepts: a derivation.  Its outPath is never built.
  stubPackage = name: {
    type = "derivation";
    inherit name;
    outPath = storePath name;
  };

  mkPkgs = system: rec {
    # Modelled on nixpkgs' pkgs/pkgs-lib/formats.nix, yaml (YAML 1.1):
    # null or one of bool, int, float, str, path, an attribute set or list
    # of such values.  generate writes JSON (which YAML 1.1 reads) with
    # builtins.toFile, so that the test reads the file the module renders.
    formats.yaml = { }: {
      type =
        let
          valueType = types.nullOr (types.oneOf [
            types.bool types.int types.float types.str types.path
            (types.attrsOf valueType) (types.listOf valueType)
          ]) // { description = "YAML 1.1 value"; };
        in
        valueType;
      generate = name: value: builtins.toFile name (builtins.toJSON value);
    };
    writeText = builtins.toFile;
    coreutils = stubPackage "coreutils";
    git = stubPackage "git";
    openssh = stubPackage "openssh";
    util-linux = stubPackage "util-linux";
    libnotify = stubPackage "libnotify";
    nixos-rebuild = stubPackage "nixos-rebuild";
    inherit lib;
    # For flake.nix / packaging/package.nix: inputs are named, never built.
    stdenv = {
      hostPlatform.system = system;
      mkDerivation = a: a // {
        type = "derivation";
        name = "${a.pname}-${a.version}";
        outPath = storePath "${a.pname}-${a.version}";
      };
    };
    meson = "meson"; ninja = "ninja"; pkg-config = "pkg-config";
    libgit2 = "libgit2"; libsodium = "libsodium"; curl = "curl";
    libyaml = "libyaml"; jansson = "jansson";
    callPackage = file: args:
      let f = import file;
      in f (builtins.intersectAttrs (builtins.functionArgs f) (mkPkgs system) // args);
  };

  # Checks nixpkgs' toplevel makes of `assertions`: failed ones are listed.
  assertionsOption = {
    options.assertions = mkOption {
      type = types.listOf types.unspecified;
      internal = true;
      default = [ ];
    };
  };

  etcOption = {
    options.environment.etc = mkOption {
      type = types.attrsOf (types.submodule ({ name, ... }: {
        options = {
          enable = mkOption { type = types.bool; default = true; };
          target = mkOption { type = types.str; default = name; };
          source = mkOption { type = types.path; };
          text = mkOption { type = types.nullOr types.lines; default = null; };
        };
      }));
      default = { };
    };
    options.environment.systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };
  };

  # NixOS: what nixos/modules/system/boot/systemd.nix, config/users-groups.nix,
  # networking, nix and system.build declare, as far as the module uses it.
  nixosDecls = { config, ... }:
    let
      unitAtom = types.oneOf [ types.bool types.int types.str types.path ];
      unitOption = types.either unitAtom (types.listOf unitAtom)
        // { description = "systemd option"; };
      service = {
        options = {
          enable = mkOption { type = types.bool; default = true; };
          description = mkOption { type = types.singleLineStr; default = ""; };
          wantedBy = mkOption { type = types.listOf types.str; default = [ ]; };
          wants = mkOption { type = types.listOf types.str; default = [ ]; };
          after = mkOption { type = types.listOf types.str; default = [ ]; };
          restartIfChanged = mkOption { type = types.bool; default = true; };
          reloadTriggers = mkOption { type = types.listOf unitOption; default = [ ]; };
          path = mkOption {
            type = types.listOf (types.oneOf [ types.package types.str ]);
            default = [ ];
          };
          serviceConfig = mkOption { type = types.attrsOf unitOption; default = { }; };
        };
      };
      user = { name, ... }: {
        options = {
          name = mkOption { type = types.passwdEntry types.str; default = name; };
          description = mkOption { type = types.passwdEntry types.str; default = ""; };
          isSystemUser = mkOption { type = types.bool; default = false; };
          isNormalUser = mkOption { type = types.bool; default = false; };
          group = mkOption { type = types.str; default = ""; };
          uid = mkOption { type = types.nullOr types.int; default = null; };
          home = mkOption { type = types.passwdEntry types.path; default = "/var/empty"; };
          createHome = mkOption { type = types.bool; default = false; };
        };
      };
      group = { name, ... }: {
        options = {
          name = mkOption { type = types.passwdEntry types.str; default = name; };
          gid = mkOption { type = types.nullOr types.int; default = null; };
          members = mkOption { type = types.listOf (types.passwdEntry types.str); default = [ ]; };
        };
      };
    in
    {
      imports = [ assertionsOption etcOption ];
      options = {
        systemd.services = mkOption {
          type = types.attrsOf (types.submodule service);
          default = { };
        };
        systemd.package = mkOption { type = types.package; default = stubPackage "systemd"; };
        # nixos/modules/services/misc/graphical-desktop.nix (mkEnableOption)
        services.graphical-desktop.enable = mkOption { type = types.bool; default = false; };
        users.users = mkOption { type = types.attrsOf (types.submodule user); default = { }; };
        users.groups = mkOption { type = types.attrsOf (types.submodule group); default = { }; };
        networking.hostName = mkOption {
          type = types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
          default = "nixos";
        };
        nix.package = mkOption { type = types.package; default = stubPackage "nix"; };
        system.build = mkOption { type = types.lazyAttrsOf types.unspecified; default = { }; };
      };
      # What NixOS checks of every user (config/users-groups.nix).
      config.assertions = lib.concatLists (lib.mapAttrsToList (name: u: [
        {
          assertion = u.isSystemUser != u.isNormalUser;
          message = "Exactly one of users.users.${name}.isSystemUser and users.users.${name}.isNormalUser must be set.";
        }
        {
          assertion = u.group != "" && config.users.groups ? ${u.group};
          message = "users.users.${name}.group = \"${u.group}\" is not a group of users.groups.";
        }
      ]) config.users.users);
    };

  # nix-darwin: modules/launchd (serviceConfig as declared options, so a
  # misspelt key does not exist), users (user.nix, group.nix), networking.
  darwinDecls = { ... }:
    let
      serviceConfig = {
        options = {
          Label = mkOption { type = types.str; };
          ProgramArguments = mkOption { type = types.nullOr (types.listOf types.str); default = null; };
          KeepAlive = mkOption {
            type = types.nullOr (types.either types.bool (types.attrsOf types.unspecified));
            default = null;
          };
          RunAtLoad = mkOption { type = types.nullOr types.bool; default = null; };
          ProcessType = mkOption {
            type = types.nullOr (types.enum [ "Background" "Standard" "Adaptive" "Interactive" ]);
            default = null;
          };
          StandardOutPath = mkOption { type = types.nullOr types.path; default = null; };
          StandardErrorPath = mkOption { type = types.nullOr types.path; default = null; };
          ExitTimeOut = mkOption { type = types.nullOr types.int; default = null; };
          EnvironmentVariables = mkOption { type = types.nullOr (types.attrsOf types.str); default = null; };
          UserName = mkOption { type = types.nullOr types.str; default = null; };
          GroupName = mkOption { type = types.nullOr types.str; default = null; };
        };
      };
      daemon = {
        options.serviceConfig = mkOption { type = types.submodule serviceConfig; };
      };
      user = { name, ... }: {
        options = {
          name = mkOption { type = types.nonEmptyStr; default = name; };
          description = mkOption { type = types.nullOr types.nonEmptyStr; default = null; };
          uid = mkOption { type = types.int; };
          gid = mkOption { type = types.int; default = 20; };
          isHidden = mkOption { type = types.bool; default = true; };
          home = mkOption { type = types.nullOr types.path; default = null; };
          createHome = mkOption { type = types.bool; default = false; };
          shell = mkOption { type = types.nullOr (types.either types.shellPackage types.path); default = null; };
        };
      };
      group = { name, ... }: {
        options = {
          name = mkOption { type = types.str; default = name; };
          gid = mkOption { type = types.int; };
          members = mkOption { type = types.listOf types.str; default = [ ]; };
          description = mkOption { type = types.str; default = ""; };
        };
      };
    in
    {
      imports = [ assertionsOption etcOption ];
      options = {
        launchd.daemons = mkOption { type = types.attrsOf (types.submodule daemon); default = { }; };
        users.users = mkOption { type = types.attrsOf (types.submodule user); default = { }; };
        users.groups = mkOption { type = types.attrsOf (types.submodule group); default = { }; };
        users.knownUsers = mkOption { type = types.listOf types.str; default = [ ]; };
        users.knownGroups = mkOption { type = types.listOf types.str; default = [ ]; };
        networking.hostName = mkOption { type = types.nullOr types.str; default = null; };
        nix.package = mkOption { type = types.package; default = stubPackage "nix"; };
      };
    };

  # What a test looks at, JSON-able with --strict: the failed assertions,
  # the declared options of services.nixpull with their defaults, and the
  # config the module produced (packages print as their store paths).
  summary = r:
    let
      c = r.config;
      opts = lib.mapAttrsRecursiveCond (o: !(lib.isOption o))
        (_: o: { type = o.type.description; } // lib.optionalAttrs (o ? default) { inherit (o) default; })
        r.options.services.nixpull;
    in
    {
      failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
      options = opts;
      nixpull = removeAttrs c.services.nixpull [ "package" ];
      etc = lib.mapAttrs (_: e: { inherit (e) source target; }) c.environment.etc;
      inherit (c.environment) systemPackages;
      users = { inherit (c.users) users groups; }
        // lib.optionalAttrs (c.users ? knownUsers) { inherit (c.users) knownUsers knownGroups; };
    }
    // lib.optionalAttrs (c ? systemd) { services = c.systemd.services; }
    // lib.optionalAttrs (c ? launchd) { daemons = c.launchd.daemons; };

  evalWith = decls: system: module: modules: summary (lib.evalModules {
    modules = [ decls module { _module.args.pkgs = mkPkgs system; } ] ++ modules;
  });

  src = ../..;
in
{
  inherit lib stubPackage;
  nixos = evalWith nixosDecls "x86_64-linux" (src + "/packaging/nixos-module.nix");
  darwin = evalWith darwinDecls "aarch64-darwin" (src + "/packaging/darwin-module.nix");

  flake = flakeSrc:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      nixpkgs = { inherit lib; legacyPackages = lib.genAttrs systems mkPkgs; };
      outputs = (import (flakeSrc + "/flake.nix")).outputs;
      self = outputs { self = self // { outPath = flakeSrc; }; inherit nixpkgs; };
      enabled = { services.nixpull = { enable = true; settings.repo.url = "https://git.example.com/infra.git"; }; };
    in
    {
      systems = builtins.attrNames self.packages;
      package = removeAttrs self.packages.x86_64-linux.default [ "src" "type" "outPath" ];
      packagePath = self.packages.x86_64-linux.default.outPath;
      check = self.checks.aarch64-darwin.default.pname;
      nixos = evalWith nixosDecls "x86_64-linux" self.nixosModules.default [ enabled ];
      darwin = evalWith darwinDecls "aarch64-darwin" self.darwinModules.default [ enabled ];
    };
}
