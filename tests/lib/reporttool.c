/*
 * reporttool: drives common/status.c and common/report.c from the shell
 * tests, before (and beside) the agent's cycle.
 *
 *   reporttool make KEY=VALUE...        print a status document
 *   reporttool [OPTS] save FILE         status_save + status_history_add
 *   reporttool [OPTS] send FILE         report_send (keeps it when undelivered)
 *   reporttool [OPTS] heartbeat FILE    report_heartbeat
 *   reporttool [OPTS] put FILE          report_put
 *   reporttool [OPTS] flush             report_flush
 *   reporttool metrics FILE OUT [NOW]   report_metrics
 *
 * OPTS: --state-dir DIR --url URL --token-file F --ca-file F --timeout MS
 * --tries N --host H (default: the document's host).
 * make keys: host state rev signer fpr store activated committed tip seen
 * updated next result phase error log reboot tofu stale_release; times are
 * "now", "now-SECONDS", epoch seconds or RFC 3339.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "caps.h"
#include "log.h"
#include "report.h"
#include "status.h"
#include "timeutil.h"

static time_t
parse_time(const char *v)
{
	const char *why;
	time_t t;

	if (strcmp(v, "now") == 0)
		return time_now();
	if (strncmp(v, "now-", 4) == 0)
		return time_now() - strtoll(v + 4, NULL, 10);
	if (time_parse_rfc3339(v, &t, &why) == 0)
		return t;
	return (time_t)strtoll(v, NULL, 10);
}

static int
set_enum(const char *v, const char *(*name)(int), int n, int *dst)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(name(i), v) == 0) {
			*dst = i;
			return 0;
		}
	}
	fprintf(stderr, "reporttool: unknown value '%s'\n", v);
	return -1;
}

static const char *sname(int i) { return status_state_name(i); }
static const char *pname(int i) { return status_phase_name(i); }
static const char *rname(int i) { return status_result_name(i); }

static int
make_kv(struct status *st, const char *k, const char *v)
{
	int x;

	if (strcmp(k, "host") == 0)
		free(st->host), st->host = xstrdup(v);
	else if (strcmp(k, "state") == 0) {
		if (set_enum(v, sname, STATE__COUNT, &x) == -1)
			return -1;
		st->state = (enum status_state)x;
	} else if (strcmp(k, "rev") == 0)
		st->deployed.rev = xstrdup(v);
	else if (strcmp(k, "signer") == 0)
		st->deployed.signer = xstrdup(v);
	else if (strcmp(k, "fpr") == 0)
		st->deployed.key_fingerprint = xstrdup(v);
	else if (strcmp(k, "store") == 0)
		st->deployed.store_path = xstrdup(v);
	else if (strcmp(k, "activated") == 0)
		st->deployed.activated_at = parse_time(v);
	else if (strcmp(k, "committed") == 0)
		st->deployed.committed_at = parse_time(v);
	else if (strcmp(k, "tip") == 0)
		st->tip.rev = xstrdup(v);
	else if (strcmp(k, "seen") == 0)
		st->tip.seen_at = parse_time(v);
	else if (strcmp(k, "updated") == 0)
		st->updated_at = parse_time(v);
	else if (strcmp(k, "next") == 0)
		st->next_poll_at = parse_time(v);
	else if (strcmp(k, "result") == 0) {
		if (set_enum(v, rname, RESULT__COUNT, &x) == -1)
			return -1;
		st->last_attempt.result = (enum status_result)x;
		st->last_attempt.started_at = time_now();
	} else if (strcmp(k, "phase") == 0) {
		if (set_enum(v, pname, PHASE__COUNT, &x) == -1)
			return -1;
		st->last_attempt.phase = (enum status_phase)x;
	} else if (strcmp(k, "error") == 0)
		st->last_attempt.error = xstrdup(v);
	else if (strcmp(k, "log") == 0)
		st->last_attempt.log_tail = xstrdup(v);
	else if (strcmp(k, "reboot") == 0)
		st->reboot_required = strcmp(v, "true") == 0;
	else if (strcmp(k, "tofu") == 0)
		st->tofu = strcmp(v, "true") == 0;
	else if (strcmp(k, "stale_release") == 0)
		st->stale_release = strcmp(v, "true") == 0;
	else if (strncmp(k, "ms_", 3) == 0) {
		if (set_enum(k + 3, pname, PHASE__COUNT, &x) == -1)
			return -1;
		st->last_attempt.durations_ms[x] = strtoll(v, NULL, 10);
	} else {
		fprintf(stderr, "reporttool: unknown key '%s'\n", k);
		return -1;
	}
	return 0;
}

static int
make(int argc, char **argv)
{
	struct buf out = BUF_INIT(MAX_STATUS_SIZE);
	struct status st;
	struct err e;
	int r = 1;

	status_init(&st);
	st.host = xstrdup("host");
	st.agent_version = xstrdup(NIXPULL_VERSION);
	st.updated_at = time_now();
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '='), *k;

		if (eq == NULL) {
			fprintf(stderr, "reporttool: '%s' is not KEY=VALUE\n",
			    argv[i]);
			goto out;
		}
		k = xstrndup(argv[i], (size_t)(eq - argv[i]));
		if (make_kv(&st, k, eq + 1) == -1) {
			free(k);
			goto out;
		}
		free(k);
	}
	if (status_to_json(&st, &out, &e) == -1) {
		fprintf(stderr, "reporttool: %s\n", e.msg);
		goto out;
	}
	fputs(buf_str(&out), stdout);
	r = 0;
 out:
	status_release(&st);
	buf_release(&out);
	return r;
}

static int
load(const char *file, struct buf *text, struct status *st, struct err *e)
{
	if (fs_read_file(file, MAX_STATUS_SIZE, text, e) == -1)
		return -1;
	return status_from_json(buf_str(text), text->len, st, e);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "url", required_argument, NULL, 'u' },
		{ "token-file", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "tries", required_argument, NULL, 'n' },
		{ "host", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_target t = { NULL, NULL, NULL, 30000, 0 };
	const char *state_dir = ".", *host = NULL, *cmd;
	struct buf text = BUF_INIT(MAX_STATUS_SIZE);
	struct status st;
	struct err e;
	int ch, r = -1;

	log_init("reporttool", LOG_LVL_INFO);
	status_init(&st);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': state_dir = optarg; break;
		case 'u': t.url = optarg; break;
		case 't': t.token_file = optarg; break;
		case 'C': t.ca_file = optarg; break;
		case 'T': t.timeout_ms = strtoull(optarg, NULL, 10); break;
		case 'n': t.max_tries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'H': host = optarg; break;
		default: return 2;
		}
	}
	if (optind >= argc)
		return 2;
	cmd = argv[optind++];
	if (strcmp(cmd, "make") == 0)
		return make(argc - optind, argv + optind);
	if (strcmp(cmd, "flush") == 0) {
		r = report_flush(&t, state_dir, host ? host : "host", &e);
		goto out;
	}
	if (optind >= argc)
		return 2;
	if (load(argv[optind], &text, &st, &e) == -1)
		goto out;
	if (host == NULL)
		host = st.host;
	if (strcmp(cmd, "save") == 0)
		r = status_save(state_dir, &st, &e) == 0 &&
		    status_history_add(state_dir, &st, &e) == 0 ? 0 : -1;
	else if (strcmp(cmd, "send") == 0)
		r = report_send(&t, state_dir, host, text.data, text.len, &e);
	else if (strcmp(cmd, "heartbeat") == 0)
		r = report_heartbeat(&t, state_dir, host, text.data, text.len,
		    &e);
	else if (strcmp(cmd, "put") == 0)
		r = report_put(&t, host, text.data, text.len, &e);
	else if (strcmp(cmd, "metrics") == 0 && optind + 1 < argc)
		r = report_metrics(argv[optind + 1], &st, optind + 2 < argc ?
		    (time_t)strtoll(argv[optind + 2], NULL, 10) : time_now(),
		    &e);
	else {
		fprintf(stderr, "reporttool: unknown command '%s'\n", cmd);
		e.msg[0] = '\0';
		r = -1;
		status_release(&st);
		buf_release(&text);
		return 2;
	}
 out:
	if (r != 0)
		fprintf(stderr, "reporttool: %s\n", e.msg);
	status_release(&st);
	buf_release(&text);
	return r == 0 ? 0 : 1;
}
