#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "buf.h"
#include "fsutil.h"
#include "caps.h"
#include "report.h"
#include "status.h"
#include "t.h"
#include "timeutil.h"

static char *dir;

static char *
slurp(const char *path)
{
	struct buf b;
	struct err e;

	if (fs_read_file(path, 1 << 20, &b, &e) == -1)
		return NULL;
	return buf_detach(&b, NULL);
}

static void
test_host_ok(void)
{
	T_OK(report_host_ok("cinnabar"));
	T_OK(report_host_ok("web-01.example_x"));
	T_OK(!report_host_ok(""));
	T_OK(!report_host_ok(".hidden"));
	T_OK(!report_host_ok("-x"));
	T_OK(!report_host_ok("a/b"));
	T_OK(!report_host_ok("a b"));
	T_OK(!report_host_ok("../x"));
}

static void
test_file_url(void)
{
	struct report_target t = { 0 };
	char *url, *p, *got;
	struct err e;

	url = xasprintf("file://%s/out/", dir);
	t.url = url;
	/* the folder does not exist: an error, and the document is kept */
	T_EQ_INT(report_send(&t, dir, "h1", "{\"a\":1}\n", 8, &e), -1);
	p = xasprintf("%s/%s", dir, REPORT_PENDING_FILE);
	T_OK((got = slurp(p)) != NULL);
	T_EQ_STR(got, "{\"a\":1}\n");
	free(got);
	/* a newer one replaces it */
	T_EQ_INT(report_send(&t, dir, "h1", "{\"a\":2}\n", 8, &e), -1);
	T_OK((got = slurp(p)) != NULL);
	T_EQ_STR(got, "{\"a\":2}\n");
	free(got);
	/* the folder appears: flush delivers the newest, drops pending */
	free(url);
	url = xasprintf("%s/out", dir);
	T_EQ_INT(fs_mkdir_p(url, 0755, &e), 0);
	free(url);
	url = xasprintf("file://%s/out/", dir);
	t.url = url;
	T_EQ_INT(report_flush(&t, dir, "h1", &e), 0);
	T_OK(access(p, F_OK) == -1);
	free(p);
	p = xasprintf("%s/out/h1.json", dir);
	T_OK((got = slurp(p)) != NULL);
	T_EQ_STR(got, "{\"a\":2}\n");
	free(got);
	/* nothing pending: flush is a no-op */
	T_EQ_INT(report_flush(&t, dir, "h1", &e), 0);
	/* heartbeat writes the target only */
	T_EQ_INT(report_heartbeat(&t, dir, "h1", "{\"a\":3}\n", 8, &e), 0);
	T_OK((got = slurp(p)) != NULL);
	T_EQ_STR(got, "{\"a\":3}\n");
	free(got);
	free(p);
	free(url);
	T_EQ_INT(report_put(&t, "../evil", "{}", 2, &e), -1);
	T_CONTAINS(e.msg, "unusable");
}

static void
test_bad_urls(void)
{
	struct report_target t = { 0 };
	struct err e;

	t.url = "https://user:hunter2@example.com/status/";
	T_EQ_INT(report_put(&t, "h", "{}", 2, &e), -1);
	T_CONTAINS(e.msg, "credentials in the URL are refused");
	T_OK(strstr(e.msg, "hunter2") == NULL);
	t.url = "ftp://example.com/status/";
	T_EQ_INT(report_put(&t, "h", "{}", 2, &e), -1);
	T_CONTAINS(e.msg, "scheme must be");
	t.url = "file://otherhost/srv/";
	T_EQ_INT(report_put(&t, "h", "{}", 2, &e), -1);
	t.url = "file:///";
	T_EQ_INT(report_put(&t, "h", "{}", 2, &e), -1);
	T_CONTAINS(e.msg, "local folder");
	t.url = "https://example.com/status/?x=1";
	T_EQ_INT(report_put(&t, "h", "{}", 2, &e), -1);
	T_CONTAINS(e.msg, "query");
	t.url = NULL;
	T_EQ_INT(report_put(&t, "h", "{}", 2, &e), -1);
}

/* A port nobody listens on. */
static int
dead_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(s, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(s);
	return port;
}

static void
test_refused_within_budget(void)
{
	struct report_target t = { 0 };
	char *url, *tok;
	struct err e;
	uint64_t t0;

	tok = xasprintf("%s/token", dir);
	T_EQ_INT(fs_write_atomic(tok, "s3cr3t-token\n", 13, 0600, &e), 0);
	url = xasprintf("http://127.0.0.1:%d/status/", dead_port());
	t.url = url;
	t.token_file = tok;
	t.timeout_ms = 1500;
	t0 = time_monotonic_ms();
	T_EQ_INT(report_put(&t, "h", "{}", 2, &e), -1);
	T_OK(time_monotonic_ms() - t0 < 2500);
	T_CONTAINS(e.msg, "report: PUT 'http://127.0.0.1:");
	T_CONTAINS(e.msg, "/status/h.json'");
	T_CONTAINS(e.msg, "tries)");	/* retried */
	T_OK(strstr(e.msg, "s3cr3t") == NULL);
	/* a missing token file is an error naming the file, not the token */
	t.token_file = "/nonexistent/token";
	T_EQ_INT(report_put(&t, "h", "{}", 2, &e), -1);
	T_CONTAINS(e.msg, "report.token_file");
	free(url);
	free(tok);
}

static void
test_metrics(void)
{
	struct status st;
	struct err e;
	char *p = xasprintf("%s/nixpull.prom", dir), *got;

	status_init(&st);
	st.host = xstrdup("h");
	st.deployed.rev = xstrdup("abc");
	st.deployed.activated_at = 1795570000;
	st.deployed.committed_at = 1795560000;
	st.last_attempt.result = RESULT_FAILED;
	st.last_attempt.durations_ms[PHASE_BUILD] = 61234;
	st.last_attempt.durations_ms[PHASE_POLL] = 5;
	st.reboot_required = 0;
	T_EQ_INT(report_metrics(p, &st, 1795575600, &e), 0);
	T_OK((got = slurp(p)) != NULL);
	T_CONTAINS(got, "# TYPE nixpull_deployed_timestamp_seconds gauge\n"
	    "nixpull_deployed_timestamp_seconds 1795570000\n");
	T_CONTAINS(got, "\nnixpull_last_attempt_success 0\n");
	T_CONTAINS(got, "\nnixpull_phase_duration_seconds{phase=\"build\"} "
	    "61.234\n");
	T_CONTAINS(got, "{phase=\"poll\"} 0.005\n");
	T_OK(strstr(got, "phase=\"fetch\"") == NULL);
	T_CONTAINS(got, "\nnixpull_reboot_required 0\n");
	T_CONTAINS(got, "\nnixpull_release_age_seconds 15600\n");
	T_CONTAINS(got, "# HELP nixpull_release_age_seconds ");
	free(got);
	status_release(&st);
	free(p);
}

int
main(void)
{
	char tmpl[] = "/tmp/test_report.XXXXXX";
	struct err e;

	dir = mkdtemp(tmpl);
	T_OK(dir != NULL);
	test_host_ok();
	test_file_url();
	test_bad_urls();
	test_refused_within_budget();
	test_metrics();
	fs_remove_tree(dir, &e);
	return T_DONE();
}
