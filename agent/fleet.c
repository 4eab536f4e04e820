/*
 * The fleet's status documents, read for the rollout step's halt (turn.c,
 * through fleet_each) and for `nixpull fleet` (cmd_fleet.c): a folder, or
 * an HTTP(S) folder listed by nginx autoindex (JSON format) or WebDAV
 * PROPFIND.  Everything read here is untrusted: sizes are capped, names
 * checked, and text is cleaned of control characters before it reaches a
 * terminal.
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

int
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

int
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

void
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

bool
fleet_is_url(const char *s)
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
	if (fleet_is_url(src->url))
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
