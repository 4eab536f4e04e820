# What the NixOS and nix-darwin modules share: the options of
# services.nixpull and the config.yaml rendered from them (RFC 42: `settings`
# is config.yaml as a Nix value, rendered with pkgs.formats.yaml).
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

  assertions = [{
    assertion = (cfg.settings.repo.url or null) != null;
    message = "services.nixpull.settings.repo.url must be set";
  }];

  options = {
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
}
