#!/usr/bin/env bash
# The demo: the whole nixpull pipeline on this machine, with real
# components: a git smart-HTTP server (nginx + fcgiwrap + git http-backend)
# holding a flake repository signed with an ed25519 SSH key, real Nix
# (offline) building the host's system, a stand-in nixos-rebuild that keeps
# the real CLI contract (this is not a NixOS machine), and nginx WebDAV as
# the status endpoint.  Installs what is missing and builds first.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD

bash scripts/deps.sh || exit 1
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null || exit 1
fi
meson compile -C build >/dev/null || { meson compile -C build; exit 1; }

export NIXPULL_SRCDIR=$src NIXPULL_BUILDDIR=$src/build
export NIXPULL=$src/build/agent/nixpull
export TEST_KEEP=${TEST_KEEP:-}
. "$src/tests/lib/lib.sh" || exit 1
nix_offline_env
standin_env

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
fail() { echo "demo: $*" >&2; exit 1; }

step "An operator's signing key and a flake repository for host 'demo'"
signing_keygen alice
signing_allow "$TEST_DIR/allowed_signers" alice@example.com alice
signing_repo_init work alice
nixflake_commit work demo v1 || fail "cannot commit the flake"
git init -q --bare srv/infra.git
git -C work push -q "$TEST_DIR/srv/infra.git" main
git -C work log --show-signature -1 --format='%h %s' 2>&1 | sed 's/^/  /'

step "A git server and a status endpoint on 127.0.0.1"
gitserver_start "$TEST_DIR/srv"
webdav_start
echo "  git:    ${GITSERVER_URL}infra.git"
echo "  status: $WEBDAV_URL"

cat >config.yaml <<YAML
host: demo
state_dir: $TEST_DIR/state
repo:
  url: ${GITSERVER_URL}infra.git
  ref: main
trust:
  allowed_signers: $TEST_DIR/allowed_signers
poll:
  interval: 5m
build:
  profile: workstation
activate:
  mode: switch
  current_system: $NIXPULL_TEST_ROOT/run/current-system
  profile: $NIXPULL_TEST_ROOT/nix/var/nix/profiles/system
  health_checks:
    - systemctl is-system-running --wait
report:
  url: $WEBDAV_URL
privsep:
  # The fetcher (poll, fetch, verify) runs as this unprivileged user.  The
  # NixOS and nix-darwin modules create 'nixpull'; this machine has none,
  # so the demo borrows 'nobody'.
  user: nobody
YAML

step "The configuration, checked"
run "$NIXPULL" check-config -c config.yaml || fail "check-config"

step "Before pushing: who signed HEAD, and would it deploy?"
run "$NIXPULL" verify --repo work --allowed-signers allowed_signers HEAD

step "One cycle: poll, fetch, verify, build with Nix, activate, check, report"
echo "  Two processes: 'nixpull[fetcher]' (as user nobody, no new privileges,"
echo "  Landlock, seccomp) polls, fetches and verifies; 'nixpull' (root) builds,"
echo "  activates, checks and reports what the fetcher verified."
run "$NIXPULL" once -c config.yaml || fail "the first cycle failed"
echo "  nixos-rebuild was asked to:"
sed 's/^/    /' "$NIXPULL_TEST_ROOT/calls.log"

step "Nothing changed: the next poll is one request, nothing else"
before=$(gitserver_requests)
run "$NIXPULL" once -c config.yaml || fail "the no-change cycle failed"
echo "  requests to the git server: $(( $(gitserver_requests) - before ))"

step "An unsigned commit is pushed: not released"
nixflake_write work demo v2-unsigned
git -C work add flake.nix && git -C work commit -q -m "unsigned change"
git -C work push -q "$TEST_DIR/srv/infra.git" main
run "$NIXPULL" once -c config.yaml

step "The operator signs a release: deployed"
nixflake_write work demo v3
git -C work add flake.nix && git -C work commit -q -S -m "release v3"
git -C work push -q "$TEST_DIR/srv/infra.git" main
run "$NIXPULL" once -c config.yaml || fail "the release was not deployed"

step "This host's status"
run "$NIXPULL" status -c config.yaml

step "The fleet, from the status endpoint"
run "$NIXPULL" fleet "$WEBDAV_URL"

step "A staged rollout: a second host, 'demo-2', with its own config, state and root"
sed -e 's/^host: demo$/host: demo-2/' -e "s|$TEST_DIR/state|$TEST_DIR/state-2|" \
    -e "s|$NIXPULL_TEST_ROOT/|$TEST_DIR/root-2/|" config.yaml >config-2.yaml
mkdir -p root-2
once2() { NIXPULL_TEST_ROOT=$TEST_DIR/root-2 run "$NIXPULL" once -c config-2.yaml; }
grep -E '^host|state_dir|current_system' config-2.yaml | sed 's/^ */  /'

step "A signed release for both, its .nixpull/rollout.yaml: canary 'demo', everyone 15s later"
mkdir -p work/.nixpull
printf 'waves:\n  - name: canary\n    hosts: [demo]\n  - name: everyone\n    after: 15s\n' \
    >work/.nixpull/rollout.yaml
sed 's/^/  /' work/.nixpull/rollout.yaml
nixflake_write work "demo demo-2" v4
git -C work add flake.nix .nixpull/rollout.yaml &&
    git -C work commit -q -S -m "release v4, staged" || fail "cannot commit the release"
git -C work push -q "$TEST_DIR/srv/infra.git" main

step "The canary's turn is now: 'demo' deploys"
run "$NIXPULL" once -c config.yaml || fail "the canary was not deployed"

step "'demo-2' is in the later wave: deferred until it is due, nothing built"
once2
[ "$(jq -r .state state-2/status.json)" = deferred ] || fail "demo-2 was not deferred"
due_at=$(jq -r .rollout.due_at state-2/status.json)
echo "  demo-2: wave $(jq -r .rollout.wave state-2/status.json), due $due_at"

step "The fleet shows the waves of the newest release"
run "$NIXPULL" fleet --rollout "$WEBDAV_URL"

step "When its wave is due, 'demo-2' deploys"
due=$(date -d "$due_at" +%s) || fail "bad due time '$due_at'"
echo "  waiting $(( due > $(date +%s) ? due - $(date +%s) : 0 ))s until $due_at"
for _ in $(seq 30); do [ "$(date +%s)" -ge "$due" ] && break; sleep 1; done
once2 || fail "demo-2 was not deployed"
run "$NIXPULL" fleet --rollout "$WEBDAV_URL" || fail "the rollout is not complete"

step "Hands-off reboots: 'demo' booted v4; a reboot policy with a maintenance window"
R=$NIXPULL_TEST_ROOT
ln -sfn "$(readlink "$R/run/current-system")" "$R/run/booted-system"
echo "  (the stand-in root: run/booted-system -> the v4 system, as after a boot)"
# A daily window two hours from now: not open yet (wall-clock time, UTC).
window() { printf '    - { days: "*", start: "%s", length: 1h }\n' "$1"; }
later=$(date -u -d '+2 hours' +%H:%M)
{
	echo "reboot:"
	echo "  policy: when-needed"
	echo "  windows:"
	window "$later"
	echo "  tz: UTC"
	echo "  notice: 5s"
} >reboot.yaml
cat config.yaml reboot.yaml >config-r.yaml && mv config-r.yaml config.yaml
sed 's/^/  /' reboot.yaml
run "$NIXPULL" check-config -c config.yaml >/dev/null || fail "check-config (reboot)"

step "A signed release changes the kernel: switched to, and a reboot becomes pending"
nixflake_write work "demo demo-2" "v5,kernel:2"
git -C work add flake.nix && git -C work commit -q -S -m "release v5: a new kernel"
git -C work push -q "$TEST_DIR/srv/infra.git" main
run "$NIXPULL" once -c config.yaml || fail "v5 was not deployed"
v5=$(readlink "$R/run/current-system")
echo "  kernel: $(readlink "$R/run/booted-system/kernel")  (booted)"
echo "          $(readlink "$v5/kernel")  (v5, running)"
[ "$(jq -r .reboot.pending state/status.json)" = true ] ||
    fail "no reboot pending after a kernel change"
[ "$(jq -r .reboot.blocked_by state/status.json)" = window ] ||
    fail "the reboot does not wait for the window"
"$NIXPULL" status -c config.yaml | grep '^reboot:' | sed 's/^/  /'
echo "  nixpull (root) did not reboot: outside the window ($later UTC, daily)"

step "The window opens (the operator moves it to now; 'nixpull run' reloads on SIGHUP)"
sed -i "s/start: \"$later\"/start: \"$(date -u -d '-1 min' +%H:%M)\"/" config.yaml
grep 'start:' config.yaml | sed 's/^/  /'
n=$(wc -l <"$R/calls.log")
run "$NIXPULL" once -c config.yaml || fail "the cycle in the window failed"
echo "  nixpull (root) asked, and gave notice first (reboot.notice: 5s):"
tail -n "+$((n + 1))" "$R/calls.log" | sed 's/^/    /'
echo "  the stand-in wall wrote: $(tail -n 1 "$R/wall.log" 2>/dev/null | sed "s/^wall: //")"
"$NIXPULL" status -c config.yaml | grep '^reboot:' | sed 's/^/  /'

step "The notice is over: nixpull records what it reboots into, then reboots"
notice_end=$(( $(date +%s) + 6 ))
for _ in $(seq 10); do [ "$(date +%s)" -ge "$notice_end" ] && break; sleep 1; done
n=$(wc -l <"$R/calls.log")
run "$NIXPULL" once -c config.yaml || fail "the reboot cycle failed"
tail -n "+$((n + 1))" "$R/calls.log" | grep -q '^systemctl reboot$' ||
    fail "systemctl reboot was not called"
echo "  nixpull (root) ran the stand-in 'systemctl reboot' (it reboots nothing):"
tail -n "+$((n + 1))" "$R/calls.log" | sed 's/^/    /'
echo "  $TEST_DIR/state/reboot.json: into $(jq -r .into state/reboot.json)"

step "The stand-in reboot: the machine comes back on v5"
ln -sfn "$v5" "$R/run/booted-system"
cat /proc/sys/kernel/random/uuid >boot_id
echo "  run/booted-system -> v5; a new boot has a new boot id ($(cat boot_id)):"
echo "  nixpull is started in a mount namespace where /proc/sys/kernel/random/boot_id"
echo "  says so"
# newboot CMD...: CMD sees the new boot id, as after a real reboot.
newboot() {
	unshare -m --propagation private sh -c \
	    'mount --bind "$0" /proc/sys/kernel/random/boot_id && exec "$@"' \
	    "$TEST_DIR/boot_id" "$@"
}
namespace=1
if ! newboot true 2>/dev/null; then
	echo "  (no mount namespace here: the build's NIXPULL_TEST_BOOT_ID hook instead)"
	namespace=
	newboot() { NIXPULL_TEST_BOOT_ID=$(cat "$TEST_DIR/boot_id") "$@"; }
fi
n=$(wc -l <"$R/calls.log")
printf '$ %s\n' "$NIXPULL once -c config.yaml"
newboot "$NIXPULL" once -c config.yaml || fail "the first cycle after the reboot failed"
if [ "$(jq -r .reboot.last.result state/status.json)" = rebooted ]; then
	echo "  nixpull (root) confirmed the booted system, ran the health checks:"
	tail -n "+$((n + 1))" "$R/calls.log" | sed 's/^/    /'
elif [ -n "$namespace" ]; then
	fail "the reboot was not confirmed: $(jq -c .reboot state/status.json)"
else
	echo "  (this build has no test hooks and there is no mount namespace: nixpull"
	echo "  sees the same boot and still waits for its reboot)"
fi
"$NIXPULL" status -c config.yaml | grep -A1 -E '^(reboot|last reboot):' | sed 's/^/  /'

echo
echo "demo: done (set TEST_KEEP=1 to keep $TEST_DIR)"
