/*
 * jfield: the field-table JSON codec on a struct of every type: what is
 * written, strict reading (paths in errors, required fields, closed
 * objects, a field's own message, the caller's error form) and lenient
 * reading (what does not fit is left as initialised), strings released
 * and copied, nested ones included.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "jfield.h"
#include "rev.h"
#include "t.h"

static const char *const colours[] = { "none", "red", "green" };

struct doc {
	char	*name;
	char	 rev[REV_HEX];
	bool	 on;
	int	 tri;
	int	 small;
	int64_t	 big;
	unsigned u;
	uint64_t u64;
	time_t	 at;
	time_t	 epoch;
	unsigned colour;
	int64_t	 per[3];
	int	 code;
	struct {
		char	*note;
		int	 n;
	} sub;
};

static int
decode_code(const char *s, void *member)
{
	if (strlen(s) != 3 || s[0] != 'c')
		return -1;
	*(int *)member = atoi(s + 1);
	return 0;
}

static bool
sub_present(const void *p)
{
	return ((const struct doc *)p)->sub.note != NULL;
}

#define D(k, t, m, fl)	JF_F(k, t, struct doc, m, fl)
static const struct jf_field sub_fields[] = {
	D("note", JF_STR, sub.note, JF_REQUIRED),
	JF_N("n", JF_INT, struct doc, sub.n, 9),
};
static const struct jf_object sub_obj = { JF_TABLE(sub_fields),
	.present = sub_present };

static const struct jf_field fields[] = {
	{ .key = "v", .type = JF_VERSION, .max = 2 },
	D("name", JF_STR, name, JF_REQUIRED),
	D("rev", JF_REV, rev, 0),
	D("on", JF_BOOL, on, 0),
	D("tri", JF_TRI, tri, 0),
	JF_N("small", JF_INT, struct doc, small, 100),
	D("big", JF_I64, big, 0),
	D("u", JF_UINT, u, 0),
	D("u64", JF_U64, u64, 0),
	D("at", JF_TIME, at, 0),
	D("epoch", JF_EPOCH, epoch, 0),
	{ .key = "colour", .type = JF_ENUM, .off = offsetof(struct doc,
	  colour), .names = colours, .first = 1, .count = 3 },
	{ .key = "per", .type = JF_NAMED, .off = offsetof(struct doc, per),
	  .names = colours, .count = 3 },
	{ .key = "code", .type = JF_STRFN, .off = offsetof(struct doc, code),
	  .decode = decode_code, .why = "not a code" },
	JF_O("sub", sub_obj),
};
static const struct jf_object doc_obj = { JF_TABLE(fields) };
static const struct jf_object closed_obj = { JF_TABLE(fields),
	.closed = true, .missing = "needs a name" };

static const struct jf_read strict = { JF_STRICT, "", NULL, NULL };
static const struct jf_read lenient = { JF_LENIENT, "", NULL, NULL };

static void
init(struct doc *d)
{
	memset(d, 0, sizeof(*d));
	d->tri = d->small = -1;
	d->big = -1;
	for (int i = 0; i < 3; i++)
		d->per[i] = -1;
	d->sub.n = -1;
}

/* Parses text with how into d (initialised); 0 or -1 with e. */
static int
parse(const char *text, const struct jf_object *ob, const struct jf_read *how,
    struct doc *d, struct err *e)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
	int r;

	init(d);
	e->msg[0] = '\0';
	if (j == NULL)
		T_FAIL("bad test JSON: %s: %s", text, je.text);
	r = jf_from_json(j, ob, how, d, e);
	json_decref(j);
	return r;
}

static char *
dump(const struct doc *d)
{
	json_t *j = jf_to_json(&doc_obj, d);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(j);
	return s;
}

static void
test_write(void)
{
	struct doc d;
	char *s;

	init(&d);
	s = dump(&d);
	T_EQ_STR(s, "{\"v\":2,\"name\":null,\"rev\":\"\",\"on\":false,"
	    "\"tri\":null,\"small\":null,\"big\":null,\"u\":0,\"u64\":0,"
	    "\"at\":null,\"epoch\":0,\"colour\":\"none\",\"per\":{},"
	    "\"code\":null,\"sub\":null}");
	free(s);
	d.name = xstrdup("caf\xc3\xa9 \xff!");	/* not UTF-8: '?' */
	memcpy(d.rev, "0123456789abcdef0123456789abcdef01234567", REV_HEX);
	d.on = true;
	d.tri = 0;
	d.small = 7;
	d.big = 1LL << 40;
	d.u = 3;
	d.u64 = 5;
	d.at = 86400;
	d.epoch = 86400;
	d.colour = 2;
	d.per[1] = 12;
	d.sub.note = xstrdup("n");
	d.sub.n = 4;
	s = dump(&d);
	T_EQ_STR(s, "{\"v\":2,\"name\":\"caf?? ?!\",\"rev\":"
	    "\"0123456789abcdef0123456789abcdef01234567\",\"on\":true,"
	    "\"tri\":false,\"small\":7,\"big\":1099511627776,\"u\":3,"
	    "\"u64\":5,\"at\":\"1970-01-02T00:00:00Z\",\"epoch\":86400,"
	    "\"colour\":\"green\",\"per\":{\"red\":12},\"code\":null,"
	    "\"sub\":{\"note\":\"n\",\"n\":4}}");
	free(s);
	jf_release(&doc_obj, &d);
	T_OK(d.name == NULL && d.sub.note == NULL);
}

static void
test_round_trip(void)
{
	struct doc d, c;
	struct err e;
	char *s, *t;

	T_EQ_INT(parse("{\"v\":2,\"name\":\"x\",\"rev\":"
	    "\"0123456789abcdef0123456789abcdef01234567\",\"on\":true,"
	    "\"tri\":true,\"small\":100,\"big\":9,\"u\":4294967295,"
	    "\"u64\":9007199254740992,\"at\":\"2026-12-05T10:00:00Z\","
	    "\"epoch\":5,\"colour\":\"red\",\"per\":{\"green\":3},"
	    "\"code\":\"c42\",\"sub\":{\"note\":\"y\",\"n\":9},\"extra\":[]}",
	    &doc_obj, &strict, &d, &e), 0);
	T_EQ_STR(e.msg, "");
	T_EQ_STR(d.name, "x");
	T_EQ_INT(d.tri, 1);
	T_EQ_INT(d.u, 4294967295u);
	T_EQ_INT(d.u64 == (uint64_t)1 << 53, 1);
	T_EQ_INT(d.colour, 1);
	T_EQ_INT(d.per[2], 3);
	T_EQ_INT(d.per[0], -1);
	T_EQ_INT(d.code, 42);
	T_EQ_STR(d.sub.note, "y");
	c = d;
	jf_dup_strings(&doc_obj, &c);
	T_OK(c.name != d.name && c.sub.note != d.sub.note);
	s = dump(&d);
	jf_release(&doc_obj, &d);
	t = dump(&c);
	T_EQ_STR(t, s);
	jf_release(&doc_obj, &c);
	free(s);
	free(t);
}

static void
test_strict_errors(void)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "{}", "'v': missing" },
		{ "{\"v\":null}", "'v': expected an integer, got null" },
		{ "{\"v\":3}", "'v': unsupported version 3" },
		{ "{\"v\":2}", "'name': missing" },
		{ "{\"v\":2,\"name\":null}", "'name': missing" },
		{ "{\"v\":2,\"name\":1}",
		  "'name': expected a string, got an integer" },
		{ "{\"v\":2,\"name\":\"a\\u0000b\"}",
		  "'name': contains a NUL character" },
		{ "{\"v\":2,\"name\":\"x\",\"rev\":\"abc\"}",
		  "'rev': not a revision: 'abc'" },
		{ "{\"v\":2,\"name\":\"x\",\"on\":null}",
		  "'on': expected a boolean, got null" },
		{ "{\"v\":2,\"name\":\"x\",\"tri\":0}",
		  "'tri': expected a boolean or null, got an integer" },
		{ "{\"v\":2,\"name\":\"x\",\"small\":101}",
		  "'small': 101 out of range" },
		{ "{\"v\":2,\"name\":\"x\",\"big\":-1}", "'big': -1 out of range" },
		{ "{\"v\":2,\"name\":\"x\",\"big\":1.5}",
		  "'big': expected an integer, got a number" },
		{ "{\"v\":2,\"name\":\"x\",\"u\":4294967296}",
		  "'u': 4294967296 out of range" },
		{ "{\"v\":2,\"name\":\"x\",\"u64\":9007199254740993}",
		  "'u64': 9007199254740993 out of range" },
		{ "{\"v\":2,\"name\":\"x\",\"at\":5}",
		  "'at': expected an RFC 3339 time string, got an integer" },
		{ "{\"v\":2,\"name\":\"x\",\"colour\":\"none\"}",
		  "'colour': unknown value 'none'" },
		{ "{\"v\":2,\"name\":\"x\",\"per\":{\"red\":\"1\"}}",
		  "'per.red': expected an integer, got a string" },
		{ "{\"v\":2,\"name\":\"x\",\"code\":\"d42\"}",
		  "'code': not a code" },
		{ "{\"v\":2,\"name\":\"x\",\"code\":7}", "'code': not a code" },
		{ "{\"v\":2,\"name\":\"x\",\"sub\":[]}",
		  "'sub': expected an object, got an array" },
		{ "{\"v\":2,\"name\":\"x\",\"sub\":{}}", "'sub.note': missing" },
		{ "{\"v\":2,\"name\":\"x\",\"sub\":{\"note\":\"\",\"n\":10}}",
		  "'sub.n': 10 out of range" },
		/* plain fields first, then required ones, then objects */
		{ "{\"v\":2,\"sub\":1,\"small\":-2}",
		  "'small': -2 out of range" },
		{ "{\"v\":2,\"sub\":1}", "'name': missing" },
		{ "[]", "'(document)': expected an object, got an array" },
	};
	struct doc d;
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_EQ_INT(parse(cases[i].in, &doc_obj, &strict, &d, &e), -1);
		T_EQ_STR(e.msg, cases[i].msg);
		jf_release(&doc_obj, &d);
	}
}

static int
my_err(struct err *e, const char *path, const char *what, void *arg)
{
	return err_set(e, "%s: %s: %s", (const char *)arg, path, what);
}

/* A closed object, the object's own "missing" text, the caller's form. */
static void
test_closed(void)
{
	struct jf_read how = { JF_STRICT, "top.'a'", my_err, "f.json" };
	struct doc d;
	struct err e;

	T_EQ_INT(parse("{\"v\":2,\"name\":\"x\",\"nmae\":1}", &closed_obj,
	    &how, &d, &e), -1);
	T_EQ_STR(e.msg, "f.json: top.'a': unknown key 'nmae'");
	jf_release(&doc_obj, &d);
	T_EQ_INT(parse("{\"v\":2}", &closed_obj, &how, &d, &e), -1);
	T_EQ_STR(e.msg, "f.json: top.'a': needs a name");
	jf_release(&doc_obj, &d);
	T_EQ_INT(parse("{\"v\":2,\"name\":\"x\",\"code\":\"c\"}", &closed_obj,
	    &how, &d, &e), -1);
	T_EQ_STR(e.msg, "f.json: top.'a'.code: not a code");
	jf_release(&doc_obj, &d);
	T_EQ_INT(parse("{\"v\":2,\"name\":\"x\"}", &closed_obj, &how, &d, &e),
	    0);
	jf_release(&doc_obj, &d);
}

/* Lenient: whatever does not fit stays as initialised, never an error. */
static void
test_lenient(void)
{
	struct doc d;
	struct err e;

	T_EQ_INT(parse("{\"v\":7,\"name\":5,\"rev\":"
	    "\"0123456789abcdef0123456789abcdef0123456g\",\"on\":\"yes\","
	    "\"tri\":null,\"small\":1000,\"big\":-5,\"u\":-1,\"u64\":-1,"
	    "\"at\":\"yesterday\",\"epoch\":\"5\",\"colour\":\"blue\","
	    "\"per\":{\"red\":-1,\"green\":8},\"code\":\"zz\","
	    "\"sub\":{\"n\":3}}", &doc_obj, &lenient, &d, &e), 0);
	T_EQ_STR(e.msg, "");
	T_OK(d.name == NULL);
	T_EQ_STR(d.rev, "");
	T_EQ_INT(d.on, 0);
	T_EQ_INT(d.tri, -1);
	T_EQ_INT(d.small, -1);
	T_EQ_INT(d.big, -1);
	T_EQ_INT(d.u, 0);
	T_EQ_INT(d.u64, 0);
	T_EQ_INT(d.at, 0);
	T_EQ_INT(d.epoch, 0);
	T_EQ_INT(d.colour, 0);
	T_EQ_INT(d.per[1], -1);
	T_EQ_INT(d.per[2], 8);
	T_EQ_INT(d.code, 0);
	T_OK(d.sub.note == NULL);	/* required, but not in lenient mode */
	T_EQ_INT(d.sub.n, 3);
	jf_release(&doc_obj, &d);
	T_EQ_INT(parse("[1]", &doc_obj, &lenient, &d, &e), -1);
	T_EQ_STR(e.msg, "'(document)': expected an object, got an array");
}

int
main(void)
{
	test_write();
	test_round_trip();
	test_strict_errors();
	test_closed();
	test_lenient();
	return T_DONE();
}
