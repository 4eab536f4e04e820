# What the NixOS and nix-darwin modules share: the options of
# services.nixpull and the config.yaml rendered from them (RFC 42: `settings`
# is config.yaml as a Nix value, a submodule whose freeform type is
# pkgs.formats.yaml's, rendered with pkgs.formats.yaml), and the checks.
# Each module creates the fetcher's user (privsep.user) its own way.
{ config, lib, pkgs, activateCommand }:

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
    activate.command = activateCommand;
    privsep.user = cfg.privsep.user;
  } // lib.optionalAttrs (cfg.repoTokenFile != null) {
    repo.token_file = cfg.repoTokenFile;
  } // lib.optionalAttrs (cfg.reportTokenFile != null) {
    report.token_file = cfg.reportTokenFile;
  };

  # Drop nulls so that the agent's own defaults apply.
  clean = lib.filterAttrsRecursive (_: v: v != null);
in
{
  configFile = yaml.generate "nixpull.yaml"
    (clean (lib.recursiveUpdate defaults cfg.settings));

  assertions = [
    {
      assertion = (cfg.settings.repo.url or null) != null;
      message = "services.nixpull.settings.repo.url must be set";
    }
    {
      # Otherwise the agent refuses the config.yaml at its first start.
      assertion = cfg.allowedSigners != [ ]
        || (cfg.settings.trust.allowed_signers or null) != null;
      message = "services.nixpull.allowedSigners (or settings.trust.allowed_signers) must be set: who may release";
    }
    {
      # The module creates the user named by privsep.user: a second name
      # in settings would make the fetcher run as a user nobody created.
      assertion = (cfg.settings.privsep.user or cfg.privsep.user) == cfg.privsep.user;
      message = "services.nixpull.settings.privsep.user is set: set services.nixpull.privsep.user instead (the module creates that user)";
    }
    {
      assertion = cfg.privsep.user != "root";
      message = "services.nixpull.privsep.user must not be root: the fetcher exists to run without root's privileges";
    }
  ];

  options = {
    enable = lib.mkEnableOption "nixpull, the pull-based deployment agent";

    package = lib.mkOption {
      type = lib.types.package;
      description = "The nixpull package.";
    };

    settings = lib.mkOption {
      type = lib.types.submodule { freeformType = yaml.type; };
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
        reference).  `host` defaults to networking.hostName,
        `trust.allowed_signers` to a file made from `allowedSigners` and
        `privsep.user` is `privsep.user` below.
      '';
    };

    privsep.user = lib.mkOption {
      type = lib.types.passwdEntry lib.types.str;
      default = "nixpull";
      description = ''
        The unprivileged user (and group of the same name) the agent's
        fetcher runs as: it polls, fetches and verifies, and nothing else.
        The module creates both and renders the name into config.yaml as
        `privsep.user`.
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
}
