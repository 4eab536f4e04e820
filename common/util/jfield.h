/*
 * The one JSON codec for nixpull's documents: a table of fields says once
 * how a C struct maps to a JSON object, and drives writing, reading,
 * releasing and copying it.  The status document (status.c), the state
 * files (deployed.json, inflight.json, trust.json: agent/state.c),
 * reboot.json (agent/reboot.c) and the entries of the signed manifest
 * (manifest.c) are all described so; loading and dumping the text stays
 * with each caller (limits, duplicate keys, atomic writes differ).
 *
 *	static const struct jf_field tip_fields[] = {
 *		JF_F("rev", JF_STR, struct status, tip.rev, JF_REQUIRED),
 *		JF_F("seen_at", JF_TIME, struct status, tip.seen_at, 0),
 *	};
 *
 * Offsets are from the base pointer handed to every call, nested objects
 * included.  Reading is strict or lenient:
 *
 *  - JF_STRICT (documents from other hosts, the signed manifest): a known
 *    field of the wrong type or out of range, or a required one missing, is
 *    an error naming its path: "'deployed.rev': expected a string, got an
 *    integer".  Unknown fields are ignored unless the object is closed.
 *    Plain fields are read in table order, then the required strings are
 *    checked, then the nested objects are read.
 *  - JF_LENIENT (our own state files, which a crash or a hand edit may
 *    leave half-written): a field that does not fit is left as the caller
 *    initialised it, and nothing is an error.
 *
 * Reading stores only what it accepts, so the caller initialises the
 * struct first (the "unknown" markers: -1, NULL, 0).
 */
#ifndef NIXPULL_JFIELD_H
#define NIXPULL_JFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

enum jf_type {
	JF_STR,		/* char *: null when NULL; bytes that are not UTF-8
			   are written as '?' */
	JF_REV,		/* char[REV_HEX] (rev.h): a revision or "" */
	JF_BOOL,	/* bool */
	JF_TRI,		/* int: -1 unknown (null), 0, 1 */
	JF_INT,		/* int: null when < 0; read in [0, max] */
	JF_I64,		/* int64_t: null when < 0; read in [0, max] */
	JF_UINT,	/* unsigned: read in [0, max] */
	JF_U64,		/* uint64_t: read in [0, max] */
	JF_TIME,	/* time_t as RFC 3339 UTC: null when 0 */
	JF_EPOCH,	/* time_t as integer seconds */
	JF_ENUM,	/* unsigned: names[v], read from names[first..count) */
	JF_NAMED,	/* int64_t[count]: {names[i]: v} for each v >= 0 */
	JF_STRFN,	/* a string decoded by decode() into the member,
			   written by encode() (NULL: null) */
	JF_OBJ,		/* a nested object: sub, null unless sub->present */
	JF_VERSION,	/* no member: the integer max, which must be there */
};

#define JF_REQUIRED	0x1	/* strict: missing is an error */

struct jf_object;

struct jf_field {
	const char	*key;
	enum jf_type	 type;
	size_t		 off;		/* from the base */
	unsigned	 flags;
	int64_t		 max;		/* integers: 0 is the type's
					   largest; JF_VERSION: the version */
	const char *const *names;	/* JF_ENUM, JF_NAMED */
	int		 first, count;	/* JF_ENUM: values allowed;
					   JF_NAMED: the array's length */
	const struct jf_object *sub;	/* JF_OBJ */
	/* JF_STRFN: 0, or -1 when s is not acceptable */
	int		(*decode)(const char *s, void *member);
	json_t		*(*encode)(const void *member);
	/* the whole message for a bad or missing value, instead of the
	 * codec's own ("not a store path") */
	const char	*why;
};

struct jf_object {
	const struct jf_field *fields;
	size_t		 n;
	/* written as null when this says so (NULL: always there) */
	bool		(*present)(const void *base);
	bool		 closed;	/* strict: unknown keys are errors */
	/* strict: the message when a required field is missing, about the
	 * object ("needs 'path' and 'narHash'"); NULL: "'<field>': missing" */
	const char	*missing;
};

#define JF_NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
/* An object's table: { JF_TABLE(fields), .present = ..., ... } */
#define JF_TABLE(a)	.fields = (a), .n = JF_NFIELDS(a)

/* A plain field of member m of type T. */
#define JF_F(k, t, T, m, fl) \
	{ .key = (k), .type = (t), .off = offsetof(T, m), .flags = (fl) }
/* An integer field with a bound. */
#define JF_N(k, t, T, m, mx) \
	{ .key = (k), .type = (t), .off = offsetof(T, m), .max = (mx) }
/* A nested object described by sub. */
#define JF_O(k, s)	{ .key = (k), .type = JF_OBJ, .sub = &(s) }

enum jf_mode {
	JF_STRICT,
	JF_LENIENT,
};

/*
 * How strict errors read: path is the field's ("deployed.rev", prefixed
 * by the caller's prefix), what the complaint.  NULL: "'path': what".
 */
typedef int (*jf_errfn)(struct err *e, const char *path, const char *what,
    void *arg);

struct jf_read {
	enum jf_mode	 mode;
	const char	*prefix;	/* of every path; "" or NULL: none */
	jf_errfn	 errfn;
	void		*arg;
};

/* The object for base, or null when ob->present says it is absent. */
json_t	*jf_to_json(const struct jf_object *ob, const void *base);
/* Fills base from the object o: 0, or -1 with e (strict only). */
int	 jf_from_json(const json_t *o, const struct jf_object *ob,
	    const struct jf_read *how, void *base, struct err *e);
/* Frees every JF_STR member (nested ones too) and sets it to NULL. */
void	 jf_release(const struct jf_object *ob, void *base);
/* Replaces every JF_STR member by a copy: after a struct assignment,
 * makes base own its strings. */
void	 jf_dup_strings(const struct jf_object *ob, void *base);

/* "an integer", "a string", ...: what j is, for messages. */
const char *jf_json_type(const json_t *j);

#endif
