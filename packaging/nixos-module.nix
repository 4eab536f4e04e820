# services.nixpull for NixOS: the options (common.nix, shared with
# nix-darwin), a systemd service and the fetcher's system user and group.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.nixpull;
  common = import ./common.nix {
    inherit config lib pkgs;
    activateCommand = "${config.system.build.nixos-rebuild or pkgs.nixos-rebuild}/bin/nixos-rebuild";
  };
  inherit (common) configFile;
  user = cfg.privsep.user;
in
{
  options.services.nixpull = common.options;

  config = lib.mkIf cfg.enable {
    inherit (common) assertions;

    environment.etc."nixpull/config.yaml".source = configFile;
    environment.systemPackages = [ cfg.package ];

    # The fetcher (poll, fetch, verify) drops to this user; it owns the
    # mirror under the state directory and nothing else.
    users.users.${user} = {
      isSystemUser = true;
      group = user;
      description = "nixpull fetcher (unprivileged)";
    };
    users.groups.${user} = { };

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
      # util-linux: wall and runuser for the reboot notice; notify-send
      # (libnotify) for its desktop notifications, on machines with a
      # graphical desktop (services.graphical-desktop, which display and
      # desktop managers set; `or`: older releases have no such option).
      path = [ config.nix.package pkgs.git config.systemd.package pkgs.util-linux ]
        ++ lib.optional (config.services.graphical-desktop.enable or false) pkgs.libnotify;
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
        # 0711: the fetcher, another user, reaches its mirror in the state
        # directory; UMask keeps everything else in it private.
        StateDirectoryMode = "0711";
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
