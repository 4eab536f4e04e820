# services.nixpull for nix-darwin, run by a launchd daemon (as root, as
# darwin-rebuild needs since nix-darwin 25.05); output goes to logFile.
# The options are those of the NixOS module, plus logFile and the uid and
# gid of the fetcher's user (nix-darwin creates only users and groups it
# knows, with the ids it is given).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.nixpull;
  common = import ./common.nix {
    inherit config lib pkgs;
    activateCommand = "/run/current-system/sw/bin/darwin-rebuild";
  };
  inherit (common) configFile;
  user = cfg.privsep.user;
in
{
  options.services.nixpull = common.options // {
    logFile = lib.mkOption {
      type = lib.types.str;
      default = "/var/log/nixpull.log";
      description = "Where launchd sends the agent's output.";
    };

    privsep = common.options.privsep // {
      uid = lib.mkOption {
        type = lib.types.int;
        default = 420;
        description = ''
          The uid of the fetcher's user (privsep.user), a hidden system user.
          It must be unused on the machine: see
          `dscl . -list /Users UniqueID`.
        '';
      };

      gid = lib.mkOption {
        type = lib.types.int;
        default = 420;
        description = ''
          The gid of the fetcher's group (named after privsep.user).  It must
          be unused on the machine: see `dscl . -list /Groups PrimaryGroupID`.
        '';
      };
    };
  };

  config = lib.mkIf cfg.enable {
    inherit (common) assertions;

    environment.etc."nixpull/config.yaml".source = configFile;
    environment.systemPackages = [ cfg.package ];

    # The fetcher (poll, fetch, verify) drops to this user.
    users.knownUsers = [ user ];
    users.knownGroups = [ user ];
    users.users.${user} = {
      uid = cfg.privsep.uid;
      gid = cfg.privsep.gid;
      home = "/var/empty";
      shell = "/usr/bin/false";
      isHidden = true;
      description = "nixpull fetcher (unprivileged)";
    };
    users.groups.${user} = {
      gid = cfg.privsep.gid;
      description = "nixpull fetcher";
    };

    launchd.daemons.nixpull = {
      serviceConfig = {
        Label = "org.nixpull.agent";
        ProgramArguments = [
          "${cfg.package}/bin/nixpull" "run" "-c" "/etc/nixpull/config.yaml"
        ];
        KeepAlive = true;
        RunAtLoad = true;
        ProcessType = "Background";
        StandardOutPath = cfg.logFile;
        StandardErrorPath = cfg.logFile;
        # launchd's default is 20 s before SIGKILL; a stop waits for an
        # activation in progress (never interrupted).
        ExitTimeOut = 900;
        EnvironmentVariables = {
          PATH = "${config.nix.package}/bin:${pkgs.git}/bin:/run/current-system/sw/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        };
      };
    };
  };
}
