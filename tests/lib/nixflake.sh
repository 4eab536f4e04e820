# Nix flakes for the tests: no inputs (no nixpkgs), tiny derivations built
# with /bin/sh, shaped like NixOS and nix-darwin systems.
#
#   nix_offline_env
#	a hermetic offline Nix (scripts/lib/nixenv.sh): keeps the one the
#	test command set up (NIXPULL_NIX_ENV=1), else writes its own nix.conf
#	under $TEST_DIR.  Then Nix must build: the test command's preflight
#	result (NIXPULL_NIX_PREFLIGHT) is reused, else one is run here; when
#	Nix cannot build, the script bails out at once with the reason.
#   nixflake_write DIR HOSTS [VARIANT]
#	writes DIR/flake.nix; HOSTS is one name or several separated by
#	spaces.  For each HOST:
#	  nixosConfigurations."HOST".config.system.build.toplevel
#	    bin/switch-to-configuration ACTION  appends "ACTION TOPLEVEL" to
#		$NIXPULL_TEST_ROOT/switch.log (if set), for switch and test
#		points $NIXPULL_TEST_ROOT/run/current-system at TOPLEVEL (as
#		the activation script does), exits with the number
#		in $NIXPULL_TEST_ROOT/switch-exit if that file exists, else
#		$NIXPULL_TEST_SWITCH_EXIT, else 0 (NixOS: 2 = activation
#		failed, 4 = some units failed).  Before all that, for every
#		ACTION but boot and dry-activate and unless NIXOS_NO_CHECK=1,
#		the pre-switch check of NixOS' switch inhibitors (see
#		switch-inhibitors below); a refusal prints what NixOS prints
#		and exits 1 having changed nothing (no switch.log line, no
#		current-system).  ACTION check runs only that check (exit 0
#		when it passes), as switch-to-configuration-ng's does
#	    switch-inhibitors (only with the inhibit words below) a JSON
#		object of strings, as NixOS writes system.switch.inhibitors
#		(nixpkgs PR #477800).  The contract, from nixpkgs'
#		nixos/modules/system/activation/switchable-system.nix
#		(preSwitchChecks.switchInhibitors, as of PR #510514) and
#		switch-to-configuration-ng (do_pre_switch_check):
#		  - the check is part of a system that has inhibitors
#		    (PR #477561); one without them switches unchecked
#		  - the new system's file is compared with the running
#		    one's, /run/current-system/switch-inhibitors (here
#		    $NIXPULL_TEST_ROOT/run/current-system/switch-inhibitors);
#		    a missing file counts as {}
#		  - refused when a key present in both has different values;
#		    added or removed keys never refuse
#		  - a file that is not JSON fails the check (refused)
#		  - skipped for boot and dry-activate, and entirely when
#		    NIXOS_NO_CHECK=1
#		  - the refusal, on stderr: "Checking switch inhibitors...",
#		    "There are changes to critical components of the
#		    system:", one "KEY : OLD -> NEW" line per change, the
#		    advice to run 'nixos-rebuild boot' and reboot, then
#		    "Pre-switch check 'switchInhibitors' failed" and
#		    "Pre-switch checks failed"; the exit status is
#		    switch-to-configuration-ng's die(), errno's value (1 in
#		    the reports, nixpkgs issue #477504), never 0.  Nothing
#		    was changed by switch-to-configuration (the bootloader
#		    is installed only after the checks), but nixos-rebuild
#		    switch has already pointed the profile at the new system
#	    kernel, initrd (links to derivations of their own), kernel-params,
#	    kernel-modules, systemd, nixos-version, sw/bin/nixos-version
#	    (--json: {"nixosVersion", "configurationRevision"?})
#	  darwinConfigurations."HOST".system
#	    activate, activate-user (log "activate TOP" / "activate-user TOP"
#	    to switch.log, activate points run/current-system at TOP, exit
#	    like switch-to-configuration), systemConfig,
#	    darwin-version, sw/bin/darwin-version (--json)
#	VARIANT is a string; any change changes the out paths.  Comma-separated
#	words in it also mean:
#	  fail-build   the toplevel's builder fails (exit 1, message on stderr)
#	  slow[:N]     the toplevel's builder sleeps N seconds (default 30),
#	               and stops early if nix goes away
#	  parallel     four more leaf derivations, built in parallel up to
#	               max-jobs; toplevel/cores holds $NIX_BUILD_CORES
#	  kernel:K     the kernel derivation holds K (default "1"): change
#	               it to make "reboot needed" true
#	  rev          configurationRevision = self.rev or "dirty" (like a
#	               configuration setting system.configurationRevision)
#	  inhibit:NAME=VALUE
#	               the system has switch-inhibitors with NAME: VALUE
#	               (repeat the word for more; NAME and VALUE in
#	               [A-Za-z0-9._+-]); without any, no switch-inhibitors
#	  inhibit-bad  switch-inhibitors holds "not json" (an unreadable
#	               file: the check fails on it)
#	  noswitch     the NixOS toplevel has no bin/switch-to-configuration
#	               (no system the profile steps can activate: the agent
#	               falls back to nixos-rebuild --flake)
#	Every derivation also depends on NIXFLAKE_SALT (default: the name of
#	$TEST_DIR), so that each test run builds afresh in the shared store.
#   nixflake_commit WORK HOSTS [VARIANT]
#	nixflake_write into the git work tree WORK, add and commit it (signed
#	when WORK has user.signingkey), silently
#   nixflake_build REF ATTR [NIX ARGS...]
#	nix build --json --no-link REF#ATTR; prints the out path
#   standin_env
#	puts the stand-ins (tests/lib/bin: nixos-rebuild, darwin-rebuild,
#	systemctl, nix-env, systemd-run) first on PATH and exports NIXPULL_TEST_ROOT=$TEST_DIR/root
#	(unless set), creating it; see tests/lib/bin/standin-lib.sh

. "$NIXPULL_SRCDIR/scripts/lib/nixenv.sh"

nix_offline_env() {
	if [ "${NIXPULL_NIX_ENV:-}" != 1 ]; then
		nixenv_setup "$TEST_DIR/nix-conf" || bail "cannot write a nix.conf"
		export NIXPULL_NIX_ENV=1
	fi
	if [ -z "${NIXPULL_NIX_PREFLIGHT:-}" ]; then
		NIXPULL_NIX_PREFLIGHT=$(nixenv_preflight)
		export NIXPULL_NIX_PREFLIGHT
	fi
	[ "$NIXPULL_NIX_PREFLIGHT" = ok ] || bail "$NIXPULL_NIX_PREFLIGHT"
}

# Nix string literal contents: \ " and $ escaped.
_nixflake_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//\$/\\\$}
	printf '%s' "$s"
}

# A store path name part: anything unusual becomes '_'.
_nixflake_name() {
	printf '%s' "$1" | tr -c 'A-Za-z0-9+._?=-' '_'
}

_nixflake_system() {
	local m s
	m=$(uname -m)
	s=$(uname -s | tr 'A-Z' 'a-z')
	case $m in
	arm64) m=aarch64 ;;
	esac
	printf '%s-%s' "$m" "$s"
}

nixflake_write() {
	local dir=$1 hosts=$2 variant=${3:-} w fail=false slow=0 parallel=false
	local kernel=1 rev=false salt h entries='' system inhibitors='' noswitch=false
	local -a words
	[ -n "$hosts" ] || bail "nixflake_write: no host"
	IFS=, read -r -a words <<<"$variant"
	for w in "${words[@]}"; do
		case $w in
		fail-build) fail=true ;;
		slow) slow=30 ;;
		slow:*)
			slow=${w#slow:}
			case $slow in
			''|*[!0-9]*) bail "nixflake_write: bad '$w'" ;;
			esac
			;;
		parallel) parallel=true ;;
		kernel:*) kernel=${w#kernel:} ;;
		rev) rev=true ;;
		inhibit:*=*)
			case ${w#inhibit:} in
			*[!A-Za-z0-9._+=-]*|=*|*=*=*|*=)
				bail "nixflake_write: bad '$w'" ;;
			esac
			[ "$inhibitors" != 'not json' ] || inhibitors=
			inhibitors+="${inhibitors:+, }\"${w#inhibit:}\""
			inhibitors=${inhibitors/=/\": \"}
			;;
		inhibit-bad) inhibitors='not json' ;;
		noswitch) noswitch=true ;;
		esac
	done
	case $inhibitors in
	''|'not json') ;;
	*) inhibitors="{$inhibitors}" ;;
	esac
	salt=${NIXFLAKE_SALT:-$(basename "${TEST_DIR:-nixflake}")}
	system=$(_nixflake_system)
	for h in $hosts; do
		entries+="    \"$(_nixflake_str "$h")\" = mkHost \"$(_nixflake_str "$h")\" \"$(_nixflake_name "$h")\";"$'\n'
	done
	mkdir -p "$dir" || return 1
	{
		cat <<EOF
# Written by nixflake_write (tests/lib/nixflake.sh): a fake system, no inputs.
{
  description = "nixpull test flake";

  outputs = { self }:
  let
    system = "$system";
    salt = "$(_nixflake_str "$salt")";
    variant = "$(_nixflake_str "$variant")";
    versionName = "$(_nixflake_name "${variant:-base}")";
    kernelTag = "$(_nixflake_str "$kernel")";
    failBuild = $fail;
    noSwitch = $noswitch;
    slowSeconds = "$slow";
    parallel = $parallel;
    withRev = $rev;
    inhibitors = "$(_nixflake_str "$inhibitors")";
EOF
		cat <<'EOF'
    rev = self.rev or "dirty";
    revJson = if withRev then '', \"configurationRevision\": \"${rev}\"'' else "";

    mk = name: script: extra: derivation ({
      inherit name system salt;
      builder = "/bin/sh";
      args = [ "-c" script ];
      PATH = "/usr/bin:/bin";
    } // extra);

    kernel = mk "linux-test" ''
      echo "test kernel $kernelTag" > $out
    '' { inherit kernelTag; };
    initrd = mk "initrd-test" ''
      echo "test initrd $kernelTag" > $out
    '' { inherit kernelTag; };

    parts = if parallel then
      map (i: mk "part-${toString i}" ''
        mkdir $out
        echo "$NIX_BUILD_CORES" > $out/cores
        date +%s.%N > $out/time
      '' { }) [ 1 2 3 4 ]
    else [ ];

    # Records "ACTION TOPLEVEL" and exits as told: the test double of
    # NixOS' switch-to-configuration (2 = activation failed, 4 = units),
    # with its pre-switch check of the switch inhibitors (see the header
    # of tests/lib/nixflake.sh).
    switchScript = ''
      #!/bin/sh
      case "$1" in
      switch|boot|test|dry-activate|check) ;;
      *) echo "Usage: $0 [check|switch|boot|test|dry-activate]" >&2; exit 1 ;;
      esac
      top=$(cd "$(dirname "$0")/.." && pwd -P)
      refuse() {
        echo "Pre-switch check 'switchInhibitors' failed" >&2
        echo "Pre-switch checks failed" >&2
        exit 1
      }
      case "$1" in
      boot|dry-activate) ;;
      *)
        # (NixOS includes the check only in systems that have inhibitors)
        if [ "$NIXOS_NO_CHECK" != 1 ] && [ -n "$NIXPULL_TEST_ROOT" ] &&
            [ -f "$top/switch-inhibitors" ]; then
          printf 'Checking switch inhibitors...' >&2
          cur='{}' new='{}'
          f="$NIXPULL_TEST_ROOT/run/current-system/switch-inhibitors"
          if [ -f "$f" ]; then cur=$(cat "$f"); fi
          new=$(cat "$top/switch-inhibitors")
          diff=$(jq -rn --arg current "$cur" --arg newgen "$new" \
            '($current | fromjson) as $old | ($newgen | fromjson) as $new |
             $old | to_entries |
             map(select(.key | in($new)) | select(.value != $new[.key]) |
                 [.key, ":", .value, "->", $new[.key]] | join(" ")) |
             join("\n")') || { echo >&2; refuse; }
          if [ -n "$diff" ]; then
            {
              echo
              echo "There are changes to critical components of the system:"
              echo
              echo "$diff"
              echo
              echo "Switching into this system is not recommended."
              echo "You probably want to run 'nixos-rebuild boot' and reboot your system instead."
              echo
              echo "If you really want to switch into this configuration directly, then"
              echo "you can set NIXOS_NO_CHECK=1 to ignore pre-switch checks."
              echo
            } >&2
            refuse
          fi
          echo " done" >&2
        fi
        ;;
      esac
      if [ "$1" = check ]; then exit 0; fi
      if [ -n "$NIXPULL_TEST_ROOT" ]; then
        echo "$1 $top" >> "$NIXPULL_TEST_ROOT/switch.log"
        # The activation script links /run/current-system (switch, test),
        # even when a snippet of it fails.
        case "$1" in
        switch|test)
          mkdir -p "$NIXPULL_TEST_ROOT/run" &&
          ln -sfn "$top" "$NIXPULL_TEST_ROOT/run/current-system" ;;
        esac
      fi
      code=''${NIXPULL_TEST_SWITCH_EXIT:-0}
      if [ -n "$NIXPULL_TEST_ROOT" ] && [ -f "$NIXPULL_TEST_ROOT/switch-exit" ]; then
        code=$(cat "$NIXPULL_TEST_ROOT/switch-exit")
      fi
      exit $code
    '';

    activateScript = what: ''
      #!/bin/sh
      top=$(cd "$(dirname "$0")" && pwd -P)
      if [ -n "$NIXPULL_TEST_ROOT" ]; then
        echo "${what} $top" >> "$NIXPULL_TEST_ROOT/switch.log"
        if [ "${what}" = activate ]; then
          mkdir -p "$NIXPULL_TEST_ROOT/run" &&
          ln -sfn "$top" "$NIXPULL_TEST_ROOT/run/current-system"
        fi
      fi
      code=''${NIXPULL_TEST_SWITCH_EXIT:-0}
      if [ -n "$NIXPULL_TEST_ROOT" ] && [ -f "$NIXPULL_TEST_ROOT/switch-exit" ]; then
        code=$(cat "$NIXPULL_TEST_ROOT/switch-exit")
      fi
      exit $code
    '';

    versionScript = file: ''
      #!/bin/sh
      top=$(cd "$(dirname "$0")/../.." && pwd)
      v=$(cat "$top/${file}")
      if [ "$1" = --json ]; then
        echo "{\"nixosVersion\": \"$v\", \"darwinLabel\": \"$v\"${revJson}}"
      else
        echo "$v"
      fi
    '';

    slowPart = ''
      echo "nixpull-test: slow build, sleeping ${slowSeconds} s" >&2
      i=0
      while [ $i -lt ${slowSeconds} ]; do
        sleep 1
        i=$((i + 1))
        [ -e /proc/$PPID ] || exit 1
      done
    '';

    failPart = ''
      echo "nixpull-test: this build fails on purpose (variant fail-build)" >&2
      exit 1
    '';

    nixosToplevel = host: safe: mk "nixos-system-${safe}-test-${versionName}" (''
      set -e
    '' + (if failBuild then failPart else "")
       + (if slowSeconds != "0" then slowPart else "") + ''
      mkdir -p $out/bin $out/sw/bin
      ln -s ${kernel} $out/kernel
      ln -s ${initrd} $out/initrd
      echo "loglevel=4" > $out/kernel-params
      mkdir $out/kernel-modules $out/systemd
      printf '%s\n' "test-$variant" > $out/nixos-version
      printf '%s\n' "$host" > $out/hostname
      printf '%s' "$switchScript" > $out/bin/switch-to-configuration
      chmod +x $out/bin/switch-to-configuration
    '' + (if noSwitch then "rm $out/bin/switch-to-configuration\n" else "") + ''
      if [ -n "$inhibitors" ]; then
        printf '%s' "$inhibitors" > $out/switch-inhibitors
      fi
      printf '%s' "$versionScript" > $out/sw/bin/nixos-version
      chmod +x $out/sw/bin/nixos-version
      for p in $parts; do cat $p/cores; done | head -n 1 > $out/cores
      echo "$parts" > $out/parts
    '') {
      inherit host variant parts inhibitors;
      switchScript = switchScript;
      versionScript = versionScript "nixos-version";
    };

    darwinSystem = host: safe: mk "darwin-system-${safe}-test-${versionName}" (''
      set -e
    '' + (if failBuild then failPart else "")
       + (if slowSeconds != "0" then slowPart else "") + ''
      mkdir -p $out/sw/bin
      printf '%s\n' "$out" > $out/systemConfig
      printf '%s\n' "test-$variant" > $out/darwin-version
      printf '%s\n' "$host" > $out/hostname
      printf '%s' "$activateScript" > $out/activate
      printf '%s' "$activateUserScript" > $out/activate-user
      printf '%s' "$versionScript" > $out/sw/bin/darwin-version
      chmod +x $out/activate $out/activate-user $out/sw/bin/darwin-version
    '') {
      inherit host variant;
      activateScript = activateScript "activate";
      activateUserScript = activateScript "activate-user";
      versionScript = versionScript "darwin-version";
    };

    mkHost = host: safe: {
      nixos = { config.system.build.toplevel = nixosToplevel host safe; };
      darwin = { system = darwinSystem host safe; };
    };
    hosts = {
EOF
		printf '%s' "$entries"
		cat <<'EOF'
    };
  in {
    nixosConfigurations = builtins.mapAttrs (n: h: h.nixos) hosts;
    darwinConfigurations = builtins.mapAttrs (n: h: h.darwin) hosts;
  };
}
EOF
	} >"$dir/flake.nix"
}

nixflake_commit() {
	local work=$1
	shift
	nixflake_write "$work" "$@" || return 1
	git -C "$work" add flake.nix || return 1
	if git -C "$work" config user.signingkey >/dev/null; then
		git -C "$work" commit -q -S --allow-empty -m "flake: ${2:-base}"
	else
		git -C "$work" commit -q --allow-empty -m "flake: ${2:-base}"
	fi
}

nixflake_build() {
	local ref=$1 attr=$2 json
	shift 2
	test_require nix jq
	nix_offline_env
	json=$(nix build --json --no-link "$@" "$ref#$attr") || return
	printf '%s\n' "$json" | jq -er '.[0].outputs.out'
}

standin_env() {
	case ":$PATH:" in
	*":$TESTLIB_DIR/bin:"*) ;;
	*) PATH=$TESTLIB_DIR/bin:$PATH ;;
	esac
	: "${NIXPULL_TEST_ROOT:=$TEST_DIR/root}"
	mkdir -p "$NIXPULL_TEST_ROOT"
	export PATH NIXPULL_TEST_ROOT
}
