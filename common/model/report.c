/*
 * Reporting: PUT the status document with libcurl (or write it into a
 * file:// folder), keep what could not be delivered, and write the
 * Prometheus textfile.  Credentials come from a file and go into a header or
 * curl's user/password options, never into a URL, a log line or an error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "fsutil.h"
#include "caps.h"
#include "log.h"
#include "report.h"
#include "secret.h"
#include "status.h"
#include "timeutil.h"

#define BACKOFF_BASE_MS		250
#define CONNECT_TIMEOUT_MS	10000

struct upload {
	const char	*data;
	size_t		 len;
	size_t		 off;
};

/* Secrets read from token_file, cleared on release. */
struct auth {
	char		*header;	/* "Authorization: Bearer ..." or NULL */
	char		*user;		/* basic auth, or NULL */
	char		*pass;
};

void
report_target_from_config(struct report_target *t, const struct config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->url = cfg->report.url;
	t->token_file = cfg->report.token_file;
	t->ca_file = cfg->report.ca_file;
	t->timeout_ms = cfg->report.timeout_ms;
}

int
report_host_ok(const char *host)
{
	size_t n = strlen(host);

	if (n == 0 || n > 253 || host[0] == '.' || host[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static void
auth_release(struct auth *a)
{
	secret_free(a->header);
	secret_free(a->user);
	secret_free(a->pass);
	memset(a, 0, sizeof(*a));
}

static int
auth_load(const char *token_file, struct auth *a, struct err *e)
{
	struct secret tok;
	char *colon;
	int r = -1;

	memset(a, 0, sizeof(*a));
	if (token_file == NULL)
		return 0;
	if (secret_read(&tok, "report.token_file", token_file, MAX_TOKEN_SIZE,
	    " \t\r\n", e) == -1)
		return -1;
	if (tok.len == 0 || strlen(tok.data) != tok.len ||
	    strpbrk(tok.data, "\r\n") != NULL) {
		err_set(e, "report.token_file '%s': empty, or not one line",
		    token_file);
		goto out;
	}
	if ((colon = strchr(tok.data, ':')) != NULL) {
		a->user = xstrndup(tok.data, (size_t)(colon - tok.data));
		a->pass = xstrdup(colon + 1);
	} else
		a->header = xasprintf("Authorization: Bearer %s", tok.data);
	r = 0;
 out:
	secret_release(&tok);
	return r;
}

/* The base URL checked: a scheme we speak, no credentials, no query. */
static int
url_check(const char *url, char **file_dir, struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *user = NULL, *query = NULL, *host = NULL;
	char *path = NULL;
	int r = -1;

	*file_dir = NULL;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url,
	    CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		err_set(e, "report.url: not a URL");
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (user != NULL) {
		err_set(e, "report.url: credentials in the URL are refused; "
		    "use report.token_file");
		goto out;
	}
	if (query != NULL) {
		err_set(e, "report.url '%s': a query is not supported", url);
		goto out;
	}
	if (scheme != NULL && strcmp(scheme, "file") == 0) {
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
		if ((host != NULL && *host != '\0' &&
		    strcmp(host, "localhost") != 0) || path == NULL ||
		    path[0] != '/' || strlen(path) < 2) {
			err_set(e, "report.url '%s': a file:// URL names a "
			    "local folder (file:///path/)", url);
			goto out;
		}
		*file_dir = xstrdup(path);
	} else if (scheme == NULL || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0)) {
		err_set(e, "report.url '%s': scheme must be http, https or "
		    "file", url);
		goto out;
	}
	r = 0;
 out:
	curl_free(scheme);
	curl_free(user);
	curl_free(query);
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
	return r;
}

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *up = arg;
	size_t n = size * nmemb;

	if (n > up->len - up->off)
		n = up->len - up->off;
	memcpy(dst, up->data + up->off, n);
	up->off += n;
	return n;
}

static int
seek_cb(void *arg, curl_off_t off, int origin)
{
	struct upload *up = arg;

	if (origin != SEEK_SET || off < 0 || (size_t)off > up->len)
		return CURL_SEEKFUNC_CANTSEEK;
	up->off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t
discard_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static bool
retryable(CURLcode cc, long status)
{
	if (cc == CURLE_OK)
		return status == 408 || status == 429 || status >= 500;
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
	    cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_SEND_ERROR ||
	    cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
	    cc == CURLE_PARTIAL_FILE;
}

/* The options every request to an endpoint gets. */
static void
curl_common(CURL *c, const char *ca_file, const struct auth *a,
    uint64_t budget_ms, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (errbuf != NULL)
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "nixpull/" NIXPULL_VERSION);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	if (a->user != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, a->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, a->pass);
	}
	if (budget_ms == 0)
		budget_ms = 1;
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(budget_ms <
	    CONNECT_TIMEOUT_MS ? budget_ms : CONNECT_TIMEOUT_MS));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)budget_ms);
}

int
report_curl_setup(void *curl, const char *ca_file, const char *token_file,
    uint64_t timeout_ms, struct curl_slist **headers, struct err *e)
{
	struct auth a;

	if (auth_load(token_file, &a, e) == -1)
		return -1;
	curl_easy_reset(curl);
	curl_common(curl, ca_file, &a, timeout_ms, NULL);
	if (a.header != NULL)
		*headers = curl_slist_append(*headers, a.header);
	auth_release(&a);	/* curl keeps its own copies */
	return 0;
}

void
report_headers_free(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/* One PUT; *status is the HTTP status (0 when none came). */
static CURLcode
put_once(CURL *c, const char *url, const struct report_target *t,
    const struct auth *a, struct upload *up, uint64_t budget_ms,
    char *errbuf, long *status)
{
	struct curl_slist *h = NULL;
	CURLcode cc;

	curl_easy_reset(c);
	up->off = 0;
	errbuf[0] = '\0';
	*status = 0;
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (a->header != NULL)
		h = curl_slist_append(h, a->header);
	curl_common(c, t->ca_file, a, budget_ms, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, up);
	curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
	curl_easy_setopt(c, CURLOPT_SEEKDATA, up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	report_headers_free(h);
	return cc;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Full back-off before try n (1-based): half fixed, half random. */
static uint64_t
backoff_ms(unsigned n)
{
	uint64_t d = (uint64_t)BACKOFF_BASE_MS << (n < 10 ? n - 1 : 9);

	return d / 2 + randombytes_uniform((uint32_t)(d / 2 + 1));
}

static int
http_put(const struct report_target *t, const char *url, const char *json,
    size_t len, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE];
	struct upload up = { json, len, 0 };
	struct auth a;
	uint64_t start = time_monotonic_ms(), now, budget, delay;
	unsigned tries = t->max_tries ? t->max_tries : MAX_REPORT_TRIES, n;
	unsigned done = 0;
	CURLcode cc = CURLE_OK;
	long status = 0;
	CURL *c = NULL;
	int r = -1;

	budget = t->timeout_ms ? t->timeout_ms : 30000;
	if (auth_load(t->token_file, &a, e) == -1)
		return -1;
	if ((c = curl_easy_init()) == NULL) {
		err_set(e, "report: cannot initialise libcurl");
		goto out;
	}
	for (n = 1; n <= tries; n++) {
		now = time_monotonic_ms();
		if (n > 1 && now - start >= budget)
			break;
		cc = put_once(c, url, t, &a, &up, budget - (now - start),
		    errbuf, &status);
		done++;
		if (cc == CURLE_OK && status >= 200 && status < 300) {
			log_debug("report: PUT '%s': HTTP %ld", url, status);
			r = 0;
			goto out;
		}
		if (!retryable(cc, status) || n == tries)
			break;
		delay = backoff_ms(n);
		now = time_monotonic_ms();
		if (now - start + delay + 1 >= budget)
			break;
		log_debug("report: PUT '%s' failed, retrying in %llu ms", url,
		    (unsigned long long)delay);
		sleep_ms(delay);
	}
	if (cc != CURLE_OK)
		err_set(e, "report: PUT '%s': %s (%u %s)", url,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc), done,
		    done == 1 ? "try" : "tries");
	else
		err_set(e, "report: PUT '%s': HTTP %ld%s (%u %s)", url, status,
		    status == 401 || status == 403 ?
		    ", check report.token_file" : "", done,
		    done == 1 ? "try" : "tries");
 out:
	curl_easy_cleanup(c);
	auth_release(&a);
	return r;
}

int
report_put(const struct report_target *t, const char *host, const char *json,
    size_t len, struct err *e)
{
	char *dir = NULL, *dst = NULL;
	int r = -1;

	if (t->url == NULL)
		return err_set(e, "report: no report.url");
	if (!report_host_ok(host))
		return err_set(e, "report: host name '%s' unusable as a file "
		    "name", host);
	if (url_check(t->url, &dir, e) == -1)
		return -1;
	if (dir != NULL) {
		dst = xasprintf("%s%s.json", dir, host);
		r = fs_write_atomic(dst, json, len, 0644, e);
		if (r == -1)
			err_prefix(e, "report");
	} else {
		dst = xasprintf("%s%s.json", t->url, host);
		r = http_put(t, dst, json, len, e);
	}
	free(dir);
	free(dst);
	return r;
}

static char *
pending_path(const char *state_dir)
{
	return xasprintf("%s/%s", state_dir, REPORT_PENDING_FILE);
}

static void
pending_drop(const char *state_dir)
{
	char *p = pending_path(state_dir);

	if (unlink(p) == -1 && errno != ENOENT)
		log_warn("unlink '%s'", p);
	free(p);
}

int
report_send(const struct report_target *t, const char *state_dir,
    const char *host, const char *json, size_t len, struct err *e)
{
	struct err e2;
	char *p;

	if (report_put(t, host, json, len, e) == 0) {
		pending_drop(state_dir);
		return 0;
	}
	p = pending_path(state_dir);
	if (fs_write_atomic(p, json, len, 0644, &e2) == -1)
		log_warnx("report: cannot keep the undelivered status: %s",
		    e2.msg);
	free(p);
	return -1;
}

int
report_heartbeat(const struct report_target *t, const char *state_dir,
    const char *host, const char *json, size_t len, struct err *e)
{
	if (report_put(t, host, json, len, e) == -1)
		return -1;
	pending_drop(state_dir);
	return 0;
}

int
report_flush(const struct report_target *t, const char *state_dir,
    const char *host, struct err *e)
{
	struct buf b = BUF_INIT(MAX_STATUS_SIZE);
	char *p = pending_path(state_dir);
	int r = -1;

	if (access(p, F_OK) == -1 && errno == ENOENT) {
		r = 0;
		goto out;
	}
	if (fs_read_file(p, MAX_STATUS_SIZE, &b, e) == -1)
		goto out;
	if (report_put(t, host, buf_str(&b), b.len, e) == -1)
		goto out;
	log_info("report: delivered the pending status of '%s'", host);
	pending_drop(state_dir);
	r = 0;
 out:
	free(p);
	buf_release(&b);
	return r;
}

/* ---- Prometheus textfile --------------------------------------------- */

static void
metric_head(struct buf *b, const char *name, const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

int
report_metrics(const char *path, const struct status *st, time_t now,
    struct err *e)
{
	struct buf b = BUF_INIT(64 * 1024);
	const struct status_attempt *a = &st->last_attempt;
	int r;

	metric_head(&b, "nixpull_deployed_timestamp_seconds",
	    "Unix time the deployed revision was activated.");
	if (st->deployed.rev != NULL && st->deployed.activated_at != 0)
		buf_addf(&b, "nixpull_deployed_timestamp_seconds %lld\n",
		    (long long)st->deployed.activated_at);
	metric_head(&b, "nixpull_last_attempt_success",
	    "1 if the last deploy attempt succeeded, 0 if not.");
	if (a->result != RESULT_NONE)
		buf_addf(&b, "nixpull_last_attempt_success %d\n",
		    a->result == RESULT_SUCCESS ||
		    a->result == RESULT_UNCHANGED);
	metric_head(&b, "nixpull_phase_duration_seconds",
	    "Duration of each phase of the last attempt.");
	for (int i = 0; a->result != RESULT_NONE && i < PHASE__COUNT; i++)
		if (a->durations_ms[i] >= 0)
			buf_addf(&b, "nixpull_phase_duration_seconds"
			    "{phase=\"%s\"} %lld.%03lld\n",
			    status_phase_name((enum status_phase)i),
			    (long long)(a->durations_ms[i] / 1000),
			    (long long)(a->durations_ms[i] % 1000));
	metric_head(&b, "nixpull_reboot_required",
	    "1 if the booted kernel, initrd or systemd differ from the "
	    "current system.");
	if (st->reboot_required >= 0)
		buf_addf(&b, "nixpull_reboot_required %d\n",
		    st->reboot_required);
	metric_head(&b, "nixpull_reboot_pending",
	    "1 if the deployed system waits for a reboot (reboot.policy).");
	buf_addf(&b, "nixpull_reboot_pending %d\n", st->reboot.pending);
	metric_head(&b, "nixpull_reboot_overdue",
	    "1 if that reboot has waited longer than reboot.max_defer.");
	buf_addf(&b, "nixpull_reboot_overdue %d\n", st->reboot.overdue);
	metric_head(&b, "nixpull_release_age_seconds",
	    "Age of the deployed release (its committer time).");
	if (st->deployed.rev != NULL && st->deployed.committed_at != 0)
		buf_addf(&b, "nixpull_release_age_seconds %lld\n",
		    (long long)(now - st->deployed.committed_at));
	metric_head(&b, "nixpull_stale_release",
	    "1 if the selected release is older than trust.max_age.");
	buf_addf(&b, "nixpull_stale_release %d\n", st->stale_release);
	r = fs_write_atomic(path, buf_str(&b), b.len, 0644, e);
	if (r == -1)
		err_prefix(e, "report.prometheus_textfile");
	buf_release(&b);
	return r;
}
