/*
 * nixpull verify: which key signed REV (a commit or an annotated tag), and
 * would the agent deploy it.  Operators run it before pushing:
 *	nixpull verify --repo . HEAD
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>

#include "allowed_signers.h"
#include "buf.h"
#include "caps.h"
#include "cmd.h"
#include "config.h"
#include "gitsig.h"
#include "select.h"
#include "state.h"
#include "cmd_verify.h"

struct verify_opts {
	const char	*config;
	const char	*repo;
	const char	*allowed;
	const char	*revoked;
	const char	*rev;
	int		 help;
};

/* 0, or an exit status. */
static int
verify_parse(int argc, char **argv, struct verify_opts *vo)
{
	static const struct option opts[] = {
		CMD_COMMON_LONG,
		{ "repo", required_argument, NULL, 'r' },
		{ "allowed-signers", required_argument, NULL, 'a' },
		{ "revoked-keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, r;

	memset(vo, 0, sizeof(*vo));
	optind = 1;
	while ((ch = getopt_long(argc, argv, CMD_COMMON_SHORT, opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'r':
			vo->repo = optarg;
			break;
		case 'a':
			vo->allowed = optarg;
			break;
		case 'k':
			vo->revoked = optarg;
			break;
		case 'h':
			vo->help = 1;
			return 0;
		default:
			r = cmd_common_opt(ch, argv[0], &vo->config);
			if (r != CMD_CONTINUE)
				return r;
		}
	}
	if (optind == argc)
		return cmd_usage_error("verify", "no revision given");
	if (argc - optind > 1)
		return cmd_usage_error("verify", "unexpected argument '%s'",
		    argv[optind + 1]);
	vo->rev = argv[optind];
	return 0;
}

static void
print_key(const struct sig_info *info)
{
	if (info->key_type[0] != '\0')
		printf("key: %s %s\n", info->key_type, info->fingerprint);
}

static void
print_signature(const char *what, const struct gitsig_result *res,
    const struct err *e)
{
	if (res->outcome == GITSIG_GOOD) {
		printf("%s: good signature\n", what);
		printf("signer: %s\n", res->info.principals);
	} else {
		size_t n = strlen(what);
		const char *why = e->msg;

		/* gitsig names the object already */
		if (strncmp(why, what, n) == 0 && strncmp(why + n, ": ", 2) == 0)
			why += n + 2;
		printf("%s: rejected: %s\n", what, why);
	}
	print_key(&res->info);
}

/* Whether the agent would deploy commit oid (signature + tags at it). */
static void
print_deploy(git_repository *repo, const git_oid *oid,
    const struct signers *s, unsigned threshold, time_t now)
{
	struct select_trust t;
	struct err e;

	if (threshold == 0)
		threshold = 1;
	if (select_trust_commit(repo, oid, s, now, &t, &e) != 0) {
		printf("deploy: unknown: %s\n", e.msg);
		return;
	}
	if (t.nkeys >= threshold && threshold == 1)
		printf("deploy: yes%s\n", t.commit.outcome == GITSIG_GOOD ? "" :
		    " (by a signed tag)");
	else if (t.nkeys >= threshold)
		printf("deploy: yes (%u distinct keys, threshold %u)\n",
		    t.nkeys, threshold);
	else if (t.nkeys > 0)
		printf("deploy: no (%u of %u required distinct keys, "
		    "counting %u signed tag%s)\n", t.nkeys, threshold,
		    t.ntags, t.ntags == 1 ? "" : "s");
	else
		printf("deploy: no (not signed by a trusted key)\n");
}

/*
 * trust.follow_repo: the chain from the deployed revision (when the state
 * directory has one) up to commit oid, as the agent would walk it, and
 * whether the agent would deploy oid itself.
 */
static void
print_chain_deploy(git_repository *repo, const git_oid *oid,
    const struct config *cfg, const struct signers *s, const char *revoked)
{
	struct select_repo_trust rt;
	struct buf rv = BUF_INIT(MAX_SIGNERS_SIZE);
	struct select_result *res = xcalloc(1, sizeof(*res));
	struct select_opts so;
	struct deployed d;
	struct trust_record t;
	git_oid floor;
	struct err e;
	char hex[REV_HEX];
	const char *p, *nl;

	memset(&so, 0, sizeof(so));
	memset(&d, 0, sizeof(d));
	/* The host's revoked keys apply to the repository's signers too. */
	if (trust_repo_init(&rt, cfg, revoked, &rv, &e) != 0) {
		printf("deploy: unknown: %s\n", e.msg);
		goto out;
	}
	if (state_load_deployed(cfg->state_dir, &d, &e) == 0 && d.rev[0] &&
	    git_oid_fromstr(&floor, d.rev) == 0)
		so.deployed = &floor;
	state_trust_for(cfg->state_dir, d.rev, &t);
	rt.rec_version = t.version;
	memcpy(rt.rec_allowed, t.allowed, sizeof(rt.rec_allowed));
	memcpy(rt.rec_file, t.file, sizeof(rt.rec_file));
	so.signers = s;
	so.threshold = cfg->trust.threshold;
	so.max_walk = cfg->trust.max_walk;
	so.now = time(NULL);
	so.repo_trust = &rt;
	select_release(repo, oid, &so, res, &e);
	for (p = res->trust_chain; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		printf("trust: %.*s\n", (int)(nl - p), p);
	}
	git_oid_tostr(hex, sizeof(hex), oid);
	if (res->outcome == SELECT_OK && !res->at_floor &&
	    git_oid_equal(&res->oid, oid))
		printf("deploy: yes (trust version %llu%s)\n",
		    (unsigned long long)res->trust_version,
		    res->trust_expired ? ", expired" : "");
	else if (res->outcome == SELECT_OK && res->at_floor &&
	    git_oid_equal(&res->oid, oid))
		printf("deploy: no (%s is the deployed revision)\n", hex);
	else if (res->outcome == SELECT_OK && res->at_floor)
		printf("deploy: no (%s)\n", res->tip_why);
	else if (res->outcome == SELECT_OK)
		printf("deploy: no (%s; the newest deployable is %s)\n",
		    res->tip_why, res->rev);
	else
		printf("deploy: no (%s)\n", e.msg);
 out:
	deployed_release(&d);
	buf_release(&rv);
	free(res);
}

static int
verify_object(git_repository *repo, git_object *obj, git_reference *ref,
    const struct signers *s, unsigned threshold, const struct config *cfg,
    const char *revoked)
{
	struct gitsig_result res;
	struct err e;
	char hex[REV_HEX], what[REV_HEX + 15];
	const git_oid *oid = git_object_id(obj);
	const char *refname = NULL;
	time_t now = time(NULL);
	int r;

	git_oid_tostr(hex, sizeof(hex), oid);
	switch (git_object_type(obj)) {
	case GIT_OBJECT_COMMIT:
		e.msg[0] = '\0';
		r = gitsig_verify_commit(repo, oid, s, now, &res, &e);
		snprintf(what, sizeof(what), "commit %s", hex);
		print_signature(what, &res, &e);
		if (cfg != NULL && cfg->trust.follow_repo)
			print_chain_deploy(repo, oid, cfg, s, revoked);
		else
			print_deploy(repo, oid, s, threshold, now);
		if (verify_print_rollout(repo, oid, s, threshold, cfg,
		    revoked) != 0)
			r = -1;
		return r == 0 ? EXIT_OK : EXIT_FAILED;
	case GIT_OBJECT_TAG:
		if (ref != NULL &&
		    strncmp(git_reference_name(ref), "refs/tags/", 10) == 0)
			refname = git_reference_name(ref);
		e.msg[0] = '\0';
		r = gitsig_verify_tag(repo, oid, refname, s, now, &res, &e);
		snprintf(what, sizeof(what), "tag %s", hex);
		print_signature(what, &res, &e);
		if (res.tag.name[0] != '\0')
			printf("tag: %s -> %s %s\n", res.tag.name, res.tag.type,
			    res.tag.object);
		if (refname == NULL && r == 0)
			printf("note: not named by a tag ref: its name was not "
			    "checked\n");
		if (git_tag_target_type((git_tag *)obj) == GIT_OBJECT_COMMIT &&
		    verify_print_rollout(repo, git_tag_target_id((git_tag *)obj),
		    s, threshold, cfg, revoked) != 0)
			r = -1;
		return r == 0 ? EXIT_OK : EXIT_FAILED;
	default:
		fprintf(stderr, "nixpull verify: '%s' is a %s, not a commit "
		    "or a tag\n", hex, git_object_type2string(
		    git_object_type(obj)));
		return EXIT_FAILED;
	}
}

static int
verify_rev(const char *repo_path, const char *rev, const struct signers *s,
    unsigned threshold, const struct config *cfg, const char *revoked)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	git_reference *ref = NULL;
	const git_error *ge;
	int r = EXIT_FAILED;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, repo_path, 0, NULL) != 0) {
		ge = git_error_last();
		fprintf(stderr, "nixpull verify: cannot open repository '%s': "
		    "%s\n", repo_path, ge ? ge->message : "unknown error");
		goto out;
	}
	if (git_revparse_ext(&obj, &ref, repo, rev) != 0) {
		ge = git_error_last();
		fprintf(stderr, "nixpull verify: unknown revision '%s' in "
		    "'%s': %s\n", rev, repo_path,
		    ge ? ge->message : "unknown error");
		goto out;
	}
	r = verify_object(repo, obj, ref, s, threshold, cfg, revoked);
 out:
	git_reference_free(ref);
	git_object_free(obj);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}

int
cmd_verify(int argc, char **argv)
{
	struct verify_opts vo;
	struct config cfg;
	struct signers *s = NULL;
	struct err e;
	char *repo_path = NULL;
	const char *allowed, *revoked;
	unsigned threshold = 1;
	int have_cfg = 0, r;

	if ((r = verify_parse(argc, argv, &vo)) != 0)
		return r;
	if (vo.help) {
		cmd_usage(argv[0], 0);
		return EXIT_OK;
	}
	if (vo.repo == NULL || vo.allowed == NULL) {
		if ((r = cmd_load_config(&cfg, vo.config)) != EXIT_OK)
			return r;
		have_cfg = 1;
		threshold = cfg.trust.threshold;
	}
	repo_path = vo.repo ? xstrdup(vo.repo) :
	    xasprintf("%s/mirror.git", cfg.state_dir);
	allowed = vo.allowed ? vo.allowed : cfg.trust.allowed_signers;
	revoked = vo.revoked ? vo.revoked :
	    have_cfg ? cfg.trust.revoked_keys : NULL;
	if (allowed == NULL) {
		fprintf(stderr, "nixpull verify: no allowed signers: set "
		    "'trust.allowed_signers' or give --allowed-signers\n");
		r = EXIT_CONFIG;
		goto out;
	}
	if (signers_load(&s, allowed, revoked, &e) != 0) {
		fprintf(stderr, "nixpull verify: %s\n", e.msg);
		r = EXIT_CONFIG;
		goto out;
	}
	r = verify_rev(repo_path, vo.rev, s, threshold, have_cfg ? &cfg : NULL,
	    revoked);
 out:
	signers_free(s);
	free(repo_path);
	if (have_cfg)
		config_release(&cfg);
	return r;
}
