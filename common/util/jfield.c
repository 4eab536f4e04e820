/*
 * The field-table JSON codec (jfield.h).  jansson does the JSON; this does
 * the mapping, once, for every document nixpull reads or writes.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "jfield.h"
#include "rev.h"
#include "timeutil.h"

#define PATH_MAX_LEN	160

/* ---- writing ---------------------------------------------------------- */

/* A string, or null; bytes that are not UTF-8 (a build log can be
 * anything) become '?' so the rest is kept. */
static json_t *
w_str(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	c = xstrdup(s);
	for (unsigned char *p = (unsigned char *)c; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}

static json_t *
w_time(time_t t)
{
	char buf[TIME_RFC3339_LEN];

	if (t == 0 || time_format_rfc3339(t, buf, sizeof(buf)) == -1)
		return json_null();
	return json_string(buf);
}

static json_t *
w_nullable(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *
w_named(const struct jf_field *f, const int64_t *v)
{
	json_t *o = json_object();

	for (int i = 0; i < f->count; i++)
		if (v[i] >= 0)
			json_object_set_new(o, f->names[i],
			    json_integer((json_int_t)v[i]));
	return o;
}

static json_t *
w_field(const struct jf_field *f, const void *base)
{
	const void *p = (const char *)base + f->off;
	unsigned u;

	switch (f->type) {
	case JF_STR:	return w_str(*(char *const *)p);
	case JF_REV:	return w_str(p);
	case JF_BOOL:	return json_boolean(*(const bool *)p);
	case JF_TRI:	return *(const int *)p < 0 ? json_null() :
			    json_boolean(*(const int *)p);
	case JF_INT:	return w_nullable(*(const int *)p);
	case JF_I64:	return w_nullable(*(const int64_t *)p);
	case JF_UINT:	return json_integer(*(const unsigned *)p);
	case JF_U64:	return json_integer((json_int_t)*(const uint64_t *)p);
	case JF_TIME:	return w_time(*(const time_t *)p);
	case JF_EPOCH:	return json_integer((json_int_t)*(const time_t *)p);
	case JF_ENUM:
		u = *(const unsigned *)p;
		return u < (unsigned)f->count ? json_string(f->names[u]) :
		    json_null();
	case JF_NAMED:	return w_named(f, p);
	case JF_OBJ:	return jf_to_json(f->sub, base);
	case JF_VERSION: return json_integer((json_int_t)f->max);
	case JF_STRFN:	return f->encode ? f->encode(p) : json_null();
	}
	return json_null();
}

json_t *
jf_to_json(const struct jf_object *ob, const void *base)
{
	json_t *o;

	if (ob->present != NULL && !ob->present(base))
		return json_null();
	o = json_object();
	for (size_t i = 0; i < ob->n; i++)
		json_object_set_new(o, ob->fields[i].key,
		    w_field(&ob->fields[i], base));
	return o;
}

/* ---- reading ---------------------------------------------------------- */

const char *
jf_json_type(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:	return "an object";
	case JSON_ARRAY:	return "an array";
	case JSON_STRING:	return "a string";
	case JSON_INTEGER:	return "an integer";
	case JSON_REAL:		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:	return "a boolean";
	default:		return "null";
	}
}

/* Where a read is: the options, and the path of the current object. */
struct rd {
	const struct jf_read *how;
	struct err	*e;
	void		*base;
};

static int
vfail(struct rd *rd, const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int
vfail(struct rd *rd, const char *path, const char *fmt, va_list ap)
{
	char what[sizeof(rd->e->msg)];

	if (rd->how->mode == JF_LENIENT)
		return -1;
	vsnprintf(what, sizeof(what), fmt, ap);
	if (rd->how->errfn != NULL)
		return rd->how->errfn(rd->e, path, what, rd->how->arg);
	return err_set(rd->e, "'%s': %s", path, what);
}

static int
fail(struct rd *rd, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct rd *rd, const char *path, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(rd, path, fmt, ap);
	va_end(ap);
	return r;
}

/* A value of field f present but not accepted: the field's own message
 * (f->why) if it has one, else ours. */
static int
reject(struct rd *rd, const struct jf_field *f, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
reject(struct rd *rd, const struct jf_field *f, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	if (f->why != NULL)
		return fail(rd, path, "%s", f->why);
	va_start(ap, fmt);
	r = vfail(rd, path, fmt, ap);
	va_end(ap);
	return r;
}

/* A value of the wrong JSON type. */
static int
bad(struct rd *rd, const struct jf_field *f, const char *path,
    const char *want, const json_t *j)
{
	return reject(rd, f, path, "expected %s, got %s", want,
	    jf_json_type(j));
}

static int64_t
int_max(const struct jf_field *f)
{
	if (f->max > 0)
		return f->max;
	switch (f->type) {
	case JF_INT:	return INT_MAX;
	case JF_UINT:	return UINT_MAX;
	case JF_U64:	return (int64_t)1 << 53;	/* exact in a double */
	default:	return INT64_MAX;
	}
}

/* A non-negative integer up to the field's bound into *v. */
static int
r_int(struct rd *rd, const struct jf_field *f, const char *path,
    const json_t *j, int64_t *v)
{
	if (!json_is_integer(j))
		return bad(rd, f, path, "an integer", j);
	if (json_integer_value(j) < 0 || json_integer_value(j) > int_max(f)) {
		return reject(rd, f, path, "%lld out of range",
		    (long long)json_integer_value(j));
	}
	*v = json_integer_value(j);
	return 0;
}

/* A string without NUL characters. */
static int
r_string(struct rd *rd, const struct jf_field *f, const char *path,
    const json_t *j, const char **s)
{
	if (!json_is_string(j))
		return bad(rd, f, path, "a string", j);
	*s = json_string_value(j);
	if (strlen(*s) != json_string_length(j))
		return reject(rd, f, path, "contains a NUL character");
	return 0;
}

static void
join(char *out, const char *prefix, const char *key)
{
	/* A longer path is cut: our keys and prefixes are short. */
	if (snprintf(out, PATH_MAX_LEN, "%s%s%s", prefix, *prefix ? "." : "",
	    key) >= PATH_MAX_LEN)
		out[PATH_MAX_LEN - 1] = '\0';
}

static int
r_named(struct rd *rd, const struct jf_field *f, const char *path,
    const json_t *j, int64_t *dst)
{
	char sub[PATH_MAX_LEN];
	const json_t *v;
	int64_t n;

	if (!json_is_object(j))
		return bad(rd, f, path, "an object", j);
	for (int i = 0; i < f->count; i++) {
		v = json_object_get(j, f->names[i]);
		if (v == NULL || json_is_null(v))
			continue;
		join(sub, path, f->names[i]);
		if (r_int(rd, f, sub, v, &n) == 0)
			dst[i] = n;
		else if (rd->how->mode == JF_STRICT)
			return -1;
	}
	return 0;
}

static int
r_enum(struct rd *rd, const struct jf_field *f, const char *path,
    const json_t *j, unsigned *dst)
{
	const char *s;

	if (r_string(rd, f, path, j, &s) == -1)
		return -1;
	for (int i = f->first; i < f->count; i++) {
		if (strcmp(s, f->names[i]) == 0) {
			*dst = (unsigned)i;
			return 0;
		}
	}
	return reject(rd, f, path, "unknown value '%s'", s);
}

/* One present, non-null value of a plain field into its member. */
static int
r_value(struct rd *rd, const struct jf_field *f, const char *path,
    const json_t *j)
{
	void *p = (char *)rd->base + f->off;
	const char *s, *why;
	time_t t;
	int64_t v;

	switch (f->type) {
	case JF_STR:
		if (r_string(rd, f, path, j, &s) == -1)
			return -1;
		free(*(char **)p);
		*(char **)p = xstrdup(s);
		return 0;
	case JF_REV:
		if (r_string(rd, f, path, j, &s) == -1)
			return -1;
		if (*s != '\0' && !rev_valid(s, strlen(s)))
			return reject(rd, f, path, "not a revision: '%.64s'", s);
		memcpy(p, s, strlen(s) + 1);
		return 0;
	case JF_BOOL:
	case JF_TRI:
		if (!json_is_boolean(j))
			return bad(rd, f, path, f->type == JF_TRI ?
			    "a boolean or null" : "a boolean", j);
		if (f->type == JF_BOOL)
			*(bool *)p = json_is_true(j);
		else
			*(int *)p = json_is_true(j);
		return 0;
	case JF_INT:
	case JF_I64:
	case JF_UINT:
	case JF_U64:
	case JF_EPOCH:
		if (r_int(rd, f, path, j, &v) == -1)
			return -1;
		if (f->type == JF_INT)
			*(int *)p = (int)v;
		else if (f->type == JF_I64)
			*(int64_t *)p = v;
		else if (f->type == JF_UINT)
			*(unsigned *)p = (unsigned)v;
		else if (f->type == JF_U64)
			*(uint64_t *)p = (uint64_t)v;
		else
			*(time_t *)p = (time_t)v;
		return 0;
	case JF_TIME:
		if (!json_is_string(j))
			return bad(rd, f, path, "an RFC 3339 time string", j);
		if (time_parse_rfc3339(json_string_value(j), &t, &why) == -1)
			return reject(rd, f, path, "%s: '%s'", why,
			    json_string_value(j));
		*(time_t *)p = t;
		return 0;
	case JF_ENUM:
		return r_enum(rd, f, path, j, p);
	case JF_NAMED:
		return r_named(rd, f, path, j, p);
	case JF_STRFN:
		if (r_string(rd, f, path, j, &s) == -1)
			return -1;
		if (f->decode(s, p) == -1)
			return reject(rd, f, path, "not acceptable: '%.64s'", s);
		return 0;
	case JF_OBJ:
	case JF_VERSION:
		break;		/* read apart */
	}
	return 0;
}

static int
r_version(struct rd *rd, const struct jf_field *f, const char *path,
    const json_t *j)
{
	if (j == NULL)
		return reject(rd, f, path, "missing");
	if (!json_is_integer(j))
		return bad(rd, f, path, "an integer", j);
	if (json_integer_value(j) != f->max)
		return reject(rd, f, path, "unsupported version %lld",
		    (long long)json_integer_value(j));
	return 0;
}

static bool
absent(const json_t *j)
{
	return j == NULL || json_is_null(j);
}

static int
missing(struct rd *rd, const struct jf_object *ob, const char *prefix,
    const char *path)
{
	if (ob->missing != NULL)
		return fail(rd, prefix, "%s", ob->missing);
	return fail(rd, path, "missing");
}

/*
 * The fields of ob from o, whose path is prefix: the plain ones in table
 * order, then whether the required ones came, then the nested objects.
 */
static int
r_object(struct rd *rd, const json_t *o, const struct jf_object *ob,
    const char *prefix)
{
	char path[PATH_MAX_LEN];
	const struct jf_field *f;
	const json_t *j;
	const char *k;
	json_t *v;
	size_t i;

	if (ob->closed && rd->how->mode == JF_STRICT) {
		json_object_foreach((json_t *)o, k, v) {
			for (i = 0; i < ob->n; i++)
				if (strcmp(k, ob->fields[i].key) == 0)
					break;
			if (i == ob->n)
				return fail(rd, prefix, "unknown key '%.64s'",
				    k);
		}
	}
	for (i = 0; i < ob->n; i++) {
		f = &ob->fields[i];
		j = json_object_get(o, f->key);
		join(path, prefix, f->key);
		if (f->type == JF_VERSION) {
			if (r_version(rd, f, path, j) == -1 &&
			    rd->how->mode == JF_STRICT)
				return -1;
			continue;
		}
		if (f->type == JF_OBJ)
			continue;
		if (f->type == JF_BOOL && j != NULL && json_is_null(j) &&
		    rd->how->mode == JF_STRICT)
			return bad(rd, f, path, "a boolean", j);
		if (absent(j)) {
			if (f->type == JF_ENUM && (f->flags & JF_REQUIRED) &&
			    rd->how->mode == JF_STRICT)
				return missing(rd, ob, prefix, path);
			continue;
		}
		if (r_value(rd, f, path, j) == -1 &&
		    rd->how->mode == JF_STRICT)
			return -1;
	}
	for (i = 0; i < ob->n; i++) {
		f = &ob->fields[i];
		join(path, prefix, f->key);
		if (rd->how->mode == JF_STRICT &&
		    (f->flags & JF_REQUIRED) && f->type != JF_ENUM &&
		    f->type != JF_VERSION &&
		    absent(json_object_get(o, f->key)))
			return missing(rd, ob, prefix, path);
	}
	for (i = 0; i < ob->n; i++) {
		f = &ob->fields[i];
		if (f->type != JF_OBJ)
			continue;
		j = json_object_get(o, f->key);
		join(path, prefix, f->key);
		if (absent(j))
			continue;
		if (!json_is_object(j)) {
			if (bad(rd, f, path, "an object", j) == -1 &&
			    rd->how->mode == JF_STRICT)
				return -1;
			continue;
		}
		if (r_object(rd, j, f->sub, path) == -1)
			return -1;
	}
	return 0;
}

int
jf_from_json(const json_t *o, const struct jf_object *ob,
    const struct jf_read *how, void *base, struct err *e)
{
	struct rd rd = { how, e, base };

	if (!json_is_object(o))	/* an error in either mode */
		return err_set(e, "'%s': expected an object, got %s",
		    how->prefix && *how->prefix ? how->prefix : "(document)",
		    jf_json_type(o));
	return r_object(&rd, o, ob, how->prefix ? how->prefix : "");
}

/* ---- strings ---------------------------------------------------------- */

static void
strings(const struct jf_object *ob, void *base, bool dup)
{
	const struct jf_field *f;
	char **s;

	for (size_t i = 0; i < ob->n; i++) {
		f = &ob->fields[i];
		if (f->type == JF_OBJ) {
			strings(f->sub, base, dup);
			continue;
		}
		if (f->type != JF_STR)
			continue;
		s = (char **)(void *)((char *)base + f->off);
		if (dup) {
			*s = *s ? xstrdup(*s) : NULL;
		} else {
			free(*s);
			*s = NULL;
		}
	}
}

void
jf_release(const struct jf_object *ob, void *base)
{
	strings(ob, base, false);
}

void
jf_dup_strings(const struct jf_object *ob, void *base)
{
	strings(ob, base, true);
}
