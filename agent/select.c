/*
 * Release selection: the newest trusted commit on the first-parent line
 * below the fetched tip, refused when it does not descend from the floor
 * (see select.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "caps.h"
#include "log.h"
#include "select.h"
#include "select_int.h"
#include "timeutil.h"

#define DEFAULT_MAX_WALK	1000

/* Distinct raw keys seen at one commit. */
struct keyset {
	unsigned char	(*k)[32];
	size_t		  n;
	size_t		  alloc;
};

/* snprintf that may truncate, for one-line messages. */
void
line_set(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

const char *
git_msg(void)
{
	const git_error *ge = git_error_last();

	return ge && ge->message ? ge->message : "unknown error";
}

void
deadline_start(struct deadline *d)
{
	d->end_ms = time_monotonic_ms() + (uint64_t)MAX_SELECT_SECONDS * 1000;
}

bool
deadline_passed(const struct deadline *d)
{
	return time_monotonic_ms() > d->end_ms;
}

void
tags_release(struct tagindex *ti)
{
	for (size_t i = 0; i < ti->n; i++) {
		free(ti->v[i].refname);
		free(ti->v[i].name);
	}
	free(ti->v);
	memset(ti, 0, sizeof(*ti));
}

/*
 * Fills t->target and t->name from tag object t->tag, reading its header
 * (type, size) first: a tag over MAX_TAG_OBJECT_SIZE is ignored with a
 * warning and never read nor parsed; anything but a tag of a commit is
 * ignored.
 */
static void
tag_target(git_odb *odb, struct tagref *t)
{
	struct gitsig_tag tag;
	git_odb_object *obj = NULL;
	char hex[REV_HEX];
	git_object_t type;
	size_t size;

	if (git_odb_read_header(&size, &type, odb, &t->tag) != 0 ||
	    type != GIT_OBJECT_TAG)
		return;
	if (size > MAX_TAG_OBJECT_SIZE) {
		git_oid_tostr(hex, sizeof(hex), &t->tag);
		log_warnx("ignoring tag object %s under '%s' (and any other "
		    "ref to it): %zu bytes is larger than %d bytes", hex,
		    t->refname, size, MAX_TAG_OBJECT_SIZE);
		return;
	}
	if (git_odb_read(&obj, odb, &t->tag) != 0)
		return;
	if (gitsig_parse_tag(git_odb_object_data(obj),
	    git_odb_object_size(obj), &tag, NULL) == 0 &&
	    strcmp(tag.type, "commit") == 0 &&
	    strlen(tag.object) == GIT_OID_HEXSZ &&
	    git_oid_fromstr(&t->target, tag.object) == 0) {
		t->name = xstrdup(tag.name);
		t->ok = true;
	}
	git_odb_object_free(obj);
}

static void
tags_push(struct tagindex *ti, const git_oid *tag, const char *refname)
{
	if (ti->n == ti->alloc) {
		ti->alloc = ti->alloc ? ti->alloc * 2 : 16;
		ti->v = xreallocarray(ti->v, ti->alloc, sizeof(*ti->v));
	}
	memset(&ti->v[ti->n], 0, sizeof(ti->v[ti->n]));
	ti->v[ti->n].tag = *tag;
	ti->v[ti->n].refname = xstrdup(refname);
	ti->n++;
}

/* Every refs/tags/ ref that points straight at an object, at most MAX_TAGS. */
static int
tags_list(git_repository *repo, struct tagindex *ti, struct err *e)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int r = -1, gr;

	if (git_reference_iterator_new(&it, repo) != 0) {
		err_set(e, "cannot list refs: %s", git_msg());
		return -1;
	}
	while ((gr = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);

		if (strncmp(name, "refs/tags/", 10) == 0 &&
		    git_reference_type(ref) == GIT_REFERENCE_DIRECT) {
			if (ti->n == MAX_TAGS) {
				log_warnx("more than %d tags: ignoring the "
				    "rest", MAX_TAGS);
				gr = GIT_ITEROVER;
				break;
			}
			tags_push(ti, git_reference_target(ref), name);
		}
		git_reference_free(ref);
		ref = NULL;
	}
	if (gr != GIT_ITEROVER) {
		err_set(e, "cannot list refs: %s", git_msg());
		goto out;
	}
	r = 0;
 out:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return r;
}

static int
tagref_cmp(const void *a, const void *b)
{
	const struct tagref *x = a, *y = b;
	int c = git_oid_cmp(&x->tag, &y->tag);

	return c != 0 ? c : strcmp(x->refname, y->refname);
}

static int
tagref_name_cmp(const void *a, const void *b)
{
	const struct tagref *x = a, *y = b;

	return strcmp(x->refname, y->refname);
}

/*
 * The tag refs and what their annotated tags of commits name, each tag
 * object read once however many refs point at it; a tag object that
 * cannot be read in time is ignored, with the rest (a warning).
 */
int
tags_load(git_repository *repo, struct tagindex *ti,
    const struct deadline *dl, struct err *e)
{
	git_odb *odb = NULL;
	size_t i;
	int r = -1;

	memset(ti, 0, sizeof(*ti));
	if (git_repository_odb(&odb, repo) != 0) {
		err_set(e, "cannot open the object database: %s", git_msg());
		goto out;
	}
	if (tags_list(repo, ti, e) != 0)
		goto out;
	if (ti->n > 0)
		qsort(ti->v, ti->n, sizeof(*ti->v), tagref_cmp);
	for (i = 0; i < ti->n; i++) {
		struct tagref *t = &ti->v[i];

		if (i > 0 && git_oid_equal(&t->tag, &t[-1].tag)) {
			t->ok = t[-1].ok;
			t->target = t[-1].target;
			if (t[-1].name != NULL)
				t->name = xstrdup(t[-1].name);
			continue;
		}
		if (deadline_passed(dl)) {
			log_warnx("reading tags took longer than %d s: "
			    "ignoring %zu of %zu tag refs", MAX_SELECT_SECONDS,
			    ti->n - i, ti->n);
			break;
		}
		tag_target(odb, t);
	}
	if (ti->n > 0)	/* tags are counted in ref name order */
		qsort(ti->v, ti->n, sizeof(*ti->v), tagref_name_cmp);
	r = 0;
 out:
	git_odb_free(odb);
	if (r != 0)
		tags_release(ti);
	return r;
}

/* Counts a key once however many signatures and principals name it. */
static void
keys_add(struct keyset *ks, struct select_trust *t,
    const struct sig_info *info)
{
	size_t have;

	for (size_t i = 0; i < ks->n; i++)
		if (memcmp(ks->k[i], info->key, 32) == 0)
			return;
	if (ks->n == ks->alloc) {
		ks->alloc = ks->alloc ? ks->alloc * 2 : 4;
		ks->k = xreallocarray(ks->k, ks->alloc, sizeof(*ks->k));
	}
	memcpy(ks->k[ks->n++], info->key, 32);
	if (t->nstored < MAX_SELECT_KEYS)
		memcpy(t->keys[t->nstored++], info->key, 32);
	have = strlen(t->who);
	line_set(t->who + have, sizeof(t->who) - have, "%s%s", have ? ", " :
	    "", info->principals);
}

/* The commit's own signature, then the tags at it. */
int
trust_eval(git_repository *repo, const struct tagindex *ti,
    const git_oid *oid, const struct signers *s, time_t now,
    struct select_trust *t, struct err *e)
{
	struct keyset ks = { NULL, 0, 0 };
	struct gitsig_result tr;
	struct err ce, te;
	bool have_signer = false;
	int r = -1;

	memset(t, 0, sizeof(*t));
	ce.msg[0] = '\0';
	if (gitsig_verify_commit(repo, oid, s, now, &t->commit, &ce) != 0)
		line_set(t->commit_why, sizeof(t->commit_why), "%s", ce.msg);
	if (t->commit.outcome == GITSIG_GOOD) {
		keys_add(&ks, t, &t->commit.info);
		t->signer = t->commit.info;
		have_signer = true;
	} else if (t->commit.outcome == GITSIG_ERROR) {
		err_set(e, "%s", ce.msg);
		goto out;
	}
	for (size_t i = 0; i < ti->n; i++) {
		if (!ti->v[i].ok || !git_oid_equal(&ti->v[i].target, oid))
			continue;
		/* Cheaper than verifying: the signature could not count. */
		if (strcmp(ti->v[i].name, ti->v[i].refname + 10) != 0) {
			line_set(t->tags_why, sizeof(t->tags_why), "%s: tag "
			    "'%s' is under ref '%s'", ti->v[i].refname,
			    ti->v[i].name, ti->v[i].refname);
			continue;
		}
		if (gitsig_verify_tag(repo, &ti->v[i].tag, ti->v[i].refname,
		    s, now, &tr, &te) != 0) {
			line_set(t->tags_why, sizeof(t->tags_why), "%s: %s",
			    ti->v[i].refname, te.msg);
			continue;
		}
		t->ntags++;
		keys_add(&ks, t, &tr.info);
		if (!have_signer) {
			t->signer = tr.info;
			have_signer = true;
		}
	}
	t->nkeys = ks.n;
	r = 0;
 out:
	free(ks.k);
	return r;
}

int
select_trust_commit(git_repository *repo, const git_oid *oid,
    const struct signers *s, time_t now, struct select_trust *t,
    struct err *e)
{
	struct tagindex ti;
	struct deadline dl;
	int r;

	deadline_start(&dl);
	if (tags_load(repo, &ti, &dl, e) != 0)
		return -1;
	r = trust_eval(repo, &ti, oid, s, now, t, e);
	tags_release(&ti);
	return r;
}

int
select_parse_version_json(const char *json, size_t len,
    char rev[REV_HEX])
{
	json_t *root, *v;
	const char *s;
	int r = -1;

	if ((root = json_loadb(json, len, 0, NULL)) == NULL)
		return -1;
	v = json_object_get(root, "configurationRevision");
	if (json_is_string(v) && (s = json_string_value(v)) != NULL &&
	    rev_valid(s, strlen(s))) {
		memcpy(rev, s, REV_HEX);
		r = 0;
	}
	json_decref(root);
	return r;
}

int
select_system_floor(git_repository *repo, const char *rev, git_oid *out)
{
	git_odb *odb = NULL;
	git_object_t type;
	size_t size;
	int r = -1;

	if (rev == NULL || !rev_valid(rev, strlen(rev)) ||
	    git_oid_fromstr(out, rev) != 0)
		return -1;
	if (git_repository_odb(&odb, repo) == 0 &&
	    git_odb_read_header(&size, &type, odb, out) == 0 &&
	    type == GIT_OBJECT_COMMIT)
		r = 0;
	git_odb_free(odb);
	return r;
}

static bool
commit_exists(git_repository *repo, const git_oid *oid)
{
	git_odb *odb = NULL;
	git_object_t type;
	size_t size;
	bool ok;

	ok = git_repository_odb(&odb, repo) == 0 &&
	    git_odb_read_header(&size, &type, odb, oid) == 0 &&
	    type == GIT_OBJECT_COMMIT;
	git_odb_free(odb);
	return ok;
}

/* The floor (deployed, else running system, else none); fills res. */
static void
floor_pick(git_repository *repo, const struct select_opts *o,
    struct select_result *res, git_oid *floor)
{
	if (o->deployed != NULL) {
		res->floor = FLOOR_DEPLOYED;
		*floor = *o->deployed;
		res->deployed_unknown = !commit_exists(repo, floor);
	} else if (select_system_floor(repo, o->system_rev, floor) == 0) {
		res->floor = FLOOR_SYSTEM;
	} else {
		res->floor = FLOOR_NONE;
		res->tofu = true;
		return;
	}
	git_oid_tostr(res->floor_rev, sizeof(res->floor_rev), floor);
}

static const char *
floor_name(enum select_floor f)
{
	return f == FLOOR_DEPLOYED ? "deployed revision" :
	    "running system's revision";
}

/* Why commit t is not trusted, in one line. */
static void
untrusted_why(const struct select_trust *t, unsigned threshold, char *out,
    size_t outsz)
{
	if (t->nkeys > 0)
		line_set(out, outsz, "%u of %u required distinct keys",
		    t->nkeys, threshold);
	else if (t->tags_why[0] != '\0')
		line_set(out, outsz, "%s; %s", t->commit_why, t->tags_why);
	else
		line_set(out, outsz, "%s", t->commit_why);
}

int
first_parent(git_repository *repo, git_oid *oid, struct err *e)
{
	git_commit *c = NULL;
	char hex[REV_HEX];
	int r;

	if (git_commit_lookup(&c, repo, oid) != 0) {
		git_oid_tostr(hex, sizeof(hex), oid);
		return err_set(e, "cannot read commit '%s': %s", hex,
		    git_msg());
	}
	if (git_commit_parentcount(c) == 0)
		r = 1;
	else {
		*oid = *git_commit_parent_id(c, 0);
		r = 0;
	}
	git_commit_free(c);
	return r;
}

/*
 * The trust in effect at the n-th commit below the tip (the chain lists
 * the same first-parent line): true when that commit is above a rejected
 * rotation.
 */
static bool
chain_trust(const struct trust_chain *tc, unsigned n,
    const struct signers **s, unsigned *threshold)
{
	const struct trust_level *l;

	if (n < tc->nbroken)
		return true;
	l = &tc->levels[n < tc->n ? tc->lv[n] : 0];
	*s = l->signers;
	*threshold = l->threshold;
	return false;
}

/*
 * Walks first-parent from tip; *found is set when a trusted commit (or
 * the floor) was reached, with res->oid, signer and skipped filled.
 */
static int
walk(git_repository *repo, const struct tagindex *ti, const git_oid *tip,
    const git_oid *floor, const struct select_opts *o, unsigned threshold,
    unsigned max_walk, const struct deadline *dl,
    const struct trust_chain *tc, struct select_result *res, bool *found,
    struct err *e)
{
	struct select_trust t;
	const struct signers *s = o->signers;
	char hex[REV_HEX];
	git_oid oid = *tip;
	int pr;

	*found = false;
	for (unsigned n = 0; n < max_walk; n++) {
		if (deadline_passed(dl)) {
			git_oid_tostr(hex, sizeof(hex), &oid);
			return err_set(e, "selection took longer than %d s "
			    "(stopped at commit %s, %u commits below the tip)",
			    MAX_SELECT_SECONDS, hex, n);
		}
		if (tc != NULL && chain_trust(tc, n, &s, &threshold)) {
			/* above a rejected rotation: never trusted */
			memset(&t, 0, sizeof(t));
			line_set(t.commit_why, sizeof(t.commit_why), "%s",
			    tc->broken_why);
		} else if (trust_eval(repo, ti, &oid, s, o->now, &t, e) != 0)
			return -1;
		if (floor != NULL && git_oid_equal(&oid, floor))
			res->at_floor = *found = true;
		else if (t.nkeys >= threshold)
			*found = true;
		if (*found) {
			res->oid = oid;
			res->nkeys = t.nkeys;
			res->ntags = t.ntags;
			if (t.nkeys > 0)
				res->signer = t.signer;
			return 0;
		}
		if (n == 0) {
			untrusted_why(&t, threshold, res->tip_why,
			    sizeof(res->tip_why));
			/* a refused rotation below it refuses it too */
			res->tip_bad_signature =
			    t.commit.outcome == GITSIG_BAD ||
			    t.commit.outcome == GITSIG_MALFORMED_OBJECT ||
			    (tc != NULL && n < tc->nbroken);
		}
		res->skipped++;
		if ((pr = first_parent(repo, &oid, e)) != 0)
			return pr == 1 ? 0 : -1;
	}
	return 0;
}

static void
commit_time(git_repository *repo, const struct select_opts *o,
    struct select_result *res)
{
	git_commit *c = NULL;

	if (git_commit_lookup(&c, repo, &res->oid) != 0)
		return;
	res->commit_time = git_commit_time(c);
	git_commit_free(c);
	/*
	 * The age in seconds as an unsigned difference (a committer date can
	 * be anything down to INT64_MIN), compared without multiplying.
	 */
	if (o->max_age_ms > 0 && (int64_t)o->now > res->commit_time &&
	    (uint64_t)o->now - (uint64_t)res->commit_time >
	    o->max_age_ms / 1000)
		res->stale_release = true;
}

/* Candidate vs floor: 0 when it descends (or no floor), else -1. */
static int
rollback_check(git_repository *repo, const git_oid *floor,
    const struct select_opts *o, struct select_result *res, struct err *e)
{
	const char *ref = o->ref ? o->ref : "the tracked ref";
	int d;

	if (res->tofu || res->at_floor)
		return 0;
	if (res->deployed_unknown) {
		res->outcome = SELECT_ROLLBACK;
		res->rollback = true;
		return err_set(e, "refusing %s on %s: deployed revision %s is "
		    "not in the mirror, so it cannot descend from it",
		    res->rev, ref, res->floor_rev);
	}
	d = git_graph_descendant_of(repo, &res->oid, floor);
	if (d < 0) {
		res->outcome = SELECT_ERROR;
		return err_set(e, "cannot compare %s with %s: %s", res->rev,
		    res->floor_rev, git_msg());
	}
	if (d == 0) {
		res->outcome = SELECT_ROLLBACK;
		res->rollback = true;
		return err_set(e, "refusing rollback: %s on %s does not "
		    "descend from the %s %s", res->rev, ref,
		    floor_name(res->floor), res->floor_rev);
	}
	return 0;
}

/*
 * trust.follow_repo: the trust in effect at the result, refused when it
 * is older than the recorded one or expired (unless trust.on_expired is
 * warn).
 */
static int
trust_check(const struct trust_chain *tc, const struct select_opts *o,
    struct select_result *res, struct err *e)
{
	const struct select_repo_trust *rt = o->repo_trust;
	const struct trust_level *l;
	char when[TIME_RFC3339_LEN];
	size_t at;

	res->trust_repo = true;
	line_set(res->trust_chain, sizeof(res->trust_chain), "%s",
	    buf_str(&tc->text));
	if ((l = trust_chain_at(tc, &res->oid, &at)) == NULL) {
		res->outcome = SELECT_ERROR;	/* the walk skips those */
		return err_set(e, "%s", tc->broken_why);
	}
	res->trust_version = l->version;
	memcpy(res->trust_allowed_hash, l->allowed_hash,
	    sizeof(res->trust_allowed_hash));
	memcpy(res->trust_file_hash, l->file_hash,
	    sizeof(res->trust_file_hash));
	res->trust_expires = l->expires;
	if (!res->at_floor && l->version < rt->rec_version) {
		res->outcome = SELECT_ROLLBACK;
		res->rollback = res->trust_rollback = true;
		return err_set(e, "refusing trust rollback: %s is under trust "
		    "version %llu, older than the recorded version %llu",
		    res->rev, (unsigned long long)l->version,
		    (unsigned long long)rt->rec_version);
	}
	if (l->expires == 0 || o->now < l->expires || res->at_floor)
		return 0;
	res->trust_expired = true;
	if (time_format_rfc3339(l->expires, when, sizeof(when)) != 0)
		snprintf(when, sizeof(when), "?");
	if (rt->warn_expired) {
		log_warnx("trust-expired: trust version %llu expired at %s; "
		    "deploying %s as trust.on_expired is warn",
		    (unsigned long long)l->version, when, res->rev);
		return 0;
	}
	res->outcome = SELECT_NONE;
	return err_set(e, "trust-expired: trust version %llu expired at %s: "
	    "refusing %s", (unsigned long long)l->version, when, res->rev);
}

int
select_release(git_repository *repo, const git_oid *tip,
    const struct select_opts *o, struct select_result *res, struct err *e)
{
	unsigned threshold = o->threshold ? o->threshold : 1;
	unsigned max_walk = o->max_walk ? o->max_walk : DEFAULT_MAX_WALK;
	char tiphex[REV_HEX];
	struct tagindex ti = { NULL, 0, 0 };
	struct trust_chain tc;
	struct deadline dl;
	git_oid floor;
	bool found;
	int r = -1;

	deadline_start(&dl);
	memset(res, 0, sizeof(*res));
	memset(&tc, 0, sizeof(tc));
	git_oid_tostr(tiphex, sizeof(tiphex), tip);
	floor_pick(repo, o, res, &floor);
	if (tags_load(repo, &ti, &dl, e) != 0 ||
	    (o->repo_trust != NULL && trust_chain_build_ti(repo, &ti, &dl,
	    tip, res->tofu || res->deployed_unknown ? NULL : &floor, o, &tc,
	    e) != 0) ||
	    walk(repo, &ti, tip, res->tofu ? NULL : &floor, o, threshold,
	    max_walk, &dl, o->repo_trust ? &tc : NULL, res, &found, e) != 0) {
		res->outcome = SELECT_ERROR;
		goto out;
	}
	if (!found) {
		res->outcome = SELECT_NONE;
		if (tc.nbroken > 0 && tc.nbroken >= tc.n)
			err_set(e, "%s", tc.broken_why);
		else
			err_set(e, "no commit signed by %u trusted key%s within "
			    "%u first-parent commits of %s on %s", threshold,
			    threshold == 1 ? "" : "s", max_walk, tiphex,
			    o->ref ? o->ref : "the tracked ref");
		goto out;
	}
	git_oid_tostr(res->rev, sizeof(res->rev), &res->oid);
	commit_time(repo, o, res);
	if (rollback_check(repo, &floor, o, res, e) != 0 ||
	    (o->repo_trust != NULL && trust_check(&tc, o, res, e) != 0))
		goto out;
	res->outcome = SELECT_OK;
	r = 0;
 out:
	if (r != 0)
		line_set(res->why, sizeof(res->why), "%s", e->msg);
	else if (res->at_floor)
		line_set(res->why, sizeof(res->why), "nothing newer than the "
		    "%s %s is signed", floor_name(res->floor), res->rev);
	else
		line_set(res->why, sizeof(res->why), "selected %s signed by "
		    "%s (%s %s)%s", res->rev, res->signer.principals,
		    res->signer.key_type, res->signer.fingerprint,
		    res->tofu ? "; no deployed revision on record: trust on "
		    "first use" : "");
	trust_chain_release(&tc);
	tags_release(&ti);
	return r;
}
