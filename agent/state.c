#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fsutil.h"
#include "caps.h"
#include "fetcher.h"
#include "log.h"
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

/*
 * The fields of deployed.json and inflight.json, in file order: one table
 * each drives loading, saving and releasing.  Loading is lenient (a field
 * of the wrong type reads as absent); only inflight.json has fields that
 * must be there.
 */
enum sftype {
	SF_REV,		/* char[REV_HEX]: 40 hex digits, else "" */
	SF_STR,		/* char *, null when NULL */
	SF_TIME,	/* time_t as an integer */
	SF_BOOL,	/* bool */
	SF_UINT,	/* unsigned */
	SF_U64,		/* uint64_t, at most 2^53 (else 0) */
};

struct sfield {
	const char	*key;
	enum sftype	 type;
	size_t		 off;
};

#define DF(k, t, m)	{ k, t, offsetof(struct deployed, m) }
#define IF(k, t, m)	{ k, t, offsetof(struct inflight, m) }
#define TF(k, t, m)	{ k, t, offsetof(struct trust_record, m) }
#define NSF(a)		(sizeof(a) / sizeof(a[0]))

static const struct sfield deployed_fields[] = {
	DF("rev", SF_REV, rev),
	DF("signer", SF_STR, signer),
	DF("key_fingerprint", SF_STR, key_fingerprint),
	DF("store_path", SF_STR, store_path),
	DF("activated_at", SF_TIME, activated_at),
	DF("committed_at", SF_TIME, committed_at),
	DF("tofu", SF_BOOL, tofu),
};

static const struct sfield inflight_fields[] = {
	IF("rev", SF_REV, rev),
	IF("store_path", SF_STR, store_path),
	IF("prev_system", SF_STR, prev_system),
	IF("signer", SF_STR, signer),
	IF("key_fingerprint", SF_STR, key_fingerprint),
	IF("started_at", SF_TIME, started_at),
	IF("committed_at", SF_TIME, committed_at),
	IF("tries", SF_UINT, tries),
	IF("trust_repo", SF_BOOL, trust_repo),
	IF("trust_version", SF_U64, trust_version),
	IF("trust_allowed_signers", SF_REV, trust_allowed),
	IF("trust_file", SF_REV, trust_file),
};

static const struct sfield trust_fields[] = {
	TF("rev", SF_REV, rev),
	TF("version", SF_U64, version),
	TF("allowed_signers", SF_REV, allowed),
	TF("trust_file", SF_REV, file),
};

static void
field_load(json_t *o, const struct sfield *f, void *obj)
{
	json_t *v = json_object_get(o, f->key);
	void *p = (char *)obj + f->off;
	char *rev = p;

	switch (f->type) {
	case SF_REV:
		rev[0] = '\0';
		if (json_is_string(v) && strlen(json_string_value(v)) == 40)
			memcpy(rev, json_string_value(v), REV_HEX);
		break;
	case SF_STR:
		*(char **)p = json_is_string(v) ?
		    xstrdup(json_string_value(v)) : NULL;
		break;
	case SF_TIME:
		*(time_t *)p = json_is_integer(v) ?
		    (time_t)json_integer_value(v) : 0;
		break;
	case SF_BOOL:
		*(bool *)p = json_is_true(v);
		break;
	case SF_UINT:
		*(unsigned *)p = json_is_integer(v) ?
		    (unsigned)json_integer_value(v) : 0;
		break;
	case SF_U64:
		*(uint64_t *)p = json_is_integer(v) &&
		    json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= (json_int_t)1 << 53 ?
		    (uint64_t)json_integer_value(v) : 0;
		break;
	}
}

static json_t *
field_save(const struct sfield *f, const void *obj)
{
	const void *p = (const char *)obj + f->off;

	switch (f->type) {
	case SF_REV:	return json_string(p);
	case SF_STR:	return *(char *const *)p ?
			    json_string(*(char *const *)p) : json_null();
	case SF_TIME:	return json_integer(*(const time_t *)p);
	case SF_BOOL:	return json_boolean(*(const bool *)p);
	case SF_UINT:	return json_integer(*(const unsigned *)p);
	case SF_U64:	return json_integer((json_int_t)*(const uint64_t *)p);
	}
	return json_null();
}

/* Zeroes obj, then fills it from <dir>/name: 1 read, 0 absent, -1 error. */
static int
fields_load(const char *dir, const char *name, const struct sfield *f,
    size_t n, void *obj, size_t size, struct err *e)
{
	json_t *o;
	int r;

	memset(obj, 0, size);
	if ((r = load_json(dir, name, &o, e)) <= 0)
		return r;
	for (size_t i = 0; i < n; i++)
		field_load(o, &f[i], obj);
	json_decref(o);
	return 1;
}

static int
fields_save(const char *dir, const char *name, const struct sfield *f,
    size_t n, const void *obj, struct err *e)
{
	json_t *o = json_object();
	int r;

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, f[i].key, field_save(&f[i], obj));
	r = save_json(dir, name, o, e);
	json_decref(o);
	return r;
}

/* Frees the strings and zeroes obj. */
static void
fields_release(const struct sfield *f, size_t n, void *obj, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].type == SF_STR)
			free(*(char **)(void *)((char *)obj + f[i].off));
	memset(obj, 0, size);
}

void
deployed_release(struct deployed *d)
{
	fields_release(deployed_fields, NSF(deployed_fields), d, sizeof(*d));
}

int
state_load_deployed(const char *dir, struct deployed *d, struct err *e)
{
	int r;

	r = fields_load(dir, "deployed.json", deployed_fields,
	    NSF(deployed_fields), d, sizeof(*d), e);
	return r < 0 ? r : 0;
}

int
state_save_deployed(const char *dir, const struct deployed *d, struct err *e)
{
	return fields_save(dir, "deployed.json", deployed_fields,
	    NSF(deployed_fields), d, e);
}

int
state_load_trust(const char *dir, struct trust_record *t, struct err *e)
{
	int r;

	r = fields_load(dir, "trust.json", trust_fields, NSF(trust_fields), t,
	    sizeof(*t), e);
	return r < 0 ? r : 0;
}

int
state_save_trust(const char *dir, const struct trust_record *t,
    struct err *e)
{
	return fields_save(dir, "trust.json", trust_fields, NSF(trust_fields),
	    t, e);
}

void
state_trust_for(const char *dir, const char *rev, struct trust_record *t)
{
	struct err e;

	if (state_load_trust(dir, t, &e) == -1) {
		log_warnx("%s: starting from the pinned trust", e.msg);
		memset(t, 0, sizeof(*t));
		return;
	}
	if (t->rev[0] == '\0' || strcmp(t->rev, rev) == 0)
		return;
	/* Not the floor's trust; its version still bounds the result. */
	if (rev[0] != '\0')
		log_warnx("%s/trust.json is for %.12s, not for the deployed "
		    "revision %.12s: starting from the pinned trust", dir,
		    t->rev, rev);
	t->allowed[0] = t->file[0] = '\0';
}

void
state_record_trust(const char *dir, const char *rev, uint64_t version,
    const char *allowed, const char *file)
{
	struct trust_record t;
	struct err e;

	memset(&t, 0, sizeof(t));
	snprintf(t.rev, sizeof(t.rev), "%s", rev);
	t.version = version;
	snprintf(t.allowed, sizeof(t.allowed), "%s", allowed);
	snprintf(t.file, sizeof(t.file), "%s", file);
	if (state_save_trust(dir, &t, &e) == -1)
		log_warnx("%s", e.msg);
}

void
trust_request(const char *dir, const char *deployed,
    struct fetcher_select_req *q)
{
	struct trust_record t;

	state_trust_for(dir, deployed, &t);
	q->rec_trust_version = t.version;
	memcpy(q->rec_trust_allowed, t.allowed, sizeof(q->rec_trust_allowed));
	memcpy(q->rec_trust_file, t.file, sizeof(q->rec_trust_file));
}

void
trust_record(const char *dir, const struct select_result *sel)
{
	if (sel->trust_repo)
		state_record_trust(dir, sel->rev, sel->trust_version,
		    sel->trust_allowed_hash, sel->trust_file_hash);
}

void
trust_inflight(struct inflight *f, const struct select_result *sel)
{
	f->trust_repo = sel->trust_repo;
	f->trust_version = sel->trust_version;
	snprintf(f->trust_allowed, sizeof(f->trust_allowed), "%s",
	    sel->trust_allowed_hash);
	snprintf(f->trust_file, sizeof(f->trust_file), "%s",
	    sel->trust_file_hash);
}

void
trust_record_inflight(const char *dir, const struct inflight *f)
{
	if (f->trust_repo)
		state_record_trust(dir, f->rev, f->trust_version,
		    f->trust_allowed, f->trust_file);
}

void
inflight_release(struct inflight *f)
{
	fields_release(inflight_fields, NSF(inflight_fields), f, sizeof(*f));
}

int
state_load_inflight(const char *dir, struct inflight *f, struct err *e)
{
	int r;

	r = fields_load(dir, "inflight.json", inflight_fields,
	    NSF(inflight_fields), f, sizeof(*f), e);
	if (r <= 0)
		return r;
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
	return fields_save(dir, "inflight.json", inflight_fields,
	    NSF(inflight_fields), f, e);
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
