/*
 * nixpull manifest: the signed system manifest (manifest.h) of a
 * repository's hosts, for CI and operators.  It evaluates and builds every
 * host's system in one `nix build` (tuned like the agent), optionally
 * copies the closures to a binary cache (`nix copy --to`), and writes
 * .nixpull/systems.json with each path, NAR hash and NAR size:
 *
 *	nixpull manifest --repo . --all --copy-to s3://cache
 *	git add .nixpull/systems.json && git commit -S -m release
 *
 * The manifest is written last: only after the cache holds the closures,
 * and only as the agent will read it back.  Run by a user or CI, not the
 * agent: its children get the caller's environment (the cache's
 * credentials, NIX_CONFIG).
 */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "build.h"
#include "cmd.h"
#include "config.h"
#include "fsutil.h"
#include "log.h"
#include "manifest.h"
#include "platform.h"
#include "tune.h"

#define NIX_FEATURES		"nix-command flakes"
#define MAX_NIX_OUTPUT		(4 * 1024 * 1024)	/* a JSON answer */
#define QUERY_TIMEOUT_MS	(5 * 60 * 1000)

struct mf_opts {
	const char	*config;
	const char	*repo;
	const char	*hosts;		/* h1,h2 */
	const char	*copy_to;
	const char	*out;		/* "-": stdout */
	bool		 all;
};

struct mf_host {
	char		*name;
	const char	*os;		/* "linux" (NixOS) or "darwin" */
	char		*path;
	unsigned char	 nar_hash[MANIFEST_HASH_LEN];
	uint64_t	 nar_size;
};

struct mf_ctx {
	struct config	 cfg;
	char		*ref;		/* the flake: git+file:// or path: */
	struct mf_host	*h;
	size_t		 n;
	int		 max_jobs, cores;
	struct err	 err;
};

/* ---- running nix ------------------------------------------------------ */

/* argv to completion with stdout into out (when not NULL); 0, or -1 with
 * c->err naming what, and the output's end printed. */
static int
nix_run(struct mf_ctx *c, struct strvec *argv, struct buf *out,
    uint64_t timeout_ms, const char *what)
{
	struct spawn_result run;
	struct spawn_opts o;

	memset(&o, 0, sizeof(o));
	o.argv = (const char *const *)strvec_argv(argv);
	o.envp = NULL;		/* the caller's: credentials, NIX_CONFIG */
	o.timeout_ms = timeout_ms;
	o.capture = out;
	log_debug("running %s", what);
	if (spawn_run(&o, &run, &c->err) == -1)
		return -1;
	if (run.timed_out)
		return err_set(&c->err, "'%s' timed out after %llus", what,
		    (unsigned long long)(timeout_ms / 1000));
	if (spawn_check(&run, what, &c->err) == 0)
		return 0;
	if (run.tail_len > 0)
		fprintf(stderr, "%s", run.tail);
	return -1;
}

static void
nix_argv(struct strvec *argv, const char *sub)
{
	strvec_push(argv, "nix");
	strvec_push(argv, "--extra-experimental-features");
	strvec_push(argv, NIX_FEATURES);
	strvec_push(argv, sub);
}

/* ---- which hosts ------------------------------------------------------ */

/* The flake reference of the work tree (its tracked files, as they are). */
static int
flake_ref(struct mf_ctx *c, const char *repo)
{
	char abs[PATH_MAX], *git;
	bool is_git;

	if (realpath(repo, abs) == NULL)
		return err_errno(&c->err, "%s", repo);
	if (strpbrk(abs, "\"\\$?#") != NULL)
		return err_set(&c->err, "%s: a path with '\"', '\\', '$', '?' "
		    "or '#' cannot be a flake reference here", abs);
	git = xasprintf("%s/.git", abs);
	is_git = access(git, F_OK) == 0;
	free(git);
	c->ref = xasprintf("%s%s", is_git ? "git+file://" : "path:", abs);
	return 0;
}

/* The names of the flake's nixosConfigurations and darwinConfigurations,
 * as {"linux": [...], "darwin": [...]}: one evaluation of the outputs. */
static int
list_systems(struct mf_ctx *c, json_t **out)
{
	struct strvec argv = STRVEC_INIT;
	struct buf buf = BUF_INIT(MAX_NIX_OUTPUT);
	json_error_t jerr;
	int r = -1;

	nix_argv(&argv, "eval");
	strvec_push(&argv, "--json");
	strvec_push(&argv, "--impure");	/* getFlake of a work tree */
	strvec_push(&argv, "--expr");
	strvec_pushf(&argv, "let f = builtins.getFlake \"%s\"; names = a: "
	    "builtins.attrNames (f.${a} or { }); in { linux = names "
	    "\"nixosConfigurations\"; darwin = names "
	    "\"darwinConfigurations\"; }", c->ref);
	if (nix_run(c, &argv, &buf, c->cfg.build.timeout_ms,
	    "nix eval") == -1)
		goto out;
	if ((*out = json_loads(buf_str(&buf), 0, &jerr)) == NULL ||
	    !json_is_array(json_object_get(*out, "linux")) ||
	    !json_is_array(json_object_get(*out, "darwin"))) {
		err_set(&c->err, "nix eval: unexpected output '%.80s'",
		    buf_str(&buf));
		goto out;
	}
	r = 0;
 out:
	buf_release(&buf);
	strvec_clear(&argv);
	return r;
}

/* "linux" when name is a NixOS system, "darwin" a nix-darwin one, else
 * NULL. */
static const char *
system_os(json_t *names, const char *name)
{
	static const char *const oses[] = { "linux", "darwin" };
	json_t *v;
	size_t i;

	for (size_t k = 0; k < 2; k++)
		json_array_foreach(json_object_get(names, oses[k]), i, v)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), name) == 0)
				return oses[k];
	return NULL;
}

static int
add_host(struct mf_ctx *c, json_t *names, const char *name)
{
	const char *os = system_os(names, name);

	if (os == NULL)
		return err_set(&c->err, "no nixosConfigurations or "
		    "darwinConfigurations entry for '%s' in %s", name, c->ref);
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->h[i].name, name) == 0)
			return 0;
	if (c->n == MAX_MANIFEST_SYSTEMS)
		return err_set(&c->err, "more than %d systems",
		    MAX_MANIFEST_SYSTEMS);
	c->h = xreallocarray(c->h, c->n + 1, sizeof(*c->h));
	memset(&c->h[c->n], 0, sizeof(*c->h));
	c->h[c->n].name = xstrdup(name);
	c->h[c->n++].os = os;
	return 0;
}

/* --all: every system (NixOS first); --hosts: those, in that order. */
static int
choose_hosts(struct mf_ctx *c, const struct mf_opts *o)
{
	json_t *names = NULL, *v;
	char *list, *p, *name;
	size_t i;
	int r = 0;

	if (list_systems(c, &names) == -1)
		return -1;
	if (o->all) {
		json_array_foreach(json_object_get(names, "linux"), i, v)
			if (r == 0 && json_is_string(v))
				r = add_host(c, names, json_string_value(v));
		json_array_foreach(json_object_get(names, "darwin"), i, v)
			if (r == 0 && json_is_string(v))
				r = add_host(c, names, json_string_value(v));
	} else {
		list = p = xstrdup(o->hosts);
		while (r == 0 && (name = strsep(&p, ",")) != NULL)
			if (*name)
				r = add_host(c, names, name);
		free(list);
	}
	if (r == 0 && c->n == 0)
		r = err_set(&c->err, "no systems in %s", c->ref);
	json_decref(names);
	return r;
}

/* ---- build, hash, copy ------------------------------------------------ */

static void
tune(struct mf_ctx *c)
{
	struct platform p;
	struct tune_result t;
	struct err e;

	memset(&p, 0, sizeof(p));
	if (platform_probe(&p, &e) == -1)
		log_warnx("probe: %s", e.msg);
	if (tune_choose(&p, &c->cfg, &t, &e) == -1)
		log_warnx("%s; building anyway", e.msg);
	else if (t.defer)
		log_warnx("%s; building anyway", t.reason);
	c->max_jobs = t.max_jobs;
	c->cores = t.cores;
}

/* Every system in one `nix build`, so that Nix builds them in parallel. */
static int
build_all(struct mf_ctx *c)
{
	struct strvec argv = STRVEC_INIT;
	struct buf out = BUF_INIT(MAX_NIX_OUTPUT), attr = BUF_INIT(4096);
	json_t *res = NULL, *p;
	json_error_t jerr;
	int r = -1;

	nix_argv(&argv, "build");
	strvec_push(&argv, "--json");
	strvec_push(&argv, "--no-link");
	strvec_push(&argv, "--max-jobs");
	strvec_pushf(&argv, "%d", c->max_jobs);
	strvec_push(&argv, "--cores");
	strvec_pushf(&argv, "%d", c->cores);
	for (size_t i = 0; i < c->n; i++) {
		buf_reset(&attr);
		build_system_attribute(c->h[i].os, c->h[i].name, &attr);
		strvec_pushf(&argv, "%s#%s", c->ref, buf_str(&attr));
	}
	log_info("building %zu system(s) (max-jobs %d, cores %d)", c->n,
	    c->max_jobs, c->cores);
	if (nix_run(c, &argv, &out, c->cfg.build.timeout_ms,
	    "nix build") == -1)
		goto out;
	res = json_loads(buf_str(&out), 0, &jerr);
	for (size_t i = 0; i < c->n; i++) {
		p = json_object_get(json_object_get(json_array_get(res, i),
		    "outputs"), "out");
		if (!json_is_string(p) ||
		    !manifest_store_path_ok(json_string_value(p))) {
			err_set(&c->err, "nix build --json: no store path for "
			    "'%s'", c->h[i].name);
			goto out;
		}
		c->h[i].path = xstrdup(json_string_value(p));
	}
	r = 0;
 out:
	json_decref(res);
	buf_release(&attr);
	buf_release(&out);
	strvec_clear(&argv);
	return r;
}

/* nix-store --query --WHAT of every path: one line each, into lines. */
static int
query(struct mf_ctx *c, const char *what, struct buf *out)
{
	struct strvec argv = STRVEC_INIT;
	int r;

	strvec_push(&argv, "nix-store");
	strvec_push(&argv, "--query");
	strvec_push(&argv, what);
	for (size_t i = 0; i < c->n; i++)
		strvec_push(&argv, c->h[i].path);
	r = nix_run(c, &argv, out, QUERY_TIMEOUT_MS, "nix-store --query");
	strvec_clear(&argv);
	return r;
}

static int
hash_all(struct mf_ctx *c)
{
	struct buf hashes = BUF_INIT(MAX_NIX_OUTPUT);
	struct buf sizes = BUF_INIT(MAX_NIX_OUTPUT);
	char *hp, *sp, *hl, *sl, *end;
	int r = -1;

	if (query(c, "--hash", &hashes) == -1 ||
	    query(c, "--size", &sizes) == -1)
		goto out;
	hp = (char *)buf_str(&hashes);
	sp = (char *)buf_str(&sizes);
	for (size_t i = 0; i < c->n; i++) {
		hl = strsep(&hp, "\n");
		sl = strsep(&sp, "\n");
		if (hl == NULL || sl == NULL ||
		    manifest_hash_decode(hl, c->h[i].nar_hash) == -1 ||
		    (c->h[i].nar_size = strtoull(sl, &end, 10)) == 0 ||
		    *end != '\0') {
			err_set(&c->err, "nix-store --query: unexpected output "
			    "for %s", c->h[i].path);
			goto out;
		}
	}
	r = 0;
 out:
	buf_release(&hashes);
	buf_release(&sizes);
	return r;
}

static int
copy_to(struct mf_ctx *c, const char *url)
{
	struct strvec argv = STRVEC_INIT;
	int r;

	nix_argv(&argv, "copy");
	strvec_push(&argv, "--to");
	strvec_push(&argv, url);
	for (size_t i = 0; i < c->n; i++)
		strvec_push(&argv, c->h[i].path);
	log_info("copying %zu closure(s) to the binary cache", c->n);
	r = nix_run(c, &argv, NULL, c->cfg.build.timeout_ms, "nix copy");
	strvec_clear(&argv);
	return r;
}

/* ---- the manifest ----------------------------------------------------- */

/* The manifest's text, through manifest.c's own table. */
static char *
manifest_text(const struct mf_ctx *c)
{
	struct manifest_system *sys = xcalloc(c->n + 1, sizeof(*sys));
	struct manifest m = { sys, c->n };
	char *text;

	for (size_t i = 0; i < c->n; i++) {	/* borrowed, not freed */
		sys[i].host = c->h[i].name;
		sys[i].path = c->h[i].path;
		memcpy(sys[i].nar_hash, c->h[i].nar_hash, MANIFEST_HASH_LEN);
		sys[i].nar_size = c->h[i].nar_size;
	}
	text = manifest_format(&m);
	free(sys);
	return text;
}

/* Written only as the agent will read it back (manifest_parse). */
static int
write_manifest(struct mf_ctx *c, const char *path)
{
	struct manifest m;
	char *body = manifest_text(c), *dir, *slash;
	int r = -1;

	if (body == NULL)
		return err_set(&c->err, "%s: cannot encode the manifest", path);
	if (manifest_parse(&m, path, body, strlen(body), &c->err) == -1)
		goto out;
	manifest_release(&m);
	if (strcmp(path, "-") == 0) {
		r = fputs(body, stdout) == EOF || fflush(stdout) == EOF ?
		    err_errno(&c->err, "stdout") : 0;
		goto out;
	}
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		r = fs_mkdir_p(dir, 0755, &c->err);
	} else
		r = 0;
	free(dir);
	if (r == 0)
		r = fs_write_atomic(path, body, strlen(body), 0644, &c->err);
 out:
	free(body);
	return r;
}

/* ---- the command ------------------------------------------------------ */

static int
parse_opts(int argc, char **argv, struct mf_opts *o)
{
	static const struct option longopts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "hosts", required_argument, NULL, 'H' },
		{ "all", no_argument, NULL, 'a' },
		{ "copy-to", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		CMD_COMMON_LONG,
		{ NULL, 0, NULL, 0 }
	};
	int ch, r;

	while ((ch = getopt_long(argc, argv, CMD_COMMON_SHORT "o:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'r': o->repo = optarg; break;
		case 'H': o->hosts = optarg; break;
		case 'a': o->all = true; break;
		case 't': o->copy_to = optarg; break;
		case 'o': o->out = optarg; break;
		default:
			if ((r = cmd_common_opt(ch, "manifest",
			    &o->config)) != CMD_CONTINUE)
				return r;
		}
	}
	if ((r = cmd_no_args(argc, argv)) != EXIT_OK)
		return r;
	if (o->all == (o->hosts != NULL)) {
		fprintf(stderr, "nixpull manifest: give either --all or "
		    "--hosts\n");
		cmd_usage("manifest", 1);
		return EXIT_USAGE;
	}
	return CMD_CONTINUE;
}

static void
ctx_release(struct mf_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->h[i].name);
		free(c->h[i].path);
	}
	free(c->h);
	free(c->ref);
	config_release(&c->cfg);
}

static int
run(struct mf_ctx *c, const struct mf_opts *o)
{
	char *out = o->out ? xstrdup(o->out) :
	    xasprintf("%s/%s", o->repo, c->cfg.build.manifest);
	int r = -1;

	if (flake_ref(c, o->repo) == -1 || choose_hosts(c, o) == -1)
		goto out;
	tune(c);
	if (build_all(c) == -1 || hash_all(c) == -1 ||
	    (o->copy_to && copy_to(c, o->copy_to) == -1) ||
	    write_manifest(c, out) == -1)
		goto out;
	for (size_t i = 0; i < c->n; i++)
		log_info("%s: %s (%llu bytes)", c->h[i].name, c->h[i].path,
		    (unsigned long long)c->h[i].nar_size);
	if (strcmp(out, "-") != 0)
		log_info("wrote %s", out);
	r = 0;
 out:
	free(out);
	return r;
}

int
cmd_manifest(int argc, char **argv)
{
	struct mf_opts o;
	struct mf_ctx c;
	int r;

	memset(&o, 0, sizeof(o));
	o.repo = ".";
	if ((r = parse_opts(argc, argv, &o)) != CMD_CONTINUE)
		return r;
	memset(&c, 0, sizeof(c));
	if (o.config != NULL) {
		if ((r = cmd_load_config(&c.cfg, o.config)) != EXIT_OK)
			return r;
	} else
		config_defaults(&c.cfg);
	r = run(&c, &o);
	if (r == -1)
		fprintf(stderr, "nixpull manifest: %s\n", c.err.msg);
	ctx_release(&c);
	return r == 0 ? EXIT_OK : EXIT_FAILED;
}
