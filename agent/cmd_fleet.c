/*
 * nixpull fleet DIR|URL: every host's status document side by side, the
 * problems first, then the newest release's staged rollout
 * (cmd_fleet_rollout.c).  The documents are read by fleet.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "duration.h"
#include "err.h"
#include "caps.h"
#include "fleet.h"
#include "fleet_int.h"
#include "log.h"
#include "report.h"
#include "status.h"
#include "timeutil.h"

#define FLEET_DEFAULT_STALE_MS	(60 * 60 * 1000)	/* 1h */
#define FLEET_NOTE_MAX		72

/* ---- the view --------------------------------------------------------- */

/* When a release was cut: its committer time, else its activation. */
static time_t
release_time(const struct status *st)
{
	return st->deployed.committed_at ? st->deployed.committed_at :
	    st->deployed.activated_at;
}

/*
 * The fleet's newest revision: the deployed one with the latest release
 * time (docs/status.md); ties go to the greater rev so the answer does not
 * depend on the order of the files.
 */
static void
fleet_newest(struct fleet *f)
{
	const struct status *best = NULL;

	for (size_t i = 0; i < f->n; i++) {
		const struct status *st = &f->v[i].st;

		if (f->v[i].bad != NULL || st->deployed.rev == NULL)
			continue;
		if (best == NULL || release_time(st) > release_time(best) ||
		    (release_time(st) == release_time(best) &&
		    strcmp(st->deployed.rev, best->deployed.rev) > 0))
			best = st;
	}
	f->newest = best ? best->deployed.rev : NULL;
}

static void
fleet_classify(struct fleet *f)
{
	fleet_newest(f);
	for (size_t i = 0; i < f->n; i++) {
		struct fleet_host *h = &f->v[i];
		const struct status *st = &h->st;

		if (h->bad != NULL) {
			h->rank = RANK_MALFORMED;
			continue;
		}
		h->behind = f->newest != NULL && (st->deployed.rev == NULL ||
		    strcmp(st->deployed.rev, f->newest) != 0);
		h->stale = st->updated_at == 0 ||
		    (f->now - st->updated_at) * 1000 > (int64_t)f->stale_ms;
		if (status_state_is_problem(st->state))
			h->rank = RANK_FAILED;
		else if (h->stale)
			h->rank = RANK_STALE;
		else if (h->behind || st->reboot_required == 1 ||
		    st->state == STATE_DEFERRED || st->stale_release)
			h->rank = RANK_ATTENTION;
		else if (st->state != STATE_OK)
			h->rank = RANK_BUSY;
		else
			h->rank = RANK_OK;
	}
}

static int
cmp_host(const void *a, const void *b)
{
	const struct fleet_host *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A pending reboot: "reboot overdue (kernel, 9d): window", cleaned (no
 * age when pending_since is in the future). */
static char *
reboot_note(const struct fleet *f, const struct status *st)
{
	const struct status_reboot *r = &st->reboot;
	char age[32] = "", *s, *c;

	if (!r->pending)
		return xstrdup("");
	if (r->pending_since != 0 && f->now >= r->pending_since) {
		age[0] = ',';
		age[1] = ' ';
		time_format_age(f->now - r->pending_since, age + 2,
		    sizeof(age) - 2);
	}
	s = xasprintf("reboot %s (%s%s): %s", r->overdue ? "overdue" :
	    "pending", r->reason ? r->reason : "?", age,
	    r->blocked_by ? r->blocked_by : "?");
	c = fleet_clean(s, FLEET_NOTE_MAX);
	free(s);
	return c;
}

/* What the operator should read first about h, cleaned; "" if nothing. */
static char *
note(const struct fleet *f, const struct fleet_host *h)
{
	const struct status *st = &h->st;
	char age[32];

	if (h->bad != NULL)
		return fleet_clean(h->bad, FLEET_NOTE_MAX);
	if (status_state_is_problem(st->state) && st->last_attempt.error)
		return fleet_clean(st->last_attempt.error, FLEET_NOTE_MAX);
	if (h->stale && st->updated_at == 0)
		return xstrdup("never reported a time");
	if (h->stale) {
		time_format_age(f->now - st->updated_at, age, sizeof(age));
		return xasprintf("no report for %s", age);
	}
	if (st->stale_release)
		return xstrdup("release older than trust.max_age");
	if (st->tofu)
		return xstrdup("deployed by trust on first use");
	return reboot_note(f, st);
}

static const char *
rank_state(const struct fleet_host *h)
{
	return h->bad != NULL ? "malformed" : status_state_name(h->st.state);
}

struct row {
	char	*col[8];
};

enum { C_HOST, C_STATE, C_REV, C_SIGNER, C_AGE, C_BEHIND, C_REBOOT, C_NOTE };

static void
row_fill(const struct fleet *f, const struct fleet_host *h, struct row *r)
{
	const struct status *st = &h->st;
	char age[32] = "-";
	bool ok = h->bad == NULL;

	if (ok && st->updated_at != 0)
		time_format_age(f->now - st->updated_at, age, sizeof(age));
	r->col[C_HOST] = xstrdup(h->name);
	r->col[C_STATE] = xstrdup(rank_state(h));
	r->col[C_REV] = ok && st->deployed.rev ?
	    fleet_clean(st->deployed.rev, 12) : xstrdup("-");
	r->col[C_SIGNER] = ok && st->deployed.signer ?
	    fleet_clean(st->deployed.signer, 32) : xstrdup("-");
	r->col[C_AGE] = xstrdup(age);
	r->col[C_BEHIND] = xstrdup(!ok || f->newest == NULL ? "-" :
	    h->behind ? "yes" : "no");
	r->col[C_REBOOT] = xstrdup(!ok ? "-" : st->reboot.overdue ?
	    "overdue" : st->reboot.pending ? "pending" :
	    st->reboot_required < 0 ? "-" : st->reboot_required ? "yes" :
	    "no");
	r->col[C_NOTE] = note(f, h);
}

static void
fleet_print_table(const struct fleet *f, FILE *fp)
{
	static const char *const head[8] = { "HOST", "STATE", "DEPLOYED",
	    "SIGNER", "AGE", "BEHIND", "REBOOT", "NOTE" };
	struct row *rows = xcalloc(f->n, sizeof(*rows));
	int w[8];
	size_t counts[RANK_OK + 1] = { 0 }, pending = 0, overdue = 0;

	for (int c = 0; c < 8; c++)
		w[c] = (int)strlen(head[c]);
	for (size_t i = 0; i < f->n; i++) {
		row_fill(f, &f->v[i], &rows[i]);
		counts[f->v[i].rank]++;
		if (f->v[i].bad == NULL && f->v[i].st.reboot.pending) {
			pending++;
			overdue += f->v[i].st.reboot.overdue;
		}
		for (int c = 0; c < 7; c++)
			if ((int)strlen(rows[i].col[c]) > w[c])
				w[c] = (int)strlen(rows[i].col[c]);
	}
	for (int c = 0; c < 7; c++)
		fprintf(fp, "%-*s  ", w[c], head[c]);
	fprintf(fp, "%s\n", head[7]);
	for (size_t i = 0; i < f->n; i++) {
		for (int c = 0; c < 6; c++)
			fprintf(fp, "%-*s  ", w[c], rows[i].col[c]);
		if (rows[i].col[7][0] == '\0')
			fprintf(fp, "%s\n", rows[i].col[6]);
		else
			fprintf(fp, "%-*s  %s\n", w[6], rows[i].col[6],
			    rows[i].col[7]);
		for (int c = 0; c < 8; c++)
			free(rows[i].col[c]);
	}
	fprintf(fp, "%zu hosts: %zu ok, %zu busy, %zu need attention, "
	    "%zu stale, %zu failed, %zu malformed; newest %.12s", f->n,
	    counts[RANK_OK], counts[RANK_BUSY], counts[RANK_ATTENTION],
	    counts[RANK_STALE], counts[RANK_FAILED], counts[RANK_MALFORMED],
	    f->newest ? f->newest : "-");
	if (pending > 0)
		fprintf(fp, "; %zu reboots pending, %zu overdue", pending,
		    overdue);
	fputc('\n', fp);
	free(rows);
}

static int
cmp_hostp(const void *a, const void *b)
{
	const struct fleet_host *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* The rollout view as JSON text (null without one); the caller frees. */
static char *
rollout_json_text(const struct fleet_waves *fw)
{
	json_t *o = fw ? fleet_waves_json(fw) : json_null();
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_ENCODE_ANY);

	json_decref(o);
	return s;
}

/*
 * What the table shows, as JSON: {"hosts": {"host": <document as read>,
 * "bad": {"error": "..."}} sorted by host, "rollout": <the --rollout object>
 * or null}.
 */
static void
fleet_print_json(const struct fleet *f, const struct fleet_waves *fw,
    FILE *fp)
{
	struct fleet_host **v = xcalloc(f->n ? f->n : 1, sizeof(*v));
	char *ros;
	size_t len;

	for (size_t i = 0; i < f->n; i++)
		v[i] = &f->v[i];
	qsort(v, f->n, sizeof(*v), cmp_hostp);
	fputs("{\"hosts\": {", fp);
	for (size_t i = 0; i < f->n; i++) {
		json_t *k = json_string(v[i]->name), *o;
		char *ks = json_dumps(k, JSON_ENCODE_ANY), *os;

		fprintf(fp, "%s\n%s: ", i ? "," : "", ks);
		if (v[i]->bad == NULL) {
			len = v[i]->rawlen;
			while (len > 0 && strchr(" \t\r\n", v[i]->raw[len - 1]))
				len--;
			fwrite(v[i]->raw, 1, len, fp);
		} else {
			o = json_pack("{s:s}", "error", v[i]->bad);
			os = json_dumps(o, JSON_COMPACT);
			fputs(os ? os : "{}", fp);
			free(os);
			json_decref(o);
		}
		free(ks);
		json_decref(k);
	}
	fputs(f->n ? "\n},\n" : "},\n", fp);
	ros = rollout_json_text(fw);
	fprintf(fp, "\"rollout\": %s}\n", ros ? ros : "null");
	free(ros);
	free(v);
}

/* The rollout of the newest release among the well-formed documents. */
static struct fleet_waves *
fleet_waves(const struct fleet *f)
{
	const struct status **v = xcalloc(f->n ? f->n : 1, sizeof(*v));
	struct fleet_waves *fw;
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].bad == NULL)
			v[n++] = &f->v[i].st;
	fw = fleet_waves_new(v, n);
	free(v);
	return fw;
}

/* --rollout: the waves alone; null (JSON) or a line when there are none. */
static void
fleet_print_rollout(const struct fleet_waves *fw, bool json, FILE *fp)
{
	char *s;

	if (!json && fw == NULL)
		fprintf(fp, "no host reports a rollout\n");
	else if (!json)
		fleet_waves_print(fw, fp);
	else {
		s = rollout_json_text(fw);
		fprintf(fp, "%s\n", s ? s : "null");
		free(s);
	}
}

int
cmd_fleet(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "rollout", no_argument, NULL, 'R' },
		{ "stale", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'C' },
		CMD_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	struct fleet_opts o = { NULL, NULL, 0 };
	struct fleet f = { NULL, 0, 0, NULL, 0, FLEET_DEFAULT_STALE_MS, 0, 0,
		0 };
	struct fleet_waves *fw;
	const char *why, *src;
	bool json = false, rollout = false;
	struct err e;
	int ch, r, status = EXIT_OK;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'R':
			rollout = true;
			break;
		case 's':
			if (duration_parse(optarg, &f.stale_ms, &why) == -1 ||
			    f.stale_ms == 0) {
				fprintf(stderr, "nixpull fleet: --stale '%s': "
				    "%s\n", optarg, f.stale_ms ? why :
				    "must be more than 0");
				return EXIT_USAGE;
			}
			break;
		case 't':
			o.token_file = optarg;
			break;
		case 'C':
			o.ca_file = optarg;
			break;
		default:
			/* No -c: fleet reads no config. */
			if ((r = cmd_common_opt(ch, argv[0], NULL)) !=
			    CMD_CONTINUE)
				return r;
		}
	}
	if (optind != argc - 1) {
		cmd_usage(argv[0], 1);
		return EXIT_USAGE;
	}
	src = argv[optind];
	f.now = time_now();
	r = fleet_is_url(src) ? fleet_load_url(&f, src, &o, &e) :
	    fleet_load_dir(&f, src, &e);
	if (r == -1) {
		fprintf(stderr, "nixpull fleet: %s\n", e.msg);
		fleet_release(&f);
		return EXIT_FAILED;
	}
	fleet_classify(&f);
	qsort(f.v, f.n, sizeof(*f.v), cmp_host);
	fw = fleet_waves(&f);
	if (rollout)
		fleet_print_rollout(fw, json, stdout);
	else if (json)
		fleet_print_json(&f, fw, stdout);
	else {
		fleet_print_table(&f, stdout);
		if (fw != NULL)
			fleet_waves_print(fw, stdout);
	}
	fleet_waves_free(fw);
	for (size_t i = 0; i < f.n; i++)
		if (f.v[i].rank <= RANK_STALE)
			status = EXIT_FAILED;
	if (f.n == 0) {
		fprintf(stderr, "nixpull fleet: no <host>.json in '%s'\n", src);
		status = EXIT_FAILED;
	}
	fleet_release(&f);
	return status;
}
