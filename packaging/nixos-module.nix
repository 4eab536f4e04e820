# services.nixpull for NixOS.  Settings follow RFC 42: `settings` is the
# config.yaml as a Nix value, rendered with pkgs.formats.yaml.
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
    activate.command = "${config.system.build.nixos-rebuild or pkgs.nixos-rebuild}/bin/nixos-rebuild";
  } // lib.optionalAttrs (cfg.repoTokenFile != null) {
    repo.token_file = cfg.repoTokenFile;
  } // lib.optionalAttrs (cfg.reportTokenFile != null) {
    report.token_file = cfg.reportTokenFile;
  };

  # Drop nulls so that the agent's own defaults apply.
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
      example = lib.literalExpression ''
        {
          repo.url = "https://git.example.com/infra.git";
          poll.interval = "5m";
          activate.health_checks = [ "systemctl is-system-running --wait" ];
          report.url = "https://status.example.com/hosts/";
        }
      '';
      description = ''
        nixpull's config.yaml as a Nix value (see the README's configuration
        reference).  `host` defaults to networking.hostName and
        `trust.allowed_signers` to a file made from `allowedSigners`.
      '';
    };

    allowedSigners = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [ "alice@example.com ssh-ed25519 AAAAC3Nza..." ];
      description = "Lines of the OpenSSH allowed_signers file: who may release.";
    };

    repoTokenFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "File with the token for the git server (kept out of the store).";
    };

    reportTokenFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "File with the token for the status endpoint.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{
      assertion = (cfg.settings.repo.url or null) != null;
      message = "services.nixpull.settings.repo.url must be set";
    }];

    environment.etc."nixpull/config.yaml".source = configFile;
    environment.systemPackages = [ cfg.package ];

    systemd.services.nixpull = {
      description = "nixpull deployment agent";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" "nix-daemon.service" ];
      # Not restarted by the switch it performs itself: the stop would wait
      # for the activation that asked for it.  A new config is applied by a
      # reload (SIGHUP: taken between steps, the old config kept if the new
      # one is invalid); a new package runs after a restart or a reboot.
      restartIfChanged = false;
      reloadTriggers = [ configFile ];
      path = [ config.nix.package pkgs.git config.systemd.package ];
      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        ExecStart = "${cfg.package}/bin/nixpull run -c /etc/nixpull/config.yaml";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        RestartSec = "30s";
        WatchdogSec = "10min";
        TimeoutStopSec = "15min";
        KillMode = "mixed";
        StateDirectory = "nixpull";
        StateDirectoryMode = "0700";
        ConfigurationDirectory = "nixpull";
        UMask = "0077";
        LockPersonality = true;
        RestrictRealtime = true;
        ProtectClock = true;
        Nice = 5;
        IOSchedulingClass = "best-effort";
        IOSchedulingPriority = 7;
      };
    };
  };
}
