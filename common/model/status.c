/*
 * The status document, schema 1, to and from JSON with jansson.  Building
 * goes through json_* constructors only (no hand-written escaping); parsing
 * ignores unknown fields and is strict about the types of known ones.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "caps.h"
#include "status.h"
#include "timeutil.h"

static const char *const state_names[STATE__COUNT] = {
	"ok", "polling", "fetching", "building", "activating", "deferred",
	"rejected", "failed", "rolled-back",
};
static const char *const phase_names[PHASE__COUNT] = {
	"poll", "fetch", "verify", "build", "activate", "check",
};
static const char *const result_names[RESULT__COUNT] = {
	"none", "success", "unchanged", "deferred", "rejected", "failed",
	"rolled-back",
};

void
status_init(struct status *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < PHASE__COUNT; i++)
		st->last_attempt.durations_ms[i] = -1;
	st->last_attempt.fetch_bytes = -1;
	st->last_attempt.max_jobs = -1;
	st->last_attempt.cores = -1;
	st->last_attempt.evaluations = -1;
	st->last_attempt.substituted_bytes = -1;
	st->reboot_required = -1;
	st->reboot.last_took_ms = -1;
	st->system.cpus = -1;
	st->system.mem_bytes = -1;
	st->system.on_battery = -1;
	st->trust.version = -1;
}

/* Every string member, for release and copy. */
#define STATUS_STRINGS(st) {						\
	&(st)->host, &(st)->agent_version, &(st)->deployed.rev,		\
	&(st)->reboot.reason, &(st)->reboot.blocked_by,			\
	&(st)->reboot.last_into, &(st)->reboot.last_result,		\
	&(st)->deployed.signer, &(st)->deployed.key_fingerprint,	\
	&(st)->deployed.store_path, &(st)->tip.rev,			\
	&(st)->last_attempt.rev, &(st)->last_attempt.error,		\
	&(st)->last_attempt.log_tail, &(st)->last_attempt.activation,	\
	&(st)->system.os, &(st)->system.arch, &(st)->system.nix_version, \
	&(st)->rollout.release, &(st)->rollout.wave,			\
	&(st)->rollout.halted_by, &(st)->rollout.fleet_error,		\
	&(st)->deployed.source, &(st)->last_attempt.source }

void
status_release(struct status *st)
{
	char **s[] = STATUS_STRINGS(st);

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}

void
status_copy(struct status *dst, const struct status *src)
{
	char **s;
	char **d[] = STATUS_STRINGS(dst);
	size_t n = sizeof(d) / sizeof(d[0]);

	*dst = *src;
	for (size_t i = 0; i < n; i++) {
		s = d[i];	/* still the source's pointer after *dst = *src */
		*s = *s ? xstrdup(*s) : NULL;
	}
}

const char *
status_state_name(enum status_state s)
{
	return (unsigned)s < STATE__COUNT ? state_names[s] : "unknown";
}

int
status_state_parse(const char *name, enum status_state *s)
{
	for (int i = 0; i < STATE__COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*s = (enum status_state)i;
			return 0;
		}
	}
	return -1;
}

const char *
status_phase_name(enum status_phase p)
{
	return (unsigned)p < PHASE__COUNT ? phase_names[p] : "unknown";
}

const char *
status_result_name(enum status_result r)
{
	return (unsigned)r < RESULT__COUNT ? result_names[r] : "unknown";
}

bool
status_state_is_problem(enum status_state s)
{
	return s == STATE_REJECTED || s == STATE_FAILED ||
	    s == STATE_ROLLED_BACK;
}

/* ---- the schema, written down once ------------------------------------ */

enum ftype {
	F_SCHEMA,	/* the schema version: written, checked apart */
	F_STR,		/* char *, null when NULL */
	F_TIME,		/* time_t, null when 0 */
	F_INT,		/* int64_t, null when < 0 */
	F_SMALL,	/* int up to 1 << 20, null when < 0 */
	F_TRI,		/* int boolean, null when < 0 */
	F_BOOL,		/* bool */
	F_ENUM,		/* unsigned, names[first..count) */
	F_DURATIONS,	/* int64_t[PHASE__COUNT] by phase name */
	F_OBJ,		/* a nested object, parsed after the plain fields */
};

#define FL_REQUIRED	0x1

struct object;

struct field {
	const char	*key;
	enum ftype	 type;
	size_t		 off;		/* into struct status */
	unsigned	 flags;
	const char *const *names;	/* F_ENUM */
	int		 first, count;	/* F_ENUM: the values allowed */
	const struct object *sub;	/* F_OBJ */
};

struct object {
	const struct field *fields;
	size_t		 n;
	bool		(*present)(const struct status *);	/* else null */
};

_Static_assert(sizeof(enum status_state) == sizeof(unsigned) &&
    sizeof(enum status_result) == sizeof(unsigned) &&
    sizeof(enum status_phase) == sizeof(unsigned), "enums as unsigned");

#define O(m)		offsetof(struct status, m)
#define PLAIN(k, t, m)	{ k, t, O(m), 0, NULL, 0, 0, NULL }
#define OBJ(k, sub)	{ k, F_OBJ, 0, 0, NULL, 0, 0, &sub }
#define NFIELDS(a)	(sizeof(a) / sizeof(a[0]))

static bool
deployed_present(const struct status *st)
{
	return st->deployed.rev != NULL;
}

static bool
tip_present(const struct status *st)
{
	return st->tip.rev != NULL;
}

static bool
attempt_present(const struct status *st)
{
	return st->last_attempt.result != RESULT_NONE;
}

static const struct field deployed_fields[] = {
	{ "rev", F_STR, O(deployed.rev), FL_REQUIRED, NULL, 0, 0, NULL },
	PLAIN("signer", F_STR, deployed.signer),
	PLAIN("key_fingerprint", F_STR, deployed.key_fingerprint),
	PLAIN("store_path", F_STR, deployed.store_path),
	PLAIN("activated_at", F_TIME, deployed.activated_at),
	PLAIN("committed_at", F_TIME, deployed.committed_at),
	PLAIN("source", F_STR, deployed.source),
};
static const struct object deployed_obj = { deployed_fields,
	NFIELDS(deployed_fields), deployed_present };

static const struct field tip_fields[] = {
	{ "rev", F_STR, O(tip.rev), FL_REQUIRED, NULL, 0, 0, NULL },
	PLAIN("seen_at", F_TIME, tip.seen_at),
};
static const struct object tip_obj = { tip_fields, NFIELDS(tip_fields),
	tip_present };

static const struct field attempt_fields[] = {
	PLAIN("rev", F_STR, last_attempt.rev),
	{ "result", F_ENUM, O(last_attempt.result), FL_REQUIRED, result_names,
	  RESULT_NONE + 1, RESULT__COUNT, NULL },
	{ "phase", F_ENUM, O(last_attempt.phase), 0, phase_names, 0,
	  PHASE__COUNT, NULL },
	PLAIN("error", F_STR, last_attempt.error),
	PLAIN("log_tail", F_STR, last_attempt.log_tail),
	PLAIN("started_at", F_TIME, last_attempt.started_at),
	PLAIN("durations_ms", F_DURATIONS, last_attempt.durations_ms),
	PLAIN("fetch_bytes", F_INT, last_attempt.fetch_bytes),
	PLAIN("max_jobs", F_SMALL, last_attempt.max_jobs),
	PLAIN("cores", F_SMALL, last_attempt.cores),
	PLAIN("activation", F_STR, last_attempt.activation),
	PLAIN("source", F_STR, last_attempt.source),
	PLAIN("evaluations", F_SMALL, last_attempt.evaluations),
	PLAIN("substituted_bytes", F_INT, last_attempt.substituted_bytes),
};
static const struct object attempt_obj = { attempt_fields,
	NFIELDS(attempt_fields), attempt_present };

static bool
reboot_present(const struct status *st)
{
	return st->reboot.pending || st->reboot.last_at != 0;
}

static bool
reboot_last_present(const struct status *st)
{
	return st->reboot.last_at != 0;
}

static const struct field reboot_last_fields[] = {
	PLAIN("at", F_TIME, reboot.last_at),
	PLAIN("into", F_STR, reboot.last_into),
	PLAIN("took_ms", F_INT, reboot.last_took_ms),
	PLAIN("result", F_STR, reboot.last_result),
};
static const struct object reboot_last_obj = { reboot_last_fields,
	NFIELDS(reboot_last_fields), reboot_last_present };

static const struct field reboot_fields[] = {
	PLAIN("pending", F_BOOL, reboot.pending),
	PLAIN("reason", F_STR, reboot.reason),
	PLAIN("pending_since", F_TIME, reboot.pending_since),
	PLAIN("next_window", F_TIME, reboot.next_window),
	PLAIN("blocked_by", F_STR, reboot.blocked_by),
	PLAIN("overdue", F_BOOL, reboot.overdue),
	OBJ("last", reboot_last_obj),
};
static const struct object reboot_obj = { reboot_fields,
	NFIELDS(reboot_fields), reboot_present };

static bool
rollout_present(const struct status *st)
{
	return st->rollout.release != NULL;
}

static const struct field rollout_fields[] = {
	PLAIN("release", F_STR, rollout.release),
	PLAIN("released_at", F_TIME, rollout.released_at),
	PLAIN("wave", F_STR, rollout.wave),
	PLAIN("due_at", F_TIME, rollout.due_at),
	PLAIN("halted_by", F_STR, rollout.halted_by),
	PLAIN("fleet_error", F_STR, rollout.fleet_error),
};
static const struct object rollout_obj = { rollout_fields,
	NFIELDS(rollout_fields), rollout_present };

static bool
trust_present(const struct status *st)
{
	return st->trust.version >= 0;
}

static const struct field trust_fields[] = {
	PLAIN("version", F_INT, trust.version),
	PLAIN("expires_at", F_TIME, trust.expires_at),
	PLAIN("expired", F_BOOL, trust.expired),
};
static const struct object trust_obj = { trust_fields,
	NFIELDS(trust_fields), trust_present };

static const struct field system_fields[] = {
	PLAIN("os", F_STR, system.os),
	PLAIN("arch", F_STR, system.arch),
	PLAIN("cpus", F_SMALL, system.cpus),
	PLAIN("mem_bytes", F_INT, system.mem_bytes),
	PLAIN("on_battery", F_TRI, system.on_battery),
	PLAIN("nix_version", F_STR, system.nix_version),
};
static const struct object system_obj = { system_fields,
	NFIELDS(system_fields), NULL };

static const struct field top_fields[] = {
	{ "schema", F_SCHEMA, 0, 0, NULL, 0, 0, NULL },
	{ "host", F_STR, O(host), FL_REQUIRED, NULL, 0, 0, NULL },
	PLAIN("agent_version", F_STR, agent_version),
	{ "state", F_ENUM, O(state), FL_REQUIRED, state_names, 0, STATE__COUNT,
	  NULL },
	PLAIN("updated_at", F_TIME, updated_at),
	OBJ("deployed", deployed_obj),
	OBJ("tip", tip_obj),
	OBJ("last_attempt", attempt_obj),
	PLAIN("reboot_required", F_TRI, reboot_required),
	OBJ("reboot", reboot_obj),
	OBJ("rollout", rollout_obj),
	PLAIN("stale_release", F_BOOL, stale_release),
	PLAIN("tofu", F_BOOL, tofu),
	OBJ("trust", trust_obj),
	OBJ("system", system_obj),
	PLAIN("next_poll_at", F_TIME, next_poll_at),
};
static const struct object top_obj = { top_fields, NFIELDS(top_fields),
	NULL };

/* The JSON path of a field: "deployed.rev". */
static void
field_path(char *out, size_t outlen, const char *prefix, const char *key)
{
	snprintf(out, outlen, "%s%s%s", prefix, *prefix ? "." : "", key);
}

/* ---- to JSON ---------------------------------------------------------- */

static json_t *
jstr(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	/* Not UTF-8 (a build log can be anything): keep the valid parts. */
	if ((j = json_string(s)) != NULL)
		return j;
	{
		char *c = xstrdup(s);

		for (unsigned char *p = (unsigned char *)c; *p; p++)
			if (*p >= 0x80)
				*p = '?';
		j = json_string(c);
		free(c);
	}
	return j;
}

static json_t *
jtime(time_t t)
{
	char buf[TIME_RFC3339_LEN];

	if (t == 0 || time_format_rfc3339(t, buf, sizeof(buf)) == -1)
		return json_null();
	return json_string(buf);
}

static json_t *
jint(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *
jtri(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static void
set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

static json_t *obj_to_json(const struct status *st,
    const struct object *ob);

static json_t *
durations_to_json(const int64_t *d)
{
	json_t *o = json_object();

	for (int i = 0; i < PHASE__COUNT; i++)
		if (d[i] >= 0)
			set(o, phase_names[i], json_integer(d[i]));
	return o;
}

static json_t *
field_to_json(const struct status *st, const struct field *f)
{
	const void *p = (const char *)st + f->off;

	switch (f->type) {
	case F_SCHEMA:		return json_integer(STATUS_SCHEMA);
	case F_STR:		return jstr(*(char *const *)p);
	case F_TIME:		return jtime(*(const time_t *)p);
	case F_INT:		return jint(*(const int64_t *)p);
	case F_SMALL:		return jint(*(const int *)p);
	case F_TRI:		return jtri(*(const int *)p);
	case F_BOOL:		return json_boolean(*(const bool *)p);
	case F_ENUM:
		return json_string(f->names[*(const unsigned *)p]);
	case F_DURATIONS:	return durations_to_json(p);
	case F_OBJ:		return obj_to_json(st, f->sub);
	}
	return json_null();
}

static json_t *
obj_to_json(const struct status *st, const struct object *ob)
{
	json_t *o;

	if (ob->present != NULL && !ob->present(st))
		return json_null();
	o = json_object();
	for (size_t i = 0; i < ob->n; i++)
		set(o, ob->fields[i].key, field_to_json(st, &ob->fields[i]));
	return o;
}

int
status_to_json(const struct status *st, struct buf *out, struct err *e)
{
	json_t *o;
	char *s;
	int r = -1;

	if ((unsigned)st->state >= STATE__COUNT ||
	    (unsigned)st->last_attempt.result >= RESULT__COUNT ||
	    (unsigned)st->last_attempt.phase >= PHASE__COUNT)
		return err_set(e, "status: state, result or phase out of range");
	o = obj_to_json(st, &top_obj);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s == NULL) {
		err_set(e, "status: cannot encode the document");
		goto out;
	}
	if (buf_addstr(out, s) == -1 || buf_addch(out, '\n') == -1) {
		err_set(e, "status: document larger than %d bytes",
		    MAX_STATUS_SIZE);
		goto out;
	}
	r = 0;
 out:
	free(s);
	json_decref(o);
	return r;
}

/* ---- from JSON -------------------------------------------------------- */

static const char *
jtype(const json_t *j)
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

static int
type_err(struct err *e, const char *path, const char *want, const json_t *j)
{
	return err_set(e, "'%s': expected %s, got %s", path, want, jtype(j));
}

/* A string or null (or absent) into *dst. */
static int
get_str(json_t *o, const char *key, const char *path, char **dst,
    struct err *e)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return type_err(e, path, "a string", j);
	if (strlen(json_string_value(j)) != json_string_length(j))
		return err_set(e, "'%s': contains a NUL character", path);
	free(*dst);
	*dst = xstrdup(json_string_value(j));
	return 0;
}

static int
get_time(json_t *o, const char *key, const char *path, time_t *dst,
    struct err *e)
{
	json_t *j = json_object_get(o, key);
	const char *why;

	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return type_err(e, path, "an RFC 3339 time string", j);
	if (time_parse_rfc3339(json_string_value(j), dst, &why) == -1)
		return err_set(e, "'%s': %s: '%s'", path, why,
		    json_string_value(j));
	return 0;
}

/* A non-negative integer or null (-1) into *dst, at most max. */
static int
get_int(json_t *o, const char *key, const char *path, int64_t max,
    int64_t *dst, struct err *e)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_integer(j))
		return type_err(e, path, "an integer", j);
	if (json_integer_value(j) < 0 || json_integer_value(j) > max)
		return err_set(e, "'%s': %lld out of range", path,
		    (long long)json_integer_value(j));
	*dst = json_integer_value(j);
	return 0;
}

static int
get_small(json_t *o, const char *key, const char *path, int *dst,
    struct err *e)
{
	int64_t v = *dst;

	if (get_int(o, key, path, 1 << 20, &v, e) == -1)
		return -1;
	*dst = (int)v;
	return 0;
}

/* A boolean, or null (-1) when nullable. */
static int
get_bool(json_t *o, const char *key, const char *path, bool nullable,
    int *dst, struct err *e)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL || (nullable && json_is_null(j)))
		return 0;
	if (!json_is_boolean(j))
		return type_err(e, path, nullable ? "a boolean or null" :
		    "a boolean", j);
	*dst = json_is_true(j);
	return 0;
}

/* An object, or NULL for null/absent. */
static int
get_obj(json_t *o, const char *key, const char *path, json_t **dst,
    struct err *e)
{
	json_t *j = json_object_get(o, key);

	*dst = NULL;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return type_err(e, path, "an object", j);
	*dst = j;
	return 0;
}

/* A string naming one of f->names[f->first..f->count) into *dst. */
static int
get_enum(json_t *o, const struct field *f, const char *path, unsigned *dst,
    struct err *e)
{
	json_t *j = json_object_get(o, f->key);

	if (j == NULL || json_is_null(j))
		return (f->flags & FL_REQUIRED) ?
		    err_set(e, "'%s': missing", path) : 0;
	if (!json_is_string(j))
		return type_err(e, path, "a string", j);
	for (int i = f->first; i < f->count; i++) {
		if (strcmp(json_string_value(j), f->names[i]) == 0) {
			*dst = (unsigned)i;
			return 0;
		}
	}
	return err_set(e, "'%s': unknown value '%s'", path,
	    json_string_value(j));
}

static int
durations_from_json(json_t *o, const char *path, int64_t *dst,
    struct err *e)
{
	char sub[96];
	json_t *d;

	if (get_obj(o, "durations_ms", path, &d, e) == -1)
		return -1;
	for (int i = 0; d != NULL && i < PHASE__COUNT; i++) {
		field_path(sub, sizeof(sub), path, phase_names[i]);
		if (get_int(d, phase_names[i], sub, INT64_MAX, &dst[i],
		    e) == -1)
			return -1;
	}
	return 0;
}

/* One plain field of o (nested objects come later). */
static int
field_from_json(json_t *o, const struct field *f, const char *path,
    struct status *st, struct err *e)
{
	void *p = (char *)st + f->off;
	int b;

	switch (f->type) {
	case F_SCHEMA:
	case F_OBJ:
		return 0;
	case F_STR:	return get_str(o, f->key, path, p, e);
	case F_TIME:	return get_time(o, f->key, path, p, e);
	case F_INT:	return get_int(o, f->key, path, INT64_MAX, p, e);
	case F_SMALL:	return get_small(o, f->key, path, p, e);
	case F_TRI:	return get_bool(o, f->key, path, true, p, e);
	case F_ENUM:	return get_enum(o, f, path, p, e);
	case F_DURATIONS: return durations_from_json(o, path, p, e);
	case F_BOOL:
		b = *(bool *)p;
		if (get_bool(o, f->key, path, false, &b, e) == -1)
			return -1;
		*(bool *)p = b;
		return 0;
	}
	return 0;
}

/*
 * The fields of ob from o (prefix its path): the plain ones in schema
 * order, then whether the required strings came, then the nested objects.
 */
static int
obj_from_json(json_t *o, const struct object *ob, const char *prefix,
    struct status *st, struct err *e)
{
	const struct field *f;
	char path[64];
	json_t *sub;
	size_t i;

	for (i = 0; i < ob->n; i++) {
		f = &ob->fields[i];
		field_path(path, sizeof(path), prefix, f->key);
		if (field_from_json(o, f, path, st, e) == -1)
			return -1;
	}
	for (i = 0; i < ob->n; i++) {
		f = &ob->fields[i];
		field_path(path, sizeof(path), prefix, f->key);
		if (f->type == F_STR && (f->flags & FL_REQUIRED) &&
		    *(char **)(void *)((char *)st + f->off) == NULL)
			return err_set(e, "'%s': missing", path);
	}
	for (i = 0; i < ob->n; i++) {
		f = &ob->fields[i];
		if (f->type != F_OBJ)
			continue;
		field_path(path, sizeof(path), prefix, f->key);
		if (get_obj(o, f->key, path, &sub, e) == -1 ||
		    (sub != NULL &&
		    obj_from_json(sub, f->sub, path, st, e) == -1))
			return -1;
	}
	return 0;
}

static int
schema_check(json_t *root, struct err *e)
{
	json_t *schema = json_object_get(root, "schema");

	if (schema == NULL)
		return err_set(e, "'schema': missing");
	if (!json_is_integer(schema))
		return type_err(e, "schema", "an integer", schema);
	if (json_integer_value(schema) != STATUS_SCHEMA)
		return err_set(e, "'schema': unsupported version %lld",
		    (long long)json_integer_value(schema));
	return 0;
}

int
status_from_json(const char *text, size_t len, struct status *st,
    struct err *e)
{
	json_error_t jerr;
	json_t *root = NULL;
	int r = -1;

	status_init(st);
	if (len > MAX_STATUS_SIZE) {
		err_set(e, "document larger than %d bytes", MAX_STATUS_SIZE);
		goto out;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		err_set(e, "%d:%d: %s", jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		type_err(e, "(document)", "an object", root);
		goto out;
	}
	if (schema_check(root, e) == -1 ||
	    obj_from_json(root, &top_obj, "", st, e) == -1)
		goto out;
	r = 0;
 out:
	if (r != 0)
		status_release(st);
	json_decref(root);
	return r;
}
