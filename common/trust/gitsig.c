/*
 * Signatures inside raw git objects: split exactly as git does (see
 * gitsig.h for the rules and where we are stricter), then verify with
 * sshsig_verify() for the namespace "git".
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "gitsig.h"
#include "caps.h"

#define SIG_HEADER	"gpgsig"	/* SHA-1 repositories */
#define SIG_HEADER_256	"gpgsig-sha256"	/* the other algorithm's */
#define SSH_MARKER	"-----BEGIN SSH SIGNATURE-----"

/* Every line start git's get_format_by_sig() knows (gpg-interface.c). */
static const char *const sig_markers[] = {
	"-----BEGIN PGP SIGNATURE-----",
	"-----BEGIN PGP MESSAGE-----",
	"-----BEGIN SIGNED MESSAGE-----",
	SSH_MARKER,
};

static bool
has_prefix(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

/* The start of the next line (or end). */
static const char *
line_next(const char *line, const char *end)
{
	const char *nl = memchr(line, '\n', end - line);

	return nl ? nl + 1 : end;
}

static int
add(struct buf *b, const char *p, const char *q, const char *what,
    struct err *e)
{
	if (buf_add(b, p, q - p) == -1)
		return err_set(e, "%s longer than %zu bytes", what, b->max);
	return 0;
}

int
gitsig_split_commit(const char *obj, size_t len, struct buf *payload,
    struct buf *sig, struct err *e)
{
	const char *line = obj, *end = obj + len, *next;
	bool in_sig = false, other_sig = false, saw_sig = false;

	buf_reset(payload);
	buf_reset(sig);
	for (; line < end; line = next) {
		next = line_next(line, end);
		if (in_sig && line[0] == ' ') {
			if (add(sig, line + 1, next, "signature", e) == -1)
				return -1;
			continue;
		}
		if (has_prefix(line, end, SIG_HEADER " ")) {
			if (saw_sig)
				return err_set(e, "more than one '"
				    SIG_HEADER "' header");
			if (add(sig, line + strlen(SIG_HEADER " "), next,
			    "signature", e) == -1)
				return -1;
			saw_sig = in_sig = true;
			other_sig = false;
			continue;
		}
		in_sig = false;
		if (has_prefix(line, end, SIG_HEADER))
			other_sig = true;
		else if (other_sig && line[0] != ' ')
			other_sig = false;
		if (line[0] == '\n')
			next = end;	/* the message: copied whole */
		if (!other_sig && add(payload, line, next, "payload", e) == -1)
			return -1;
	}
	if (!saw_sig) {
		buf_reset(payload);
		return GITSIG_UNSIGNED;
	}
	return GITSIG_SIGNED;
}

/* One "NAME value\n" header at *pp into out (size outsz): 0 or -1. */
static int
tag_header(const char **pp, const char *end, const char *name, char *out,
    size_t outsz, struct err *e)
{
	const char *p = *pp, *nl;
	size_t n;

	if (!has_prefix(p, end, name) || p + strlen(name) >= end ||
	    p[strlen(name)] != ' ')
		return err_set(e, "tag object: no '%s' header", name);
	p += strlen(name) + 1;
	if ((nl = memchr(p, '\n', end - p)) == NULL)
		return err_set(e, "tag object: unterminated '%s' header", name);
	n = nl - p;
	if (n == 0 || n >= outsz || memchr(p, '\0', n) != NULL)
		return err_set(e, "tag object: bad '%s' header", name);
	memcpy(out, p, n);
	out[n] = '\0';
	*pp = nl + 1;
	return 0;
}

int
gitsig_parse_tag(const char *obj, size_t len, struct gitsig_tag *tag,
    struct err *e)
{
	const char *p = obj, *end = obj + len;
	size_t n;

	memset(tag, 0, sizeof(*tag));
	if (tag_header(&p, end, "object", tag->object, sizeof(tag->object),
	    e) == -1 ||
	    tag_header(&p, end, "type", tag->type, sizeof(tag->type), e) == -1 ||
	    tag_header(&p, end, "tag", tag->name, sizeof(tag->name), e) == -1)
		return -1;
	n = strlen(tag->object);
	if ((n != 40 && n != 64) ||
	    strspn(tag->object, "0123456789abcdef") != n)
		return err_set(e, "tag object: bad object name '%s'",
		    tag->object);
	return 0;
}

/* The value of header NAME in the header section, or NULL. */
static const char *
header_find(const char *obj, const char *end, const char *name)
{
	const char *line, *next;
	size_t n = strlen(name);

	for (line = obj; line < end && line[0] != '\n'; line = next) {
		next = line_next(line, end);
		if (has_prefix(line, end, name) && line + n < end &&
		    line[n] == ' ')
			return line + n + 1;
	}
	return NULL;
}

/*
 * The date of a "committer"/"tagger" ident as git reads it for the
 * verify-time it gives ssh-keygen (digits after the last '>'), or 0 when
 * there is none (git then verifies at the current time); saturates.
 */
static uint64_t
ident_date(const char *v, const char *end)
{
	const char *eol = memchr(v, '\n', end - v), *p, *gt = NULL;
	uint64_t t = 0;

	if (eol == NULL)
		eol = end;
	for (p = v; p < eol; p++)
		if (*p == '>')
			gt = p;
	if (gt == NULL)
		return 0;
	for (p = gt + 1; p < eol && *p == ' '; p++)
		;
	for (; p < eol && *p >= '0' && *p <= '9'; p++)
		t = t > (UINT64_MAX - 9) / 10 ? UINT64_MAX : t * 10 +
		    (uint64_t)(*p - '0');
	return t;
}

/*
 * git hands ssh-keygen the signer's date as "-Overify-time=YYYYMMDDHHMMSS"
 * in local time; from the year 10000 on ssh-keygen cannot read it and the
 * signature never verifies.  Refuse those as git does.
 */
static int
date_check(const char *obj, size_t len, const char *header, struct err *e)
{
	const char *v = header_find(obj, obj + len, header);
	uint64_t t;
	time_t tt;
	struct tm tm;

	if (v == NULL || (t = ident_date(v, obj + len)) == 0)
		return 0;
	tt = (time_t)t;
	if (t > (uint64_t)INT64_MAX || (uint64_t)tt != t ||
	    localtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return err_set(e, "%s date %llu is in the year 10000 or later "
		    "(git cannot verify it)", header, (unsigned long long)t);
	return 0;
}

/* Where the message starts (after the first empty line), or end. */
static const char *
message_start(const char *obj, const char *end)
{
	const char *line, *next;

	for (line = obj; line < end; line = next) {
		next = line_next(line, end);
		if (line[0] == '\n')
			return next;
	}
	return end;
}

static bool
is_marker(const char *line, const char *end)
{
	for (size_t i = 0; i < sizeof(sig_markers) / sizeof(sig_markers[0]);
	    i++)
		if (has_prefix(line, end, sig_markers[i]))
			return true;
	return false;
}

/* At most two header blocks, as in git's remove_signature(). */
#define TAG_SIG_BLOCKS	2

/* Is line a "gpgsig " or "gpgsig-sha256 " header? */
static bool
is_sig_header(const char *line, const char *end)
{
	return has_prefix(line, end, SIG_HEADER " ") ||
	    has_prefix(line, end, SIG_HEADER_256 " ");
}

/*
 * git's remove_signature(): the "gpgsig " and "gpgsig-sha256 " header
 * blocks of the header section, as [start[i], stop[i]), at most
 * TAG_SIG_BLOCKS of them in order (a block that directly follows another
 * one takes its place); a further block is an error (git would write past
 * its array).  Unused slots are NULL.
 */
static int
tag_other_sig(const char *obj, const char *end,
    const char *start[TAG_SIG_BLOCKS], const char *stop[TAG_SIG_BLOCKS],
    struct err *e)
{
	const char *line, *next;
	bool in_sig = false;
	size_t n = 0;

	for (n = 0; n < TAG_SIG_BLOCKS; n++)
		start[n] = stop[n] = NULL;
	n = 0;
	for (line = obj; line < end; line = next) {
		next = line_next(line, end);
		if (in_sig && line[0] == ' ')
			stop[n] = next;
		else if (has_prefix(line, end, SIG_HEADER)) {
			if (is_sig_header(line, end)) {
				if (n == TAG_SIG_BLOCKS)
					return err_set(e, "tag object: more "
					    "than %d signature headers",
					    TAG_SIG_BLOCKS);
				start[n] = line;
				stop[n] = next;
				in_sig = true;
			}
		} else {
			if (in_sig)
				n++;
			in_sig = false;
			if (line[0] == '\n')
				break;
		}
	}
	return 0;
}

int
gitsig_split_tag(const char *obj, size_t len, struct gitsig_tag *tag,
    struct buf *payload, struct buf *sig, struct err *e)
{
	struct gitsig_tag scratch;
	const char *end = obj + len, *line, *next, *match = NULL, *from;
	const char *ostart[TAG_SIG_BLOCKS], *ostop[TAG_SIG_BLOCKS];
	size_t i;

	buf_reset(payload);
	buf_reset(sig);
	if (gitsig_parse_tag(obj, len, tag ? tag : &scratch, e) == -1)
		return -1;
	for (line = message_start(obj, end); line < end; line = next) {
		next = line_next(line, end);
		if (is_marker(line, end))
			match = line;
	}
	if (match == NULL)
		return GITSIG_UNSIGNED;
	if (!has_prefix(match, end, SSH_MARKER))
		return err_set(e, "tag signature is not an SSH signature");
	if (header_find(obj, end, "tagger") == NULL)
		return err_set(e, "signed tag object without a 'tagger' header "
		    "(git verify-tag refuses it)");
	if (tag_other_sig(obj, match, ostart, ostop, e) == -1)
		return -1;
	from = obj;
	for (i = 0; i < TAG_SIG_BLOCKS && ostart[i] != NULL; i++) {
		if (add(payload, from, ostart[i], "payload", e) == -1)
			return -1;
		from = ostop[i];
	}
	if (add(payload, from, match, "payload", e) == -1 ||
	    add(sig, match, end, "signature", e) == -1)
		return -1;
	return GITSIG_SIGNED;
}

const char *
gitsig_outcome_name(enum gitsig_outcome o)
{
	switch (o) {
	case GITSIG_GOOD:
		return "good";
	case GITSIG_NO_SIGNATURE:
		return "unsigned";
	case GITSIG_MALFORMED_OBJECT:
		return "malformed";
	case GITSIG_BAD:
		return "bad";
	case GITSIG_TAG_NAME:
		return "tag-name";
	case GITSIG_ERROR:
		return "error";
	}
	return "unknown";
}

/* Reads oid, which must be of type want, into *data (a git_odb_object). */
static int
object_read(git_repository *repo, const git_oid *oid, git_object_t want,
    git_odb_object **out, struct err *e)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_odb *odb = NULL;
	git_object_t type;
	size_t size;
	int r = -1;

	git_oid_tostr(hex, sizeof(hex), oid);
	if (git_repository_odb(&odb, repo) != 0 ||
	    git_odb_read_header(&size, &type, odb, oid) != 0) {
		const git_error *ge = git_error_last();

		err_set(e, "cannot read object '%s': %s", hex,
		    ge ? ge->message : "unknown error");
		goto out;
	}
	if (type != want) {
		err_set(e, "object '%s' is a %s, not a %s", hex,
		    git_object_type2string(type), git_object_type2string(want));
		goto out;
	}
	if (size > (want == GIT_OBJECT_TAG ? MAX_TAG_OBJECT_SIZE :
	    MAX_OBJECT_SIZE)) {
		err_set(e, "%s object '%s' of %zu bytes is larger than %d "
		    "bytes", git_object_type2string(want), hex, size,
		    want == GIT_OBJECT_TAG ? MAX_TAG_OBJECT_SIZE :
		    MAX_OBJECT_SIZE);
		goto out;
	}
	if (git_odb_read(out, odb, oid) != 0) {
		const git_error *ge = git_error_last();

		err_set(e, "cannot read object '%s': %s", hex,
		    ge ? ge->message : "unknown error");
		goto out;
	}
	r = 0;
 out:
	git_odb_free(odb);
	return r;
}

/* Splits (commit or tag) and verifies; fills res. */
static int
verify_raw(git_odb_object *obj, bool is_tag, const struct signers *s,
    time_t now, struct gitsig_result *res, struct err *e)
{
	struct buf payload, sig;
	const char *data = git_odb_object_data(obj);
	size_t len = git_odb_object_size(obj);
	int r = -1, split;

	buf_init(&payload, MAX_OBJECT_SIZE);
	buf_init(&sig, MAX_ARMOR_SIZE);
	if (is_tag)
		split = gitsig_split_tag(data, len, &res->tag, &payload, &sig,
		    e);
	else
		split = gitsig_split_commit(data, len, &payload, &sig, e);
	if (split == -1) {
		res->outcome = GITSIG_MALFORMED_OBJECT;
		err_prefix(e, "malformed signature");
		goto out;
	}
	if (split == GITSIG_UNSIGNED) {
		res->outcome = GITSIG_NO_SIGNATURE;
		err_set(e, "no signature");
		goto out;
	}
	if (date_check(data, len, is_tag ? "tagger" : "committer", e) != 0) {
		res->outcome = GITSIG_MALFORMED_OBJECT;
		goto out;
	}
	if (sshsig_verify(s, buf_str(&sig), sig.len, buf_str(&payload),
	    payload.len, "git", now, &res->info, e) != 0) {
		res->outcome = GITSIG_BAD;
		goto out;
	}
	res->outcome = GITSIG_GOOD;
	r = 0;
 out:
	buf_release(&payload);
	buf_release(&sig);
	return r;
}

/* Reads object oid of type want, then verify_raw(); errors name it. */
static int
verify_object(git_repository *repo, const git_oid *oid, bool is_tag,
    const struct signers *s, time_t now, struct gitsig_result *res,
    struct err *e)
{
	git_odb_object *obj = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int r = -1;

	memset(res, 0, sizeof(*res));
	git_oid_tostr(hex, sizeof(hex), oid);
	if (object_read(repo, oid, is_tag ? GIT_OBJECT_TAG : GIT_OBJECT_COMMIT,
	    &obj, e) == -1) {
		res->outcome = GITSIG_ERROR;
		goto out;
	}
	if (verify_raw(obj, is_tag, s, now, res, e) == -1) {
		err_prefix(e, "%s %s", is_tag ? "tag" : "commit", hex);
		goto out;
	}
	r = 0;
 out:
	git_odb_object_free(obj);
	return r;
}

int
gitsig_verify_commit(git_repository *repo, const git_oid *oid,
    const struct signers *s, time_t now, struct gitsig_result *res,
    struct err *e)
{
	return verify_object(repo, oid, false, s, now, res, e);
}

static const char *
short_tag_name(const char *refname)
{
	if (strncmp(refname, "refs/tags/", 10) == 0)
		return refname + 10;
	return refname;
}

int
gitsig_verify_tag(git_repository *repo, const git_oid *oid,
    const char *refname, const struct signers *s, time_t now,
    struct gitsig_result *res, struct err *e)
{
	char hex[GIT_OID_HEXSZ + 1];

	if (verify_object(repo, oid, true, s, now, res, e) == -1)
		return -1;
	if (refname != NULL &&
	    strcmp(res->tag.name, short_tag_name(refname)) != 0) {
		res->outcome = GITSIG_TAG_NAME;
		git_oid_tostr(hex, sizeof(hex), oid);
		return err_set(e, "tag %s: tag '%s' is under ref '%s'", hex,
		    res->tag.name, refname);
	}
	return 0;
}
