/*
 * /etc/nixpull/config.yaml into struct config.  The YAML is read into a
 * position-keeping tree (yamldoc.c), then walked against one table of keys
 * that also drives config_print(), so the schema is written down once.
 *
 * Relative paths (every path-valued key except state_dir, which must be
 * absolute) are resolved against the directory of the config file, so that
 * a config and its secrets can sit side by side; config_print() shows them
 * resolved.  Only config_load() looks at the filesystem (secrets must be
 * readable regular files); config_parse() is pure, for the fuzzer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "duration.h"
#include "caps.h"
#include "yamldoc.h"

static const char *const check_keys[] = { "command", "timeout", NULL };

struct cparse {
	struct config	*cfg;
	const char	*name;		/* for messages */
	char		*basedir;	/* for relative paths */
	bool		 check_files;	/* config_load: look at secrets */
	struct strvec	*errors;
	struct strvec	*warnings;
	size_t		 nerrors;
	const struct ynode *seen[CONFIG_NKEYS];	/* a key's first key node */
	const struct ynode *value[CONFIG_NKEYS];	/* and its value */
};

static void cerr(struct cparse *c, struct ymark m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cwarn(struct cparse *c, struct ymark m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cmsg(struct cparse *c, struct strvec *to, struct ymark m, const char *fmt,
    va_list ap)
{
	char msg[MAX_ERROR];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	strvec_pushf(to, "%s:%u:%u: %s", c->name, m.line, m.col, msg);
}

/* One error per problem, at most MAX_CONFIG_ERRORS of them. */
static void
cerr(struct cparse *c, struct ymark m, const char *fmt, ...)
{
	va_list ap;

	if (c->nerrors++ > MAX_CONFIG_ERRORS)
		return;
	if (c->nerrors > MAX_CONFIG_ERRORS) {
		strvec_pushf(c->errors, "%s: too many errors, giving up",
		    c->name);
		return;
	}
	va_start(ap, fmt);
	cmsg(c, c->errors, m, fmt, ap);
	va_end(ap);
}

static void
cwarn(struct cparse *c, struct ymark m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmsg(c, c->warnings, m, fmt, ap);
	va_end(ap);
}

/*
 * s as it may appear in a message: control characters and quotes as \xNN,
 * cut with "..." on a character boundary when it does not fit in out.
 */
static const char *
shown(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 8 < outlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (o + 16 >= outlen && (ch & 0xc0) != 0x80) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch == 0x7f || ch == '\'')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			    ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return out;
}

static bool
key_is_string(struct cparse *c, const struct ynode *kn)
{
	if (kn->type == YNODE_SCALAR && !ynode_is_null(kn) &&
	    strlen(kn->str) == kn->len)
		return true;
	if (kn->type == YNODE_SCALAR && !ynode_is_null(kn))
		cerr(c, kn->start, "keys must not contain NUL characters");
	else
		cerr(c, kn->start, "keys must be strings, not %s",
		    ynode_kind(kn));
	return false;
}

static void
key_unknown(struct cparse *c, const char *section, const struct ynode *kn)
{
	char hint[128], s[128];

	config_key_hint(section, kn->str, hint, sizeof(hint));
	shown(kn->str, kn->len, s, sizeof(s));
	if (section)
		cerr(c, kn->start, "unknown key '%s' in '%s'%s", s, section, hint);
	else
		cerr(c, kn->start, "unknown key '%s'%s", s, hint);
}

/* The table entry for key node kn in section, or NULL (error reported). */
static const struct key *
key_lookup(struct cparse *c, const char *section, const struct ynode *kn,
    const struct ynode *vn)
{
	char full[128];
	size_t i;

	if (!key_is_string(c, kn))
		return NULL;
	if ((i = config_key_index(section, kn->str)) == CONFIG_NKEYS) {
		key_unknown(c, section, kn);
		return NULL;
	}
	if (c->seen[i] != NULL) {
		config_key_fullname(&config_keys[i], full, sizeof(full));
		cerr(c, kn->start, "duplicate key '%s' (first at %u:%u)", full,
		    c->seen[i]->start.line, c->seen[i]->start.col);
		return NULL;
	}
	c->seen[i] = kn;
	c->value[i] = vn;
	return &config_keys[i];
}

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
static bool
string_ok(struct cparse *c, const char *full, const struct ynode *v)
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

static void
type_error(struct cparse *c, const char *full, const char *what,
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
	if (s == NULL || !string_ok(c, full, v))
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

/* A file:// directory gets its trailing '/'. */
static void
set_report_url(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	const char *s = string_get(c, full, k, v, "a URL"), *why;
	char sh[128];

	if (s == NULL)
		return;
	if ((why = report_url_invalid(s)) != NULL) {
		cerr(c, v->start, "invalid URL '%s' for '%s': %s",
		    shown(s, v->len, sh, sizeof(sh)), full, why);
		return;
	}
	if (s[strlen(s) - 1] != '/')
		str_store(c, k, xasprintf("%s/", s));
	else
		str_store(c, k, xstrdup(s));
}

/* Why h is no host name, or NULL.  One label: it is a flake attribute. */
static const char *
host_invalid(const char *h)
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
	const char *s = string_get(c, full, k, v, "a host name"), *why;
	char sh[128];

	if (s == NULL)
		return;
	if ((why = host_invalid(s)) != NULL) {
		cerr(c, v->start, "invalid host name '%s' for '%s': %s",
		    shown(s, v->len, sh, sizeof(sh)), full, why);
		return;
	}
	str_store(c, k, xstrdup(s));
}

/* A duration for full at v into *ms; -1 when it is not one. */
static int
duration_get(struct cparse *c, const char *full, const struct ynode *v,
    bool nonzero, uint64_t *ms)
{
	const char *why;
	char sh[128];

	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		type_error(c, full, "a duration", v);
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

	if (duration_get(c, full, v, k->flags & KF_NONZERO, &ms) == 0)
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
		type_error(c, full, "a size", v);
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
		type_error(c, full, "a number", v);
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
		type_error(c, full, "'auto' or a number", v);
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
		type_error(c, full, "true or false", v);
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
		type_error(c, full, "a string", v);
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

/* A command string split on blanks; no shell, no quoting. */
static int
argv_from_string(struct cparse *c, const char *name, const struct ynode *v,
    struct strvec *argv)
{
	const char *p = v->str;
	char *w;
	size_t n;

	if (ynode_is_null(v)) {
		cerr(c, v->start, "'%s' must be a command (a string, a list or "
		    "a mapping), not null", name);
		return -1;
	}
	if (!string_ok(c, name, v))
		return -1;
	while (*(p += strspn(p, " \t")) != '\0') {
		n = strcspn(p, " \t");
		if (argv->n == MAX_ARGV) {
			cerr(c, v->start, "'%s' has more than %d words", name,
			    MAX_ARGV);
			return -1;
		}
		w = xstrndup(p, n);
		strvec_push(argv, w);
		free(w);
		p += n;
	}
	if (argv->n == 0) {
		cerr(c, v->start, "'%s' is an empty command", name);
		return -1;
	}
	return 0;
}

static int
argv_from_list(struct cparse *c, const char *name, const struct ynode *v,
    struct strvec *argv)
{
	char word[128];

	if (v->n == 0 || v->n > MAX_ARGV) {
		cerr(c, v->start, "'%s' must have 1 to %d words, not %zu",
		    name, MAX_ARGV, v->n);
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *w = v->items[i];

		snprintf(word, sizeof(word), "%s[%zu]", name, i);
		if (w->type != YNODE_SCALAR || ynode_is_null(w)) {
			type_error(c, word, "a string", w);
			return -1;
		}
		if (!string_ok(c, word, w))
			return -1;
		strvec_push(argv, w->str);
	}
	return 0;
}

static int
check_command(struct cparse *c, const char *name, const struct ynode *v,
    struct health_check *hc)
{
	if (v->type == YNODE_SEQ)
		return argv_from_list(c, name, v, &hc->argv);
	if (v->type == YNODE_SCALAR)
		return argv_from_string(c, name, v, &hc->argv);
	type_error(c, name, "a string or a list", v);
	return -1;
}

/* One "command:"/"timeout:" pair of a health check mapping. */
static int
check_pair(struct cparse *c, const char *name, const struct ynode *kn,
    const struct ynode *vn, const struct ynode **seen,
    struct health_check *hc)
{
	const char *hint;
	char full[160], sh[128];
	int i;

	if (!key_is_string(c, kn))
		return -1;
	for (i = 0; check_keys[i] != NULL; i++)
		if (strcmp(kn->str, check_keys[i]) == 0)
			break;
	if (check_keys[i] == NULL) {
		hint = config_suggest(kn->str, check_keys, 2);
		cerr(c, kn->start, "unknown key '%s' in '%s'%s%s%s",
		    shown(kn->str, kn->len, sh, sizeof(sh)), name,
		    hint ? " (did you mean '" : "", hint ? hint : "",
		    hint ? "'?)" : "");
		return -1;
	}
	snprintf(full, sizeof(full), "%s.%s", name, check_keys[i]);
	if (seen[i] != NULL) {
		cerr(c, kn->start, "duplicate key '%s' (first at %u:%u)", full,
		    seen[i]->start.line, seen[i]->start.col);
		return -1;
	}
	seen[i] = kn;
	if (i == 0)
		return check_command(c, full, vn, hc);
	return duration_get(c, full, vn, true, &hc->timeout_ms);
}

static int
check_from_map(struct cparse *c, const char *name, const struct ynode *v,
    struct health_check *hc)
{
	const struct ynode *seen[2] = { NULL, NULL };
	int r = 0;

	for (size_t i = 0; i + 1 < v->n; i += 2)
		if (check_pair(c, name, v->items[i], v->items[i + 1], seen,
		    hc) == -1)
			r = -1;
	if (r == 0 && seen[0] == NULL) {
		cerr(c, v->start, "missing required key '%s.command'", name);
		r = -1;
	}
	return r;
}

static int
check_parse(struct cparse *c, const char *full, size_t i,
    const struct ynode *v, struct health_check *hc)
{
	char name[128];

	snprintf(name, sizeof(name), "%s[%zu]", full, i);
	if (v->type == YNODE_MAP)
		return check_from_map(c, name, v, hc);
	return check_command(c, name, v, hc);
}

/* timeout_ms stays 0 until the walk is over: see checks_finish(). */
static void
set_checks(struct cparse *c, const char *full, const struct key *k,
    const struct ynode *v)
{
	struct config *cfg = c->cfg;
	struct health_check hc;

	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SEQ) {
		type_error(c, full, "a list", v);
		return;
	}
	if (v->n > MAX_HEALTH_CHECKS) {
		cerr(c, v->start, "'%s' has %zu checks, at most %d", full, v->n,
		    MAX_HEALTH_CHECKS);
		return;
	}
	cfg->activate.checks = xcalloc(v->n, sizeof(*cfg->activate.checks));
	for (size_t i = 0; i < v->n; i++) {
		memset(&hc, 0, sizeof(hc));
		if (check_parse(c, full, i, v->items[i], &hc) == 0)
			cfg->activate.checks[cfg->activate.nchecks++] = hc;
		else
			strvec_clear(&hc.argv);
	}
}

typedef void (*setter_fn)(struct cparse *, const char *, const struct key *,
    const struct ynode *);

static const setter_fn setters[] = {
	[K_STR] = set_str,
	[K_PATH] = set_path,
	[K_ABSPATH] = set_abspath,
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
	[K_CHECKS] = set_checks,
};

static void walk_map(struct cparse *c, const char *section,
    const struct ynode *map);

static void
walk_section(struct cparse *c, const struct key *k, const struct ynode *v)
{
	if (ynode_is_null(v))
		return;		/* "report:" alone: all defaults */
	if (v->type != YNODE_MAP) {
		type_error(c, k->name, "a mapping", v);
		return;
	}
	walk_map(c, k->name, v);
}

static void
walk_map(struct cparse *c, const char *section, const struct ynode *map)
{
	const struct key *k;
	char full[128];

	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (c->nerrors > MAX_CONFIG_ERRORS)
			return;
		k = key_lookup(c, section, map->items[i], map->items[i + 1]);
		if (k == NULL)
			continue;
		if (k->type == K_SECTION) {
			walk_section(c, k, map->items[i + 1]);
			continue;
		}
		config_key_fullname(k, full, sizeof(full));
		setters[k->type](c, full, k, map->items[i + 1]);
	}
}

/* Reported at the start of the parent mapping, or of the document. */
static void
check_required(struct cparse *c, const struct ynode *root)
{
	const struct ynode *at;
	char full[128];
	size_t s;

	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		if (!(config_keys[i].flags & KF_REQUIRED) || c->seen[i] != NULL)
			continue;
		s = config_key_index(NULL, config_keys[i].section);
		at = s < CONFIG_NKEYS && c->value[s] ? c->value[s] : root;
		config_key_fullname(&config_keys[i], full, sizeof(full));
		cerr(c, at->start, "missing required key '%s'", full);
	}
}

static void
check_host(struct cparse *c, const struct ynode *root)
{
	const char *h = c->cfg->host, *why;
	char sh[128];

	if (c->seen[config_key_index(NULL, "host")] != NULL)
		return;
	if (h == NULL)
		cerr(c, root->start, "cannot find this machine's host name: "
		    "set 'host'");
	else if ((why = host_invalid(h)) != NULL)
		cerr(c, root->start, "this machine's host name '%s' cannot be "
		    "used (%s): set 'host'", shown(h, strlen(h), sh,
		    sizeof(sh)), why);
}

static void
checks_finish(struct config *cfg)
{
	for (size_t i = 0; i < cfg->activate.nchecks; i++)
		if (cfg->activate.checks[i].timeout_ms == 0)
			cfg->activate.checks[i].timeout_ms =
			    cfg->activate.check_timeout_ms;
}

static void
parse_tree(struct cparse *c, const struct ydoc *doc)
{
	const struct ynode *root = doc->root;
	struct ymark start = { 1, 1 };

	if (root == NULL || ynode_is_null(root)) {
		cerr(c, root ? root->start : start, "empty config (expected a "
		    "mapping with at least 'repo' and 'trust')");
		return;
	}
	if (root->type != YNODE_MAP) {
		cerr(c, root->start, "the top level must be a mapping, not %s",
		    ynode_kind(root));
		return;
	}
	walk_map(c, NULL, root);
	check_required(c, root);
	check_host(c, root);
	checks_finish(c->cfg);
}

#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)

void
config_defaults(struct config *cfg)
{
	char host[256];

	memset(cfg, 0, sizeof(*cfg));
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		if (host[0] != '\0')
			cfg->host = xstrdup(host);
	}
	cfg->state_dir = xstrdup("/var/lib/nixpull");
	cfg->repo.ref = xstrdup("main");
	cfg->repo.max_fetch_size = 512ULL << 20;
	cfg->repo.connect_timeout_ms = 30 * SEC;
	cfg->repo.timeout_ms = 10 * MIN;
	cfg->trust.max_walk = 1000;
	cfg->trust.threshold = 1;
	cfg->poll.interval_ms = 5 * MIN;
	cfg->poll.jitter_ms = 1 * MIN;
	cfg->build.profile = PROFILE_WORKSTATION;
	cfg->build.max_jobs = CONFIG_AUTO;
	cfg->build.cores = CONFIG_AUTO;
	cfg->build.timeout_ms = 2 * HOUR;
	cfg->build.on_battery = ON_BATTERY_DEFER;
	cfg->build.mem_per_job = 2ULL << 30;
	cfg->build.min_free_disk = 5ULL << 30;
	cfg->activate.mode = MODE_SWITCH;
	cfg->activate.check_timeout_ms = 5 * MIN;
	cfg->activate.rollback = true;
	cfg->activate.current_system = xstrdup("/run/current-system");
	cfg->activate.timeout_ms = 1 * HOUR;
	cfg->report.timeout_ms = 30 * SEC;
}

void
config_release(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		if (config_key_is_string(&config_keys[i]))
			free(*(char **)(void *)((char *)cfg +
			    config_keys[i].off));
	}
	for (size_t i = 0; i < cfg->activate.nchecks; i++)
		strvec_clear(&cfg->activate.checks[i].argv);
	free(cfg->activate.checks);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

/* The directory relative paths are resolved against, made absolute. */
static char *
config_basedir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[4096];

	if (path[0] == '/')
		return xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (slash == NULL)
		return xstrdup(cwd);
	return xasprintf("%s/%.*s", cwd, (int)(slash - path), path);
}

static int
parse_with(struct config *cfg, const char *name, const char *text, size_t len,
    bool check_files, struct strvec *errors, struct strvec *warnings)
{
	struct cparse c;
	struct ydoc doc;

	config_defaults(cfg);
	cfg->path = xstrdup(name);
	if (ydoc_parse(&doc, name, text, len, errors) == -1) {
		config_release(cfg);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.name = name;
	c.basedir = config_basedir(name);
	c.check_files = check_files;
	c.errors = errors;
	c.warnings = warnings;
	parse_tree(&c, &doc);
	ydoc_release(&doc);
	free(c.basedir);
	if (c.nerrors == 0)
		return 0;
	config_release(cfg);
	return -1;
}

int
config_parse(struct config *cfg, const char *name, const char *text,
    size_t len, struct strvec *errors, struct strvec *warnings)
{
	return parse_with(cfg, name, text, len, false, errors, warnings);
}

/* The whole of fd into b, at most MAX_CONFIG_SIZE bytes. */
static int
read_config(int fd, const char *path, struct buf *b, struct strvec *errors)
{
	char chunk[8192];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) == -1) {
		strvec_pushf(errors, "cannot stat config '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		strvec_pushf(errors, "cannot read config '%s': not a regular "
		    "file", path);
		return -1;
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			strvec_pushf(errors, "cannot read config '%s': %s",
			    path, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (buf_add(b, chunk, (size_t)n) == -1) {
			strvec_pushf(errors, "%s: too large (more than %d "
			    "bytes)", path, MAX_CONFIG_SIZE);
			return -1;
		}
	}
}

int
config_load(struct config *cfg, const char *path, struct strvec *errors,
    struct strvec *warnings)
{
	struct buf b = BUF_INIT(MAX_CONFIG_SIZE);
	int fd, r = -1;

	memset(cfg, 0, sizeof(*cfg));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		strvec_pushf(errors, "cannot read config '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (read_config(fd, path, &b, errors) == 0)
		r = parse_with(cfg, path, buf_str(&b), b.len, true, errors,
		    warnings);
	close(fd);
	buf_release(&b);
	return r;
}

const char *
config_path(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	if ((env = getenv("NIXPULL_CONFIG")) != NULL && *env != '\0')
		return env;
	return CONFIG_DEFAULT_PATH;
}
