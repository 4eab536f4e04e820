/*
 * nixpull trust check: is a prepared rotation of the repository's trust
 * files (trust.follow_repo) signed well enough, and who still has to sign
 * it.  Operators run it before pushing:
 *	nixpull trust check --repo . HEAD
 *
 * The chain is walked from the pinned root (trust.allowed_signers), as a
 * host without state walks it, by the fetcher's own trust_chain_build():
 * its verdict at REV is the answer.  The lists of keys that may still
 * sign only explain it.
 */
#include <getopt.h>
#include <stdbool.h>
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
#include "rev.h"
#include "select.h"

struct trust_opts {
	const char	*config;
	const char	*repo;
	const char	*allowed;
	const char	*rev;
	int		 help;
};

/* What a check needs, and releases in trust_ctx_release(). */
struct trust_ctx {
	struct config		 cfg;
	bool			 have_cfg;
	struct signers		*root;		/* the pinned root */
	struct select_repo_trust rt;
	struct buf		 rv;		/* the host's revoked keys */
	struct select_opts	 so;
	git_repository		*repo;
	git_oid			 oid;
	char			 hex[REV_HEX];
};

/* argv[0] is "check": 0, or an exit status. */
static int
trust_parse(int argc, char **argv, struct trust_opts *to)
{
	static const struct option opts[] = {
		CMD_COMMON_LONG,
		{ "repo", required_argument, NULL, 'r' },
		{ "allowed-signers", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, r;

	memset(to, 0, sizeof(*to));
	optind = 1;
	while ((ch = getopt_long(argc, argv, CMD_COMMON_SHORT, opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'r':
			to->repo = optarg;
			break;
		case 'a':
			to->allowed = optarg;
			break;
		case 'h':
			to->help = 1;
			return 0;
		default:
			r = cmd_common_opt(ch, "trust", &to->config);
			if (r != CMD_CONTINUE)
				return r;
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error("trust", "unexpected argument '%s'",
		    argv[optind + 1]);
	to->rev = optind < argc ? argv[optind] : "HEAD";
	if (to->repo == NULL)
		to->repo = ".";
	return 0;
}

static void
trust_ctx_release(struct trust_ctx *t)
{
	git_repository_free(t->repo);
	signers_free(t->root);
	buf_release(&t->rv);
	if (t->have_cfg)
		config_release(&t->cfg);
}

/* The config (or defaults with --allowed-signers) and the pinned root:
 * 0 or EXIT_CONFIG. */
static int
trust_ctx_config(struct trust_ctx *t, const struct trust_opts *to)
{
	const char *allowed = to->allowed, *revoked = NULL;
	struct err e;
	int r;

	if (to->allowed == NULL) {
		if ((r = cmd_load_config(&t->cfg, to->config)) != EXIT_OK)
			return r;
		t->have_cfg = true;
		allowed = t->cfg.trust.allowed_signers;
		revoked = t->cfg.trust.revoked_keys;
	} else {
		config_defaults(&t->cfg);
		t->have_cfg = true;
	}
	if (signers_load(&t->root, allowed, revoked, &e) != 0 ||
	    trust_repo_init(&t->rt, &t->cfg, revoked, &t->rv, &e) != 0) {
		fprintf(stderr, "nixpull trust: %s\n", e.msg);
		return EXIT_CONFIG;
	}
	t->so.signers = t->root;
	t->so.threshold = t->cfg.trust.threshold;
	t->so.max_walk = t->cfg.trust.max_walk;
	t->so.now = time(NULL);
	t->so.repo_trust = &t->rt;
	return 0;
}

/* The repository and REV as a commit: 0 or EXIT_FAILED. */
static int
trust_ctx_repo(struct trust_ctx *t, const struct trust_opts *to)
{
	git_object *obj = NULL, *peeled = NULL;
	const git_error *ge;
	int r = EXIT_FAILED;

	if (git_repository_open_ext(&t->repo, to->repo, 0, NULL) != 0) {
		ge = git_error_last();
		fprintf(stderr, "nixpull trust: cannot open repository '%s': "
		    "%s\n", to->repo, ge ? ge->message : "unknown error");
		return r;
	}
	if (git_revparse_single(&obj, t->repo, to->rev) != 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) != 0) {
		ge = git_error_last();
		fprintf(stderr, "nixpull trust: unknown revision '%s' in '%s': "
		    "%s\n", to->rev, to->repo, ge ? ge->message : "not a commit");
		goto out;
	}
	git_oid_cpy(&t->oid, git_object_id(peeled));
	git_oid_tostr(t->hex, sizeof(t->hex), &t->oid);
	r = 0;
 out:
	git_object_free(peeled);
	git_object_free(obj);
	return r;
}

static bool
signed_by(const struct select_trust *st, const unsigned char pk[32])
{
	for (unsigned i = 0; i < st->nstored; i++)
		if (memcmp(st->keys[i], pk, 32) == 0)
			return true;
	return false;
}

/* Is pk the key of entry i of s, or of an earlier entry (listed once)? */
static bool
listed(const struct signers *s, size_t i, const unsigned char pk[32])
{
	unsigned char k[32];
	const char *pr;
	char fpr[64];

	for (size_t j = 0; j < i; j++)
		if (signers_key(s, j, &pr, k, fpr, sizeof(fpr)) == 0 &&
		    memcmp(k, pk, 32) == 0)
			return true;
	return false;
}

static bool
holds(const struct signers *s, const unsigned char pk[32])
{
	return listed(s, signers_entries(s), pk);
}

/*
 * "needs: ..." lines for the keys of s that did not sign (st): the new
 * keys that old lacks (every one must sign) when old is not NULL, else
 * "more" more of any of the others.
 */
static void
print_missing(const char *what, const struct signers *s,
    const struct signers *old, const struct select_trust *st, unsigned more)
{
	unsigned char k[32];
	const char *pr;
	char fpr[64];
	size_t i;

	if (old == NULL && more == 0)
		return;
	if (old == NULL)
		printf("needs: %u more of the %s, any of:\n", more, what);
	for (i = 0; i < signers_entries(s); i++) {
		if (signers_key(s, i, &pr, k, fpr, sizeof(fpr)) != 0 ||
		    signed_by(st, k) || listed(s, i, k))
			continue;
		if (old != NULL && !holds(old, k))
			printf("needs: %s %s (a new key: it must sign)\n",
			    pr, fpr);
		else if (old == NULL)
			printf("  %s %s\n", pr, fpr);
	}
}

/* New keys that did not sign: each one must, and counts for the new
 * threshold when it does. */
static unsigned
new_unsigned(const struct signers *old, const struct signers *new,
    const struct select_trust *tn)
{
	unsigned char k[32];
	const char *pr;
	char fpr[64];
	unsigned n = 0;

	for (size_t i = 0; i < signers_entries(new); i++)
		if (signers_key(new, i, &pr, k, fpr, sizeof(fpr)) == 0 &&
		    !listed(new, i, k) && !holds(old, k) && !signed_by(tn, k))
			n++;
	return n;
}

static void
print_level(const char *what, const struct trust_level *l)
{
	if (l->version == 0)
		printf("%s: version 0 (the pinned trust.allowed_signers), "
		    "threshold %u\n", what, l->threshold);
	else
		printf("%s: version %llu, threshold %u\n", what,
		    (unsigned long long)l->version, l->threshold);
}

static unsigned
short_of(unsigned have, unsigned need)
{
	return have >= need ? 0 : need - have;
}

static void
print_signed(const char *what, const struct select_trust *st,
    unsigned threshold)
{
	printf("%s: %u of %u%s%s\n", what, st->nkeys, threshold,
	    st->nkeys ? ": " : "", st->who);
}

/* REV changes the trust files: who signed it under both rules, and who
 * still has to.  0, or EXIT_CONFIG when its trust files are bad. */
static int
check_rotation(struct trust_ctx *t, const struct trust_level *old)
{
	struct select_trust *to = xcalloc(2, sizeof(*to)), *tn = to + 1;
	struct trust_level nl;
	struct err e;
	unsigned must;
	int r = EXIT_CONFIG;

	if (trust_level_at(t->repo, &t->rt, &t->oid, &nl, &e) != 0) {
		fprintf(stderr, "nixpull trust: %s\n", e.msg);
		goto out;
	}
	r = EXIT_FAILED;
	if (select_trust_commit(t->repo, &t->oid, old->signers, t->so.now, to,
	    &e) != 0 ||
	    select_trust_commit(t->repo, &t->oid, nl.signers, t->so.now, tn,
	    &e) != 0) {
		fprintf(stderr, "nixpull trust: %s\n", e.msg);
		goto out;
	}
	printf("rotation: %s\n", t->hex);
	print_level("previous trust", old);
	print_level("new trust", &nl);
	print_signed("previous signers", to, old->threshold);
	print_signed("new signers", tn, nl.threshold);
	must = new_unsigned(old->signers, nl.signers, tn);
	print_missing("previous signers", old->signers, NULL, to,
	    short_of(to->nkeys, old->threshold));
	print_missing("new signers", nl.signers, old->signers, tn, 0);
	print_missing("new signers", nl.signers, NULL, tn,
	    short_of(tn->nkeys + must, nl.threshold));
	r = 0;
 out:
	trust_level_release(&nl);
	free(to);
	return r;
}

/* REV changes no trust file: is it a release under the trust in effect? */
static int
check_release(struct trust_ctx *t, const struct trust_level *l)
{
	struct select_trust *st = xcalloc(1, sizeof(*st));
	struct err e;
	int r = EXIT_FAILED;

	if (select_trust_commit(t->repo, &t->oid, l->signers, t->so.now, st,
	    &e) != 0) {
		fprintf(stderr, "nixpull trust: %s\n", e.msg);
		goto out;
	}
	printf("release: %s changes no trust file\n", t->hex);
	print_level("trust", l);
	print_signed("signers", st, l->threshold);
	print_missing("signers", l->signers, NULL, st,
	    short_of(st->nkeys, l->threshold));
	r = st->nkeys >= l->threshold ? EXIT_OK : EXIT_FAILED;
 out:
	free(st);
	return r;
}

static void
print_how(const struct trust_ctx *t)
{
	printf("to sign: git tag -s NAME -m NAME %s (with gpg.format ssh and "
	    "your key as user.signingkey), then push the tag\n", t->hex);
}

static int
trust_check(struct trust_ctx *t)
{
	struct trust_chain c;
	const struct trust_level *old;
	struct err e;
	size_t oldlv;
	int r;

	if (trust_chain_build(t->repo, &t->oid, NULL, &t->so, &c, &e) != 0) {
		fprintf(stderr, "nixpull trust: %s\n", e.msg);
		return EXIT_FAILED;
	}
	if (c.nbroken > 1) {
		printf("rejected: %s is above a rejected trust change: %s\n",
		    t->hex, c.broken_why);
		r = EXIT_FAILED;
		goto out;
	}
	oldlv = c.n >= 2 ? c.lv[1] : 0;
	old = &c.levels[oldlv];
	if (c.nbroken == 0 && c.lv[0] == oldlv) {
		if ((r = check_release(t, old)) != EXIT_OK)
			print_how(t);
		goto out;
	}
	if ((r = check_rotation(t, old)) != 0)
		goto out;
	if (c.nbroken == 1) {
		print_how(t);
		printf("rejected: %s\n", c.broken_why);
		r = EXIT_FAILED;
	} else {
		printf("accepted: trust version %llu from %s\n",
		    (unsigned long long)c.levels[c.lv[0]].version, t->hex);
		r = EXIT_OK;
	}
 out:
	trust_chain_release(&c);
	return r;
}

static int
trust_run(const struct trust_opts *to)
{
	struct trust_ctx t;
	int r;

	memset(&t, 0, sizeof(t));
	buf_init(&t.rv, MAX_SIGNERS_SIZE);
	git_libgit2_init();
	if ((r = trust_ctx_config(&t, to)) == 0 &&
	    (r = trust_ctx_repo(&t, to)) == 0)
		r = trust_check(&t);
	trust_ctx_release(&t);
	git_libgit2_shutdown();
	return r;
}

int
cmd_trust(int argc, char **argv)
{
	struct trust_opts to;
	int r;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		cmd_usage("trust", 0);
		return EXIT_OK;
	}
	if (argc < 2)
		return cmd_usage_error("trust", "no subcommand given");
	if (strcmp(argv[1], "check") != 0)
		return cmd_usage_error("trust", "unknown subcommand '%s'", argv[1]);
	if ((r = trust_parse(argc - 1, argv + 1, &to)) != 0)
		return r;
	if (to.help) {
		cmd_usage("trust", 0);
		return EXIT_OK;
	}
	return trust_run(&to);
}
