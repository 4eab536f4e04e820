{
  description = "nixpull: pull-based deployment agent for NixOS and nix-darwin";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in {
      packages = forAll (pkgs: {
        default = pkgs.callPackage ./packaging/package.nix { src = self; };
      });

      # `nix flake check` builds the package, which runs the unit tests.
      checks = forAll (pkgs: {
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      });

      nixosModules.default = { pkgs, ... }: {
        imports = [ ./packaging/nixos-module.nix ];
        services.nixpull.package =
          nixpkgs.lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      };

      darwinModules.default = { pkgs, ... }: {
        imports = [ ./packaging/darwin-module.nix ];
        services.nixpull.package =
          nixpkgs.lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      };
    };
}
