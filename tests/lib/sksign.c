/*
 * sksign: makes an SSH signature like `ssh-keygen -Y sign` from a known
 * seed with libsodium, so that the tests can sign with a (simulated)
 * sk-ssh-ed25519@openssh.com key, and can build blobs ssh-keygen would
 * never write.
 *
 *	sksign [-p] [-t sk|ed25519] [-s SEED] [-a APPLICATION] [-f FLAGS]
 *	    [-c COUNTER] [-n NAMESPACE] [-H sha256|sha512] [-V VERSION]
 *	    [-R RESERVED] [-T TRAILING] FILE
 *
 * Prints the public key line ("TYPE BASE64 sksign") on stdout and writes
 * the armored signature of FILE to FILE.sig; with -p only prints the key.
 * Defaults: -t sk -s nixpull -a ssh: -f 0x01 -c 1 -n git -H sha512 -V 1.
 * -R puts text in the reserved field; -T appends bytes after the blob.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"

struct opts {
	int		 sk;
	const char	*seed, *app, *ns, *hashalg, *reserved, *trailing;
	unsigned long	 flags, counter, version;
	int		 pubonly;
};

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 8),
	    (unsigned char)v };

	if (buf_add(b, p, 4) != 0)
		abort();
}

static void
put_string(struct buf *b, const void *s, size_t n)
{
	put_u32(b, (uint32_t)n);
	if (buf_add(b, s, n) != 0)
		abort();
}

static void
put_cstring(struct buf *b, const char *s)
{
	put_string(b, s, strlen(s));
}

static char *
b64(const void *p, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL);
	char *out = xmalloc(len);

	return sodium_bin2base64(out, len, p, n,
	    sodium_base64_VARIANT_ORIGINAL);
}

static int
read_all(const char *path, struct buf *b)
{
	char chunk[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_add(b, chunk, (size_t)n) != 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* The message actually signed: SSHSIG signed data, or its sk wrapping. */
static void
signed_data(const struct opts *o, const struct buf *payload, struct buf *m)
{
	unsigned char h[crypto_hash_sha512_BYTES], apph[32], mh[32];
	struct buf d = BUF_INIT(1 << 20);
	size_t hlen = strcmp(o->hashalg, "sha256") == 0 ? 32 : 64;

	if (hlen == 32)
		crypto_hash_sha256(h, (const unsigned char *)payload->data,
		    payload->len);
	else
		crypto_hash_sha512(h, (const unsigned char *)payload->data,
		    payload->len);
	if (buf_add(&d, "SSHSIG", 6) != 0)
		abort();
	put_cstring(&d, o->ns);
	put_string(&d, "", 0);
	put_cstring(&d, o->hashalg);
	put_string(&d, h, hlen);
	if (!o->sk) {
		if (buf_add(m, d.data, d.len) != 0)
			abort();
	} else {
		crypto_hash_sha256(apph, (const unsigned char *)o->app,
		    strlen(o->app));
		crypto_hash_sha256(mh, (const unsigned char *)d.data, d.len);
		if (buf_add(m, apph, 32) != 0 || buf_addch(m,
		    (char)(o->flags & 0xff)) != 0)
			abort();
		put_u32(m, (uint32_t)o->counter);
		if (buf_add(m, mh, 32) != 0)
			abort();
	}
	buf_release(&d);
}

static int
sign(const struct opts *o, const char *path, const unsigned char *pkblob,
    size_t pklen, const unsigned char *sk)
{
	struct buf payload = BUF_INIT(1 << 30), m = BUF_INIT(1 << 20);
	struct buf sig = BUF_INIT(1 << 20), blob = BUF_INIT(1 << 20);
	unsigned char s[crypto_sign_BYTES];
	char *armor, *out;
	size_t i, n;
	FILE *f;

	if (read_all(path, &payload) != 0) {
		fprintf(stderr, "sksign: cannot read '%s'\n", path);
		return 1;
	}
	signed_data(o, &payload, &m);
	crypto_sign_detached(s, NULL, (const unsigned char *)m.data, m.len,
	    sk);
	put_cstring(&sig, o->sk ? "sk-ssh-ed25519@openssh.com" :
	    "ssh-ed25519");
	put_string(&sig, s, sizeof(s));
	if (o->sk) {
		if (buf_addch(&sig, (char)(o->flags & 0xff)) != 0)
			abort();
		put_u32(&sig, (uint32_t)o->counter);
	}
	if (buf_add(&blob, "SSHSIG", 6) != 0)
		abort();
	put_u32(&blob, (uint32_t)o->version);
	put_string(&blob, pkblob, pklen);
	put_cstring(&blob, o->ns);
	put_cstring(&blob, o->reserved);
	put_cstring(&blob, o->hashalg);
	put_string(&blob, sig.data, sig.len);
	if (buf_addstr(&blob, o->trailing) != 0)
		abort();
	armor = b64(blob.data, blob.len);
	out = xasprintf("%s.sig", path);
	if ((f = fopen(out, "w")) == NULL) {
		fprintf(stderr, "sksign: cannot write '%s'\n", out);
		return 1;
	}
	fputs("-----BEGIN SSH SIGNATURE-----\n", f);
	n = strlen(armor);
	for (i = 0; i < n; i += 70)
		fprintf(f, "%.*s\n", (int)(n - i < 70 ? n - i : 70), armor + i);
	fputs("-----END SSH SIGNATURE-----\n", f);
	fclose(f);
	free(out);
	free(armor);
	buf_release(&payload);
	buf_release(&m);
	buf_release(&sig);
	buf_release(&blob);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: sksign [-p] [-t sk|ed25519] [-s SEED] "
	    "[-a APPLICATION] [-f FLAGS] [-c COUNTER] [-n NAMESPACE] "
	    "[-H HASHALG] [-V VERSION] [-R RESERVED] [-T TRAILING] FILE\n");
	return 2;
}

static int
num(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno != 0 || *end != '\0' || end == s || *v > 0xffffffffUL;
}

int
main(int argc, char **argv)
{
	struct opts o = { 1, "nixpull", "ssh:", "git", "sha512", "", "",
	    0x01, 1, 1, 0 };
	unsigned char seed[32], pk[32], sk[64];
	struct buf pkblob = BUF_INIT(4096);
	char *pkb64;
	int c, r;

	while ((c = getopt(argc, argv, "pt:s:a:f:c:n:H:V:R:T:")) != -1) {
		switch (c) {
		case 'p': o.pubonly = 1; break;
		case 't': o.sk = strcmp(optarg, "sk") == 0; break;
		case 's': o.seed = optarg; break;
		case 'a': o.app = optarg; break;
		case 'f': if (num(optarg, &o.flags)) return usage(); break;
		case 'c': if (num(optarg, &o.counter)) return usage(); break;
		case 'n': o.ns = optarg; break;
		case 'H': o.hashalg = optarg; break;
		case 'V': if (num(optarg, &o.version)) return usage(); break;
		case 'R': o.reserved = optarg; break;
		case 'T': o.trailing = optarg; break;
		default: return usage();
		}
	}
	if (argc - optind != (o.pubonly ? 0 : 1))
		return usage();
	if (sodium_init() < 0)
		return 1;
	crypto_hash_sha256(seed, (const unsigned char *)o.seed,
	    strlen(o.seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	put_cstring(&pkblob, o.sk ? "sk-ssh-ed25519@openssh.com" :
	    "ssh-ed25519");
	put_string(&pkblob, pk, sizeof(pk));
	if (o.sk)
		put_cstring(&pkblob, o.app);
	pkb64 = b64(pkblob.data, pkblob.len);
	printf("%s %s sksign\n", o.sk ? "sk-ssh-ed25519@openssh.com" :
	    "ssh-ed25519", pkb64);
	free(pkb64);
	r = o.pubonly ? 0 : sign(&o, argv[optind],
	    (const unsigned char *)pkblob.data, pkblob.len, sk);
	sodium_memzero(sk, sizeof(sk));
	buf_release(&pkblob);
	return r;
}
