/* Splitting raw commit and tag objects into payload and signature. */
#include <string.h>

#include "gitsig.h"
#include "t.h"

#define HDR	"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" \
		"author A U Thor <a@example.com> 1700000000 +0000\n" \
		"committer C O Mitter <c@example.com> 1700000000 +0000\n"
#define SIG	"gpgsig -----BEGIN SSH SIGNATURE-----\n" \
		" U1NIU0lH\n" \
		" \n" \
		" -----END SSH SIGNATURE-----\n"
#define ARMOR	"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n\n" \
		"-----END SSH SIGNATURE-----\n"

static struct buf payload, sig;

static int
split_commit(const char *obj)
{
	struct err e;

	e.msg[0] = '\0';
	return gitsig_split_commit(obj, strlen(obj), &payload, &sig, &e);
}

static int
split_tag(const char *obj, struct gitsig_tag *tag)
{
	struct err e;

	e.msg[0] = '\0';
	return gitsig_split_tag(obj, strlen(obj), tag, &payload, &sig, &e);
}

static void
test_commit(void)
{
	T_EQ_INT(split_commit(HDR "\nmsg\n"), GITSIG_UNSIGNED);
	T_EQ_INT(payload.len, 0);

	T_EQ_INT(split_commit(HDR SIG "\nmsg\n"), GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), HDR "\nmsg\n");
	T_EQ_STR(buf_str(&sig), ARMOR);

	/* header order does not matter; the signature may come first */
	T_EQ_INT(split_commit("tree 1\n" SIG "parent 2\n\nm"), GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), "tree 1\nparent 2\n\nm");

	/* only the header section counts */
	T_EQ_INT(split_commit(HDR "\nmsg\n" SIG), GITSIG_UNSIGNED);
	T_EQ_INT(split_commit(HDR "\n" SIG), GITSIG_UNSIGNED);

	/* two signature headers: malformed (git would concatenate) */
	T_EQ_INT(split_commit(HDR SIG SIG "\nmsg\n"), -1);
	T_EQ_INT(split_commit(SIG HDR SIG "\nmsg\n"), -1);

	/* gpgsig-sha256 is not our signature, but leaves the payload */
	T_EQ_INT(split_commit(HDR "gpgsig-sha256 x\n y\n\nmsg\n"),
	    GITSIG_UNSIGNED);
	T_EQ_INT(split_commit(HDR "gpgsig-sha256 x\n y\n" SIG "\nmsg\n"),
	    GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), HDR "\nmsg\n");
	T_EQ_STR(buf_str(&sig), ARMOR);
	T_EQ_INT(split_commit(HDR SIG "gpgsigx y\n z\nencoding a\n\nm"),
	    GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), HDR "encoding a\n\nm");

	/* continuation lines of other headers stay */
	T_EQ_INT(split_commit(HDR "mergetag object 1\n type commit\n" SIG
	    "\nm"), GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), HDR "mergetag object 1\n type commit\n"
	    "\nm");

	/* no message, no final newline */
	T_EQ_INT(split_commit(HDR "gpgsig abc"), GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), HDR);
	T_EQ_STR(buf_str(&sig), "abc");
	T_EQ_INT(split_commit(""), GITSIG_UNSIGNED);
	T_EQ_INT(split_commit("gpgsig"), GITSIG_UNSIGNED);
}

#define TAGHDR	"object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" \
		"type commit\n" \
		"tag v1.0\n" \
		"tagger T <t@example.com> 1700000000 +0000\n"

static void
test_tag(void)
{
	struct gitsig_tag tag;
	struct err e;

	T_EQ_INT(split_tag(TAGHDR "\nmsg\n", &tag), GITSIG_UNSIGNED);
	T_EQ_STR(tag.name, "v1.0");
	T_EQ_STR(tag.type, "commit");
	T_EQ_STR(tag.object, "4b825dc642cb6eb9a060e54bf8d69288fbee4904");

	T_EQ_INT(split_tag(TAGHDR "\nmsg\n" ARMOR, &tag), GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), TAGHDR "\nmsg\n");
	T_EQ_STR(buf_str(&sig), ARMOR);

	/* signed without a tagger: refused (git verify-tag); unsigned: fine */
	T_EQ_INT(split_tag("object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	    "type commit\ntag v1.0\n\nmsg\n" ARMOR, &tag), -1);
	T_EQ_INT(split_tag("object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	    "type commit\ntag v1.0\n\nmsg\n", &tag), GITSIG_UNSIGNED);
	/* "tagger" in the message is not the header */
	T_EQ_INT(split_tag("object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	    "type commit\ntag v1.0\n\ntagger x\n" ARMOR, &tag), -1);

	/* the last armor start wins; junk after it stays in the signature */
	T_EQ_INT(split_tag(TAGHDR "\nmsg\n" ARMOR ARMOR "junk\n", &tag),
	    GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), TAGHDR "\nmsg\n" ARMOR);
	T_EQ_STR(buf_str(&sig), ARMOR "junk\n");

	/* a marker not at a line start is text */
	T_EQ_INT(split_tag(TAGHDR "\nsee -----BEGIN SSH SIGNATURE-----\n",
	    &tag), GITSIG_UNSIGNED);

	/* the last marker is PGP: git would hand it to gpg; we refuse */
	T_EQ_INT(split_tag(TAGHDR "\nm\n" ARMOR
	    "-----BEGIN PGP SIGNATURE-----\nx\n", &tag), -1);

	/* gpgsig-sha256 header block is not part of the payload */
	T_EQ_INT(split_tag(TAGHDR "gpgsig-sha256 a\n b\n\nm\n" ARMOR, &tag),
	    GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), TAGHDR "\nm\n");

	/*
	 * git's remove_signature() also drops "gpgsig " blocks, and up to two
	 * blocks; adjacent blocks share one slot (the later one wins); a
	 * line starting "gpgsig" that is neither does not end a block.
	 */
	T_EQ_INT(split_tag(TAGHDR "gpgsig a\n b\n\nm\n" ARMOR, &tag),
	    GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), TAGHDR "\nm\n");
	T_EQ_INT(split_tag(TAGHDR "gpgsig a\nx y\ngpgsig-sha256 b\n c\n"
	    "\nm\n" ARMOR, &tag), GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), TAGHDR "x y\n\nm\n");
	T_EQ_INT(split_tag(TAGHDR "gpgsig a\ngpgsig-sha256 b\n c\n"
	    "\nm\n" ARMOR, &tag), GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), TAGHDR "gpgsig a\n\nm\n");
	T_EQ_INT(split_tag(TAGHDR "gpgsig-sha256 a\ngpgsigx\n b\nz\n"
	    "\nm\n" ARMOR, &tag), GITSIG_SIGNED);
	T_EQ_STR(buf_str(&payload), TAGHDR "z\n\nm\n");
	/* a third block: git writes past its array; we refuse */
	T_EQ_INT(split_tag(TAGHDR "gpgsig a\nx\ngpgsig b\ny\ngpgsig c\n"
	    "\nm\n" ARMOR, &tag), -1);

	/* headers git requires, in order */
	T_EQ_INT(split_tag("type commit\ntag v1\n\nm\n" ARMOR, &tag), -1);
	T_EQ_INT(split_tag("object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	    "tag v1\ntype commit\n\nm\n" ARMOR, &tag), -1);
	T_EQ_INT(split_tag("object 4b825dc6\ntype commit\ntag v1\n\nm\n",
	    &tag), -1);
	T_EQ_INT(split_tag("object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	    "type commit\ntag \n\nm\n", &tag), -1);
	T_EQ_INT(split_tag("object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	    "type commit\ntag v1", &tag), -1);
	T_EQ_INT(gitsig_parse_tag(TAGHDR, strlen(TAGHDR), &tag, &e), 0);
	T_EQ_INT(gitsig_parse_tag(TAGHDR, 50, &tag, &e), -1);
	T_CONTAINS(e.msg, "'type'");
}

static void
test_limits(void)
{
	struct buf small;
	struct err e;
	char big[200];

	buf_init(&small, 16);
	memset(big, 'A', sizeof(big));
	memcpy(big, "gpgsig ", 7);
	big[sizeof(big) - 1] = '\0';
	T_EQ_INT(gitsig_split_commit(big, strlen(big), &payload, &small, &e),
	    -1);
	T_CONTAINS(e.msg, "signature longer than 16 bytes");
	buf_release(&small);
}

int
main(void)
{
	buf_init(&payload, MAX_OBJECT_SIZE);
	buf_init(&sig, MAX_ARMOR_SIZE);
	test_commit();
	test_tag();
	test_limits();
	buf_release(&payload);
	buf_release(&sig);
	return T_DONE();
}
