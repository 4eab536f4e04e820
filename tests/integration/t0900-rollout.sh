#!/usr/bin/env bash
# Staged rollouts (issue 14): six agents, each with its own config, state
# and stand-in root, against one git repository and one WebDAV status
# endpoint, on a test clock (NIXPULL_TEST_NOW, test builds only).  The plan
# travels in the signed release; the canary deploys at once, the others
# wait for their wave, a canary that rolls back halts the later waves, a
# newer signed release supersedes the halted one, urgent releases everyone,
# an unsigned change to the plan changes nothing, and a malformed plan in a
# signed release is rejected with its file:line:col.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"
. "$TESTLIB_DIR/e2e.sh"
test_require nginx curl
e2e_init lab-1
e2e_machine 2 8GiB
webdav_start
FLAKE_HOST=lab-1
HOSTS="lab-1 desk-1 desk-2 srv-1 srv-2 srv-3"

# host_setup NAME [GROUP]: $TEST_DIR/h/NAME with its config.yaml
host_setup() {
	local h=$1 group=${2:-} more
	mkdir -p "$TEST_DIR/h/$h/root/run" || return 1
	more="report:
  url: $WEBDAV_URL
  timeout: 5s
build:
  attribute: nixosConfigurations.$FLAKE_HOST.config.system.build.toplevel"
	[ -z "$group" ] || more="$more
rollout:
  group: $group"
	(cd "$TEST_DIR/h/$h" && HOST=$h S=$TEST_DIR/h/$h/state \
	    R=$TEST_DIR/h/$h/root e2e_config "" "${CHECKS[$h]:-}" "$more")
}
declare -A CHECKS
for h in $HOSTS; do
	case $h in desk-*) host_setup "$h" desktops ;; *) host_setup "$h" ;; esac ||
		bail "cannot set up host $h"
done

# agent NAME: one cycle of that host at the test clock $NOW
agent() {
	(cd "$TEST_DIR/h/$1" && NIXPULL_TEST_ROOT=$TEST_DIR/h/$1/root \
	    NIXPULL_TEST_NOW=$NOW "$NIXPULL" once -c config.yaml \
	    >"$TEST_DIR/h/$1/once.log" 2>&1)
}
hst() { jq -r "$2" "$TEST_DIR/h/$1/state/status.json"; }
hcurrent() { readlink "$TEST_DIR/h/$1/root/run/current-system"; }

PLAN='waves:
  - name: canary
    hosts: ["lab-*"]
  - name: early
    groups: [desktops]
    after: 2h
  - name: everyone
    after: 24h
halt:
  failed: 1'

# plan_release VARIANT TEXT: a signed release carrying TEXT as its plan;
# sets rev and T0 (its committer date)
plan_release() {
	mkdir -p "$TEST_DIR/work/.nixpull" &&
	printf '%s\n' "$2" >"$TEST_DIR/work/.nixpull/rollout.yaml" &&
	git -C "$TEST_DIR/work" add .nixpull/rollout.yaml &&
	release "$1" &&
	T0=$(git -C "$TEST_DIR/work" log -1 --format=%ct)
}
minute() { date -u -d "@$1" +%Y-%m-%dT%H:%MZ; }

test_expect_success_here 'the canary deploys at once, every other host waits for its wave' '
	plan_release v1 "$PLAN" &&
	rev1=$rev &&
	NOW=$((T0 + 60)) &&
	agent lab-1 &&
	test "$(hst lab-1 .state)" = ok &&
	test "$(hst lab-1 .deployed.rev)" = "$rev1" &&
	test "$(hst lab-1 .rollout.wave)" = canary &&
	for h in desk-1 desk-2 srv-1 srv-2 srv-3; do
		test_expect_code 1 agent $h || return 1
		test "$(hst $h .state)" = deferred || return 1
		test ! -e "$TEST_DIR/h/$h/root/calls.log" || return 1
		test ! -e "$TEST_DIR/h/$h/state/gcroots/$rev1" || return 1
		test "$(hst $h .deployed)" = null || return 1
	done &&
	test "$(hst desk-1 .last_attempt.error)" = "rollout: wave early starts $(minute $((T0 + 7200)))" &&
	test "$(hst srv-1 .last_attempt.error)" = "rollout: wave everyone starts $(minute $((T0 + 86400)))" &&
	test "$(hst desk-2 .rollout.due_at)" = "$(date -u -d @$((T0 + 7200)) +%Y-%m-%dT%H:%M:%SZ)" &&
	test "$(hst srv-2 .rollout.release)" = "$rev1" &&
	test "$(jq -r .rollout.wave "$WEBDAV_DIR/srv-3.json")" = everyone
'

test_expect_success_here 'when the clock reaches a wave, its hosts deploy and the later ones still wait' '
	NOW=$((T0 + 7200 + 30)) &&
	agent desk-1 &&
	test "$(hst desk-1 .state)" = ok &&
	test "$(hst desk-1 .deployed.rev)" = "$rev1" &&
	test -n "$(hcurrent desk-1)" &&
	test_expect_code 1 agent srv-1 &&
	test "$(hst srv-1 .state)" = deferred
'

# verify HOST REV: nixpull verify with HOST's config at the test clock $NOW
verify() {
	(cd "$TEST_DIR/h/$1" && NIXPULL_TEST_NOW=$NOW "$NIXPULL" verify \
	    -c config.yaml --repo "$TEST_DIR/work" "$2")
}

test_expect_success_here 'nixpull verify REV prints the plan of the release and when this host is due' '
	NOW=$((T0 + 60)) &&
	verify desk-1 $rev1 >verify.out &&
	sed -n "/^rollout:/,\$p" verify.out >actual &&
	cat >expect <<-EOF &&
	rollout: .nixpull/rollout.yaml, released $(minute $T0) (the committer date)
	  wave canary: after 0s hosts lab-*
	  wave early: after 2h groups desktops
	  wave everyone: after 1d
	  halt: after 1 failed host
	turn: desk-1 (group desktops) is in wave early, due $(minute $((T0 + 7200))) (in 1h59m)
	EOF
	test_cmp expect actual &&
	verify lab-1 $rev1 >verify.out &&
	test "$(tail -n 1 verify.out)" = "turn: lab-1 is in wave canary, due $(minute $T0) (due now)"
'

# fleet_rollout: the rollout part of `nixpull fleet` over the reports
fleet_rollout() {
	"$NIXPULL" fleet "$WEBDAV_DIR" >"$TEST_DIR/fleet.out"
	echo $? >"$TEST_DIR/fleet.rc"
	sed -n "/^rollout of /,\$p" "$TEST_DIR/fleet.out"
}
rfc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

test_expect_success_here 'nixpull fleet shows each wave of the newest release: deployed, pending with the due time' '
	fleet_rollout >actual &&
	test "$(cat "$TEST_DIR/fleet.rc")" = 0 &&
	cat >expect <<-EOF &&
	rollout of ${rev1:0:12}, released $(minute $T0)
	  canary    due $(minute $T0)  deployed: lab-1
	  early     due $(minute $((T0 + 7200)))  deployed: desk-1; pending: desk-2
	  everyone  due $(minute $((T0 + 86400)))  pending: srv-1, srv-2, srv-3
	EOF
	test_cmp expect actual &&
	"$NIXPULL" fleet --rollout --json "$WEBDAV_DIR" >fleet.json &&
	jq -c . fleet.json >actual &&
	cat >expect <<-EOF &&
	{"release":"$rev1","released_at":"$(rfc $T0)","halted_by":null,"waves":[{"name":"canary","due_at":"$(rfc $T0)","deployed":["lab-1"],"pending":[],"failed":[],"halted":[]},{"name":"early","due_at":"$(rfc $((T0 + 7200)))","deployed":["desk-1"],"pending":["desk-2"],"failed":[],"halted":[]},{"name":"everyone","due_at":"$(rfc $((T0 + 86400)))","deployed":[],"pending":["srv-1","srv-2","srv-3"],"failed":[],"halted":[]}],"other_hosts":0}
	EOF
	test_cmp expect actual &&
	"$NIXPULL" fleet --json "$WEBDAV_DIR" >hosts.json &&
	test "$(jq -r ".hosts | keys | join(\" \")" hosts.json)" = "desk-1 desk-2 lab-1 srv-1 srv-2 srv-3" &&
	test "$(jq -r ".hosts.\"lab-1\".rollout.released_at" hosts.json)" = "$(rfc $T0)" &&
	jq -c .rollout hosts.json >actual &&
	jq -c . fleet.json >expect &&
	test_cmp expect actual &&
	"$NIXPULL" fleet --rollout "$WEBDAV_DIR" >rollout.out &&
	sed -n "/^rollout of /,\$p" "$TEST_DIR/fleet.out" >expect &&
	test_cmp expect rollout.out
'

test_expect_success_here 'a canary that rolls back halts the later waves, naming it' '
	CHECKS[lab-1]="  health_checks:
    - \"false\"" &&
	host_setup lab-1 &&
	plan_release v2 "$PLAN" &&
	rev2=$rev &&
	NOW=$((T0 + 60)) &&
	test_expect_code 1 agent lab-1 &&
	test "$(hst lab-1 .state)" = rolled-back &&
	test "$(jq -r .last_attempt.result "$WEBDAV_DIR/lab-1.json")" = rolled-back &&
	NOW=$((T0 + 7200 + 60)) &&
	test_expect_code 1 agent desk-2 &&
	test "$(hst desk-2 .state)" = deferred &&
	test "$(hst desk-2 .last_attempt.error)" = "rollout halted: 1 host failed on $rev2 (lab-1)" &&
	test "$(hst desk-2 .rollout.halted_by)" = "rollout halted: 1 host failed on $rev2 (lab-1)" &&
	test "$(hst desk-2 .deployed)" = null &&
	test_expect_code 1 agent desk-1 &&
	test "$(hst desk-1 .deployed.rev)" = "$rev1"
'

test_expect_success_here 'nixpull fleet shows the newest release halted, its failed canary and halted hosts' '
	fleet_rollout >actual &&
	test "$(cat "$TEST_DIR/fleet.rc")" = 1 &&
	cat >expect <<-EOF &&
	rollout of ${rev2:0:12}, released $(minute $T0): rollout halted: 1 host failed on $rev2 (lab-1)
	  canary  due $(minute $T0)  failed: lab-1
	  early   due $(minute $((T0 + 7200)))  halted: desk-1, desk-2
	EOF
	test_cmp expect actual &&
	test_expect_code 1 "$NIXPULL" fleet --rollout --json "$WEBDAV_DIR" >fleet.json &&
	test "$(jq -c "[.halted_by, (.waves[] | [.name, .failed, .halted])]" fleet.json)" = \
	    "[\"rollout halted: 1 host failed on $rev2 (lab-1)\",[\"canary\",[\"lab-1\"],[]],[\"early\",[],[\"desk-1\",\"desk-2\"]]]"
'

test_expect_success_here 'an unsigned change to the plan on top of the release changes nothing' '
	printf "urgent: true\nwaves:\n  - {}\n" >"$TEST_DIR/work/.nixpull/rollout.yaml" &&
	git -C "$TEST_DIR/work" add .nixpull/rollout.yaml &&
	git -C "$TEST_DIR/work" -c commit.gpgsign=false commit -q -m "unsigned: urgent" &&
	push &&
	test_expect_code 1 agent desk-2 &&
	test "$(hst desk-2 .rollout.release)" = "$rev2" &&
	test "$(hst desk-2 .last_attempt.error)" = "rollout halted: 1 host failed on $rev2 (lab-1)" &&
	test "$(hst desk-2 .deployed)" = null
'

test_expect_success_here 'an unreachable status endpoint does not halt, and the status says so' '
	webdav_stop &&
	test_expect_code 0 agent desk-2 &&
	test "$(hst desk-2 .deployed.rev)" = "$rev2" &&
	test "$(hst desk-2 .rollout.fleet_error)" != null &&
	test "$(hst desk-2 .rollout.halted_by)" = null &&
	webdav_restart
'

test_expect_success_here 'a newer signed urgent release supersedes the halted one and reaches everyone' '
	CHECKS[lab-1]= &&
	host_setup lab-1 &&
	plan_release v3 "urgent: true
$PLAN" &&
	rev3=$rev &&
	NOW=$((T0 + 60)) &&
	for h in $HOSTS; do
		test_expect_code 0 agent $h || return 1
		test "$(hst $h .deployed.rev)" = "$rev3" || return 1
	done
'

test_expect_success_here 'a malformed plan in a signed release is rejected with its file:line:col and the host stays' '
	plan_release v4 "waves:
  - name: canary
    hostz: [lab-1]" &&
	rev4=$rev &&
	NOW=$((T0 + 60)) &&
	test_expect_code 1 agent srv-1 &&
	test "$(hst srv-1 .state)" = rejected &&
	test "$(hst srv-1 .last_attempt.error)" = "rollout plan of $rev4: .nixpull/rollout.yaml:3:5: unknown key in a wave: '"'"'hostz'"'"'" &&
	test "$(hst srv-1 .deployed.rev)" = "$rev3" &&
	test ! -e "$TEST_DIR/h/srv-1/state/gcroots/$rev4"
'

test_expect_success_here 'nixpull verify names the malformed plan with its file:line:col and the revision' '
	test_expect_code 1 verify srv-1 $rev4 >verify.out &&
	test "$(tail -n 1 verify.out)" = "rollout: rejected: rollout plan of $rev4: .nixpull/rollout.yaml:3:5: unknown key in a wave: '"'"'hostz'"'"'" &&
	test_grep "^commit $rev4: good signature" verify.out
'

test_done
