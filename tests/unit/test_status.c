#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "caps.h"
#include "status.h"
#include "t.h"

static void
fill(struct status *st)
{
	status_init(st);
	st->host = xstrdup("cinnabar");
	st->agent_version = xstrdup("0.1.0");
	st->state = STATE_FAILED;
	st->updated_at = 1795575600;
	st->deployed.rev = xstrdup("0123456789abcdef0123456789abcdef01234567");
	st->deployed.signer = xstrdup("alice@example.com");
	st->deployed.key_fingerprint = xstrdup("SHA256:abc");
	st->deployed.store_path = xstrdup("/nix/store/x-nixos-system");
	st->deployed.activated_at = 1795570000;
	st->deployed.committed_at = 1795560000;
	st->deployed.source = xstrdup("substituted");
	st->tip.rev = xstrdup("fedcba9876543210fedcba9876543210fedcba98");
	st->tip.seen_at = 1795575000;
	st->last_attempt.rev = xstrdup(st->tip.rev);
	st->last_attempt.result = RESULT_FAILED;
	st->last_attempt.phase = PHASE_BUILD;
	st->last_attempt.error = xstrdup("nix build: exit 1 \"quoted\"\n\ttab");
	st->last_attempt.log_tail = xstrdup("error: builder failed\n");
	st->last_attempt.started_at = 1795575010;
	st->last_attempt.durations_ms[PHASE_POLL] = 12;
	st->last_attempt.durations_ms[PHASE_BUILD] = 61234;
	st->last_attempt.fetch_bytes = 4096;
	st->last_attempt.max_jobs = 3;
	st->last_attempt.cores = 2;
	st->last_attempt.source = xstrdup("built");
	st->last_attempt.evaluations = 1;
	st->reboot_required = 1;
	st->stale_release = true;
	st->trust.version = 3;
	st->trust.expires_at = 1795560000;
	st->trust.expired = true;
	st->system.os = xstrdup("linux");
	st->system.arch = xstrdup("x86_64");
	st->system.cpus = 8;
	st->system.mem_bytes = 17179869184LL;
	st->system.on_battery = 0;
	st->system.nix_version = xstrdup("2.8.0");
	st->next_poll_at = 1795575900;
}

static void
test_roundtrip(void)
{
	struct status a, b;
	struct buf j1 = BUF_INIT(MAX_STATUS_SIZE), j2 = BUF_INIT(MAX_STATUS_SIZE);
	struct err e;

	fill(&a);
	T_EQ_INT(status_to_json(&a, &j1, &e), 0);
	T_CONTAINS(buf_str(&j1), "\"schema\": 1");
	T_CONTAINS(buf_str(&j1), "\"updated_at\": \"2026-11-25T03:00:00Z\"");
	T_CONTAINS(buf_str(&j1), "\"state\": \"failed\"");
	T_CONTAINS(buf_str(&j1), "\"build\": 61234");
	T_CONTAINS(buf_str(&j1), "\\\"quoted\\\"\\n\\ttab");
	T_OK(strstr(buf_str(&j1), "\"fetch\":") == NULL);	/* not run */
	T_EQ_INT(status_from_json(j1.data, j1.len, &b, &e), 0);
	T_EQ_STR(b.host, "cinnabar");
	T_EQ_INT(b.state, STATE_FAILED);
	T_EQ_INT(b.updated_at, 1795575600);
	T_EQ_STR(b.deployed.signer, "alice@example.com");
	T_EQ_INT(b.deployed.committed_at, 1795560000);
	T_EQ_INT(b.last_attempt.result, RESULT_FAILED);
	T_EQ_INT(b.last_attempt.phase, PHASE_BUILD);
	T_EQ_INT(b.last_attempt.durations_ms[PHASE_BUILD], 61234);
	T_EQ_INT(b.last_attempt.durations_ms[PHASE_FETCH], -1);
	T_EQ_STR(b.deployed.source, "substituted");
	T_EQ_STR(b.last_attempt.source, "built");
	T_EQ_INT(b.last_attempt.evaluations, 1);
	T_EQ_INT(b.last_attempt.substituted_bytes, -1);
	T_CONTAINS(buf_str(&j1), "\"substituted_bytes\": null");
	T_CONTAINS(buf_str(&j1), "\"evaluations\": 1");
	T_EQ_INT(b.system.mem_bytes, 17179869184LL);
	T_EQ_INT(b.reboot_required, 1);
	T_EQ_INT(b.system.on_battery, 0);
	T_OK(b.stale_release);
	T_OK(!b.tofu);
	T_CONTAINS(buf_str(&j1), "\"expires_at\": \"2026-11-24T22:40:00Z\"");
	T_EQ_INT(b.trust.version, 3);
	T_EQ_INT(b.trust.expires_at, 1795560000);
	T_OK(b.trust.expired);
	T_EQ_INT(status_to_json(&b, &j2, &e), 0);
	T_EQ_STR(buf_str(&j1), buf_str(&j2));
	status_release(&a);
	status_release(&b);
	buf_release(&j1);
	buf_release(&j2);
}

static void
test_minimal(void)
{
	struct status st, c;
	struct buf j = BUF_INIT(MAX_STATUS_SIZE);
	struct err e;
	const char *doc = "{\"schema\":1,\"host\":\"h\",\"state\":\"ok\","
	    "\"future_field\":{\"x\":[1,2]},\"deployed\":null}";

	T_EQ_INT(status_from_json(doc, strlen(doc), &st, &e), 0);
	T_EQ_STR(st.host, "h");
	T_OK(st.deployed.rev == NULL);
	T_EQ_INT(st.reboot_required, -1);
	T_EQ_INT(st.last_attempt.result, RESULT_NONE);
	status_copy(&c, &st);
	T_EQ_STR(c.host, "h");
	T_OK(c.host != st.host);
	T_EQ_INT(status_to_json(&c, &j, &e), 0);
	T_CONTAINS(buf_str(&j), "\"last_attempt\": null");
	T_CONTAINS(buf_str(&j), "\"reboot_required\": null");
	T_CONTAINS(buf_str(&j), "\"trust\": null");
	T_EQ_INT(st.trust.version, -1);
	status_release(&st);
	status_release(&c);
	buf_release(&j);
}

static void
bad(const char *doc, const char *want)
{
	struct status st;
	struct err e;

	T_EQ_INT(status_from_json(doc, strlen(doc), &st, &e), -1);
	T_CONTAINS(e.msg, want);
	T_OK(st.host == NULL);
}

static void
test_bad(void)
{
	bad("", "1:");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\"", "1:");
	bad("[]", "expected an object");
	bad("{\"host\":\"h\",\"state\":\"ok\"}", "'schema': missing");
	bad("{\"schema\":2,\"host\":\"h\",\"state\":\"ok\"}",
	    "'schema': unsupported version 2");
	bad("{\"schema\":1,\"host\":3,\"state\":\"ok\"}",
	    "'host': expected a string, got an integer");
	bad("{\"schema\":1,\"state\":\"ok\"}", "'host': missing");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"sleeping\"}",
	    "'state': unknown value 'sleeping'");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\","
	    "\"updated_at\":\"yesterday\"}", "'updated_at': not an RFC 3339");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\","
	    "\"deployed\":{\"rev\":1}}",
	    "'deployed.rev': expected a string, got an integer");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\","
	    "\"deployed\":{\"signer\":\"a\"}}", "'deployed.rev': missing");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\",\"last_attempt\":"
	    "{\"result\":\"failed\",\"durations_ms\":{\"build\":\"1s\"}}}",
	    "'last_attempt.durations_ms.build': expected an integer");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\",\"last_attempt\":"
	    "{\"result\":\"failed\",\"max_jobs\":-3}}",
	    "'last_attempt.max_jobs': -3 out of range");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\",\"last_attempt\":"
	    "{\"phase\":\"build\"}}", "'last_attempt.result': missing");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\","
	    "\"reboot_required\":\"yes\"}",
	    "'reboot_required': expected a boolean or null, got a string");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\","
	    "\"stale_release\":null}", "'stale_release': expected a boolean");
	bad("{\"schema\":1,\"host\":\"h\",\"state\":\"ok\",\"system\":[]}",
	    "'system': expected an object, got an array");
	bad("{\"schema\":1,\"host\":\"h\",\"host\":\"g\",\"state\":\"ok\"}",
	    "duplicate");
	bad("{\"schema\":1,\"host\":\"a\\u0000b\",\"state\":\"ok\"}", "NUL");
}

static void
test_names(void)
{
	enum status_state s;

	for (int i = 0; i < STATE__COUNT; i++) {
		T_EQ_INT(status_state_parse(status_state_name(
		    (enum status_state)i), &s), 0);
		T_EQ_INT(s, i);
	}
	T_EQ_STR(status_state_name(STATE_ROLLED_BACK), "rolled-back");
	T_EQ_INT(status_state_parse("OK", &s), -1);
	T_OK(status_state_is_problem(STATE_REJECTED));
	T_OK(!status_state_is_problem(STATE_DEFERRED));
	T_EQ_STR(status_phase_name(PHASE_CHECK), "check");
	T_EQ_STR(status_result_name(RESULT_ROLLED_BACK), "rolled-back");
}

static size_t
count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	if (d != NULL)
		closedir(d);
	return n;
}

static void
test_save_load_history(void)
{
	char tmpl[] = "/tmp/test_status.XXXXXX", *dir, *hist, *first;
	struct status st, back;
	struct err e;

	T_OK((dir = mkdtemp(tmpl)) != NULL);
	T_EQ_INT(status_load(dir, &back, &e), STATUS_NOT_FOUND);
	T_CONTAINS(e.msg, "no status yet");
	fill(&st);
	T_EQ_INT(status_save(dir, &st, &e), 0);
	T_EQ_INT(status_load(dir, &back, &e), 0);
	T_EQ_STR(back.tip.rev, st.tip.rev);
	status_release(&back);

	for (int i = 0; i < MAX_STATUS_HISTORY + 7; i++) {
		st.last_attempt.started_at = 1795575010 + i * 60;
		T_EQ_INT(status_history_add(dir, &st, &e), 0);
	}
	/* the same attempt again replaces its entry */
	T_EQ_INT(status_history_add(dir, &st, &e), 0);
	hist = xasprintf("%s/history", dir);
	T_EQ_INT(count_dir(hist), MAX_STATUS_HISTORY);
	/* the oldest went: the first kept is attempt 7 (02:57:10 UTC) */
	first = xasprintf("%s/20261125T025710Z-fedcba987654.json", hist);
	T_OK(access(first, F_OK) == 0);
	free(first);
	first = xasprintf("%s/20261125T025610Z-fedcba987654.json", hist);
	T_OK(access(first, F_OK) == -1);
	free(first);

	{
		char *p = xasprintf("%s/status.json", dir);

		T_EQ_INT(fs_write_atomic(p, "{\"schema\":1,", 12, 0644, &e), 0);
		T_EQ_INT(status_load(dir, &back, &e), -1);
		T_CONTAINS(e.msg, "status.json");
		free(p);
	}
	status_release(&st);
	T_EQ_INT(fs_remove_tree(dir, &e), 0);
	free(hist);
}

static bool
hist_has(const char *hist, const char *name)
{
	char *p = xasprintf("%s/%s", hist, name);
	bool r = access(p, F_OK) == 0;

	free(p);
	return r;
}

/* Attempts of one revision started the same second keep their own entries. */
static void
test_history_same_second(void)
{
	char tmpl[] = "/tmp/test_status.XXXXXX", *dir, *hist, *p, name[64];
	const char *stem = "20261125T025010Z-fedcba987654";
	struct status st, back;
	struct buf b;
	struct err e;

	T_OK((dir = mkdtemp(tmpl)) != NULL);
	hist = xasprintf("%s/history", dir);
	fill(&st);
	T_EQ_INT(status_history_add(dir, &st, &e), 0);
	st.last_attempt.durations_ms[PHASE_BUILD] = 100;
	T_EQ_INT(status_history_add(dir, &st, &e), 0);
	T_EQ_INT(count_dir(hist), 2);
	T_OK(hist_has(hist, "20261125T025010Z-fedcba987654.json"));
	T_OK(hist_has(hist, "20261125T025010Z-fedcba987654_02.json"));
	/* either attempt recorded again replaces its own entry */
	T_EQ_INT(status_history_add(dir, &st, &e), 0);
	st.last_attempt.durations_ms[PHASE_BUILD] = 61234;
	T_EQ_INT(status_history_add(dir, &st, &e), 0);
	T_EQ_INT(count_dir(hist), 2);
	p = xasprintf("%s/%s_02.json", hist, stem);
	T_EQ_INT(fs_read_file(p, MAX_STATUS_SIZE, &b, &e), 0);
	T_EQ_INT(status_from_json(b.data, b.len, &back, &e), 0);
	T_EQ_INT(back.last_attempt.durations_ms[PHASE_BUILD], 100);
	status_release(&back);
	buf_release(&b);
	free(p);

	/* older entries are pruned first, the same-second ones in order */
	for (int i = 1; i <= 5; i++) {
		st.last_attempt.started_at = 1795575010 - i * 60;
		T_EQ_INT(status_history_add(dir, &st, &e), 0);
	}
	st.last_attempt.started_at = 1795575010;
	for (int seq = 3; seq <= MAX_STATUS_HISTORY; seq++) {
		st.last_attempt.durations_ms[PHASE_BUILD] = 1000 + seq;
		T_EQ_INT(status_history_add(dir, &st, &e), 0);
	}
	T_EQ_INT(count_dir(hist), MAX_STATUS_HISTORY);
	T_OK(hist_has(hist, "20261125T025010Z-fedcba987654.json"));
	snprintf(name, sizeof(name), "%s_%02d.json", stem, MAX_STATUS_HISTORY);
	T_OK(hist_has(hist, name));
	T_OK(!hist_has(hist, "20261125T024510Z-fedcba987654.json"));
	/* a bound on attempts per second and revision */
	st.last_attempt.durations_ms[PHASE_BUILD] = 7;
	T_EQ_INT(status_history_add(dir, &st, &e), -1);
	T_CONTAINS(e.msg, "more than 50 attempts");
	T_EQ_INT(count_dir(hist), MAX_STATUS_HISTORY);

	status_release(&st);
	T_EQ_INT(fs_remove_tree(dir, &e), 0);
	free(hist);
}

int
main(void)
{
	test_roundtrip();
	test_minimal();
	test_bad();
	test_names();
	test_save_load_history();
	test_history_same_second();
	return T_DONE();
}
