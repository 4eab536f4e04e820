/*
 * One setter per key type (enum ktype): each checks a YAML value and stores
 * it into struct config at the key's offset, or reports why it cannot.
 * Paths are resolved against the config file's directory here.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "config_int.h"
#include "duration.h"
#include "reboot_window.h"

/*
 * The string value of a scalar key, or NULL: *isnull when it is null and
 * that is allowed, else an error saying it must be `what`.
 */
static const char *
scalar_get(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v, const char *what, bool *isnull)
{
	*isnull = false;
	if (v->type == YNODE_SCALAR && ynode_is_null(v) &&
	    (k->flags & KF_NULLABLE)) {
		*isnull = true;
		return NULL;
	}
	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		cerr(c, v->start, "'%s' must be %s, not %s", full, what,
		    ynode_kind(v));
		return NULL;
	}
	return v->str;
}

/* No control characters (or NULs), not empty. */
bool
cparse_string_ok(struct cparse *c, const char *full, const struct ynode *v)
{
	if (v->len == 0) {
		cerr(c, v->start, "'%s' must not be empty", full);
		return false;
	}
	for (size_t i = 0; i < v->len; i++) {
		unsigned char ch = (unsigned char)v->str[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			cerr(c, v->start, "'%s' must not contain control characters",
			    full);
			return false;
		}
	}
	return true;
}

#define FIELD(c, k, type) ((type *)(void *)((char *)(c)->cfg + (k)->off))

static void
str_store(struct cparse *c, const struct key *k, char *s)
{
	char **field = FIELD(c, k, char *);

	free(*field);
	*field = s;
}

void
cparse_type_error(struct cparse *c, const char *full, const char *what,
    const struct ynode *v)
{
	cerr(c, v->start, "'%s' must be %s, not %s", full, what,
	    ynode_kind(v));
}

/*
 * A validated string for k, or NULL: when it is null and k allows that
 * (then the field is cleared), or when it is bad (then it said so).
 */
static const char *
string_get(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v, const char *what)
{
	bool isnull;
	const char *s = scalar_get(c, full, k, v, what, &isnull);

	if (isnull)
		str_store(c, k, NULL);
	if (s == NULL || !cparse_string_ok(c, full, v))
		return NULL;
	return s;
}

static void
set_str(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = string_get(c, full, k, v, "a string");

	if (s != NULL)
		str_store(c, k, xstrdup(s));
}

static char *
path_resolve(const struct cparse *c, const char *s)
{
	size_t n;

	if (s[0] == '/' || c->basedir == NULL)
		return xstrdup(s);
	n = strlen(c->basedir);
	if (n > 0 && c->basedir[n - 1] == '/')
		return xasprintf("%s%s", c->basedir, s);
	return xasprintf("%s/%s", c->basedir, s);
}

static void
set_path(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = string_get(c, full, k, v, "a path");

	if (s != NULL)
		str_store(c, k, path_resolve(c, s));
}

/* A path in the repository's tree: relative, no empty, "." or ".." part. */
static void
set_tree_path(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = string_get(c, full, k, v, "a path"), *p;
	char sh[128];
	size_t n;

	if (s == NULL)
		return;
	for (p = s;; p += n + 1) {
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			cerr(c, v->start, "'%s' must be a relative path in the "
			    "repository without empty, '.' or '..' parts, not "
			    "'%s'", full, shown(s, v->len, sh, sizeof(sh)));
			return;
		}
		if (p[n] == '\0')
			break;
	}
	str_store(c, k, xstrdup(s));
}

static void
set_abspath(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = string_get(c, full, k, v, "a path");
	char sh[128];

	if (s == NULL)
		return;
	if (s[0] != '/') {
		cerr(c, v->start, "'%s' must be an absolute path, not '%s'",
		    full, shown(s, v->len, sh, sizeof(sh)));
		return;
	}
	str_store(c, k, xstrdup(s));
}

/* A secret must be a readable regular file; its contents are not read. */
static void
secret_check(struct cparse *c, const char *full, const struct ynode *v,
    const char *path)
{
	struct stat st;
	char sh[512];
	int fd;

	shown(path, strlen(path), sh, sizeof(sh));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		cerr(c, v->start, "cannot read '%s' '%s': %s", full, sh,
		    strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1)
		cerr(c, v->start, "cannot stat '%s' '%s': %s", full, sh,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		cerr(c, v->start, "'%s' '%s' is not a regular file", full, sh);
	else if (st.st_mode & 077)
		cwarn(c, v->start, "'%s' '%s' is accessible by group or others "
		    "(mode %04o): chmod 600 it", full, sh,
		    (unsigned)(st.st_mode & 07777));
	close(fd);
}

static void
set_secret(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = string_get(c, full, k, v, "a path");
	char *path;

	if (s == NULL)
		return;
	path = path_resolve(c, s);
	str_store(c, k, path);
	if (c->check_files)
		secret_check(c, full, v, path);
}

static void
set_repo_url(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = string_get(c, full, k, v, "a URL");

	if (s == NULL)
		return;
	if (strpbrk(s, " \t") != NULL) {
		cerr(c, v->start, "'%s' must not contain blanks", full);
		return;
	}
	str_store(c, k, xstrdup(s));
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Why s is no report.url, or NULL. */
static const char *
report_url_invalid(const char *s)
{
	const char *rest;

	if (strpbrk(s, " \t") != NULL)
		return "a URL has no blanks";
	if (has_prefix(s, "file://")) {
		if (s[7] != '/')
			return "a file:// URL names an absolute directory, "
			    "like file:///srv/status/";
		return NULL;
	}
	if (has_prefix(s, "https://"))
		rest = s + 8;
	else if (has_prefix(s, "http://"))
		rest = s + 7;
	else
		return "use https://, http:// or file://";
	if (*rest == '\0' || *rest == '/')
		return "the URL has no host";
	if (s[strlen(s) - 1] != '/')
		return "an http(s) URL must end with '/' "
		    "(status files go to <url><host>.json)";
	return NULL;
}

/*
 * string_get(), then "invalid NOUN 'S' for 'FULL': WHY" when invalid(s)
 * gives a reason; NULL on either error.
 */
static const char *
checked_get(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v, const char *what, const char *noun,
    const char *(*invalid)(const char *))
{
	const char *s = string_get(c, full, k, v, what), *why;
	char sh[128];

	if (s == NULL)
		return NULL;
	if ((why = invalid(s)) != NULL) {
		cerr(c, v->start, "invalid %s '%s' for '%s': %s", noun,
		    shown(s, v->len, sh, sizeof(sh)), full, why);
		return NULL;
	}
	return s;
}

/* A file:// directory gets its trailing '/'. */
static void
set_report_url(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = checked_get(c, full, k, v, "a URL", "URL",
	    report_url_invalid);

	if (s == NULL)
		return;
	if (s[strlen(s) - 1] != '/')
		str_store(c, k, xasprintf("%s/", s));
	else
		str_store(c, k, xstrdup(s));
}

/* Why h is no host name, or NULL.  One label: it is a flake attribute. */
const char *
config_host_invalid(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 63)
		return "1 to 63 characters";
	if (h[0] == '-' || h[n - 1] == '-')
		return "it must not start or end with '-'";
	if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_") != n)
		return "one label of letters, digits, '-' and '_' "
		    "(no dots: it names nixosConfigurations.<host>)";
	return NULL;
}

static void
set_host(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = checked_get(c, full, k, v, "a host name", "host name",
	    config_host_invalid);

	if (s != NULL)
		str_store(c, k, xstrdup(s));
}

static void
set_tz(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = checked_get(c, full, k, v, "a time zone", "time zone",
	    reboot_tz_invalid);
	struct err e;
	char sh[128];

	if (s == NULL)
		return;
	if (c->check_files && reboot_tz_check(s, &e) == -1) {
		cerr(c, v->start, "unknown time zone '%s' for '%s' (not in "
		    "the zoneinfo database)", shown(s, v->len, sh, sizeof(sh)),
		    full);
		return;
	}
	str_store(c, k, xstrdup(s));
}

/* Why s is no FleetLock base URL, or NULL. */
static const char *
lock_url_invalid(const char *s)
{
	const char *rest;

	if (strpbrk(s, " \t") != NULL)
		return "a URL has no blanks";
	if (has_prefix(s, "https://"))
		rest = s + 8;
	else if (has_prefix(s, "http://"))
		rest = s + 7;
	else
		return "use https:// or http://";
	if (*rest == '\0' || *rest == '/')
		return "the URL has no host";
	if (strpbrk(s, "?#") != NULL)
		return "no query or fragment";
	return NULL;
}

static void
set_lock_url(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = checked_get(c, full, k, v, "a URL", "URL",
	    lock_url_invalid);

	if (s != NULL)
		str_store(c, k, xstrdup(s));
}

/* The FleetLock protocol's group: ^[a-zA-Z0-9.-]+$. */
static const char *
lock_group_invalid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255)
		return "1 to 255 characters";
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-") != n)
		return "letters, digits, '.' and '-' (the FleetLock protocol's "
		    "^[a-zA-Z0-9.-]+$)";
	return NULL;
}

static void
set_lock_group(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = checked_get(c, full, k, v, "a group name",
	    "group name", lock_group_invalid);

	if (s != NULL)
		str_store(c, k, xstrdup(s));
}

/* A duration for full at v into *ms; -1 when it is not one. */
int
cparse_duration(struct cparse *c, const char *full, const struct ynode *v,
    bool nonzero, uint64_t *ms)
{
	const char *why;
	char sh[128];

	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		cparse_type_error(c, full, "a duration", v);
		return -1;
	}
	if (duration_parse(v->str, ms, &why) == -1 ||
	    strlen(v->str) != v->len) {
		cerr(c, v->start, "invalid duration '%s' for '%s': %s",
		    shown(v->str, v->len, sh, sizeof(sh)), full,
		    strlen(v->str) != v->len ? "NUL character" : why);
		return -1;
	}
	if (nonzero && *ms == 0) {
		cerr(c, v->start, "invalid duration '%s' for '%s': must be "
		    "longer than 0s", shown(v->str, v->len, sh, sizeof(sh)),
		    full);
		return -1;
	}
	return 0;
}

static void
set_duration(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	uint64_t ms;

	if (cparse_duration(c, full, v, k->flags & KF_NONZERO, &ms) == 0)
		*FIELD(c, k, uint64_t) = ms;
}

static void
set_size(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *why;
	uint64_t bytes;
	char sh[128];

	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		cparse_type_error(c, full, "a size", v);
		return;
	}
	shown(v->str, v->len, sh, sizeof(sh));
	if (size_parse(v->str, &bytes, &why) == -1 ||
	    strlen(v->str) != v->len)
		cerr(c, v->start, "invalid size '%s' for '%s': %s", sh, full,
		    strlen(v->str) != v->len ? "NUL character" : why);
	else if ((k->flags & KF_NONZERO) && bytes == 0)
		cerr(c, v->start, "invalid size '%s' for '%s': must be more "
		    "than 0B", sh, full);
	else
		*FIELD(c, k, uint64_t) = bytes;
}

/* A decimal number in [min, max], or -1. */
static long long
number_get(const struct ynode *v, long long min, long long max)
{
	long long n = 0;

	if (v->len == 0 || v->len > 12 || strspn(v->str, "0123456789") !=
	    v->len)
		return -1;
	for (size_t i = 0; i < v->len; i++)
		n = n * 10 + (v->str[i] - '0');
	return n >= min && n <= max ? n : -1;
}

static void
set_uint(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	long long n;
	char sh[128];

	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		cparse_type_error(c, full, "a number", v);
		return;
	}
	if ((n = number_get(v, k->min, k->max)) == -1) {
		cerr(c, v->start, "invalid number '%s' for '%s' (use a whole "
		    "number from %lld to %lld)", shown(v->str, v->len, sh,
		    sizeof(sh)), full, k->min, k->max);
		return;
	}
	*FIELD(c, k, unsigned) = (unsigned)n;
}

static void
set_jobs(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	long long n;
	char sh[128];

	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		cparse_type_error(c, full, "'auto' or a number", v);
		return;
	}
	if (strcmp(v->str, "auto") == 0 && v->len == 4)
		n = CONFIG_AUTO;
	else if ((n = number_get(v, k->min, k->max)) == -1) {
		cerr(c, v->start, "invalid value '%s' for '%s' (use auto or a "
		    "whole number from %lld to %lld)", shown(v->str, v->len,
		    sh, sizeof(sh)), full, k->min, k->max);
		return;
	}
	*FIELD(c, k, int) = (int)n;
}

static void
set_bool(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	char sh[128];

	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		cparse_type_error(c, full, "true or false", v);
		return;
	}
	for (size_t i = 0; i < 3 && strlen(v->str) == v->len; i++) {
		if (strcmp(v->str, yes[i]) == 0 || strcmp(v->str, no[i]) == 0) {
			*FIELD(c, k, bool) = strcmp(v->str, yes[i]) == 0;
			return;
		}
	}
	cerr(c, v->start, "invalid boolean '%s' for '%s' (use true or false: "
	    "this is YAML 1.2, where yes/no/on/off are strings)",
	    shown(v->str, v->len, sh, sizeof(sh)), full);
}

static void
set_enum(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	struct buf allowed = BUF_INIT(256);
	char sh[128];

	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		cparse_type_error(c, full, "a string", v);
		return;
	}
	for (unsigned i = 0; k->names[i] != NULL; i++) {
		if (strcmp(v->str, k->names[i]) == 0 &&
		    strlen(v->str) == v->len) {
			*FIELD(c, k, unsigned) = i;
			return;
		}
	}
	for (unsigned i = 0; k->names[i] != NULL; i++)
		buf_addf(&allowed, "%s%s", i ? ", " : "", k->names[i]);
	cerr(c, v->start, "invalid value '%s' for '%s' (allowed: %s)",
	    shown(v->str, v->len, sh, sizeof(sh)), full, buf_str(&allowed));
	buf_release(&allowed);
}


typedef void (*setter_fn)(struct cparse *, const char *, const struct key *,
    const struct ynode *);

static const setter_fn setters[] = {
	[K_STR] = set_str,
	[K_PATH] = set_path,
	[K_ABSPATH] = set_abspath,
	[K_TREE_PATH] = set_tree_path,
	[K_SECRET] = set_secret,
	[K_REPO_URL] = set_repo_url,
	[K_REPORT_URL] = set_report_url,
	[K_HOST] = set_host,
	[K_DURATION] = set_duration,
	[K_SIZE] = set_size,
	[K_UINT] = set_uint,
	[K_JOBS] = set_jobs,
	[K_BOOL] = set_bool,
	[K_ENUM] = set_enum,
	[K_CHECKS] = config_set_checks,
	[K_WINDOWS] = config_set_windows,
	[K_TZ] = set_tz,
	[K_LOCK_URL] = set_lock_url,
	[K_LOCK_GROUP] = set_lock_group,
};

void
config_set(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	setters[k->type](c, full, k, v);
}
