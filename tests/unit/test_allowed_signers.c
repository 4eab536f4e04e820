/* allowed_signers: the corpus files, options, matching, revocation. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allowed_signers.h"
#include "buf.h"
#include "sshsig.h"
#include "t.h"

#include <sodium.h>

#define ALICE "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPnUhGNAAqpfjk7WyA1Rvk1jVIbSMLmZncnPLl+cjhFJ"

static int
parse(const char *text, struct signers **s, struct err *e)
{
	return signers_parse(s, "test", text, strlen(text), e);
}

static void
test_corpus(const char *dir, int good)
{
	char path[4096], expect[512];
	struct dirent *d;
	struct signers *s;
	struct err e;
	size_t len;
	char *text, *nl;
	int files = 0;
	DIR *dp;

	T_OK((dp = opendir(dir)) != NULL);
	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		T_OK((text = t_slurp(path, &len)) != NULL);
		if (text == NULL)
			continue;
		files++;
		e.msg[0] = '\0';
		s = NULL;
		if (good) {
			if (signers_parse(&s, d->d_name, text, len, &e) != 0)
				T_FAIL("%s: %s", path, e.msg);
		} else {
			T_EQ_INT(signers_parse(&s, "bad", text, len, &e), -1);
			T_OK(s == NULL);
			/* First line: "# expect: SUBSTRING" */
			snprintf(expect, sizeof(expect), "%s", text + 10);
			if ((nl = strchr(expect, '\n')) != NULL)
				*nl = '\0';
			T_CONTAINS(e.msg, expect);
			T_CONTAINS(e.msg, "bad:");
		}
		signers_free(s);
		free(text);
	}
	closedir(dp);
	T_OK(files >= 5);
}

static void
test_options(void)
{
	struct signers *s = NULL;
	struct err e;

	T_EQ_INT(parse("a@b " ALICE "\n", &s, &e), 0);
	T_EQ_INT(signers_count(s), 1);
	signers_free(s);
	/* Unsupported key types are allowed but never stored. */
	T_EQ_INT(parse("# c\nrsa ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC\n"
	    "x " ALICE "\n", &s, &e), -1);	/* truncated base64 group */
	T_EQ_INT(parse("rsa ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQA=\n"
	    "x " ALICE "\n", &s, &e), 0);
	T_EQ_INT(signers_count(s), 1);
	signers_free(s);
	/* Line numbers in errors. */
	T_EQ_INT(parse("a " ALICE "\n\n# x\nb bogus " ALICE "\n", &s, &e), -1);
	T_EQ_STR(e.msg, "test:4: unknown option 'bogus'");
	T_EQ_INT(parse("a valid-after=\"20200101\"x " ALICE, &s, &e), -1);
	T_CONTAINS(e.msg, "test:1: unexpected 'x' after option");
	T_EQ_INT(parse("a cert-authorityx " ALICE, &s, &e), -1);
	T_CONTAINS(e.msg, "unknown option 'cert-authorityx'");
	T_EQ_INT(parse("a valid-after=\"0\" " ALICE, &s, &e), -1);
	T_EQ_INT(parse("a valid-after=\"19691231\" " ALICE, &s, &e), -1);
	T_EQ_INT(parse("a valid-after=\"20201301\" " ALICE, &s, &e), -1);
	T_EQ_INT(parse("a valid-after=\"20200229\" " ALICE, &s, &e), 0);
	signers_free(s);
	T_EQ_INT(parse("a valid-after=\"20210229\" " ALICE, &s, &e), -1);
	T_EQ_INT(parse("a valid-after=\"202001012460\" " ALICE, &s, &e), -1);
	/* What ssh-keygen's strptime() takes: seconds 60 and 61, z, UTC. */
	T_EQ_INT(parse("a valid-after=\"20200101000061\" " ALICE, &s, &e), 0);
	signers_free(s);
	T_EQ_INT(parse("a valid-after=\"20200101000062\" " ALICE, &s, &e),
	    -1);
	T_EQ_INT(parse("a valid-after=\"20200101z\",valid-before="
	    "\"20200102utc\" " ALICE, &s, &e), 0);
	signers_free(s);
	T_EQ_INT(parse("a valid-after=\"20200101UTCZ\" " ALICE, &s, &e), -1);
	/* A carriage return in the principals, quoted or not. */
	T_EQ_INT(parse("a\rb " ALICE, &s, &e), -1);
	T_CONTAINS(e.msg, "carriage return in principals");
	T_EQ_INT(parse("\"a\rb\" " ALICE, &s, &e), -1);
	T_CONTAINS(e.msg, "carriage return in principals");
	/* A cert type in the file is allowed, never used. */
	T_EQ_INT(parse("a ssh-ed25519-cert-v01@openssh.com "
	    "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAA\n", &s, &e),
	    0);
	T_EQ_INT(signers_count(s), 0);
	signers_free(s);
	signers_free(NULL);
}

static void
test_match_list(void)
{
	T_EQ_INT(sshsig_match_list("git", "git"), 1);
	T_EQ_INT(sshsig_match_list("git", "file"), 0);
	T_EQ_INT(sshsig_match_list("git", "file,git"), 1);
	T_EQ_INT(sshsig_match_list("git", "*"), 1);
	T_EQ_INT(sshsig_match_list("git", "*,!git"), -1);
	T_EQ_INT(sshsig_match_list("file", "*,!git"), 1);
	T_EQ_INT(sshsig_match_list("git", "!git"), -1);
	T_EQ_INT(sshsig_match_list("file", "!git"), 0);
	T_EQ_INT(sshsig_match_list("git", "g?t"), 1);
	T_EQ_INT(sshsig_match_list("git", "g*"), 1);
	T_EQ_INT(sshsig_match_list("git", "G*"), 0);	/* case-sensitive */
	T_EQ_INT(sshsig_match_list("git", "*i*t"), 1);
	T_EQ_INT(sshsig_match_list("git", "gi"), 0);
	T_EQ_INT(sshsig_match_list("git", ""), 0);
	T_EQ_INT(sshsig_match_list("", ""), 0);
	T_EQ_INT(sshsig_match_list("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
	    "*a*a*a*a*a*a*a*a*a*a*a*a*c"), 0);
	/* A sub-pattern of 1023 bytes or more: OpenSSH gives up (0). */
	{
		char s[1100], list[1200];

		memset(s, 'a', 1023);
		s[1023] = '\0';
		snprintf(list, sizeof(list), "x,%s", s);
		T_EQ_INT(sshsig_match_list(s, list), 0);
		snprintf(list, sizeof(list), "%s,%s", "*", s);
		T_EQ_INT(sshsig_match_list("x", list), 0);
		snprintf(list, sizeof(list), "!x,%s", s);
		T_EQ_INT(sshsig_match_list("x", list), -1);
		s[1022] = '\0';
		snprintf(list, sizeof(list), "!%s", s);
		T_EQ_INT(sshsig_match_list(s, list), -1);
		T_EQ_INT(sshsig_match_list(s, s), 1);
	}
}

/* A key blob for ALICE, for signers_check. */
static void
alice_key(struct sshsig_key *k, unsigned char *blob, size_t *len)
{
	struct err e;

	T_OK(sodium_base642bin(blob, 128, &ALICE[12], strlen(&ALICE[12]),
	    NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
	T_EQ_INT(sshsig_key_parse(k, blob, *len, &e), 0);
	T_EQ_INT(k->type, SSHSIG_KEY_ED25519);
}

static int
check(const char *text, const char *revoked, const char *ns, time_t now,
    struct sig_info *info, struct err *e)
{
	unsigned char blob[128];
	struct sshsig_key k;
	struct signers *s = NULL;
	size_t len = 0;
	int r;

	alice_key(&k, blob, &len);
	memset(info, 0, sizeof(*info));
	if (parse(text, &s, e) != 0) {
		T_FAIL("parse: %s", e->msg);
		return -2;
	}
	if (revoked != NULL && signers_add_revoked(s, "rev", revoked,
	    strlen(revoked), e) != 0) {
		T_FAIL("revoked: %s", e->msg);
		signers_free(s);
		return -2;
	}
	r = signers_check(s, &k, ns, now, info, e);
	signers_free(s);
	return r;
}

static void
test_check(void)
{
	struct sig_info info;
	struct err e;
	time_t t2025 = 1735689600;	/* 2025-01-01T00:00:00Z */

	T_EQ_INT(check("a,b " ALICE "\n", NULL, "git", t2025, &info, &e), 0);
	T_EQ_STR(info.principals, "a,b");
	/*
	 * As git: the principals of the first line of the key (valid at now)
	 * are matched against every line of the key, negation winning.
	 */
	T_EQ_INT(check("x namespaces=\"file\" " ALICE "\ny " ALICE "\n"
	    "z " ALICE "\ny " ALICE "\n", NULL, "git", t2025, &info, &e), -1);
	T_EQ_INT(info.status, SIG_WRONG_NAMESPACE);
	T_EQ_INT(check("y,z " ALICE "\nz namespaces=\"file\" " ALICE "\n",
	    NULL, "git", t2025, &info, &e), 0);
	T_EQ_STR(info.principals, "y,z");
	T_EQ_INT(check("x valid-before=\"20200101Z\" " ALICE "\ny " ALICE
	    "\n", NULL, "git", t2025, &info, &e), 0);
	T_EQ_STR(info.principals, "y");
	T_EQ_INT(check("y* " ALICE "\n", NULL, "git", t2025, &info, &e), 0);
	T_EQ_STR(info.principals, "y*");
	T_EQ_INT(check("!a " ALICE "\n", NULL, "git", t2025, &info, &e), -1);
	T_EQ_INT(info.status, SIG_UNKNOWN_KEY);
	T_CONTAINS(e.msg, "test:1: key SHA256:");
	T_CONTAINS(e.msg, "no principal");
	T_EQ_INT(check("a,!a " ALICE "\n", NULL, "git", t2025, &info, &e), -1);
	T_EQ_INT(check(",a " ALICE "\n", NULL, "git", t2025, &info, &e), -1);
	T_EQ_INT(check("a,,b " ALICE "\n", NULL, "git", t2025, &info, &e), 0);
	T_EQ_STR(info.principals, "a");
	T_EQ_INT(check("# c\r\r\n" "b " ALICE "\r\r\n", NULL, "git", t2025,
	    &info, &e), 0);
	T_EQ_INT(check("x namespaces=\"file\" " ALICE "\n", NULL, "git",
	    t2025, &info, &e), -1);
	T_EQ_INT(info.status, SIG_WRONG_NAMESPACE);
	T_CONTAINS(e.msg, "test:1: key SHA256:");
	T_EQ_INT(check("x namespaces=\"*,!git\" " ALICE "\n", NULL, "file",
	    t2025, &info, &e), 0);
	T_EQ_INT(check("x valid-before=\"20241231Z\" " ALICE "\n", NULL,
	    "git", t2025, &info, &e), -1);
	T_EQ_INT(info.status, SIG_EXPIRED);
	T_CONTAINS(e.msg, "expired at 2024-12-31T00:00:00Z");
	/* Checked against now, not a date the signer chose. */
	T_EQ_INT(check("x valid-before=\"20241231Z\" " ALICE "\n", NULL,
	    "git", t2025 - 86400 * 2, &info, &e), 0);
	T_EQ_INT(check("x valid-after=\"20250101000001Z\" " ALICE "\n", NULL,
	    "git", t2025, &info, &e), -1);
	T_EQ_INT(info.status, SIG_NOT_YET_VALID);
	T_EQ_INT(check("x valid-after=\"20250101000000Z\" " ALICE "\n", NULL,
	    "git", t2025, &info, &e), 0);
	T_EQ_INT(check("x cert-authority " ALICE "\n", NULL, "git", t2025,
	    &info, &e), -1);
	T_EQ_INT(info.status, SIG_CERT_ONLY);
	T_EQ_INT(check("x ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAIGBWC6Rlm/TVc8cYTetKO1LLp69IAaHPQN/NkiPwpWMw"
	    "\n", NULL, "git", t2025, &info, &e), -1);
	T_EQ_INT(info.status, SIG_UNKNOWN_KEY);
	T_CONTAINS(e.msg, "signature by unknown key SHA256:");
	T_EQ_INT(check("x " ALICE "\n", "# r\n\n" ALICE " alice\n", "git",
	    t2025, &info, &e), -1);
	T_EQ_INT(info.status, SIG_REVOKED);
	T_EQ_INT(check("x " ALICE "\n", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQA=\n",
	    "git", t2025, &info, &e), 0);
}

static void
test_load(const char *src)
{
	struct signers *s = NULL;
	char a[4096], r[4096];
	struct err e;

	snprintf(a, sizeof(a), "%s/tests/corpus/sshsig/allowed_signers", src);
	snprintf(r, sizeof(r), "%s/tests/corpus/sshsig/revoked", src);
	T_EQ_INT(signers_load(&s, a, r, &e), 0);
	T_EQ_INT(signers_count(s), 8);	/* rsa and ecdsa are skipped */
	signers_free(s);
	T_EQ_INT(signers_load(&s, "/nonexistent/allowed", NULL, &e), -1);
	T_CONTAINS(e.msg, "cannot open '/nonexistent/allowed'");
	T_EQ_INT(signers_load(&s, a, a, &e), -1);	/* not a key list */
	T_CONTAINS(e.msg, "allowed_signers:2: unknown key type");
}

int
main(void)
{
	const char *src = getenv("NIXPULL_SRCDIR");
	char dir[4096];

	if (src == NULL)
		src = "..";
	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/tests/corpus/allowed_signers/good", src);
	test_corpus(dir, 1);
	snprintf(dir, sizeof(dir), "%s/tests/corpus/allowed_signers/bad", src);
	test_corpus(dir, 0);
	test_options();
	test_match_list();
	test_check();
	test_load(src);
	return T_DONE();
}
