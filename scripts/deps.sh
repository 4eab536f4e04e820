#!/usr/bin/env bash
# Installs what building and testing nixpull needs on Debian 12, as root.
# Only missing packages are installed; a second run does nothing.
set -euo pipefail

pkgs=(
	build-essential meson ninja-build pkg-config clang git
	libgit2-dev libsodium-dev libcurl4-openssl-dev libyaml-dev libjansson-dev
	libseccomp-dev
	nix-bin nginx-light fcgiwrap openssh-client openssh-server
	python3 strace jq procps ca-certificates time curl openssl
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages (${missing[*]}); run as root" >&2
		exit 1
	fi
	echo "deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# Packaged services must not hold the ports or files the tests use.
for svc in nginx fcgiwrap ssh; do
	if command -v service >/dev/null 2>&1; then
		service "$svc" stop >/dev/null 2>&1 || true
	fi
done
