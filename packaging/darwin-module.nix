# services.nixpull for nix-darwin, run by a launchd daemon (as root, as
# darwin-rebuild needs since nix-darwin 25.05); output goes to logFile.
# The options are those of the NixOS module, plus logFile.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.nixpull;
  yaml = pkgs.formats.yaml { };

  allowedSignersFile =
    pkgs.writeText "nixpull-allowed-signers"
      (lib.concatStringsSep "\n" cfg.allowedSigners + "\n");

  defaults = {
    host = config.networking.hostName;
    state_dir = "/var/lib/nixpull";
    trust.allowed_signers =
      if cfg.allowedSigners != [ ] then "${allowedSignersFile}" else null;
    activate.command = "/run/current-system/sw/bin/darwin-rebuild";
  } // lib.optionalAttrs (cfg.repoTokenFile != null) {
    repo.token_file = cfg.repoTokenFile;
  } // lib.optionalAttrs (cfg.reportTokenFile != null) {
    report.token_file = cfg.reportTokenFile;
  };

  clean = lib.filterAttrsRecursive (_: v: v != null);
  configFile = yaml.generate "nixpull.yaml"
    (clean (lib.recursiveUpdate defaults cfg.settings));
in
{
  options.services.nixpull = {
    enable = lib.mkEnableOption "nixpull, the pull-based deployment agent";

    package = lib.mkOption {
      type = lib.types.package;
      description = "The nixpull package.";
    };

    settings = lib.mkOption {
      type = yaml.type;
      default = { };
      description = "nixpull's config.yaml as a Nix value.";
    };

    allowedSigners = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "Lines of the OpenSSH allowed_signers file: who may release.";
    };

    repoTokenFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "File with the token for the git server.";
    };

    reportTokenFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "File with the token for the status endpoint.";
    };

    logFile = lib.mkOption {
      type = lib.types.str;
      default = "/var/log/nixpull.log";
      description = "Where launchd sends the agent's output.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{
      assertion = (cfg.settings.repo.url or null) != null;
      message = "services.nixpull.settings.repo.url must be set";
    }];

    environment.etc."nixpull/config.yaml".source = configFile;
    environment.systemPackages = [ cfg.package ];

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
