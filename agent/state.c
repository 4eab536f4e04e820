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
#include "jfield.h"
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
 * The fields of deployed.json, inflight.json and trust.json, in file order
 * (jfield.h).  Read leniently: a field of the wrong type reads as absent;
 * only inflight.json has fields that must be there, checked below.
 */
#define DF(k, t, m)	JF_F(k, t, struct deployed, m, 0)
#define IF(k, t, m)	JF_F(k, t, struct inflight, m, 0)
#define TF(k, t, m)	JF_F(k, t, struct trust_record, m, 0)

static const struct jf_field deployed_fields[] = {
	DF("rev", JF_REV, rev),
	DF("signer", JF_STR, signer),
	DF("key_fingerprint", JF_STR, key_fingerprint),
	DF("store_path", JF_STR, store_path),
	DF("activated_at", JF_EPOCH, activated_at),
	DF("committed_at", JF_EPOCH, committed_at),
	DF("tofu", JF_BOOL, tofu),
};
static const struct jf_object deployed_obj = { JF_TABLE(deployed_fields) };

static const struct jf_field inflight_fields[] = {
	IF("rev", JF_REV, rev),
	IF("store_path", JF_STR, store_path),
	IF("prev_system", JF_STR, prev_system),
	IF("signer", JF_STR, signer),
	IF("key_fingerprint", JF_STR, key_fingerprint),
	IF("started_at", JF_EPOCH, started_at),
	IF("committed_at", JF_EPOCH, committed_at),
	IF("tries", JF_UINT, tries),
	IF("trust_repo", JF_BOOL, trust_repo),
	IF("trust_version", JF_U64, trust_version),
	IF("trust_allowed_signers", JF_REV, trust_allowed),
	IF("trust_file", JF_REV, trust_file),
};
static const struct jf_object inflight_obj = { JF_TABLE(inflight_fields) };

static const struct jf_field trust_fields[] = {
	TF("rev", JF_REV, rev),
	TF("version", JF_U64, version),
	TF("allowed_signers", JF_REV, allowed),
	TF("trust_file", JF_REV, file),
};
static const struct jf_object trust_obj = { JF_TABLE(trust_fields) };

int
state_load_file(const char *dir, const char *name, const struct jf_object *ob,
    void *obj, size_t size, struct err *e)
{
	static const struct jf_read lenient = { JF_LENIENT, "", NULL, NULL };
	json_t *o;
	int r;

	memset(obj, 0, size);
	if ((r = load_json(dir, name, &o, e)) <= 0)
		return r;
	jf_from_json(o, ob, &lenient, obj, e);	/* an object: cannot fail */
	json_decref(o);
	return 1;
}

int
state_save_file(const char *dir, const char *name, const struct jf_object *ob,
    const void *obj, struct err *e)
{
	json_t *o = jf_to_json(ob, obj);
	int r;

	r = save_json(dir, name, o, e);
	json_decref(o);
	return r;
}

/* Frees the strings and zeroes obj. */
static void
fields_release(const struct jf_object *ob, void *obj, size_t size)
{
	jf_release(ob, obj);
	memset(obj, 0, size);
}

void
deployed_release(struct deployed *d)
{
	fields_release(&deployed_obj, d, sizeof(*d));
}

int
state_load_deployed(const char *dir, struct deployed *d, struct err *e)
{
	int r;

	r = state_load_file(dir, "deployed.json", &deployed_obj, d,
	    sizeof(*d), e);
	return r < 0 ? r : 0;
}

int
state_save_deployed(const char *dir, const struct deployed *d, struct err *e)
{
	return state_save_file(dir, "deployed.json", &deployed_obj, d, e);
}

int
state_load_trust(const char *dir, struct trust_record *t, struct err *e)
{
	int r;

	r = state_load_file(dir, "trust.json", &trust_obj, t, sizeof(*t), e);
	return r < 0 ? r : 0;
}

int
state_save_trust(const char *dir, const struct trust_record *t,
    struct err *e)
{
	return state_save_file(dir, "trust.json", &trust_obj, t, e);
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
	fields_release(&inflight_obj, f, sizeof(*f));
}

int
state_load_inflight(const char *dir, struct inflight *f, struct err *e)
{
	int r;

	r = state_load_file(dir, "inflight.json", &inflight_obj, f,
	    sizeof(*f), e);
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
	return state_save_file(dir, "inflight.json", &inflight_obj, f, e);
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
