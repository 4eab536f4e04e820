/*
 * Signatures inside raw git objects, split the way git itself splits them
 * before it hands payload and signature to `ssh-keygen -Y verify`, and
 * verified with sshsig_verify() for the namespace "git".
 *
 * Commits (git's parse_buffer_signed_by_header() for a SHA-1 repository):
 *  - only the header section counts (everything before the first empty
 *    line); a "gpgsig" line in the message is just text;
 *  - the signature is the value of the "gpgsig " header plus its
 *    continuation lines (lines starting with a space), without the leading
 *    space of each;
 *  - the payload is the object without every header whose line starts with
 *    "gpgsig" (so "gpgsig-sha256", the signature over the object's SHA-256
 *    form, is removed from the payload as git does, and never counts as a
 *    signature here: we only deal with SHA-1 repositories) nor their
 *    continuation lines;
 *  - stricter than git: a second "gpgsig " header makes the object
 *    malformed (git concatenates both values and ssh-keygen reads the first
 *    armor, ignoring the rest).
 *
 * Tags (git's parse_signature()):
 *  - the header must start with "object <hex>", "type <type>", "tag <name>"
 *    (what git's parse_tag_buffer() requires); the signature starts at the
 *    last line, in the message part, that begins with one of git's
 *    signature markers ("-----BEGIN SSH SIGNATURE-----", and the PGP/X.509
 *    ones, which we then refuse as not SSH); the payload is everything
 *    before it, with the "gpgsig " and "gpgsig-sha256 " header blocks
 *    removed from the header section as git's remove_signature() does (at
 *    most two; a block right after another replaces it); stricter than
 *    git: a third block makes the object malformed (git writes past its
 *    array);
 *  - a signed tag must have a "tagger" header (git verify-tag refuses one
 *    without it).
 *
 * Stricter than git on purpose, to bound what a hostile server makes us
 * read: a tag object over MAX_TAG_OBJECT_SIZE (256 KiB) and a commit over
 * MAX_OBJECT_SIZE (16 MiB) are not verified (git verifies any size).
 *
 * Both: git gives ssh-keygen the "committer" (commit) or "tagger" (tag)
 * date as its verify time, in local time as YYYYMMDDHHMMSS; from the year
 * 10000 on ssh-keygen cannot read it and git refuses the signature, so we
 * refuse it too (GITSIG_MALFORMED_OBJECT).  We never verify at that date
 * (allowed_signers.h: validity is checked at the current time).
 */
#ifndef NIXPULL_GITSIG_H
#define NIXPULL_GITSIG_H

#include <stddef.h>
#include <time.h>

#include <git2.h>

#include "buf.h"
#include "caps.h"
#include "err.h"
#include "sshsig.h"

#define GITSIG_SIGNED	0
#define GITSIG_UNSIGNED	1

#define GITSIG_HEXSZ	64	/* room for a SHA-256 object name */

struct gitsig_tag {
	char	object[GITSIG_HEXSZ + 1];	/* the "object" header */
	char	type[16];			/* the "type" header */
	char	name[MAX_TAG_NAME + 1];		/* the "tag" header */
};

/*
 * Splits a raw commit object (as git_odb_read returns it, without the
 * "commit <len>\0" prefix).  Returns GITSIG_SIGNED with payload and sig
 * filled, GITSIG_UNSIGNED (payload and sig left empty), or -1 with e set
 * when the object is malformed.  payload and sig must be initialised.
 */
int	 gitsig_split_commit(const char *obj, size_t len, struct buf *payload,
	    struct buf *sig, struct err *e);

/* Same for a raw tag object; tag (may be NULL) gets its headers. */
int	 gitsig_split_tag(const char *obj, size_t len, struct gitsig_tag *tag,
	    struct buf *payload, struct buf *sig, struct err *e);

/* Parses only the headers of a raw tag object: 0 or -1. */
int	 gitsig_parse_tag(const char *obj, size_t len, struct gitsig_tag *tag,
	    struct err *e);

enum gitsig_outcome {
	GITSIG_GOOD,		/* signed by a trusted key */
	GITSIG_NO_SIGNATURE,	/* not signed at all */
	GITSIG_MALFORMED_OBJECT, /* split failed (e.g. two signature headers) */
	GITSIG_BAD,		/* a signature that sshsig refused: see info.status */
	GITSIG_TAG_NAME,	/* tag header does not match its ref name */
	GITSIG_ERROR,		/* the object could not be read */
};

struct gitsig_result {
	enum gitsig_outcome	outcome;
	struct sig_info		info;	/* filled when a signature was found */
	struct gitsig_tag	tag;	/* tags only */
};

/*
 * Reads commit oid from repo's object database (its header first: size
 * capped at MAX_OBJECT_SIZE, MAX_TAG_OBJECT_SIZE for a tag, before the
 * object is read) and verifies its signature against s at time now.
 * Returns 0 when res->outcome is GITSIG_GOOD, else -1 with e saying why
 * ("unsigned commit 1234abcd", "signature by unknown key SHA256:...").
 */
int	 gitsig_verify_commit(git_repository *repo, const git_oid *oid,
	    const struct signers *s, time_t now, struct gitsig_result *res,
	    struct err *e);

/*
 * Same for a tag object.  When refname is not NULL (a full "refs/tags/..."
 * name or a short one) the tag's "tag" header must equal its short name,
 * else GITSIG_TAG_NAME: a tag re-pointed under another name never counts.
 */
int	 gitsig_verify_tag(git_repository *repo, const git_oid *oid,
	    const char *refname, const struct signers *s, time_t now,
	    struct gitsig_result *res, struct err *e);

/* "good", "unsigned", "malformed", "bad", "tag-name", "error" */
const char *gitsig_outcome_name(enum gitsig_outcome o);

#endif
