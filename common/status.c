/*
 * The status document, schema 1, to and from JSON with jansson.  Building
 * goes through json_* constructors only (no hand-written escaping); parsing
 * ignores unknown fields and is strict about the types of known ones.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fsutil.h"
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
	st->reboot_required = -1;
	st->system.cpus = -1;
	st->system.mem_bytes = -1;
	st->system.on_battery = -1;
}

/* Every string member, for release and copy. */
#define STATUS_STRINGS(st) {						\
	&(st)->host, &(st)->agent_version, &(st)->deployed.rev,		\
	&(st)->deployed.signer, &(st)->deployed.key_fingerprint,	\
	&(st)->deployed.store_path, &(st)->tip.rev,			\
	&(st)->last_attempt.rev, &(st)->last_attempt.error,		\
	&(st)->last_attempt.log_tail, &(st)->system.os,			\
	&(st)->system.arch, &(st)->system.nix_version }

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

static json_t *
deployed_to_json(const struct status *st)
{
	json_t *o;

	if (st->deployed.rev == NULL)
		return json_null();
	o = json_object();
	set(o, "rev", jstr(st->deployed.rev));
	set(o, "signer", jstr(st->deployed.signer));
	set(o, "key_fingerprint", jstr(st->deployed.key_fingerprint));
	set(o, "store_path", jstr(st->deployed.store_path));
	set(o, "activated_at", jtime(st->deployed.activated_at));
	set(o, "committed_at", jtime(st->deployed.committed_at));
	return o;
}

static json_t *
tip_to_json(const struct status *st)
{
	json_t *o;

	if (st->tip.rev == NULL)
		return json_null();
	o = json_object();
	set(o, "rev", jstr(st->tip.rev));
	set(o, "seen_at", jtime(st->tip.seen_at));
	return o;
}

static json_t *
attempt_to_json(const struct status *st)
{
	const struct status_attempt *a = &st->last_attempt;
	json_t *o, *d;

	if (a->result == RESULT_NONE)
		return json_null();
	o = json_object();
	set(o, "rev", jstr(a->rev));
	set(o, "result", json_string(status_result_name(a->result)));
	set(o, "phase", json_string(status_phase_name(a->phase)));
	set(o, "error", jstr(a->error));
	set(o, "log_tail", jstr(a->log_tail));
	set(o, "started_at", jtime(a->started_at));
	d = json_object();
	for (int i = 0; i < PHASE__COUNT; i++)
		if (a->durations_ms[i] >= 0)
			set(d, phase_names[i], json_integer(a->durations_ms[i]));
	set(o, "durations_ms", d);
	set(o, "fetch_bytes", jint(a->fetch_bytes));
	set(o, "max_jobs", jint(a->max_jobs));
	set(o, "cores", jint(a->cores));
	return o;
}

static json_t *
system_to_json(const struct status *st)
{
	json_t *o = json_object();

	set(o, "os", jstr(st->system.os));
	set(o, "arch", jstr(st->system.arch));
	set(o, "cpus", jint(st->system.cpus));
	set(o, "mem_bytes", jint(st->system.mem_bytes));
	set(o, "on_battery", jtri(st->system.on_battery));
	set(o, "nix_version", jstr(st->system.nix_version));
	return o;
}

static json_t *
status_to_jobj(const struct status *st)
{
	json_t *o = json_object();

	set(o, "schema", json_integer(STATUS_SCHEMA));
	set(o, "host", jstr(st->host));
	set(o, "agent_version", jstr(st->agent_version));
	set(o, "state", json_string(status_state_name(st->state)));
	set(o, "updated_at", jtime(st->updated_at));
	set(o, "deployed", deployed_to_json(st));
	set(o, "tip", tip_to_json(st));
	set(o, "last_attempt", attempt_to_json(st));
	set(o, "reboot_required", jtri(st->reboot_required));
	set(o, "stale_release", json_boolean(st->stale_release));
	set(o, "tofu", json_boolean(st->tofu));
	set(o, "system", system_to_json(st));
	set(o, "next_poll_at", jtime(st->next_poll_at));
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
	o = status_to_jobj(st);
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

/* A string naming one of names[0..n) into *dst. */
static int
get_enum(json_t *o, const char *key, const char *path,
    const char *const *names, int n, bool required, int *dst, struct err *e)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL || json_is_null(j))
		return required ? err_set(e, "'%s': missing", path) : 0;
	if (!json_is_string(j))
		return type_err(e, path, "a string", j);
	for (int i = 0; i < n; i++) {
		if (strcmp(json_string_value(j), names[i]) == 0) {
			*dst = i;
			return 0;
		}
	}
	return err_set(e, "'%s': unknown value '%s'", path,
	    json_string_value(j));
}

static int
deployed_from_json(json_t *root, struct status *st, struct err *e)
{
	json_t *o;

	if (get_obj(root, "deployed", "deployed", &o, e) == -1)
		return -1;
	if (o == NULL)
		return 0;
	if (get_str(o, "rev", "deployed.rev", &st->deployed.rev, e) == -1 ||
	    get_str(o, "signer", "deployed.signer", &st->deployed.signer,
	    e) == -1 ||
	    get_str(o, "key_fingerprint", "deployed.key_fingerprint",
	    &st->deployed.key_fingerprint, e) == -1 ||
	    get_str(o, "store_path", "deployed.store_path",
	    &st->deployed.store_path, e) == -1 ||
	    get_time(o, "activated_at", "deployed.activated_at",
	    &st->deployed.activated_at, e) == -1 ||
	    get_time(o, "committed_at", "deployed.committed_at",
	    &st->deployed.committed_at, e) == -1)
		return -1;
	if (st->deployed.rev == NULL)
		return err_set(e, "'deployed.rev': missing");
	return 0;
}

static int
tip_from_json(json_t *root, struct status *st, struct err *e)
{
	json_t *o;

	if (get_obj(root, "tip", "tip", &o, e) == -1)
		return -1;
	if (o == NULL)
		return 0;
	if (get_str(o, "rev", "tip.rev", &st->tip.rev, e) == -1 ||
	    get_time(o, "seen_at", "tip.seen_at", &st->tip.seen_at, e) == -1)
		return -1;
	if (st->tip.rev == NULL)
		return err_set(e, "'tip.rev': missing");
	return 0;
}

static int
durations_from_json(json_t *a, struct status *st, struct err *e)
{
	char path[64];
	json_t *d;

	if (get_obj(a, "durations_ms", "last_attempt.durations_ms", &d,
	    e) == -1)
		return -1;
	for (int i = 0; d != NULL && i < PHASE__COUNT; i++) {
		snprintf(path, sizeof(path), "last_attempt.durations_ms.%s",
		    phase_names[i]);
		if (get_int(d, phase_names[i], path, INT64_MAX,
		    &st->last_attempt.durations_ms[i], e) == -1)
			return -1;
	}
	return 0;
}

static int
attempt_from_json(json_t *root, struct status *st, struct err *e)
{
	struct status_attempt *a = &st->last_attempt;
	int result = RESULT_NONE, phase = PHASE_POLL;
	int64_t v;
	json_t *o;

	if (get_obj(root, "last_attempt", "last_attempt", &o, e) == -1)
		return -1;
	if (o == NULL)
		return 0;
	if (get_enum(o, "result", "last_attempt.result", result_names + 1,
	    RESULT__COUNT - 1, true, &result, e) == -1 ||
	    get_enum(o, "phase", "last_attempt.phase", phase_names,
	    PHASE__COUNT, false, &phase, e) == -1)
		return -1;
	a->result = (enum status_result)(result + 1);
	a->phase = (enum status_phase)phase;
	v = a->fetch_bytes;
	if (get_str(o, "rev", "last_attempt.rev", &a->rev, e) == -1 ||
	    get_str(o, "error", "last_attempt.error", &a->error, e) == -1 ||
	    get_str(o, "log_tail", "last_attempt.log_tail", &a->log_tail,
	    e) == -1 ||
	    get_time(o, "started_at", "last_attempt.started_at",
	    &a->started_at, e) == -1 ||
	    durations_from_json(o, st, e) == -1 ||
	    get_int(o, "fetch_bytes", "last_attempt.fetch_bytes", INT64_MAX,
	    &v, e) == -1 ||
	    get_small(o, "max_jobs", "last_attempt.max_jobs", &a->max_jobs,
	    e) == -1 ||
	    get_small(o, "cores", "last_attempt.cores", &a->cores, e) == -1)
		return -1;
	a->fetch_bytes = v;
	return 0;
}

static int
system_from_json(json_t *root, struct status *st, struct err *e)
{
	json_t *o;

	if (get_obj(root, "system", "system", &o, e) == -1)
		return -1;
	if (o == NULL)
		return 0;
	return get_str(o, "os", "system.os", &st->system.os, e) == -1 ||
	    get_str(o, "arch", "system.arch", &st->system.arch, e) == -1 ||
	    get_small(o, "cpus", "system.cpus", &st->system.cpus, e) == -1 ||
	    get_int(o, "mem_bytes", "system.mem_bytes", INT64_MAX,
	    &st->system.mem_bytes, e) == -1 ||
	    get_bool(o, "on_battery", "system.on_battery", true,
	    &st->system.on_battery, e) == -1 ||
	    get_str(o, "nix_version", "system.nix_version",
	    &st->system.nix_version, e) == -1 ? -1 : 0;
}

static int
top_from_json(json_t *root, struct status *st, struct err *e)
{
	json_t *schema = json_object_get(root, "schema");
	int state = STATE_OK, stale = 0, tofu = 0;

	if (schema == NULL)
		return err_set(e, "'schema': missing");
	if (!json_is_integer(schema))
		return type_err(e, "schema", "an integer", schema);
	if (json_integer_value(schema) != STATUS_SCHEMA)
		return err_set(e, "'schema': unsupported version %lld",
		    (long long)json_integer_value(schema));
	if (get_str(root, "host", "host", &st->host, e) == -1 ||
	    get_str(root, "agent_version", "agent_version",
	    &st->agent_version, e) == -1 ||
	    get_enum(root, "state", "state", state_names, STATE__COUNT, true,
	    &state, e) == -1 ||
	    get_time(root, "updated_at", "updated_at", &st->updated_at,
	    e) == -1 ||
	    get_bool(root, "reboot_required", "reboot_required", true,
	    &st->reboot_required, e) == -1 ||
	    get_bool(root, "stale_release", "stale_release", false, &stale,
	    e) == -1 ||
	    get_bool(root, "tofu", "tofu", false, &tofu, e) == -1 ||
	    get_time(root, "next_poll_at", "next_poll_at", &st->next_poll_at,
	    e) == -1)
		return -1;
	if (st->host == NULL)
		return err_set(e, "'host': missing");
	st->state = (enum status_state)state;
	st->stale_release = stale;
	st->tofu = tofu;
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
	if (top_from_json(root, st, e) == -1 ||
	    deployed_from_json(root, st, e) == -1 ||
	    tip_from_json(root, st, e) == -1 ||
	    attempt_from_json(root, st, e) == -1 ||
	    system_from_json(root, st, e) == -1)
		goto out;
	r = 0;
 out:
	if (r != 0)
		status_release(st);
	json_decref(root);
	return r;
}

/* ---- the local copy and the history ----------------------------------- */

int
status_save(const char *state_dir, const struct status *st, struct err *e)
{
	struct buf b = BUF_INIT(MAX_STATUS_SIZE);
	char *path = xasprintf("%s/%s", state_dir, STATUS_FILE);
	int r = -1;

	if (status_to_json(st, &b, e) == -1)
		goto out;
	if (fs_write_atomic(path, b.data, b.len, 0644, e) == -1)
		goto out;
	r = 0;
 out:
	free(path);
	buf_release(&b);
	return r;
}

int
status_load(const char *state_dir, struct status *st, struct err *e)
{
	struct buf b = BUF_INIT(MAX_STATUS_SIZE);
	char *path = xasprintf("%s/%s", state_dir, STATUS_FILE);
	int r = -1;

	status_init(st);
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		err_set(e, "no status yet in '%s'", state_dir);
		r = STATUS_NOT_FOUND;
		goto out;
	}
	if (fs_read_file(path, MAX_STATUS_SIZE, &b, e) == -1)
		goto out;
	if (status_from_json(b.data ? b.data : "", b.len, st, e) == -1) {
		err_prefix(e, "%s", path);
		goto out;
	}
	r = 0;
 out:
	free(path);
	buf_release(&b);
	return r;
}

/* History entries: "YYYYMMDDTHHMMSSZ-<rev12>.json". */
static bool
is_history_name(const char *name)
{
	size_t n = strlen(name);

	return n > 22 && name[0] >= '0' && name[0] <= '9' &&
	    name[8] == 'T' && name[16] == '-' &&
	    strcmp(name + n - 5, ".json") == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
history_prune(const char *dir, size_t keep, struct err *e)
{
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if ((d = opendir(dir)) == NULL)
		return err_errno(e, "opendir '%s'", dir);
	while ((de = readdir(d)) != NULL)
		if (is_history_name(de->d_name))
			strvec_push(&names, de->d_name);
	closedir(d);
	if (names.n > keep)
		qsort(names.v, names.n, sizeof(char *), cmp_names);
	for (size_t i = 0; names.n > keep && i < names.n - keep; i++) {
		char *p = xasprintf("%s/%s", dir, names.v[i]);

		if (unlink(p) == -1 && errno != ENOENT)
			r = err_errno(e, "unlink '%s'", p);
		free(p);
	}
	strvec_clear(&names);
	return r;
}

int
status_history_add(const char *state_dir, const struct status *st,
    struct err *e)
{
	struct buf b = BUF_INIT(MAX_STATUS_SIZE);
	char *dir = xasprintf("%s/%s", state_dir, STATUS_HISTORY_DIR);
	char *path = NULL, rev[13] = "none";
	time_t t = st->last_attempt.started_at ? st->last_attempt.started_at :
	    st->updated_at;
	struct tm tm;
	char ts[20];
	int r = -1;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm) == 0) {
		err_set(e, "status history: bad attempt time");
		goto out;
	}
	if (st->last_attempt.rev != NULL) {
		size_t i;

		for (i = 0; i < 12 && st->last_attempt.rev[i] != '\0'; i++) {
			char c = st->last_attempt.rev[i];

			rev[i] = (c >= '0' && c <= '9') || (c >= 'a' &&
			    c <= 'f') ? c : '_';
		}
		rev[i] = '\0';
	}
	path = xasprintf("%s/%s-%s.json", dir, ts, rev);
	if (status_to_json(st, &b, e) == -1 ||
	    fs_mkdir_p(dir, 0755, e) == -1 ||
	    fs_write_atomic(path, b.data, b.len, 0644, e) == -1 ||
	    history_prune(dir, MAX_STATUS_HISTORY, e) == -1)
		goto out;
	r = 0;
 out:
	free(dir);
	free(path);
	buf_release(&b);
	return r;
}
