/*
 * The fetcher's part of a rollout (release.h): the plan and the system
 * manifest blobs of the verified commit and the time it was released.  Sizes are read from the
 * object headers before any object is, so a hostile repository cannot
 * make the fetcher read more than the caps.
 */
#include <string.h>

#include "gitsig.h"
#include "log.h"
#include "release.h"

static const char *
gmsg(void)
{
	const git_error *ge = git_error_last();

	return ge && ge->message ? ge->message : "unknown libgit2 error";
}

/* One file of the release's tree, at most max bytes. */
struct tree_file {
	const char	*path;
	size_t		 max;
	enum release_plan state;
	size_t		 len;
	char		*text;		/* max + 1 bytes, NUL-terminated */
};

/* f->path in commit oid's tree, or PLAN_NONE. */
static int
read_tree_file(git_repository *repo, const git_oid *oid, struct tree_file *f,
    struct err *e)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *ent = NULL;
	git_odb *odb = NULL;
	git_blob *blob = NULL;
	git_object_t type;
	size_t size;
	int r = -1, gr;

	if (git_commit_lookup(&c, repo, oid) != 0 ||
	    git_commit_tree(&tree, c) != 0 || git_repository_odb(&odb, repo)
	    != 0) {
		err_set(e, "cannot read the release's tree: %s", gmsg());
		goto out;
	}
	if ((gr = git_tree_entry_bypath(&ent, tree, f->path)) ==
	    GIT_ENOTFOUND) {
		f->state = PLAN_NONE;
		r = 0;
		goto out;
	} else if (gr != 0) {
		err_set(e, "'%s': %s", f->path, gmsg());
		goto out;
	}
	if (git_tree_entry_type(ent) != GIT_OBJECT_BLOB ||
	    git_tree_entry_filemode(ent) == GIT_FILEMODE_LINK) {
		f->state = PLAN_NOT_FILE;
		r = 0;
		goto out;
	}
	if (git_odb_read_header(&size, &type, odb, git_tree_entry_id(ent)) !=
	    0) {
		err_set(e, "'%s': %s", f->path, gmsg());
		goto out;
	}
	if (size > f->max) {
		f->state = PLAN_TOO_BIG;
		f->len = size;
		r = 0;
		goto out;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(ent)) != 0 ||
	    (size_t)git_blob_rawsize(blob) != size) {
		err_set(e, "'%s': %s", f->path, gmsg());
		goto out;
	}
	memcpy(f->text, git_blob_rawcontent(blob), size);
	f->text[size] = '\0';
	f->len = size;
	f->state = PLAN_PRESENT;
	r = 0;
 out:
	git_blob_free(blob);
	git_odb_free(odb);
	git_tree_entry_free(ent);
	git_tree_free(tree);
	git_commit_free(c);
	return r;
}

/* The rollout plan and the system manifest of commit oid. */
static int
read_files(git_repository *repo, const git_oid *oid, const char *plan_path,
    const char *manifest_path, struct release_info *ri, struct err *e)
{
	struct tree_file plan = { plan_path, MAX_ROLLOUT_SIZE, PLAN_NONE, 0,
		ri->plan_text };
	struct tree_file mf = { manifest_path, MAX_MANIFEST_SIZE, PLAN_NONE,
		0, ri->manifest_text };

	if (read_tree_file(repo, oid, &plan, e) != 0)
		return -1;
	ri->plan = plan.state;
	ri->plan_len = plan.len;
	if (manifest_path == NULL)
		return 0;
	if (read_tree_file(repo, oid, &mf, e) != 0)
		return -1;
	ri->manifest = mf.state;
	ri->manifest_len = mf.len;
	return 0;
}

/* The tagger date of the tag ref at oid when it is a valid signed tag of
 * oid; 0 otherwise. */
static int64_t
tag_time(git_repository *repo, git_odb *odb, git_reference *ref,
    const git_oid *oid, const struct signers *s, time_t now)
{
	const git_oid *t = git_reference_target(ref);
	struct gitsig_result res;
	const git_signature *who;
	git_tag *tag = NULL;
	git_object_t type;
	struct err e;
	size_t size;
	int64_t when = 0;

	if (t == NULL || git_odb_read_header(&size, &type, odb, t) != 0 ||
	    type != GIT_OBJECT_TAG || size > MAX_TAG_OBJECT_SIZE)
		return 0;
	if (git_tag_lookup(&tag, repo, t) != 0)
		return 0;
	if (git_oid_equal(git_tag_target_id(tag), oid) &&
	    git_tag_target_type(tag) == GIT_OBJECT_COMMIT &&
	    (who = git_tag_tagger(tag)) != NULL &&
	    gitsig_verify_tag(repo, t, git_reference_name(ref), s, now, &res,
	    &e) == 0)
		when = (int64_t)who->when.time;
	git_tag_free(tag);
	return when;
}

/* The newest date of the valid signed tags at oid, or 0. */
static int64_t
newest_tag(git_repository *repo, const git_oid *oid,
    const struct signers *s, time_t now)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_odb *odb = NULL;
	int64_t best = 0, t;
	size_t n = 0;

	if (git_repository_odb(&odb, repo) != 0 ||
	    git_reference_iterator_glob_new(&it, repo, "refs/tags/*") != 0)
		goto out;
	while (n++ < MAX_TAGS && git_reference_next(&ref, it) == 0) {
		t = tag_time(repo, odb, ref, oid, s, now);
		if (t > best)
			best = t;
		git_reference_free(ref);
	}
 out:
	git_reference_iterator_free(it);
	git_odb_free(odb);
	return best;
}

int
release_read(git_repository *repo, const git_oid *oid, int64_t commit_time,
    const char *plan_path, const char *manifest_path,
    const struct signers *s, unsigned threshold, time_t now,
    struct release_info *ri, struct err *e)
{
	struct gitsig_result cr;
	struct err ce;
	int64_t t;

	memset(ri, 0, sizeof(*ri));
	ri->time = commit_time;
	if (threshold <= 1 && gitsig_verify_commit(repo, oid, s, now, &cr,
	    &ce) == 0)
		;	/* the commit's own signature released it */
	else if ((t = newest_tag(repo, oid, s, now)) > 0) {
		ri->time = t;
		ri->by_tag = true;
	}
	return read_files(repo, oid, plan_path, manifest_path, ri, e);
}
