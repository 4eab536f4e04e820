# The nixpull package: meson + ninja + pkg-config and the five libraries.
{ lib, stdenv, meson, ninja, pkg-config, libgit2, libsodium, curl, libyaml
, jansson, git, openssh, src ? ../. }:

stdenv.mkDerivation {
  pname = "nixpull";
  version = "0.1.0";
  inherit src;

  nativeBuildInputs = [ meson ninja pkg-config ];
  buildInputs = [ libgit2 libsodium curl libyaml jansson ];
  # The unit tests make keys and signatures with ssh-keygen and fixture
  # repositories with git.
  nativeCheckInputs = [ git openssh ];

  # The integration tests need nginx, fcgiwrap, sshd and a writable Nix
  # store; the flake's checks run the unit tests only.
  mesonFlags = [ "-Dintegration=false" ];
  doCheck = true;

  meta = {
    description = "Pull-based deployment agent for NixOS and nix-darwin";
    license = lib.licenses.isc;
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
    mainProgram = "nixpull";
  };
}
