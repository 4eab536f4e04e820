/*
 * nixpull status: this host's last status document, for people (what runs,
 * since when, signed by whom, the last attempt and its error) or raw.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "fsutil.h"
#include "caps.h"
#include "status.h"
#include "timeutil.h"

/* "2026-11-25T03:00:00Z (5m ago)", or "unknown". */
static void
when(time_t t, time_t now, char *out, size_t outlen)
{
	char ts[TIME_RFC3339_LEN], age[32];

	if (t == 0 || time_format_rfc3339(t, ts, sizeof(ts)) == -1) {
		snprintf(out, outlen, "unknown");
		return;
	}
	time_format_age(now >= t ? now - t : t - now, age, sizeof(age));
	snprintf(out, outlen, "%s (%s %s)", ts, now >= t ? age : "in",
	    now >= t ? "ago" : age);
}

static void
print_deployed(const struct status *st, time_t now, FILE *fp)
{
	char w[96];

	if (st->deployed.rev == NULL) {
		fprintf(fp, "running:      nothing deployed by nixpull yet\n");
		return;
	}
	when(st->deployed.activated_at, now, w, sizeof(w));
	fprintf(fp, "running:      %s\n              since %s\n",
	    st->deployed.rev, w);
	if (st->deployed.store_path)
		fprintf(fp, "              %s\n", st->deployed.store_path);
	fprintf(fp, "signed by:    %s%s%s%s\n",
	    st->deployed.signer ? st->deployed.signer : "unknown",
	    st->deployed.key_fingerprint ? " (" : "",
	    st->deployed.key_fingerprint ? st->deployed.key_fingerprint : "",
	    st->deployed.key_fingerprint ? ")" : "");
	if (st->deployed.committed_at) {
		when(st->deployed.committed_at, now, w, sizeof(w));
		fprintf(fp, "released:     %s%s\n", w, st->stale_release ?
		    ", older than trust.max_age" : "");
	}
	if (st->tofu)
		fprintf(fp, "              deployed by trust on first use\n");
}

static void
print_attempt(const struct status *st, time_t now, FILE *fp)
{
	const struct status_attempt *a = &st->last_attempt;
	char w[96];
	const char *sep = "";

	if (a->result == RESULT_NONE) {
		fprintf(fp, "last attempt: none yet\n");
		return;
	}
	when(a->started_at, now, w, sizeof(w));
	fprintf(fp, "last attempt: %s in %s, %s\n              rev %s\n",
	    status_result_name(a->result), status_phase_name(a->phase), w,
	    a->rev ? a->rev : "unknown");
	if (a->error)
		fprintf(fp, "  error:      %s\n", a->error);
	fprintf(fp, "  durations: ");
	for (int i = 0; i < PHASE__COUNT; i++) {
		if (a->durations_ms[i] < 0)
			continue;
		fprintf(fp, "%s %s %lld.%03llds", sep,
		    status_phase_name((enum status_phase)i),
		    (long long)(a->durations_ms[i] / 1000),
		    (long long)(a->durations_ms[i] % 1000));
		sep = ",";
	}
	fprintf(fp, "%s\n", *sep ? "" : " none");
	if (a->max_jobs >= 0 || a->cores >= 0)
		fprintf(fp, "  build:      max-jobs %d, cores %d\n",
		    a->max_jobs, a->cores);
	if (a->log_tail && *a->log_tail)
		fprintf(fp, "  log tail:\n%s%s", a->log_tail,
		    a->log_tail[strlen(a->log_tail) - 1] == '\n' ? "" : "\n");
}

/* What the reboot waits for, as the rest of a sentence. */
static void
reboot_wait(const struct status_reboot *r, time_t now, char *out,
    size_t outlen)
{
	const char *b = r->blocked_by ? r->blocked_by : "";
	char w[96];

	if (strcmp(b, "window") == 0 && r->next_window != 0) {
		when(r->next_window, now, w, sizeof(w));
		snprintf(out, outlen, "reboots in the next window, %s", w);
	} else if (strcmp(b, "notice") == 0)
		snprintf(out, outlen, "reboots when the notice to users ends");
	else if (strcmp(b, "policy never") == 0)
		snprintf(out, outlen, "not rebooted by nixpull (policy never)");
	else if (*b == '\0')
		snprintf(out, outlen, "reboots at the next cycle");
	else if (strncmp(b, "reboot failed", 13) == 0)
		snprintf(out, outlen, "%s", b);
	else
		snprintf(out, outlen, "waits for %s", b);
}

/* One line: when and why the host reboots; then the last reboot. */
static void
print_reboot(const struct status *st, time_t now, FILE *fp)
{
	const struct status_reboot *r = &st->reboot;
	bool ok = r->last_result == NULL ||
	    strcmp(r->last_result, "rebooted") == 0;
	char since[96], wait[256];

	if (r->pending && r->blocked_by &&
	    strcmp(r->blocked_by, "rebooting") == 0)
		fprintf(fp, "reboot:       rebooting now (%s)\n",
		    r->reason ? r->reason : "?");
	else if (r->pending) {
		when(r->pending_since, now, since, sizeof(since));
		reboot_wait(r, now, wait, sizeof(wait));
		fprintf(fp, "reboot:       pending (%s) since %s%s; %s\n",
		    r->reason ? r->reason : "?", since,
		    r->overdue ? ", overdue" : "", wait);
	} else
		fprintf(fp, "reboot:       %s%s\n", st->reboot_required < 0 ?
		    "unknown" : st->reboot_required ? "required" :
		    "not required", st->reboot_required == 1 && !ok ?
		    " (not retried: the last reboot came up on another "
		    "system)" : "");
	if (r->last_at == 0)
		return;
	when(r->last_at, now, since, sizeof(since));
	fprintf(fp, "last reboot:  %s", since);
	if (r->last_took_ms >= 0)
		fprintf(fp, ", took %llds", (long long)(r->last_took_ms /
		    1000));
	fprintf(fp, "\n              %s %s %s\n", ok ? "rebooted" :
	    r->last_result ? r->last_result : "?", ok ? "into" : "of",
	    r->last_into ? r->last_into : "?");
}

static void
status_print(const struct status *st, time_t now, FILE *fp)
{
	char w[96];

	when(st->updated_at, now, w, sizeof(w));
	fprintf(fp, "host:         %s\nstate:        %s, updated %s\n",
	    st->host, status_state_name(st->state), w);
	print_deployed(st, now, fp);
	if (st->tip.rev) {
		when(st->tip.seen_at, now, w, sizeof(w));
		fprintf(fp, "tip:          %s\n              seen %s%s\n",
		    st->tip.rev, w, st->deployed.rev &&
		    strcmp(st->tip.rev, st->deployed.rev) == 0 ?
		    ", deployed" : "");
	}
	print_attempt(st, now, fp);
	print_reboot(st, now, fp);
	if (st->next_poll_at) {
		when(st->next_poll_at, now, w, sizeof(w));
		fprintf(fp, "next poll:    %s\n", w);
	}
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_LONG,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct config cfg;
	struct status st;
	struct buf raw = BUF_INIT(MAX_STATUS_SIZE);
	bool json = false;
	struct err e;
	char *file;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, CMD_COMMON_SHORT, opts,
	    NULL)) != -1) {
		if (ch == 'j')
			json = true;
		else if ((r = cmd_common_opt(ch, argv[0], &path)) !=
		    CMD_CONTINUE)
			return r;
	}
	if ((r = cmd_no_args(argc, argv)) != EXIT_OK)
		return r;
	if ((r = cmd_load_config(&cfg, path)) != EXIT_OK)
		return r;
	r = status_load(cfg.state_dir, &st, &e);
	if (r == STATUS_NOT_FOUND) {
		fprintf(stderr, "nixpull status: no status yet in '%s' (the "
		    "agent has not completed a phase)\n", cfg.state_dir);
		r = EXIT_FAILED;
	} else if (r != 0) {
		fprintf(stderr, "nixpull status: %s\n", e.msg);
		r = EXIT_FAILED;
	} else if (json) {
		file = xasprintf("%s/%s", cfg.state_dir, STATUS_FILE);
		r = fs_read_file(file, MAX_STATUS_SIZE, &raw, &e);
		if (r == 0)
			fwrite(raw.data, 1, raw.len, stdout);
		else
			fprintf(stderr, "nixpull status: %s\n", e.msg);
		r = r == 0 ? EXIT_OK : EXIT_FAILED;
		free(file);
	} else {
		status_print(&st, time_now(), stdout);
		r = EXIT_OK;
	}
	status_release(&st);
	buf_release(&raw);
	config_release(&cfg);
	return r;
}
