/* krl: the corpus (made by ssh-keygen -k and by hand), SHA-1, lookups. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "krl.h"
#include "t.h"

/* Every file of corpus/krl/good parses, every one of bad/ does not. */
static void
test_corpus(const char *sub, int good)
{
	char dir[512], path[1024];
	struct dirent *d;
	struct krl k;
	struct err e;
	DIR *dp;
	char *data;
	size_t len;
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/tests/corpus/krl/%s",
	    getenv("NIXPULL_SRCDIR") ? getenv("NIXPULL_SRCDIR") : "..", sub);
	T_OK((dp = opendir(dir)) != NULL);
	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		T_OK((data = t_slurp(path, &len)) != NULL);
		if (data == NULL)
			continue;
		files++;
		memset(&k, 0, sizeof(k));
		e.msg[0] = '\0';
		T_OK(krl_is(data, len));
		if (good && krl_parse(&k, d->d_name, data, len, &e) != 0)
			T_FAIL("%s: %s", path, e.msg);
		if (!good) {
			if (krl_parse(&k, "bad", data, len, &e) == 0)
				T_FAIL("%s: parsed", path);
			T_CONTAINS(e.msg, "bad: KRL: ");
		}
		krl_release(&k);
		free(data);
	}
	closedir(dp);
	T_OK(files >= 10);
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
test_sha1(void)
{
	unsigned char h[20], *big;
	char x[41];

	krl_sha1("", 0, h);
	hex(h, 20, x);
	T_EQ_STR(x, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	krl_sha1("abc", 3, h);
	hex(h, 20, x);
	T_EQ_STR(x, "a9993e364706816aba3e25717850c26c9cd0d89d");
	krl_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, h);
	hex(h, 20, x);
	T_EQ_STR(x, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	big = malloc(1000000);
	memset(big, 'a', 1000000);
	krl_sha1(big, 1000000, h);
	hex(h, 20, x);
	T_EQ_STR(x, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(big);
}

/* A KRL with each kind of entry revokes exactly that key. */
static void
test_revokes(void)
{
	static const unsigned char hdr[] = "SSHKRL\n\0\0\0\0\1"
	    "\0\0\0\0\0\0\0\1" "\0\0\0\0\0\0\0\0" "\0\0\0\0\0\0\0\0"
	    "\0\0\0\0" "\0\0\0\0";
	unsigned char blob[51], other[51], buf[256], h[32];
	struct sshsig_key key, okey;
	struct krl k;
	struct err e;
	size_t n;

	memcpy(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
	memset(blob + 19, 7, 32);
	memcpy(other, blob, sizeof(other));
	other[50] = 8;
	T_EQ_INT(sshsig_key_parse(&key, blob, sizeof(blob), &e), 0);
	T_EQ_INT(sshsig_key_parse(&okey, other, sizeof(other), &e), 0);

	/* explicit key: section 2, one string */
	n = sizeof(hdr) - 1;
	memcpy(buf, hdr, n);
	buf[n++] = 2;
	memcpy(buf + n, "\0\0\0\x37\0\0\0\x33", 8);
	memcpy(buf + n + 8, blob, sizeof(blob));
	n += 8 + sizeof(blob);
	memset(&k, 0, sizeof(k));
	T_EQ_INT(krl_parse(&k, "k", buf, n, &e), 0);
	T_OK(krl_revokes(&k, &key));
	T_OK(!krl_revokes(&k, &okey));
	krl_release(&k);

	/* SHA-256 and SHA-1 of the blob: sections 5 and 3 */
	for (int t = 3; t <= 5; t += 2) {
		size_t hl = t == 3 ? 20 : 32;

		if (t == 3)
			krl_sha1(blob, sizeof(blob), h);
		else
			crypto_hash_sha256(h, blob, sizeof(blob));
		n = sizeof(hdr) - 1;
		buf[n++] = (unsigned char)t;
		memcpy(buf + n, "\0\0\0", 3);
		buf[n + 3] = (unsigned char)(4 + hl);
		memcpy(buf + n + 4, "\0\0\0", 3);
		buf[n + 7] = (unsigned char)hl;
		memcpy(buf + n + 8, h, hl);
		n += 8 + hl;
		memset(&k, 0, sizeof(k));
		T_EQ_INT(krl_parse(&k, "k", buf, n, &e), 0);
		T_OK(krl_revokes(&k, &key));
		T_OK(!krl_revokes(&k, &okey));
		krl_release(&k);
		/* one byte short: refused, with where */
		memset(&k, 0, sizeof(k));
		T_EQ_INT(krl_parse(&k, "k", buf, n - 1, &e), -1);
		T_CONTAINS(e.msg, "k: KRL: truncated section at byte");
		krl_release(&k);
	}
	T_OK(!krl_is("ssh-ed25519 AAAA", 16));
	T_OK(!krl_is("SSHKRL\n", 7));
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_corpus("good", 1);
	test_corpus("bad", 0);
	test_sha1();
	test_revokes();
	return T_DONE();
}
