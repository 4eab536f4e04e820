#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "build.h"
#include "childenv.h"
#include "config.h"
#include "fsutil.h"
#include "log.h"

#define NIX_FEATURES	"nix-command flakes"

/* Percent-encodes what a URL path or query value cannot hold as is. */
static void
url_escape(struct buf *out, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._~-";

	for (; *s; s++) {
		if (strchr(safe, *s))
			buf_addch(out, *s);
		else
			buf_addf(out, "%%%02X", (unsigned char)*s);
	}
}

void
build_flake_url(const char *mirror, const char *ref, const char *rev,
    struct buf *out)
{
	buf_addstr(out, "git+file://");
	url_escape(out, mirror);
	buf_addstr(out, "?ref=");
	url_escape(out, ref);
	buf_addstr(out, "&rev=");
	url_escape(out, rev);
}

void
build_system_attribute(const char *os, const char *host, struct buf *out)
{
	if (os && strcmp(os, "darwin") == 0)
		buf_addf(out, "darwinConfigurations.\"%s\".system", host);
	else
		buf_addf(out, "nixosConfigurations.\"%s\".config.system.build."
		    "toplevel", host);
}

void
build_attribute(const struct config *cfg, const char *os, struct buf *out)
{
	if (cfg->build.attribute)
		buf_addstr(out, cfg->build.attribute);
	else
		build_system_attribute(os, cfg->host, out);
}

/* The store path from `nix build --json` (2.8 and newer print the same
 * shape: [{"drvPath": ..., "outputs": {"out": "/nix/store/..."}}]). */
static char *
parse_out_path(const char *json)
{
	json_error_t jerr;
	json_t *root, *out;
	char *path = NULL;

	if ((root = json_loads(json, 0, &jerr)) == NULL)
		return NULL;
	out = json_object_get(json_object_get(json_array_get(root, 0),
	    "outputs"), "out");
	if (json_is_string(out) &&
	    strncmp(json_string_value(out), "/nix/store/", 11) == 0)
		path = xstrdup(json_string_value(out));
	json_decref(root);
	return path;
}

static void
build_argv(const struct build_request *rq, const char *outlink,
    struct strvec *argv)
{
	struct buf ref = BUF_INIT(16384);

	build_flake_url(rq->mirror, rq->ref, rq->rev, &ref);
	buf_addch(&ref, '#');
	buf_addstr(&ref, rq->attr);
	strvec_push(argv, rq->nix ? rq->nix : "nix");
	strvec_push(argv, "--extra-experimental-features");
	strvec_push(argv, NIX_FEATURES);
	strvec_push(argv, "build");
	strvec_push(argv, "--json");
	strvec_push(argv, "--print-build-logs");
	strvec_push(argv, "--out-link");
	strvec_push(argv, outlink);
	strvec_push(argv, "--max-jobs");
	strvec_pushf(argv, "%d", rq->max_jobs);
	strvec_push(argv, "--cores");
	strvec_pushf(argv, "%d", rq->cores);
	strvec_push(argv, buf_str(&ref));
	buf_release(&ref);
}

static int
prepare_dirs(const char *state_dir, struct err *e)
{
	char *d;
	int r = 0;

	d = xasprintf("%s/logs", state_dir);
	if (fs_mkdir_p(d, 0700, e) == -1)
		r = -1;
	free(d);
	d = xasprintf("%s/gcroots", state_dir);
	if (r == 0 && fs_mkdir_p(d, 0700, e) == -1)
		r = -1;
	free(d);
	return r;
}

/*
 * The mirror belongs to the fetcher's user, and git (which Nix runs to
 * read it) refuses a repository someone else owns unless a global or
 * system configuration names it safe; git drops GIT_CONFIG_COUNT and
 * GIT_CONFIG_PARAMETERS for the upload-pack it runs on a local remote.
 * So Nix's git gets a global configuration of ours that says only that.
 */
static int
git_config_env(const struct build_request *rq, struct strvec *env,
    struct err *e)
{
	char *path = xasprintf("%s/gitconfig", rq->state_dir);
	char *text = xasprintf("# written by nixpull for the git that Nix "
	    "runs\n[safe]\n\tdirectory = %s\n", rq->mirror);
	int r;

	r = fs_write_atomic(path, text, strlen(text), 0644, e);
	if (r == 0)
		strvec_pushf(env, "GIT_CONFIG_GLOBAL=%s", path);
	free(text);
	free(path);
	return r;
}

/* How both nix runs of a build request go: the children's environment
 * and Nix's git config in env, niced, bounded, cancellable, captured. */
static int
nix_opts(const struct build_request *rq, struct strvec *argv,
    struct strvec *env, struct buf *out, struct spawn_opts *o,
    struct err *e)
{
	childenv_init(env);
	if (git_config_env(rq, env, e) == -1)
		return -1;
	memset(o, 0, sizeof(*o));
	o->argv = (const char *const *)strvec_argv(argv);
	o->envp = (const char *const *)strvec_argv(env);
	o->cwd = "/";
	o->timeout_ms = rq->timeout_ms;
	o->nice = rq->nice;
	o->idle_io = rq->idle_io;
	o->cancel = rq->cancel;
	o->capture = out;
	return 0;
}

int
build_run(const struct build_request *rq, struct build_result *res,
    struct err *e)
{
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	struct buf out = BUF_INIT(1024 * 1024);
	struct spawn_opts o;
	char *outlink = NULL;
	int r = -1;

	memset(res, 0, sizeof(*res));
	if (prepare_dirs(rq->state_dir, e) == -1)
		return -1;
	res->log_path = xasprintf("%s/logs/%s.log", rq->state_dir, rq->rev);
	outlink = xasprintf("%s/gcroots/%s", rq->state_dir, rq->rev);
	/* A log of an earlier try of the same revision is replaced. */
	if (unlink(res->log_path) == -1 && errno != ENOENT)
		log_warn("%s", res->log_path);
	build_argv(rq, outlink, &argv);
	if (nix_opts(rq, &argv, &env, &out, &o, e) == -1)
		goto out;
	o.log_path = res->log_path;
	log_info("building %s (max-jobs %d, cores %d)", rq->rev, rq->max_jobs,
	    rq->cores);
	if (spawn_run(&o, &res->run, e) == -1)
		goto out;
	if (res->run.timed_out) {
		err_set(e, "build of %.12s timed out after %llus; see %s",
		    rq->rev, (unsigned long long)(rq->timeout_ms / 1000),
		    res->log_path);
		goto out;
	}
	if (res->run.cancelled) {
		err_set(e, "build of %.12s interrupted", rq->rev);
		goto out;
	}
	if (spawn_check(&res->run, "nix build", e) == -1) {
		err_prefix(e, "build of %.12s failed", rq->rev);
		goto out;
	}
	if ((res->store_path = parse_out_path(buf_str(&out))) == NULL) {
		err_set(e, "build of %.12s: cannot read the output path from "
		    "'nix build --json'", rq->rev);
		goto out;
	}
	r = 0;
 out:
	free(outlink);
	buf_release(&out);
	strvec_clear(&argv);
	strvec_clear(&env);
	return r;
}

static void
eval_argv(const struct build_request *rq, struct strvec *argv)
{
	struct buf ref = BUF_INIT(16384);

	build_flake_url(rq->mirror, rq->ref, rq->rev, &ref);
	buf_addf(&ref, "#%s.outPath", rq->attr);
	strvec_push(argv, rq->nix ? rq->nix : "nix");
	strvec_push(argv, "--extra-experimental-features");
	strvec_push(argv, NIX_FEATURES);
	strvec_push(argv, "eval");
	strvec_push(argv, "--raw");
	strvec_push(argv, buf_str(&ref));
	buf_release(&ref);
}

int
build_eval(const struct build_request *rq, char **path, struct err *e)
{
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	struct buf out = BUF_INIT(4096);
	struct spawn_result run;
	struct spawn_opts o;
	int r = -1;

	*path = NULL;
	eval_argv(rq, &argv);
	if (nix_opts(rq, &argv, &env, &out, &o, e) == -1)
		goto out;
	log_info("evaluating %s of %.12s (build.verify_manifest: eval)",
	    rq->attr, rq->rev);
	if (spawn_run(&o, &run, e) == -1)
		goto out;
	if (run.timed_out || run.cancelled)
		err_set(e, "evaluation of %.12s %s", rq->rev, run.timed_out ?
		    "timed out" : "interrupted");
	else if (spawn_check(&run, "nix eval", e) == -1)
		err_prefix(e, "evaluation of %.12s failed", rq->rev);
	else if (strncmp(buf_str(&out), "/nix/store/", 11) != 0 ||
	    strchr(buf_str(&out), '\n') != NULL)
		err_set(e, "evaluation of %.12s: unexpected output '%.80s'",
		    rq->rev, buf_str(&out));
	else {
		*path = xstrdup(buf_str(&out));
		r = 0;
	}
 out:
	buf_release(&out);
	strvec_clear(&argv);
	strvec_clear(&env);
	return r;
}

void
build_result_release(struct build_result *res)
{
	free(res->store_path);
	free(res->log_path);
	res->store_path = res->log_path = NULL;
}

static int
kept(const char *name, const char *const *keep, size_t nkeep)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] && strcmp(name, keep[i]) == 0)
			return 1;
	return 0;
}

int
build_prune_gcroots(const char *state_dir, const char *const *keep,
    size_t nkeep, struct err *e)
{
	char *dir = xasprintf("%s/gcroots", state_dir), *p;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		int r = errno == ENOENT ? 0 : err_errno(e, "%s", dir);

		free(dir);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || kept(de->d_name, keep, nkeep))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (unlink(p) == -1)
			log_warn("cannot remove GC root %s", p);
		free(p);
	}
	closedir(d);
	free(dir);
	return 0;
}
