#!/usr/bin/env bash
# nixpull check-config: prints the effective config, or every error with
# file:line:col and exit 78; -c beats $NIXPULL_CONFIG beats the default.
. "$NIXPULL_SRCDIR/tests/lib/lib.sh"

mkdir -p etc
cat >etc/good.yaml <<'EOF'
host: web-1
repo:
  url: https://git.example.com/infra.git
  token_file: repo-token
trust:
  allowed_signers: allowed_signers
poll:
  interval: 90m
activate:
  health_checks:
    - systemctl is-system-running --wait
EOF
printf 'top-secret-token\n' >etc/repo-token
chmod 600 etc/repo-token

cat >etc/bad.yaml <<'EOF'
repo:
  url: https://git.example.com/infra.git
trust:
  allowed_signers: /etc/nixpull/allowed_signers
poll:
  intervall: 5m
build:
  timeout: 300
EOF

test_expect_success 'a good config prints every key, defaults filled in' '
	"$NIXPULL" check-config -c etc/good.yaml >out 2>err &&
	test_grep "^host: \"web-1\"$" out &&
	test_grep "^  interval: 1h30m$" out &&
	test_grep "^  jitter: 1m$" out &&
	test_grep "^  max_jobs: auto$" out &&
	test_grep "^  max_fetch_size: 512MiB$" out &&
	test_grep "^  token_file: \"$TEST_DIR/etc/repo-token\"$" out &&
	test_grep "^  allowed_signers: \"$TEST_DIR/etc/allowed_signers\"$" out &&
	test_grep "\"systemctl\", \"is-system-running\", \"--wait\"" out &&
	test_grep_not "top-secret" out &&
	test_grep_not . err
'

test_expect_success 'the printout is itself a config that checks' '
	"$NIXPULL" check-config -c etc/good.yaml >printed.yaml &&
	"$NIXPULL" check-config -c printed.yaml >again.yaml &&
	grep -v "^#" printed.yaml >a &&
	grep -v "^#" again.yaml >b &&
	test_cmp a b
'

test_expect_success 'a bad config: exit 78, every error with file:line:col' '
	test_expect_code 78 "$NIXPULL" check-config -c etc/bad.yaml >out 2>err &&
	test_grep "^etc/bad.yaml:6:3: unknown key '"'"'intervall'"'"' in '"'"'poll'"'"' \(did you mean '"'"'interval'"'"'\?\)$" err &&
	test_grep "^etc/bad.yaml:8:12: invalid duration '"'"'300'"'"' for '"'"'build.timeout'"'"': duration needs a unit" err &&
	test "$(wc -l <err)" -eq 2 &&
	test_grep_not . out
'

test_expect_success 'NIXPULL_CONFIG names the config' '
	NIXPULL_CONFIG=etc/good.yaml "$NIXPULL" check-config >out &&
	test_grep "^host: \"web-1\"$" out &&
	test_expect_code 78 env NIXPULL_CONFIG=etc/bad.yaml \
	    "$NIXPULL" check-config 2>err &&
	test_grep "^etc/bad.yaml:6:3: " err
'

test_expect_success '-c beats NIXPULL_CONFIG' '
	NIXPULL_CONFIG=etc/bad.yaml "$NIXPULL" check-config -c etc/good.yaml >out &&
	test_grep "^host: \"web-1\"$" out &&
	test_expect_code 78 env NIXPULL_CONFIG=etc/good.yaml \
	    "$NIXPULL" check-config --config etc/bad.yaml 2>err &&
	test_grep "^etc/bad.yaml:6:3: " err
'

test_expect_success 'a missing config names its path' '
	test_expect_code 78 "$NIXPULL" check-config -c etc/nope.yaml 2>err &&
	test_grep "cannot read config '"'"'etc/nope.yaml'"'"': No such file or directory" err
'

test_expect_success 'the default path is /etc/nixpull/config.yaml' '
	if test -e /etc/nixpull/config.yaml; then
		say "skipped: this machine has /etc/nixpull/config.yaml"
	else
		test_expect_code 78 "$NIXPULL" check-config 2>err &&
		test_grep "'"'"'/etc/nixpull/config.yaml'"'"'" err
	fi
'

test_expect_success 'a world-readable token file warns, naming key and path' '
	chmod 644 etc/repo-token &&
	"$NIXPULL" check-config -c etc/good.yaml >out 2>err &&
	test_grep "etc/good.yaml:4:15: '"'"'repo.token_file'"'"' '"'"'$TEST_DIR/etc/repo-token'"'"' is accessible by group or others \(mode 0644\)" err &&
	test_grep_not "top-secret" err &&
	test_grep "^host: " out &&
	chmod 600 etc/repo-token
'

test_expect_success 'a missing token file is an error at its key' '
	mv etc/repo-token etc/repo-token.away &&
	test_expect_code 78 "$NIXPULL" check-config -c etc/good.yaml 2>err &&
	mv etc/repo-token.away etc/repo-token &&
	test_grep "^etc/good.yaml:4:15: cannot read '"'"'repo.token_file'"'"' '"'"'$TEST_DIR/etc/repo-token'"'"': No such file" err
'

test_expect_success 'the packaged example config checks' '
	"$NIXPULL" check-config -c "$NIXPULL_SRCDIR/packaging/example-config.yaml" >out 2>err &&
	test_grep "^  url: \"https://git.example.com/infra.git\"$" out &&
	test_grep_not . err
'

test_expect_success 'extra arguments are a usage error' '
	test_expect_code 2 "$NIXPULL" check-config -c etc/good.yaml extra 2>err &&
	test_grep "unexpected argument" err
'

test_done
