/*
 * Realise a signed system from the binary caches and check its NAR hash
 * (substitute.h).  Both commands are nix-store's, whose flags Nix 2.8 and
 * current Nix read alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "childenv.h"
#include "fsutil.h"
#include "log.h"
#include "substitute.h"

static void
realise_argv(const struct substitute_request *rq, const char *root,
    struct strvec *argv)
{
	strvec_push(argv, rq->nix_store ? rq->nix_store : "nix-store");
	strvec_push(argv, "--realise");
	strvec_push(argv, rq->sys->path);
	strvec_push(argv, "--add-root");
	strvec_push(argv, root);
	if (rq->substituters) {
		strvec_push(argv, "--option");
		strvec_push(argv, "substituters");
		strvec_push(argv, rq->substituters);
	}
	if (rq->trusted_keys) {
		strvec_push(argv, "--option");
		strvec_push(argv, "trusted-public-keys");
		strvec_push(argv, rq->trusted_keys);
	}
}

static void
opts_init(struct spawn_opts *o, const struct substitute_request *rq,
    struct strvec *argv, struct strvec *env)
{
	memset(o, 0, sizeof(*o));
	o->argv = (const char *const *)strvec_argv(argv);
	o->envp = (const char *const *)strvec_argv(env);
	o->cwd = "/";
	o->timeout_ms = rq->timeout_ms;
	o->cancel = rq->cancel;
}

static int
realise(const struct substitute_request *rq, struct build_result *res,
    struct err *e)
{
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	struct spawn_opts o;
	char *root = xasprintf("%s/gcroots/%s", rq->state_dir, rq->rev);
	int r = -1;

	realise_argv(rq, root, &argv);
	childenv_init(&env);
	opts_init(&o, rq, &argv, &env);
	o.log_path = res->log_path;
	log_info("realising %s for %.12s from the binary caches", rq->sys->path,
	    rq->rev);
	if (spawn_run(&o, &res->run, e) == -1)
		goto out;
	if (res->run.timed_out)
		err_set(e, "realising %s timed out after %llus; see %s",
		    rq->sys->path, (unsigned long long)(rq->timeout_ms / 1000),
		    res->log_path);
	else if (res->run.cancelled)
		err_set(e, "realising %s interrupted", rq->sys->path);
	else if (spawn_check(&res->run, "nix-store --realise", e) == -1)
		err_prefix(e, "cannot realise %s from the binary caches "
		    "(see %s)", rq->sys->path, res->log_path);
	else
		r = 0;
 out:
	free(root);
	strvec_clear(&argv);
	strvec_clear(&env);
	return r;
}

/* `nix-store --query --hash PATH` into h. */
static int
query_hash(const struct substitute_request *rq,
    unsigned char h[MANIFEST_HASH_LEN], struct err *e)
{
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	struct buf out = BUF_INIT(4096);
	struct spawn_result run;
	struct spawn_opts o;
	int r = -1;

	strvec_push(&argv, rq->nix_store ? rq->nix_store : "nix-store");
	strvec_push(&argv, "--query");
	strvec_push(&argv, "--hash");
	strvec_push(&argv, rq->sys->path);
	childenv_init(&env);
	opts_init(&o, rq, &argv, &env);
	o.capture = &out;
	if (spawn_run(&o, &run, e) == -1 ||
	    spawn_check(&run, "nix-store --query --hash", e) == -1)
		goto out;
	while (out.len > 0 && (out.data[out.len - 1] == '\n' ||
	    out.data[out.len - 1] == '\r'))
		out.data[--out.len] = '\0';
	if (manifest_hash_decode(buf_str(&out), h) == -1)
		err_set(e, "nix-store --query --hash %s: unexpected output "
		    "'%.80s'", rq->sys->path, buf_str(&out));
	else
		r = 0;
 out:
	buf_release(&out);
	strvec_clear(&argv);
	strvec_clear(&env);
	return r;
}

/* The store paths of the log's "copying path 'P' from 'URL'..." lines
 * (nix-store's own words since Nix 2.0) into paths. */
static void
fetched_paths(char *log, struct strvec *paths)
{
	static const char pre[] = "copying path '";
	char *line, *end;

	while ((line = strsep(&log, "\n")) != NULL) {
		if (strncmp(line, pre, sizeof(pre) - 1) != 0)
			continue;
		line += sizeof(pre) - 1;
		if ((end = strstr(line, "' from '")) == NULL)
			continue;
		*end = '\0';
		if (manifest_store_path_ok(line))
			strvec_push(paths, line);
	}
}

/* The NAR size of what the realisation fetched (its log names the paths,
 * `nix-store --query --size` sizes them); -1 when not known. */
static int64_t
fetched_bytes(const struct substitute_request *rq, const char *log_path)
{
	struct strvec paths = STRVEC_INIT, argv = STRVEC_INIT;
	struct strvec env = STRVEC_INIT;
	struct buf log, sizes = BUF_INIT(MAX_SUBSTITUTE_LOG);
	int64_t sum = -1, n;
	char *p, *line, *end;
	struct err e;

	if (fs_read_file(log_path, MAX_SUBSTITUTE_LOG, &log, &e) == -1) {
		log_debug("substituted bytes: %s", e.msg);
		goto out;
	}
	fetched_paths((char *)buf_str(&log), &paths);
	strvec_push(&argv, rq->nix_store ? rq->nix_store : "nix-store");
	strvec_push(&argv, "--query");
	strvec_push(&argv, "--size");
	for (size_t i = 0; i < paths.n; i++)
		strvec_push(&argv, paths.v[i]);
	childenv_init(&env);
	if (paths.n > 0 && spawn_capture((const char *const *)
	    strvec_argv(&argv), (const char *const *)strvec_argv(&env),
	    rq->timeout_ms, MAX_SUBSTITUTE_LOG, &sizes, &e) == -1) {
		log_debug("substituted bytes: %s", e.msg);
		goto out;
	}
	sum = 0;
	p = (char *)buf_str(&sizes);
	while (sum >= 0 && (line = strsep(&p, "\n")) != NULL && *line) {
		n = (int64_t)strtoll(line, &end, 10);
		sum = *end != '\0' || n < 0 ? -1 : sum + n;
	}
 out:
	buf_release(&log);
	buf_release(&sizes);
	strvec_clear(&paths);
	strvec_clear(&argv);
	strvec_clear(&env);
	return sum;
}

int
substitute_run(const struct substitute_request *rq, struct build_result *res,
    struct err *e)
{
	unsigned char h[MANIFEST_HASH_LEN];
	char want[MANIFEST_HASH_TEXT], got[MANIFEST_HASH_TEXT];
	char *d;

	memset(res, 0, sizeof(*res));
	d = xasprintf("%s/logs", rq->state_dir);
	if (fs_mkdir_p(d, 0700, e) == -1) {
		free(d);
		return -1;
	}
	free(d);
	d = xasprintf("%s/gcroots", rq->state_dir);
	if (fs_mkdir_p(d, 0700, e) == -1) {
		free(d);
		return -1;
	}
	free(d);
	res->log_path = xasprintf("%s/logs/%s.log", rq->state_dir, rq->rev);
	if (unlink(res->log_path) == -1 && errno != ENOENT)
		log_warn("%s", res->log_path);
	if (realise(rq, res, e) == -1 || query_hash(rq, h, e) == -1)
		return -1;
	if (sodium_memcmp(h, rq->sys->nar_hash, sizeof(h)) != 0) {
		manifest_hash_format(rq->sys->nar_hash, want);
		manifest_hash_format(h, got);
		err_set(e, "NAR hash mismatch for %s: the signed manifest says "
		    "%s, the store has %s", rq->sys->path, want, got);
		return SUBSTITUTE_MISMATCH;
	}
	res->store_path = xstrdup(rq->sys->path);
	res->substituted_bytes = fetched_bytes(rq, res->log_path);
	return 0;
}
