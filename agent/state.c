#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fsutil.h"
#include "caps.h"
#include "state.h"

#define MAX_STATE_FILE	(64 * 1024)
#define MAX_BAD_FILE	(1024 * 1024)

static char *
state_path(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* Reads a small JSON object; 1 read, 0 absent, -1 error. */
static int
load_json(const char *dir, const char *name, json_t **out, struct err *e)
{
	struct buf b = BUF_INIT(MAX_STATE_FILE);
	char *path = state_path(dir, name);
	json_error_t jerr;
	int r = -1;

	*out = NULL;
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		r = 0;
		goto out;
	}
	if (fs_read_file(path, MAX_STATE_FILE, &b, e) == -1)
		goto out;
	*out = json_loadb(buf_str(&b), b.len, 0, &jerr);
	if (*out == NULL || !json_is_object(*out)) {
		err_set(e, "%s:%d:%d: corrupt state file: %s", path,
		    jerr.line, jerr.column, *out ? "not an object" : jerr.text);
		json_decref(*out);
		*out = NULL;
		goto out;
	}
	r = 1;
 out:
	buf_release(&b);
	free(path);
	return r;
}

static int
save_json(const char *dir, const char *name, json_t *obj, struct err *e)
{
	char *path = state_path(dir, name), *text;
	int r;

	text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		free(path);
		return err_set(e, "%s: cannot encode", name);
	}
	r = fs_write_atomic(path, text, strlen(text), 0600, e);
	free(text);
	free(path);
	return r;
}

static char *
get_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static void
get_rev(json_t *o, const char *key, char rev[STATE_REV_HEX])
{
	json_t *v = json_object_get(o, key);

	rev[0] = '\0';
	if (json_is_string(v) && strlen(json_string_value(v)) == 40)
		memcpy(rev, json_string_value(v), STATE_REV_HEX);
}

static time_t
get_time(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (time_t)json_integer_value(v) : 0;
}

static void
set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

void
deployed_release(struct deployed *d)
{
	free(d->signer);
	free(d->key_fingerprint);
	free(d->store_path);
	memset(d, 0, sizeof(*d));
}

int
state_load_deployed(const char *dir, struct deployed *d, struct err *e)
{
	json_t *o;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = load_json(dir, "deployed.json", &o, e)) <= 0)
		return r;
	get_rev(o, "rev", d->rev);
	d->signer = get_str(o, "signer");
	d->key_fingerprint = get_str(o, "key_fingerprint");
	d->store_path = get_str(o, "store_path");
	d->activated_at = get_time(o, "activated_at");
	d->committed_at = get_time(o, "committed_at");
	d->tofu = json_is_true(json_object_get(o, "tofu"));
	json_decref(o);
	return 0;
}

int
state_save_deployed(const char *dir, const struct deployed *d, struct err *e)
{
	json_t *o = json_object();
	int r;

	set_str(o, "rev", d->rev);
	set_str(o, "signer", d->signer);
	set_str(o, "key_fingerprint", d->key_fingerprint);
	set_str(o, "store_path", d->store_path);
	json_object_set_new(o, "activated_at", json_integer(d->activated_at));
	json_object_set_new(o, "committed_at", json_integer(d->committed_at));
	json_object_set_new(o, "tofu", json_boolean(d->tofu));
	r = save_json(dir, "deployed.json", o, e);
	json_decref(o);
	return r;
}

void
inflight_release(struct inflight *f)
{
	free(f->store_path);
	free(f->prev_system);
	free(f->signer);
	free(f->key_fingerprint);
	memset(f, 0, sizeof(*f));
}

int
state_load_inflight(const char *dir, struct inflight *f, struct err *e)
{
	json_t *o, *v;
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = load_json(dir, "inflight.json", &o, e)) <= 0)
		return r;
	get_rev(o, "rev", f->rev);
	f->store_path = get_str(o, "store_path");
	f->prev_system = get_str(o, "prev_system");
	f->signer = get_str(o, "signer");
	f->key_fingerprint = get_str(o, "key_fingerprint");
	f->started_at = get_time(o, "started_at");
	f->committed_at = get_time(o, "committed_at");
	v = json_object_get(o, "tries");
	f->tries = json_is_integer(v) ? (unsigned)json_integer_value(v) : 0;
	json_decref(o);
	if (f->rev[0] == '\0' || f->store_path == NULL) {
		inflight_release(f);
		return err_set(e, "%s/inflight.json: corrupt state file: "
		    "no revision or store path", dir);
	}
	return 1;
}

int
state_save_inflight(const char *dir, const struct inflight *f, struct err *e)
{
	json_t *o = json_object();
	int r;

	set_str(o, "rev", f->rev);
	set_str(o, "store_path", f->store_path);
	set_str(o, "prev_system", f->prev_system);
	set_str(o, "signer", f->signer);
	set_str(o, "key_fingerprint", f->key_fingerprint);
	json_object_set_new(o, "started_at", json_integer(f->started_at));
	json_object_set_new(o, "committed_at", json_integer(f->committed_at));
	json_object_set_new(o, "tries", json_integer(f->tries));
	r = save_json(dir, "inflight.json", o, e);
	json_decref(o);
	return r;
}

static int
remove_file(const char *dir, const char *name, struct err *e)
{
	char *path = state_path(dir, name);
	int r = 0;

	if (unlink(path) == -1 && errno != ENOENT)
		r = err_errno(e, "cannot remove %s", path);
	free(path);
	return r;
}

int
state_clear_inflight(const char *dir, struct err *e)
{
	return remove_file(dir, "inflight.json", e);
}

int
state_is_bad(const char *dir, const char *rev, char *reason,
    size_t reasonlen, struct err *e)
{
	struct buf b = BUF_INIT(MAX_BAD_FILE);
	char *path = state_path(dir, "bad-revisions"), *line, *nl, *end;
	int r = 0;

	if (access(path, F_OK) == -1 && errno == ENOENT)
		goto out;
	if (fs_read_file(path, MAX_BAD_FILE, &b, e) == -1) {
		r = -1;
		goto out;
	}
	for (line = b.data; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		end = nl ? nl : line + strlen(line);
		if (end - line < 41 || strncmp(line, rev, 40) != 0 ||
		    line[40] != '\t')
			continue;
		r = 1;
		if (reason && reasonlen) {
			/* The reason is on this line only: a line edited by
			 * hand may lack it. */
			const char *why = memchr(line + 41, '\t',
			    (size_t)(end - line - 41));
			size_t n = why ? (size_t)(end - why - 1) : 0;

			if (n >= reasonlen)
				n = reasonlen - 1;
			if (why)
				memcpy(reason, why + 1, n);
			reason[n] = '\0';
		}
	}
 out:
	buf_release(&b);
	free(path);
	return r;
}

int
state_mark_bad(const char *dir, const char *rev, const char *reason,
    struct err *e)
{
	struct buf b = BUF_INIT(MAX_BAD_FILE + 4096);
	char *path = state_path(dir, "bad-revisions");
	int r = -1;

	if (access(path, F_OK) == 0 &&
	    fs_read_file(path, MAX_BAD_FILE, &b, e) == -1)
		goto out;
	buf_addf(&b, "%s\t%lld\t", rev, (long long)time(NULL));
	/* One line per revision: no tabs or newlines in the reason. */
	for (const char *p = reason; *p; p++)
		buf_addch(&b, (*p == '\n' || *p == '\t') ? ' ' : *p);
	buf_addch(&b, '\n');
	r = fs_write_atomic(path, b.data, b.len, 0600, e);
 out:
	buf_release(&b);
	free(path);
	return r;
}

char *
state_resolve_system(const char *link)
{
	char buf[PATH_MAX];

	if (realpath(link, buf) == NULL)
		return NULL;
	return xstrdup(buf);
}
