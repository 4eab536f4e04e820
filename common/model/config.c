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
 *
 * This file walks the tree and words the messages; the value of each key
 * is checked and stored by config_set.c (activate.checks: config_checks.c).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "config_int.h"

static void
cmsg(struct cparse *c, struct strvec *to, struct ymark m, const char *fmt,
    va_list ap)
{
	char msg[MAX_ERROR];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	strvec_pushf(to, "%s:%u:%u: %s", c->name, m.line, m.col, msg);
}

/* One error per problem, at most MAX_CONFIG_ERRORS of them. */
void
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

void
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
const char *
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

bool
cparse_key_ok(struct cparse *c, const struct ynode *kn)
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

	if (!cparse_key_ok(c, kn))
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

static void walk_map(struct cparse *c, const char *section,
    const struct ynode *map);

/* A section's keys are in the table under its full name ("a.b"). */
static void
walk_section(struct cparse *c, const struct key *k, const struct ynode *v)
{
	char full[128];

	if (ynode_is_null(v))
		return;		/* "report:" alone: all defaults */
	config_key_fullname(k, full, sizeof(full));
	if (v->type != YNODE_MAP) {
		cparse_type_error(c, full, "a mapping", v);
		return;
	}
	walk_map(c, full, v);
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
		config_set(c, full, k, map->items[i + 1]);
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
	else if ((why = config_host_invalid(h)) != NULL)
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
	config_reboot_finish(c);
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
	cfg->trust.repo_allowed_signers = xstrdup(".nixpull/allowed_signers");
	cfg->trust.repo_trust_file = xstrdup(".nixpull/trust.yaml");
	cfg->poll.interval_ms = 5 * MIN;
	cfg->poll.jitter_ms = 1 * MIN;
	cfg->build.profile = PROFILE_WORKSTATION;
	cfg->build.max_jobs = CONFIG_AUTO;
	cfg->build.cores = CONFIG_AUTO;
	cfg->build.timeout_ms = 2 * HOUR;
	cfg->build.on_battery = ON_BATTERY_DEFER;
	cfg->build.mem_per_job = 2ULL << 30;
	cfg->build.min_free_disk = 5ULL << 30;
	cfg->build.manifest = xstrdup(".nixpull/systems.json");
	cfg->activate.mode = MODE_SWITCH;
	cfg->activate.check_timeout_ms = 5 * MIN;
	cfg->activate.rollback = true;
	cfg->activate.current_system = xstrdup("/run/current-system");
	cfg->activate.profile = xstrdup("/nix/var/nix/profiles/system");
	cfg->activate.timeout_ms = 1 * HOUR;
	cfg->report.timeout_ms = 30 * SEC;
	cfg->privsep.user = xstrdup("nixpull");
	cfg->reboot.policy = REBOOT_NEVER;
	cfg->reboot.users = USERS_WAIT;	/* a workstation's; see parse_tree */
	cfg->reboot.inhibitors = INHIBITORS_RESPECT;
	cfg->reboot.notice_ms = 5 * MIN;
	cfg->reboot.max_defer_ms = 7 * 24 * HOUR;
	cfg->reboot.fleet_lock.group = xstrdup("default");
	cfg->reboot.fleet_lock.machine_id = xstrdup("/etc/machine-id");
	cfg->reboot.fleet_lock.timeout_ms = 30 * SEC;
	cfg->rollout.plan = xstrdup(".nixpull/rollout.yaml");
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
