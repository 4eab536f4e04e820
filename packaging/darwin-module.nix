# services.nixpull for nix-darwin, run by a launchd daemon (as root, as
# darwin-rebuild needs since nix-darwin 25.05); output goes to logFile.
# The options are those of the NixOS module, plus logFile.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.nixpull;
  common = import ./common.nix {
    inherit config lib pkgs;
    activateCommand = "/run/current-system/sw/bin/darwin-rebuild";
  };
  inherit (common) configFile;
in
{
  options.services.nixpull = common.options // {
    logFile = lib.mkOption {
      type = lib.types.str;
      default = "/var/log/nixpull.log";
      description = "Where launchd sends the agent's output.";
    };
  };

  config = lib.mkIf cfg.enable {
    inherit (common) assertions;

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
