/*
 * nixpull fleet DIR|URL: every host's status document side by side, the
 * problems first.  The documents come from a folder, or from an HTTP(S)
 * folder listed by nginx autoindex (JSON format) or WebDAV PROPFIND.
 * Everything read here is untrusted: sizes are capped, names checked, and
 * text is cleaned of control characters before it reaches the terminal.
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
#include "log.h"
#include "report.h"
#include "status.h"
#include "timeutil.h"

#define FLEET_DEFAULT_STALE_MS	(60 * 60 * 1000)	/* 1h */
#define FLEET_HTTP_TIMEOUT_MS	30000
#define FLEET_NOTE_MAX		72

/* Sort order: problems first.  Ranks 0-2 make the exit status 1. */
enum rank {
	RANK_MALFORMED,
	RANK_FAILED,		/* failed, rejected, rolled-back */
	RANK_STALE,		/* no report for longer than --stale */
	RANK_ATTENTION,		/* behind, reboot, deferred, stale release */
	RANK_BUSY,		/* polling ... activating */
	RANK_OK,
};

struct fleet_host {
	char		*name;	/* from the file name, cleaned */
	char		*raw;	/* the document as read, for --json */
	size_t		 rawlen;
	char		*bad;	/* why the file is unusable, or NULL */
	struct status	 st;
	bool		 behind;
	bool		 stale;
	enum rank	 rank;
};

struct fleet {
	struct fleet_host *v;
	size_t		 n;
	size_t		 alloc;
	const char	*newest;	/* the fleet's newest deployed rev */
	time_t		 now;
	uint64_t	 stale_ms;
	uint64_t	 deadline_ms;	/* monotonic; 0: none */
	uint64_t	 max_bytes;	/* documents in all; 0: none */
	uint64_t	 bytes;
};

struct fleet_opts {
	const char	*token_file;
	const char	*ca_file;
	uint64_t	 timeout_ms;	/* per request; 0: FLEET_HTTP_TIMEOUT_MS */
};

/* A bound of fleet_each reached: -1 with e, else 0. */
static int
fleet_bounded(struct fleet *f, const char *where, struct err *e)
{
	if (f->deadline_ms && time_monotonic_ms() > f->deadline_ms)
		return err_set(e, "'%s': reading the status documents took "
		    "too long", where);
	if (f->max_bytes && f->bytes > f->max_bytes)
		return err_set(e, "'%s': status documents larger than %llu "
		    "bytes in all", where, (unsigned long long)f->max_bytes);
	return 0;
}

/* ---- collecting the documents ----------------------------------------- */

char *
fleet_clean(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *c = xstrndup(s, n);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || (unsigned char)c[i] >= 0x7f)
			c[i] = '?';
	return c;
}

static struct fleet_host *
fleet_add(struct fleet *f, const char *file)
{
	struct fleet_host *h;
	size_t n = strlen(file);

	if (f->n == f->alloc) {
		f->alloc = f->alloc ? f->alloc * 2 : 64;
		f->v = xreallocarray(f->v, f->alloc, sizeof(*f->v));
	}
	h = &f->v[f->n++];
	memset(h, 0, sizeof(*h));
	status_init(&h->st);
	h->name = fleet_clean(file, n >= 5 ? n - 5 : n);	/* minus ".json" */
	if (n <= 5 || strcmp(file + n - 5, ".json") != 0 ||
	    !report_host_ok(h->name) || strlen(h->name) != n - 5)
		h->bad = xasprintf("'%s' is not <host>.json", h->name);
	return h;
}

/* Parses the text (taking it over) of the document in h. */
static void
fleet_parse(struct fleet_host *h, char *text, size_t len)
{
	struct err e;

	h->raw = text;
	h->rawlen = len;
	if (h->bad != NULL)
		return;
	if (status_from_json(text, len, &h->st, &e) == -1) {
		h->bad = fleet_clean(e.msg, sizeof(e.msg));
		return;
	}
	if (strcmp(h->st.host, h->name) != 0) {
		char *who = fleet_clean(h->st.host, 64);

		h->bad = xasprintf("document is for host '%s'", who);
		free(who);
	}
}

static char *
read_at(int dfd, const char *name, size_t *len, char **why)
{
	struct stat sb;
	char *p = NULL;
	size_t off = 0;
	ssize_t r;
	int fd;

	*why = NULL;
	if ((fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		goto fail;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		*why = xstrdup("not a regular file");
		goto out;
	}
	if (sb.st_size > MAX_STATUS_SIZE) {
		*why = xasprintf("larger than %d bytes", MAX_STATUS_SIZE);
		goto out;
	}
	p = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		r = read(fd, p + off, (size_t)sb.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0)
			break;	/* shrank meanwhile: parse what is there */
		off += (size_t)r;
	}
	p[off] = '\0';
	*len = off;
	close(fd);
	return p;
 fail:
	*why = xasprintf("%s", strerror(errno));
 out:
	free(p);
	if (fd != -1)
		close(fd);
	return NULL;
}

static int
fleet_load_dir(struct fleet *f, const char *dir, struct err *e)
{
	struct dirent *de;
	struct fleet_host *h;
	char *text, *why;
	size_t len;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return err_errno(e, "cannot read '%s'", dir);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || n < 5 ||
		    strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		if (f->n >= MAX_FLEET_FILES) {
			closedir(d);
			return err_set(e, "'%s': more than %d status files",
			    dir, MAX_FLEET_FILES);
		}
		if (fleet_bounded(f, dir, e) == -1) {
			closedir(d);
			return -1;
		}
		h = fleet_add(f, de->d_name);
		text = read_at(dirfd(d), de->d_name, &len, &why);
		f->bytes += text ? len : 0;
		if (text == NULL)
			h->bad = why;
		else
			fleet_parse(h, text, len);
	}
	closedir(d);
	return 0;
}

/* ---- over HTTP: listing, then one GET per document -------------------- */

struct http {
	CURL		*c;
	struct curl_slist *headers;	/* auth; cleared on release */
	const struct fleet_opts *o;
	char		 errbuf[CURL_ERROR_SIZE];
};

static size_t
body_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;

	if (buf_add(b, p, size * nmemb) == -1)
		return 0;	/* over the cap: curl fails the transfer */
	return size * nmemb;
}

/*
 * One request; the body goes to body (capped).  method NULL is a GET.
 * 0 with *status set, or -1 (e says why, naming the URL).
 */
static int
http_do(struct http *hp, const char *url, const char *method,
    struct curl_slist *extra, struct buf *body, long *status, struct err *e)
{
	struct curl_slist *h = NULL;
	CURLcode cc;
	int r;

	buf_reset(body);
	if (report_curl_setup(hp->c, hp->o->ca_file, hp->o->token_file,
	    hp->o->timeout_ms ? hp->o->timeout_ms : FLEET_HTTP_TIMEOUT_MS, &h,
	    e) == -1)
		return -1;
	for (struct curl_slist *p = extra; p != NULL; p = p->next)
		h = curl_slist_append(h, p->data);
	hp->errbuf[0] = '\0';
	curl_easy_setopt(hp->c, CURLOPT_ERRORBUFFER, hp->errbuf);
	curl_easy_setopt(hp->c, CURLOPT_URL, url);
	curl_easy_setopt(hp->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(hp->c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(hp->c, CURLOPT_WRITEDATA, body);
	if (method != NULL)
		curl_easy_setopt(hp->c, CURLOPT_CUSTOMREQUEST, method);
	cc = curl_easy_perform(hp->c);
	r = 0;
	if (cc != CURLE_OK)
		r = err_set(e, "'%s': %s", url, cc == CURLE_WRITE_ERROR ?
		    "response too large" : hp->errbuf[0] ? hp->errbuf :
		    curl_easy_strerror(cc));
	else
		curl_easy_getinfo(hp->c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(hp->c, CURLOPT_HTTPHEADER, NULL);
	report_headers_free(h);
	return r;
}

/* nginx autoindex_format json: [{"name":"a.json","type":"file",...}] */
static int
parse_autoindex(const char *text, size_t len, struct strvec *names,
    struct err *e)
{
	json_error_t jerr;
	json_t *root, *it;
	size_t i;

	if ((root = json_loadb(text, len, 0, &jerr)) == NULL)
		return err_set(e, "listing: %d:%d: %s", jerr.line, jerr.column,
		    jerr.text);
	if (!json_is_array(root)) {
		json_decref(root);
		return err_set(e, "listing: expected a JSON array");
	}
	json_array_foreach(root, i, it) {
		const char *name = json_string_value(json_object_get(it,
		    "name"));
		const char *type = json_string_value(json_object_get(it,
		    "type"));
		size_t n = name ? strlen(name) : 0;

		if (name != NULL && type != NULL && strcmp(type, "file") == 0 &&
		    n > 5 && strcmp(name + n - 5, ".json") == 0)
			strvec_push(names, name);
	}
	json_decref(root);
	return 0;
}

/* &amp; &lt; &gt; &quot; &apos; and %XX decoded, in place. */
static void
href_decode(char *s)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	char *w = s;

	for (char *p = s; *p; ) {
		size_t k, nents = sizeof(ents) / sizeof(ents[0]);

		for (k = 0; *p == '&' && k < nents; k++)
			if (strncmp(p, ents[k].ent, strlen(ents[k].ent)) == 0)
				break;
		if (*p == '&' && k < nents) {
			*w++ = ents[k].c;
			p += strlen(ents[k].ent);
		} else if (p[0] == '%' && p[1] && p[2] &&
		    strchr("0123456789abcdefABCDEF", p[1]) &&
		    strchr("0123456789abcdefABCDEF", p[2])) {
			char hex[3] = { p[1], p[2], '\0' };

			*w++ = (char)strtol(hex, NULL, 16);
			p += 3;
		} else
			*w++ = *p++;
	}
	*w = '\0';
}

/*
 * WebDAV multistatus: every <[prefix:]href>...</[prefix:]href> whose last
 * path segment ends in ".json".  A careful scan, not an XML parser: CDATA
 * and comments are not expected in a PROPFIND answer.
 */
static void
parse_propfind(const char *text, struct strvec *names)
{
	const char *p = text, *gt, *end, *slash;

	for (size_t guard = 0; guard < MAX_FLEET_FILES * 4 &&
	    (p = strchr(p, '<')) != NULL; guard++) {
		const char *tag = ++p, *colon;

		if ((gt = strchr(tag, '>')) == NULL)
			break;
		colon = memchr(tag, ':', (size_t)(gt - tag));
		if (colon != NULL)
			tag = colon + 1;
		if ((size_t)(gt - tag) != 4 || strncmp(tag, "href", 4) != 0)
			continue;
		if ((end = strchr(gt + 1, '<')) == NULL)
			break;
		{
			char *href = xstrndup(gt + 1, (size_t)(end - gt - 1));
			size_t n;

			href_decode(href);
			slash = strrchr(href, '/');
			slash = slash ? slash + 1 : href;
			n = strlen(slash);
			if (n > 5 && strcmp(slash + n - 5, ".json") == 0)
				strvec_push(names, slash);
			free(href);
		}
		p = end;
	}
}

static int
http_list(struct http *hp, const char *base, struct strvec *names,
    struct err *e)
{
	struct buf body = BUF_INIT(MAX_LISTING_SIZE);
	struct curl_slist *dav = NULL;
	long status = 0;
	int r = -1;

	if (http_do(hp, base, NULL, NULL, &body, &status, e) == -1)
		goto out;
	if (status == 200 && body.len > 0 && buf_str(&body)[0] == '[') {
		r = parse_autoindex(body.data, body.len, names, e);
		goto out;
	}
	dav = curl_slist_append(dav, "Depth: 1");
	dav = curl_slist_append(dav, "Content-Type: application/xml");
	if (http_do(hp, base, "PROPFIND", dav, &body, &status, e) == -1)
		goto out;
	if (status != 207) {
		err_set(e, "'%s': neither an autoindex JSON listing nor a "
		    "WebDAV collection (PROPFIND: HTTP %ld)", base, status);
		goto out;
	}
	parse_propfind(buf_str(&body), names);
	r = 0;
 out:
	curl_slist_free_all(dav);
	buf_release(&body);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
fleet_load_url(struct fleet *f, const char *url, const struct fleet_opts *o,
    struct err *e)
{
	struct http hp = { NULL, NULL, o, "" };
	struct strvec names = STRVEC_INIT;
	struct buf body = BUF_INIT(MAX_STATUS_SIZE);
	char *base = NULL;
	long status;
	int r = -1;

	base = url[strlen(url) - 1] == '/' ? xstrdup(url) :
	    xasprintf("%s/", url);
	if ((hp.c = curl_easy_init()) == NULL) {
		err_set(e, "cannot initialise libcurl");
		goto out;
	}
	if (http_list(&hp, base, &names, e) == -1)
		goto out;
	if (names.n > MAX_FLEET_FILES) {
		err_set(e, "'%s': more than %d status files", base,
		    MAX_FLEET_FILES);
		goto out;
	}
	qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.n; i++) {
		struct fleet_host *h = fleet_add(f, names.v[i]);
		char *u;
		struct err fe;

		if (i > 0 && strcmp(names.v[i], names.v[i - 1]) == 0) {
			f->n--;		/* listed twice */
			status_release(&h->st);
			free(h->name);
			free(h->bad);
			continue;
		}
		if (h->bad != NULL)
			continue;	/* never put an odd name into a URL */
		if (fleet_bounded(f, base, e) == -1)
			goto out;
		u = xasprintf("%s%s", base, names.v[i]);
		status = 0;
		if (http_do(&hp, u, NULL, NULL, &body, &status, &fe) == -1)
			h->bad = fleet_clean(fe.msg, sizeof(fe.msg));
		else if (status != 200)
			h->bad = xasprintf("HTTP %ld", status);
		else {
			size_t len;
			char *text = buf_detach(&body, &len);

			f->bytes += len;
			fleet_parse(h, text, len);
		}
		free(u);
	}
	r = 0;
 out:
	curl_easy_cleanup(hp.c);
	buf_release(&body);
	strvec_clear(&names);
	free(base);
	return r;
}

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
	json_t *ro;
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
	ro = fw ? fleet_waves_json(fw) : json_null();
	ros = json_dumps(ro, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fprintf(fp, "\"rollout\": %s}\n", ros ? ros : "null");
	free(ros);
	json_decref(ro);
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
	json_t *o;
	char *s;

	if (!json && fw == NULL)
		fprintf(fp, "no host reports a rollout\n");
	else if (!json)
		fleet_waves_print(fw, fp);
	else {
		o = fw ? fleet_waves_json(fw) : json_null();
		s = json_dumps(o, JSON_INDENT(2) | JSON_ENCODE_ANY);
		fprintf(fp, "%s\n", s ? s : "null");
		free(s);
		json_decref(o);
	}
}

static void
fleet_release(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].raw);
		free(f->v[i].bad);
		status_release(&f->v[i].st);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static bool
is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

int
fleet_each(const struct fleet_source *src,
    void (*fn)(void *, const struct status *), void *arg, struct err *e)
{
	struct fleet_opts o = { src->token_file, src->ca_file, 0 };
	struct fleet f;
	int r;

	memset(&f, 0, sizeof(f));
	f.max_bytes = src->max_bytes;
	if (src->timeout_ms) {
		f.deadline_ms = time_monotonic_ms() + src->timeout_ms;
		o.timeout_ms = src->timeout_ms;
	}
	if (is_url(src->url))
		r = fleet_load_url(&f, src->url, &o, e);
	else
		r = fleet_load_dir(&f, strncmp(src->url, "file://", 7) == 0 ?
		    src->url + 7 : src->url, e);
	for (size_t i = 0; r == 0 && i < f.n; i++)
		if (f.v[i].bad == NULL)
			fn(arg, &f.v[i].st);
	fleet_release(&f);
	return r;
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
	r = is_url(src) ? fleet_load_url(&f, src, &o, &e) :
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
