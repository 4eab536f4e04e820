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
#include "duration.h"
#include "caps.h"
#include "yamldoc.h"

enum ktype {
	K_SECTION, K_STR, K_PATH, K_ABSPATH, K_SECRET, K_REPO_URL,
	K_REPORT_URL, K_HOST, K_DURATION, K_SIZE, K_UINT, K_JOBS, K_BOOL,
	K_ENUM, K_CHECKS,
};

#define KF_REQUIRED	0x1	/* must be set */
#define KF_NULLABLE	0x2	/* null means unset */
#define KF_NONZERO	0x4	/* durations and sizes: not 0 */

struct key {
	const char	*section;	/* NULL: top level */
	const char	*name;
	enum ktype	 type;
	size_t		 off;		/* into struct config */
	unsigned	 flags;
	long long	 min, max;	/* K_UINT, K_JOBS */
	const char *const *names;	/* K_ENUM, indexed by value */
};

static const char *const profile_names[] = { "workstation", "server", NULL };
static const char *const battery_names[] = { "defer", "build", NULL };
static const char *const mode_names[] = { "switch", "boot", "test", "none",
	NULL };

_Static_assert(sizeof(enum build_profile) == sizeof(unsigned) &&
    sizeof(enum on_battery) == sizeof(unsigned) &&
    sizeof(enum activate_mode) == sizeof(unsigned), "enums as unsigned");

#define F(m) offsetof(struct config, m)
#define SECTION(s) { NULL, s, K_SECTION, 0, 0, 0, 0, NULL }

static const struct key keys[] = {
	{ NULL, "host", K_HOST, F(host), 0, 0, 0, NULL },
	{ NULL, "state_dir", K_ABSPATH, F(state_dir), 0, 0, 0, NULL },
	SECTION("repo"),
	{ "repo", "url", K_REPO_URL, F(repo.url), KF_REQUIRED, 0, 0, NULL },
	{ "repo", "ref", K_STR, F(repo.ref), 0, 0, 0, NULL },
	{ "repo", "ssh_key", K_SECRET, F(repo.ssh_key), KF_NULLABLE, 0, 0,
	  NULL },
	{ "repo", "token_file", K_SECRET, F(repo.token_file), KF_NULLABLE, 0,
	  0, NULL },
	{ "repo", "ca_file", K_PATH, F(repo.ca_file), KF_NULLABLE, 0, 0, NULL },
	{ "repo", "known_hosts", K_PATH, F(repo.known_hosts), KF_NULLABLE, 0,
	  0, NULL },
	{ "repo", "max_fetch_size", K_SIZE, F(repo.max_fetch_size),
	  KF_NONZERO, 0, 0, NULL },
	{ "repo", "connect_timeout", K_DURATION, F(repo.connect_timeout_ms),
	  KF_NONZERO, 0, 0, NULL },
	{ "repo", "timeout", K_DURATION, F(repo.timeout_ms), KF_NONZERO, 0, 0,
	  NULL },
	SECTION("trust"),
	{ "trust", "allowed_signers", K_PATH, F(trust.allowed_signers),
	  KF_REQUIRED, 0, 0, NULL },
	{ "trust", "revoked_keys", K_PATH, F(trust.revoked_keys), KF_NULLABLE,
	  0, 0, NULL },
	{ "trust", "max_walk", K_UINT, F(trust.max_walk), 0, 1, 1000000, NULL },
	{ "trust", "threshold", K_UINT, F(trust.threshold), 0, 1, 100, NULL },
	{ "trust", "max_age", K_DURATION, F(trust.max_age_ms), 0, 0, 0, NULL },
	SECTION("poll"),
	{ "poll", "interval", K_DURATION, F(poll.interval_ms), KF_NONZERO, 0,
	  0, NULL },
	{ "poll", "jitter", K_DURATION, F(poll.jitter_ms), 0, 0, 0, NULL },
	SECTION("build"),
	{ "build", "profile", K_ENUM, F(build.profile), 0, 0, 0,
	  profile_names },
	{ "build", "max_jobs", K_JOBS, F(build.max_jobs), 0, 1, 4096, NULL },
	{ "build", "cores", K_JOBS, F(build.cores), 0, 0, 4096, NULL },
	{ "build", "timeout", K_DURATION, F(build.timeout_ms), KF_NONZERO, 0,
	  0, NULL },
	{ "build", "on_battery", K_ENUM, F(build.on_battery), 0, 0, 0,
	  battery_names },
	{ "build", "mem_per_job", K_SIZE, F(build.mem_per_job), 0, 0, 0,
	  NULL },
	{ "build", "min_free_disk", K_SIZE, F(build.min_free_disk), 0, 0, 0,
	  NULL },
	{ "build", "attribute", K_STR, F(build.attribute), KF_NULLABLE, 0, 0,
	  NULL },
	SECTION("activate"),
	{ "activate", "mode", K_ENUM, F(activate.mode), 0, 0, 0, mode_names },
	{ "activate", "health_checks", K_CHECKS, 0, KF_NULLABLE, 0, 0, NULL },
	{ "activate", "check_timeout", K_DURATION,
	  F(activate.check_timeout_ms), KF_NONZERO, 0, 0, NULL },
	{ "activate", "rollback", K_BOOL, F(activate.rollback), 0, 0, 0,
	  NULL },
	{ "activate", "command", K_STR, F(activate.command), KF_NULLABLE, 0, 0,
	  NULL },
	{ "activate", "current_system", K_PATH, F(activate.current_system), 0,
	  0, 0, NULL },
	{ "activate", "timeout", K_DURATION, F(activate.timeout_ms),
	  KF_NONZERO, 0, 0, NULL },
	SECTION("report"),
	{ "report", "url", K_REPORT_URL, F(report.url), KF_NULLABLE, 0, 0,
	  NULL },
	{ "report", "token_file", K_SECRET, F(report.token_file), KF_NULLABLE,
	  0, 0, NULL },
	{ "report", "ca_file", K_PATH, F(report.ca_file), KF_NULLABLE, 0, 0,
	  NULL },
	{ "report", "prometheus_textfile", K_PATH,
	  F(report.prometheus_textfile), KF_NULLABLE, 0, 0, NULL },
	{ "report", "timeout", K_DURATION, F(report.timeout_ms), KF_NONZERO, 0,
	  0, NULL },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const check_keys[] = { "command", "timeout", NULL };

struct cparse {
	struct config	*cfg;
	const char	*name;		/* for messages */
	char		*basedir;	/* for relative paths */
	bool		 check_files;	/* config_load: look at secrets */
	struct strvec	*errors;
	struct strvec	*warnings;
	size_t		 nerrors;
	const struct ynode *seen[NKEYS];	/* a key's first key node */
	const struct ynode *value[NKEYS];	/* and its value */
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

static void
key_fullname(const struct key *k, char *out, size_t outlen)
{
	if (k->section)
		snprintf(out, outlen, "%s.%s", k->section, k->name);
	else
		snprintf(out, outlen, "%s", k->name);
}

/* Levenshtein distance, or a large number for long strings. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], prev, tmp;

	if (la > 64 || lb > 64)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest of names to s, if close enough to be a typo; else NULL. */
static const char *
suggest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t d, bestd = 3;

	for (size_t i = 0; i < n; i++) {
		d = edit_distance(s, names[i]);
		if (d < bestd && d * 2 < strlen(names[i])) {
			bestd = d;
			best = names[i];
		}
	}
	return best;
}

static bool
same_section(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* " (did you mean 'x'?)" for an unknown key in section, or "". */
static void
key_hint(const char *section, const char *s, char *out, size_t outlen)
{
	const char *names[NKEYS], *best;
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++)
		if (same_section(keys[i].section, section))
			names[n++] = keys[i].name;
	if ((best = suggest(s, names, n)) != NULL) {
		snprintf(out, outlen, " (did you mean '%s'?)", best);
		return;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].section && strcmp(keys[i].name, s) == 0) {
			snprintf(out, outlen, " (did you mean '%s.%s'?)",
			    keys[i].section, keys[i].name);
			return;
		}
	}
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

	key_hint(section, kn->str, hint, sizeof(hint));
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
	for (i = 0; i < NKEYS; i++)
		if (same_section(keys[i].section, section) &&
		    strcmp(keys[i].name, kn->str) == 0)
			break;
	if (i == NKEYS) {
		key_unknown(c, section, kn);
		return NULL;
	}
	if (c->seen[i] != NULL) {
		key_fullname(&keys[i], full, sizeof(full));
		cerr(c, kn->start, "duplicate key '%s' (first at %u:%u)", full,
		    c->seen[i]->start.line, c->seen[i]->start.col);
		return NULL;
	}
	c->seen[i] = kn;
	c->value[i] = vn;
	return &keys[i];
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
		hint = suggest(kn->str, check_keys, 2);
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
		key_fullname(k, full, sizeof(full));
		setters[k->type](c, full, k, map->items[i + 1]);
	}
}

static size_t
key_index(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (same_section(keys[i].section, section) &&
		    strcmp(keys[i].name, name) == 0)
			break;
	return i;
}

/* Reported at the start of the parent mapping, or of the document. */
static void
check_required(struct cparse *c, const struct ynode *root)
{
	const struct ynode *at;
	char full[128];
	size_t s;

	for (size_t i = 0; i < NKEYS; i++) {
		if (!(keys[i].flags & KF_REQUIRED) || c->seen[i] != NULL)
			continue;
		s = key_index(NULL, keys[i].section);
		at = s < NKEYS && c->value[s] ? c->value[s] : root;
		key_fullname(&keys[i], full, sizeof(full));
		cerr(c, at->start, "missing required key '%s'", full);
	}
}

static void
check_host(struct cparse *c, const struct ynode *root)
{
	const char *h = c->cfg->host, *why;
	char sh[128];

	if (c->seen[key_index(NULL, "host")] != NULL)
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

static bool
is_string_key(const struct key *k)
{
	switch (k->type) {
	case K_STR: case K_PATH: case K_ABSPATH: case K_SECRET:
	case K_REPO_URL: case K_REPORT_URL: case K_HOST:
		return true;
	default:
		return false;
	}
}

void
config_release(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		if (is_string_key(&keys[i]))
			free(*(char **)(void *)((char *)cfg + keys[i].off));
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

const char *
config_mode_name(enum activate_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "?";
}

const char *
config_profile_name(enum build_profile p)
{
	return (unsigned)p < 2 ? profile_names[p] : "?";
}

/* Code points libyaml takes as they are in a double-quoted scalar. */
static bool
yaml_printable(unsigned long cp)
{
	return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) ||
	    (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) ||
	    (cp >= 0x10000 && cp <= 0x10ffff);
}

/* The UTF-8 character at s (len bytes left) into *cp; its length. */
static size_t
utf8_decode(const unsigned char *s, size_t len, unsigned long *cp)
{
	size_t n = s[0] < 0x80 ? 0 : s[0] >= 0xf0 ? 3 : s[0] >= 0xe0 ? 2 :
	    s[0] >= 0xc0 ? 1 : 0;

	*cp = n == 0 ? s[0] : s[0] & (0x3f >> n);
	if (s[0] >= 0x80 && n == 0)
		return 1;
	if (n >= len)
		n = 0;
	for (size_t i = 1; i <= n; i++)
		*cp = (*cp << 6) | (s[i] & 0x3f);
	return n + 1;
}

/* s as a YAML double-quoted scalar that libyaml reads back as s. */
static void
print_string(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, n;
	unsigned long cp;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (len = strlen(s); len > 0; p += n, len -= n) {
		n = utf8_decode(p, len, &cp);
		if (cp == '"' || cp == '\\')
			fprintf(fp, "\\%c", (int)cp);
		else if (yaml_printable(cp))
			fwrite(p, 1, n, fp);
		else if (cp < 0x100)
			fprintf(fp, "\\x%02lx", cp);
		else if (cp < 0x10000)
			fprintf(fp, "\\u%04lx", cp);
		else
			fprintf(fp, "\\U%08lx", cp);
	}
	fputc('"', fp);
}

static void
print_checks(FILE *fp, const struct config *cfg)
{
	char d[64];

	if (cfg->activate.nchecks == 0) {
		fputs(" []\n", fp);
		return;
	}
	fputc('\n', fp);
	for (size_t i = 0; i < cfg->activate.nchecks; i++) {
		const struct health_check *hc = &cfg->activate.checks[i];

		fputs("    - command: [", fp);
		for (size_t j = 0; j < hc->argv.n; j++) {
			fputs(j ? ", " : "", fp);
			print_string(fp, hc->argv.v[j]);
		}
		duration_format(hc->timeout_ms, d, sizeof(d));
		fprintf(fp, "]\n      timeout: %s\n", d);
	}
}

static void
print_value(FILE *fp, const struct config *cfg, const struct key *k)
{
	const void *p = (const char *)cfg + k->off;
	char s[64];
	unsigned e;

	fputc(' ', fp);
	if (is_string_key(k)) {
		print_string(fp, *(char *const *)p);
	} else if (k->type == K_DURATION) {
		duration_format(*(const uint64_t *)p, s, sizeof(s));
		fputs(s, fp);
	} else if (k->type == K_SIZE) {
		size_format(*(const uint64_t *)p, s, sizeof(s));
		fputs(s, fp);
	} else if (k->type == K_UINT) {
		fprintf(fp, "%u", *(const unsigned *)p);
	} else if (k->type == K_JOBS) {
		if (*(const int *)p == CONFIG_AUTO)
			fputs("auto", fp);
		else
			fprintf(fp, "%d", *(const int *)p);
	} else if (k->type == K_BOOL) {
		fputs(*(const bool *)p ? "true" : "false", fp);
	} else if (k->type == K_ENUM) {
		e = *(const unsigned *)p;
		fputs(e < 4 && k->names[e] ? k->names[e] : "null", fp);
	}
	fputc('\n', fp);
}

void
config_print(const struct config *cfg, FILE *fp)
{
	const struct key *k;

	if (cfg->path != NULL) {
		fputs("# the effective configuration of ", fp);
		print_string(fp, cfg->path);
		fputs("\n", fp);
	}
	for (size_t i = 0; i < NKEYS; i++) {
		k = &keys[i];
		if (k->type == K_SECTION) {
			fprintf(fp, "%s:\n", k->name);
			continue;
		}
		fprintf(fp, "%s%s:", k->section ? "  " : "", k->name);
		if (k->type == K_CHECKS)
			print_checks(fp, cfg);
		else
			print_value(fp, cfg, k);
	}
}
