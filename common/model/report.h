/*
 * Reporting the status document: an HTTP PUT of <url><host>.json to any
 * server that accepts one (nginx WebDAV, an S3-style bucket), or an atomic
 * write into a folder for file:// URLs; and the optional Prometheus textfile.
 *
 * A report never fails a deploy: these functions return an error for the
 * caller to log.  Their errors and logs never contain the token.
 *
 * Auth (report.token_file, the same convention as repo.token_file): the
 * file's content, trailing whitespace removed, is sent as
 * "Authorization: Bearer <token>"; if it contains a ':' it is "user:pass"
 * and sent as HTTP basic auth.  Credentials in the URL are refused.
 */
#ifndef NIXPULL_REPORT_H
#define NIXPULL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define REPORT_PENDING_FILE	"report-pending.json"

struct config;
struct status;

struct report_target {
	const char	*url;		/* http(s):// or file:// prefix; "<url><host>.json" */
	const char	*token_file;	/* NULL: no auth */
	const char	*ca_file;	/* NULL: the system's CAs */
	uint64_t	 timeout_ms;	/* bounds one report_put, retries included */
	unsigned	 max_tries;	/* 0: MAX_REPORT_TRIES */
};

/* The target from cfg->report (t borrows cfg's strings). */
void	report_target_from_config(struct report_target *t,
	    const struct config *cfg);

/*
 * Delivers one document, retrying connection failures, time-outs, 408, 429
 * and 5xx with exponential back-off and jitter, within t->timeout_ms in all.
 * Writes nothing to the state directory.
 */
int	report_put(const struct report_target *t, const char *host,
	    const char *json, size_t len, struct err *e);
/*
 * A changed status: report_put, and when that fails keep the document in
 * <state_dir>/report-pending.json (replacing an older one: newest wins) for
 * report_flush; when it succeeds an older pending document is dropped.
 */
int	report_send(const struct report_target *t, const char *state_dir,
	    const char *host, const char *json, size_t len, struct err *e);
/*
 * A heartbeat (nothing changed but updated_at): report_put only; nothing is
 * written to disk.  A pending document is dropped once a newer one arrived.
 */
int	report_heartbeat(const struct report_target *t, const char *state_dir,
	    const char *host, const char *json, size_t len, struct err *e);
/* Re-sends <state_dir>/report-pending.json if there is one; 0 when
 * delivered or nothing was pending. */
int	report_flush(const struct report_target *t, const char *state_dir,
	    const char *host, struct err *e);

/* The node_exporter textfile (metric names in docs/status.md), atomically. */
int	report_metrics(const char *path, const struct status *st, time_t now,
	    struct err *e);
/*
 * For other clients of the same endpoint (nixpull fleet): sets up a reset
 * curl handle with the protocols limited to http and https, TLS verified
 * (ca_file), no redirects, the time-outs, and the auth from token_file
 * (appended to *headers, which the caller passes to CURLOPT_HTTPHEADER and
 * frees with report_headers_free).  curl is a CURL *.
 */
struct curl_slist;
int	report_curl_setup(void *curl, const char *ca_file,
	    const char *token_file, uint64_t timeout_ms,
	    struct curl_slist **headers, struct err *e);
/* Clears the headers (they may hold a token) and frees them. */
void	report_headers_free(struct curl_slist *headers);

/* Host names usable as <host>.json: [A-Za-z0-9._-], not starting with '.'
 * or '-', at most 253 characters. */
int	report_host_ok(const char *host);

#endif
