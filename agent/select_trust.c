/*
 * The trust chain of trust.follow_repo (select.h): which signers are in
 * effect at each commit between the floor and the tip, rotated by the
 * repository's own trust files only when a threshold of the old signers
 * and of the new ones signed the change.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "config.h"
#include "fsutil.h"
#include "select.h"
#include "select_int.h"

/* The blob ids of the two trust files in one commit ("" when absent). */
struct trust_blobs {
	char	allowed[REV_HEX];
	char	file[REV_HEX];
};

void
trust_level_release(struct trust_level *l)
{
	if (l->owned)
		signers_free(l->signers);
	trustfile_release(&l->tf);
	memset(l, 0, sizeof(*l));
}

void
trust_chain_release(struct trust_chain *c)
{
	size_t i;

	for (i = 0; i < c->nlevels; i++)
		trust_level_release(&c->levels[i]);
	free(c->levels);
	free(c->c);
	free(c->lv);
	buf_release(&c->text);
	memset(c, 0, sizeof(*c));
}

static void
blob_id(git_tree *tree, const char *path, char out[REV_HEX])
{
	git_tree_entry *te = NULL;

	out[0] = '\0';
	if (git_tree_entry_bypath(&te, tree, path) == 0 &&
	    git_tree_entry_type(te) == GIT_OBJECT_BLOB)
		git_oid_tostr(out, REV_HEX, git_tree_entry_id(te));
	git_tree_entry_free(te);
}

static int
commit_blobs(git_repository *repo, const git_oid *oid,
    const struct select_repo_trust *rt, struct trust_blobs *b, struct err *e)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	char hex[REV_HEX];
	int r = -1;

	if (git_commit_lookup(&c, repo, oid) != 0 ||
	    git_commit_tree(&tree, c) != 0) {
		git_oid_tostr(hex, sizeof(hex), oid);
		err_set(e, "cannot read the tree of commit '%s': %s", hex,
		    git_msg());
		goto out;
	}
	blob_id(tree, rt->allowed_path, b->allowed);
	blob_id(tree, rt->trust_path, b->file);
	r = 0;
 out:
	git_tree_free(tree);
	git_commit_free(c);
	return r;
}

/* A blob of at most max bytes, its header read first. */
static int
blob_read(git_repository *repo, const char *id, const char *name,
    size_t max, struct buf *out, struct err *e)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	git_oid oid;
	size_t size;
	int r = -1;

	if (git_oid_fromstr(&oid, id) != 0 ||
	    git_repository_odb(&odb, repo) != 0 ||
	    git_odb_read_header(&size, &type, odb, &oid) != 0 ||
	    type != GIT_OBJECT_BLOB) {
		err_set(e, "cannot read '%s' (blob %s): %s", name, id,
		    git_msg());
		goto out;
	}
	if (size > max) {
		err_set(e, "'%s' (blob %s) of %zu bytes is larger than %zu "
		    "bytes", name, id, size, max);
		goto out;
	}
	if (git_odb_read(&obj, odb, &oid) != 0) {
		err_set(e, "cannot read '%s' (blob %s): %s", name, id,
		    git_msg());
		goto out;
	}
	buf_init(out, max);
	if (buf_add(out, git_odb_object_data(obj), size) != 0) {
		err_set(e, "'%s': too large", name);
		goto out;
	}
	r = 0;
 out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return r;
}

/* Loads the level the two blobs describe (both present). */
static int
level_load(git_repository *repo, const struct select_repo_trust *rt,
    const struct trust_blobs *b, const char *rev, struct trust_level *l,
    struct err *e)
{
	struct buf a = BUF_INIT(0), t = BUF_INIT(0);
	char name[REV_HEX + 1024], *rv = NULL;
	size_t rvlen = 0;
	int r = -1;

	memset(l, 0, sizeof(*l));
	l->owned = true;
	if (b->allowed[0] == '\0' || b->file[0] == '\0') {
		err_set(e, "%s: '%s' is missing", rev, b->allowed[0] == '\0' ?
		    rt->allowed_path : rt->trust_path);
		goto out;
	}
	if (blob_read(repo, b->allowed, rt->allowed_path, MAX_SIGNERS_SIZE,
	    &a, e) != 0 ||
	    blob_read(repo, b->file, rt->trust_path, MAX_TRUSTFILE_SIZE, &t,
	    e) != 0)
		goto out;
	snprintf(name, sizeof(name), "%.12s:%s", rev, rt->trust_path);
	if (trustfile_parse(&l->tf, name, buf_str(&t), t.len, e) != 0)
		goto out;
	snprintf(name, sizeof(name), "%.12s:%s", rev, rt->allowed_path);
	if (signers_parse(&l->signers, name, buf_str(&a), a.len, e) != 0)
		goto out;
	rv = trustfile_revoked_text(&l->tf, &rvlen);
	snprintf(name, sizeof(name), "%.12s:%s", rev, rt->trust_path);
	if (signers_add_revoked(l->signers, name, rv, rvlen, e) != 0 ||
	    (rt->host_revoked != NULL && signers_add_revoked(l->signers,
	    "trust.revoked_keys", rt->host_revoked, rt->host_revoked_len,
	    e) != 0))
		goto out;
	l->threshold = l->tf.threshold;
	l->version = l->tf.version;
	l->expires = l->tf.expires;
	memcpy(l->allowed_hash, b->allowed, sizeof(l->allowed_hash));
	memcpy(l->file_hash, b->file, sizeof(l->file_hash));
	r = 0;
 out:
	free(rv);
	buf_release(&a);
	buf_release(&t);
	if (r != 0)
		trust_level_release(l);
	return r;
}

int
trust_level_at(git_repository *repo, const struct select_repo_trust *rt,
    const git_oid *oid, struct trust_level *l, struct err *e)
{
	struct trust_blobs b;
	char hex[REV_HEX];

	memset(l, 0, sizeof(*l));
	if (commit_blobs(repo, oid, rt, &b, e) != 0)
		return -1;
	git_oid_tostr(hex, sizeof(hex), oid);
	return level_load(repo, rt, &b, hex, l, e);
}

int
trust_repo_init(struct select_repo_trust *rt, const struct config *cfg,
    const char *revoked, struct buf *rv, struct err *e)
{
	memset(rt, 0, sizeof(*rt));
	rt->allowed_path = cfg->trust.repo_allowed_signers;
	rt->trust_path = cfg->trust.repo_trust_file;
	rt->warn_expired = cfg->trust.on_expired == ON_EXPIRED_WARN;
	if (revoked == NULL)
		return 0;
	if (fs_read_file(revoked, MAX_SIGNERS_SIZE, rv, e) != 0)
		return -1;
	rt->host_revoked = buf_str(rv);
	rt->host_revoked_len = rv->len;
	return 0;
}

static struct trust_level *
level_push(struct trust_chain *c)
{
	c->levels = xreallocarray(c->levels, c->nlevels + 1,
	    sizeof(*c->levels));
	memset(&c->levels[c->nlevels], 0, sizeof(*c->levels));
	return &c->levels[c->nlevels++];
}

/* The level at the base: the recorded one when the base holds it. */
static void
base_level(git_repository *repo, const git_oid *base,
    const struct select_opts *o, struct trust_chain *c,
    const struct trust_blobs *bb)
{
	const struct select_repo_trust *rt = o->repo_trust;
	struct trust_level *l = level_push(c);
	char hex[REV_HEX];
	struct err e;

	if (base != NULL && rt->rec_version > 0 &&
	    strcmp(bb->allowed, rt->rec_allowed) == 0 &&
	    strcmp(bb->file, rt->rec_file) == 0) {
		git_oid_tostr(hex, sizeof(hex), base);
		if (level_load(repo, rt, bb, hex, l, &e) == 0 &&
		    l->version == rt->rec_version) {
			l->since = *base;
			buf_addf(&c->text, "version %llu recorded at %s\n",
			    (unsigned long long)l->version, hex);
			return;
		}
		trust_level_release(l);
	}
	l->signers = (struct signers *)o->signers;
	l->owned = false;
	l->threshold = o->threshold ? o->threshold : 1;
	buf_addf(&c->text, "version 0: the pinned trust.allowed_signers, "
	    "threshold %u\n", l->threshold);
}

static bool
has_key(const struct signers *s, const unsigned char pk[32])
{
	unsigned char k[32];
	const char *pr;
	char fpr[64];
	size_t i;

	for (i = 0; i < signers_entries(s); i++)
		if (signers_key(s, i, &pr, k, fpr, sizeof(fpr)) == 0 &&
		    memcmp(k, pk, 32) == 0)
			return true;
	return false;
}

static bool
signed_by(const struct select_trust *t, const unsigned char pk[32])
{
	unsigned i;

	for (i = 0; i < t->nstored; i++)
		if (memcmp(t->keys[i], pk, 32) == 0)
			return true;
	return false;
}

/*
 * The first key of the new file that the old trust did not hold and that
 * did not sign the rotation (a new key proves its possession): its
 * principals and fingerprint in out, or false when there is none.
 */
bool
trust_new_key_unsigned(const struct signers *old, const struct signers *new,
    const struct select_trust *tn, char *out, size_t outsz)
{
	unsigned char k[32];
	const char *pr;
	char fpr[64];
	size_t i;

	for (i = 0; i < signers_entries(new); i++)
		if (signers_key(new, i, &pr, k, fpr, sizeof(fpr)) == 0 &&
		    !has_key(old, k) && !signed_by(tn, k)) {
			line_set(out, outsz, "%s (%s)", pr, fpr);
			return true;
		}
	return false;
}

static int
rev_lists(const struct trustfile *old, const struct trustfile *new,
    const char **dropped)
{
	size_t i;

	for (i = 0; i < old->nrevoked; i++)
		if (!trustfile_revokes(new, old->revoked[i])) {
			*dropped = old->revoked[i];
			return -1;
		}
	return 0;
}

/*
 * Commit oid changes the trust files: 0 with *ok set and the new level
 * pushed when the rotation holds, else *ok false and c->broken_why says
 * why; -1 on a repository error.
 */
static int
rotation(git_repository *repo, const struct tagindex *ti,
    const git_oid *oid, const struct trust_blobs *b,
    const struct select_opts *o, struct trust_chain *c, size_t cur,
    bool *ok, struct err *e)
{
	struct select_trust *to = xcalloc(2, sizeof(*to)), *tn = to + 1;
	struct trust_level nl, *old = &c->levels[cur];
	const char *dropped = NULL;
	char hex[REV_HEX];
	struct err le;
	char newkey[512];
	int r = -1;

	*ok = false;
	memset(&nl, 0, sizeof(nl));
	git_oid_tostr(hex, sizeof(hex), oid);
	if (level_load(repo, o->repo_trust, b, hex, &nl, &le) != 0) {
		line_set(c->broken_why, sizeof(c->broken_why), "trust change "
		    "in %s: %s", hex, le.msg);
		r = 0;
		goto out;
	}
	if (trust_eval(repo, ti, oid, old->signers, o->now, to, e) != 0 ||
	    trust_eval(repo, ti, oid, nl.signers, o->now, tn, e) != 0)
		goto out;
	r = 0;
	if (nl.version <= old->version)
		line_set(c->broken_why, sizeof(c->broken_why), "trust change "
		    "in %s does not raise the version (%llu after %llu)", hex,
		    (unsigned long long)nl.version,
		    (unsigned long long)old->version);
	else if (rev_lists(&old->tf, &nl.tf, &dropped) != 0)
		line_set(c->broken_why, sizeof(c->broken_why), "trust change "
		    "in %s drops the revoked key '%.60s'", hex, dropped);
	else if (to->nkeys < old->threshold)
		line_set(c->broken_why, sizeof(c->broken_why), "trust change "
		    "in %s is signed by %u of the %u required previous "
		    "signers", hex, to->nkeys, old->threshold);
	else if (tn->nkeys < nl.threshold)
		line_set(c->broken_why, sizeof(c->broken_why), "trust change "
		    "in %s is signed by %u of the %u required signers of the "
		    "new file", hex, tn->nkeys, nl.threshold);
	else if (trust_new_key_unsigned(old->signers, nl.signers, tn, newkey,
	    sizeof(newkey)))
		line_set(c->broken_why, sizeof(c->broken_why), "trust change "
		    "in %s adds the key of %s, which did not sign it", hex,
		    newkey);
	else
		*ok = true;
	if (*ok) {
		nl.since = *oid;
		buf_addf(&c->text, "version %llu at %s: signed by %s "
		    "(previous signers %u of %u, new signers %u of %u)\n",
		    (unsigned long long)nl.version, hex, tn->who, to->nkeys,
		    old->threshold, tn->nkeys, nl.threshold);
		*level_push(c) = nl;
		memset(&nl, 0, sizeof(nl));
	}
 out:
	trust_level_release(&nl);
	free(to);
	return r;
}

static void
chain_push(struct trust_chain *c, const git_oid *oid)
{
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 64;
		c->c = xreallocarray(c->c, c->alloc, sizeof(*c->c));
		c->lv = xreallocarray(c->lv, c->alloc, sizeof(*c->lv));
	}
	c->c[c->n] = *oid;
	c->lv[c->n++] = 0;
}

/* First-parent from tip down to base (excluded) or max_walk commits. */
static int
chain_list(git_repository *repo, const git_oid *tip, const git_oid **base,
    const struct select_opts *o, const struct deadline *dl,
    struct trust_chain *c, git_oid *below, bool *has_below, struct err *e)
{
	unsigned max_walk = o->max_walk ? o->max_walk : 1000;
	git_oid oid = *tip;
	int pr;

	*has_below = false;
	while (c->n < max_walk) {
		if (*base != NULL && git_oid_equal(&oid, *base)) {
			*below = oid;
			*has_below = true;
			return 0;
		}
		if (deadline_passed(dl))
			return err_set(e, "trust chain took longer than %d s",
			    MAX_SELECT_SECONDS);
		chain_push(c, &oid);
		if ((pr = first_parent(repo, &oid, e)) != 0) {
			*base = NULL;	/* a root: nothing below */
			return pr == 1 ? 0 : -1;
		}
	}
	*base = NULL;	/* not reached: the oldest commit's parent */
	*below = oid;
	*has_below = true;
	return 0;
}

int
trust_chain_build_ti(git_repository *repo, const struct tagindex *ti,
    const struct deadline *dl, const git_oid *tip, const git_oid *base,
    const struct select_opts *o, struct trust_chain *c, struct err *e)
{
	struct trust_blobs prev, cur;
	git_oid below;
	bool has_below, ok;
	size_t i, lv;

	memset(c, 0, sizeof(*c));
	buf_init(&c->text, MAX_TRUST_CHAIN_TEXT - 1);
	memset(&prev, 0, sizeof(prev));
	if (chain_list(repo, tip, &base, o, dl, c, &below, &has_below, e) != 0)
		goto fail;
	if (has_below && commit_blobs(repo, &below, o->repo_trust, &prev,
	    e) != 0)
		goto fail;
	base_level(repo, base, o, c, &prev);
	for (i = c->n, lv = 0; i-- > 0; prev = cur) {
		if (commit_blobs(repo, &c->c[i], o->repo_trust, &cur, e) != 0)
			goto fail;
		c->lv[i] = lv;
		if (strcmp(cur.allowed, prev.allowed) == 0 &&
		    strcmp(cur.file, prev.file) == 0)
			continue;
		if (rotation(repo, ti, &c->c[i], &cur, o, c, lv, &ok, e) != 0)
			goto fail;
		if (!ok) {
			c->nbroken = i + 1;
			buf_addf(&c->text, "rejected: %s\n", c->broken_why);
			break;
		}
		c->lv[i] = lv = c->nlevels - 1;
	}
	return 0;
 fail:
	trust_chain_release(c);
	return -1;
}

int
trust_chain_build(git_repository *repo, const git_oid *tip,
    const git_oid *base, const struct select_opts *o, struct trust_chain *c,
    struct err *e)
{
	struct tagindex ti;
	struct deadline dl;
	int r;

	deadline_start(&dl);
	if (tags_load(repo, &ti, &dl, e) != 0)
		return -1;
	r = trust_chain_build_ti(repo, &ti, &dl, tip, base, o, c, e);
	tags_release(&ti);
	return r;
}

const struct trust_level *
trust_chain_at(const struct trust_chain *c, const git_oid *oid, size_t *at)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (git_oid_equal(&c->c[i], oid)) {
			*at = i;
			return i < c->nbroken ? NULL : &c->levels[c->lv[i]];
		}
	*at = c->n;
	return &c->levels[0];
}

int
release_read_trust(git_repository *repo, const git_oid *oid,
    int64_t commit_time, const char *plan_path, const char *manifest_path,
    const struct signers *s, unsigned threshold,
    const struct select_repo_trust *rt, time_t now, struct release_info *ri,
    struct err *e)
{
	struct trust_level l;
	struct err le;
	int r;

	if (rt == NULL || trust_level_at(repo, rt, oid, &l, &le) != 0)
		return release_read(repo, oid, commit_time, plan_path,
		    manifest_path, s, threshold, now, ri, e);
	if (l.version > 0)
		r = release_read(repo, oid, commit_time, plan_path,
		    manifest_path, l.signers, l.threshold, now, ri, e);
	else
		r = release_read(repo, oid, commit_time, plan_path,
		    manifest_path, s, threshold, now, ri, e);
	trust_level_release(&l);
	return r;
}
