/*
 * sshsig: the fixed vectors in tests/corpus/sshsig (good/ must verify,
 * bad/STATUS--name.sig must be refused with that status), signatures made
 * now by the real ssh-keygen, and the API's edges.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "allowed_signers.h"
#include "buf.h"
#include "caps.h"
#include "sshsig.h"
#include "t.h"

static int
verify_file(const struct signers *s, const char *sigpath, const char *payload,
    size_t plen, const char *ns, struct sig_info *info, struct err *e)
{
	size_t len;
	char *armor = t_slurp(sigpath, &len);
	int r;

	if (armor == NULL) {
		T_FAIL("cannot read %s", sigpath);
		return -2;
	}
	r = sshsig_verify(s, armor, len, payload, plen, ns, time(NULL), info,
	    e);
	free(armor);
	return r;
}

static void
test_corpus(const char *src)
{
	char dir[2048], path[4096], want[300], *payload, *dash;
	const char *sub[] = { "good", "bad" };
	struct signers *s = NULL;
	struct sig_info info;
	struct dirent *d;
	struct err e;
	size_t plen;
	int i, n = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/tests/corpus/sshsig", src);
	snprintf(path, sizeof(path), "%s/payload", dir);
	T_OK((payload = t_slurp(path, &plen)) != NULL);
	snprintf(path, sizeof(path), "%s/allowed_signers", dir);
	snprintf(want, sizeof(want), "%s", "revoked");
	{
		char rev[2048 + 16];

		snprintf(rev, sizeof(rev), "%s/revoked", dir);
		T_EQ_INT(signers_load(&s, path, rev, &e), 0);
	}
	if (payload == NULL || s == NULL)
		goto out;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		T_OK((dp = opendir(path)) != NULL);
		while (dp != NULL && (d = readdir(dp)) != NULL) {
			if (strstr(d->d_name, ".sig") == NULL)
				continue;
			n++;
			snprintf(want, sizeof(want), "%s", i == 0 ? "good" :
			    d->d_name);
			if ((dash = strstr(want, "--")) != NULL)
				*dash = '\0';
			snprintf(path, sizeof(path), "%s/%s/%s", dir, sub[i],
			    d->d_name);
			e.msg[0] = '\0';
			if (verify_file(s, path, payload, plen, "git", &info,
			    &e) != (i == 0 ? 0 : -1) ||
			    strcmp(sig_status_name(info.status), want) != 0)
				T_FAIL("%s: want %s, got %s: %s", d->d_name,
				    want, sig_status_name(info.status), e.msg);
			if (i == 0)
				T_OK(strncmp(info.fingerprint, "SHA256:", 7) == 0);
			else
				T_OK(e.msg[0] != '\0');
		}
		if (dp != NULL)
			closedir(dp);
	}
	T_OK(n >= 30);
	/* Spot checks of what the vectors are about. */
	snprintf(path, sizeof(path), "%s/good/bob-sk.sig", dir);
	T_EQ_INT(verify_file(s, path, payload, plen, "git", &info, &e), 0);
	T_EQ_STR(info.key_type, "sk-ssh-ed25519@openssh.com");
	T_EQ_STR(info.principals, "bob the builder");
	snprintf(path, sizeof(path), "%s/bad/unsupported-key--rsa.sig", dir);
	T_EQ_INT(verify_file(s, path, payload, plen, "git", &info, &e), -1);
	T_EQ_STR(e.msg, "unsupported key type 'ssh-rsa' (only ssh-ed25519 "
	    "and sk-ssh-ed25519@openssh.com)");
	T_EQ_STR(info.key_type, "ssh-rsa");
	snprintf(path, sizeof(path), "%s/bad/unsupported-key--ecdsa.sig", dir);
	T_EQ_INT(verify_file(s, path, payload, plen, "git", &info, &e), -1);
	T_CONTAINS(e.msg, "'ecdsa-sha2-nistp256'");
	snprintf(path, sizeof(path), "%s/good/alice-sha512.sig", dir);
	/* Tampered payload, and a payload of a different length. */
	payload[0] ^= 1;
	T_EQ_INT(verify_file(s, path, payload, plen, "git", &info, &e), -1);
	T_EQ_INT(info.status, SIG_BAD_SIGNATURE);
	T_CONTAINS(e.msg, "bad signature by key SHA256:");
	payload[0] ^= 1;
	T_EQ_INT(verify_file(s, path, payload, plen - 1, "git", &info, &e), -1);
	T_EQ_INT(info.status, SIG_BAD_SIGNATURE);
	T_EQ_INT(verify_file(s, path, payload, plen, "file", &info, &e), -1);
	T_EQ_INT(info.status, SIG_WRONG_NAMESPACE);
	T_EQ_STR(e.msg, "signature is for namespace 'git', not 'file'");
 out:
	signers_free(s);
	free(payload);
}

static int
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	struct buf b = BUF_INIT(8192);
	va_list ap;
	int r;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	r = system(buf_str(&b));
	buf_release(&b);
	return r;
}

/* Signatures made by the real ssh-keygen in this run. */
static void
test_ssh_keygen(void)
{
	char dir[] = "/tmp/nixpull-test-sshsig.XXXXXX", path[256];
	char *pub, *sig, *fp, *text;
	struct signers *s = NULL;
	struct sig_info info;
	struct err e;
	size_t len, plen;
	const char payload[] = "tree 0\n\nsigned now\n";

	if (system("command -v ssh-keygen >/dev/null") != 0) {
		T_FAIL("ssh-keygen is required");
		return;
	}
	T_OK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/p", dir);
	{
		FILE *f = fopen(path, "w");

		T_OK(f != NULL && fputs(payload, f) >= 0 && fclose(f) == 0);
	}
	plen = strlen(payload);
	T_EQ_INT(run("cd %s && ssh-keygen -q -t ed25519 -N '' -C k -f k && "
	    "ssh-keygen -q -t ed25519 -N '' -C o -f o && "
	    "ssh-keygen -q -t ecdsa -N '' -f ec && "
	    "ssh-keygen -q -Y sign -n git -f k p && mv p.sig git.sig && "
	    "ssh-keygen -q -Y sign -n git -O hashalg=sha256 -f k p && "
	    "mv p.sig sha256.sig && "
	    "ssh-keygen -q -Y sign -n file -f k p && mv p.sig file.sig && "
	    "ssh-keygen -q -Y sign -n git -f o p && mv p.sig other.sig && "
	    "ssh-keygen -q -Y sign -n git -f ec p && mv p.sig ec.sig && "
	    "ssh-keygen -lf k.pub | cut -d' ' -f2 > fp && "
	    "{ printf 'me '; cat k.pub; printf 'ec '; cat ec.pub; } > as",
	    dir), 0);
	snprintf(path, sizeof(path), "%s/as", dir);
	T_OK((text = t_slurp(path, &len)) != NULL);
	T_EQ_INT(signers_parse(&s, "as", text, len, &e), 0);
	free(text);
	snprintf(path, sizeof(path), "%s/fp", dir);
	T_OK((fp = t_slurp(path, &len)) != NULL);
	if (s == NULL || fp == NULL)
		goto out;
	fp[strcspn(fp, "\n")] = '\0';

#define V(name) (snprintf(path, sizeof(path), "%s/%s", dir, name),	\
	verify_file(s, path, payload, plen, "git", &info, &e))
	T_EQ_INT(V("git.sig"), 0);
	T_EQ_STR(info.fingerprint, fp);	/* like ssh-keygen -l */
	T_EQ_STR(info.principals, "me");
	T_EQ_INT(V("sha256.sig"), 0);
	T_EQ_INT(V("file.sig"), -1);
	T_EQ_INT(info.status, SIG_WRONG_NAMESPACE);
	T_EQ_INT(V("other.sig"), -1);
	T_EQ_INT(info.status, SIG_UNKNOWN_KEY);
	T_EQ_INT(V("ec.sig"), -1);
	T_EQ_INT(info.status, SIG_UNSUPPORTED_KEY);
	T_CONTAINS(e.msg, "unsupported key type 'ecdsa-sha2-nistp256'");
	/* The same key revoked. */
	snprintf(path, sizeof(path), "%s/k.pub", dir);
	T_OK((pub = t_slurp(path, &len)) != NULL);
	T_EQ_INT(signers_add_revoked(s, "k.pub", pub, len, &e), 0);
	free(pub);
	T_EQ_INT(V("git.sig"), -1);
	T_EQ_INT(info.status, SIG_REVOKED);
	T_CONTAINS(e.msg, fp);
	/* Junk after the armor, truncation and corruption of the real one. */
	snprintf(path, sizeof(path), "%s/git.sig", dir);
	T_OK((sig = t_slurp(path, &len)) != NULL);
	if (sig != NULL) {
		struct buf b = BUF_INIT(MAX_ARMOR_SIZE * 2);

		buf_add(&b, sig, len);
		buf_addstr(&b, "junk\n");
		T_EQ_INT(sshsig_verify(s, b.data, b.len, payload, plen, "git",
		    time(NULL), &info, &e), -1);
		T_EQ_INT(info.status, SIG_MALFORMED);
		T_EQ_INT(sshsig_verify(s, sig, len / 2, payload, plen, "git",
		    time(NULL), &info, &e), -1);
		T_EQ_INT(info.status, SIG_MALFORMED);
		sig[40] = sig[40] == 'A' ? 'B' : 'A';
		T_EQ_INT(sshsig_verify(s, sig, len, payload, plen, "git",
		    time(NULL), &info, &e), -1);
		T_OK(info.status != SIG_GOOD);
		buf_release(&b);
	}
	free(sig);
#undef V
 out:
	free(fp);
	signers_free(s);
	run("rm -rf %s", dir);
}

static void
test_edges(void)
{
	struct signers *s = NULL;
	struct sig_info info;
	struct err e;
	char *big;

	T_EQ_INT(signers_parse(&s, "x", "", 0, &e), 0);
	T_EQ_INT(sshsig_verify(s, "", 0, "", 0, "git", 0, &info, &e), -1);
	T_EQ_INT(info.status, SIG_MALFORMED);
	T_EQ_INT(sshsig_verify(NULL, "", 0, "", 0, "git", 0, &info, &e), -1);
	T_EQ_INT(info.status, SIG_MALFORMED);
	big = xcalloc(1, MAX_ARMOR_SIZE + 2);
	memset(big, 'A', MAX_ARMOR_SIZE + 1);
	T_EQ_INT(sshsig_verify(s, big, MAX_ARMOR_SIZE + 1, "", 0, "git", 0,
	    &info, &e), -1);
	T_CONTAINS(e.msg, "larger than");
	free(big);
	T_EQ_INT(sshsig_verify(s, "-----BEGIN SSH SIGNATURE-----\n\n"
	    "-----END SSH SIGNATURE-----\n", 59, "", 0, "git", 0, &info,
	    &e), -1);
	T_EQ_INT(info.status, SIG_MALFORMED);
	T_EQ_INT(sshsig_verify(s, "-----BEGIN SSH SIGNATURE-----\n"
	    "-----END SSH SIGNATURE-----\n", 58, "", 0, "git", 0, &info,
	    &e), -1);
	T_EQ_INT(info.status, SIG_MALFORMED);
	T_EQ_STR(sig_status_name(SIG_GOOD), "good");
	T_EQ_STR(sig_status_name(SIG_CERT_ONLY), "cert-only");
	T_EQ_STR(sig_status_name(SIG_NOT_YET_VALID), "not-yet-valid");
	signers_free(s);
}

int
main(void)
{
	const char *src = getenv("NIXPULL_SRCDIR");

	if (src == NULL)
		src = "..";
	if (sodium_init() < 0)
		return 1;
	test_corpus(src);
	test_ssh_keygen();
	test_edges();
	return T_DONE();
}
