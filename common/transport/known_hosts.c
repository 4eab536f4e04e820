/*
 * known_hosts in OpenSSH's format: comma-separated host patterns with '*'
 * and '?', negation with '!', "[host]:port" for a port other than 22,
 * hashed "|1|salt|hash" names (HMAC-SHA1, computed here: libsodium has no
 * SHA-1) and @revoked markers.  @cert-authority lines are skipped.  At
 * most MAX_KNOWN_HOSTS_LINES lines are read from one file.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <sodium.h>

#include "buf.h"
#include "caps.h"
#include "fsutil.h"
#include "known_hosts.h"

struct sha1 {
	uint32_t	h[5];
	uint64_t	len;
	unsigned char	buf[64];
};

#define ROL(x, n)	(((x) << (n)) | ((x) >> (32 - (n))))

static void
sha1_block(struct sha1 *c, const unsigned char *p)
{
	uint32_t w[80], a, b, d, e, f, k, t, cc;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3]; e = c->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ cc ^ d;
			k = 0xca62c1d6;
		}
		t = ROL(a, 5) + f + e + k + w[i];
		e = d; d = cc; cc = ROL(b, 30); b = a; a = t;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d; c->h[4] += e;
}

static void
sha1_init(struct sha1 *c)
{
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
	    0x10325476, 0xc3d2e1f0 };

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
}

static void
sha1_update(struct sha1 *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t used;

	while (n > 0) {
		used = c->len % 64;
		c->buf[used] = *p++;
		c->len++;
		n--;
		if (used == 63)
			sha1_block(c, c->buf);
	}
}

static void
sha1_final(struct sha1 *c, unsigned char out[20])
{
	uint64_t bits = c->len * 8;
	unsigned char pad = 0x80, len[8];
	int i;

	sha1_update(c, &pad, 1);
	pad = 0;
	while (c->len % 64 != 56)
		sha1_update(c, &pad, 1);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, len, 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* HMAC-SHA1 with a key of at most 64 bytes (known_hosts salts are 20). */
static void
hmac_sha1(const unsigned char *key, size_t klen, const char *msg,
    unsigned char out[20])
{
	unsigned char k[64], inner[20];
	struct sha1 c;
	size_t i;

	memset(k, 0, sizeof(k));
	memcpy(k, key, klen > 64 ? 64 : klen);
	for (i = 0; i < 64; i++)
		k[i] ^= 0x36;
	sha1_init(&c);
	sha1_update(&c, k, 64);
	sha1_update(&c, msg, strlen(msg));
	sha1_final(&c, inner);
	for (i = 0; i < 64; i++)
		k[i] ^= 0x36 ^ 0x5c;
	sha1_init(&c);
	sha1_update(&c, k, 64);
	sha1_update(&c, inner, 20);
	sha1_final(&c, out);
}

/* "|1|salt|hash" against name. */
static bool
hashed_match(const char *pat, size_t plen, const char *name)
{
	unsigned char salt[64], hash[64], mac[20];
	size_t slen, hlen;
	const char *bar, *end = pat + plen;

	pat += 3;
	if ((bar = memchr(pat, '|', (size_t)(end - pat))) == NULL)
		return false;
	if (sodium_base642bin(salt, sizeof(salt), pat, (size_t)(bar - pat),
	    NULL, &slen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    sodium_base642bin(hash, sizeof(hash), bar + 1,
	    (size_t)(end - bar - 1), NULL, &hlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || hlen != 20)
		return false;
	hmac_sha1(salt, slen, name, mac);
	return sodium_memcmp(mac, hash, 20) == 0;
}

/* OpenSSH host patterns: '*' and '?' only ('[' is literal: [host]:port). */
static bool
glob_match(const char *pat, const char *s)
{
	for (; *pat != '\0'; pat++, s++) {
		if (*pat == '*') {
			for (; *s != '\0'; s++)
				if (glob_match(pat + 1, s))
					return true;
			return glob_match(pat + 1, s);
		}
		if (*s == '\0' || (*pat != '?' &&
		    tolower((unsigned char)*pat) != tolower((unsigned char)*s)))
			return false;
	}
	return *s == '\0';
}

/* Whether the comma-separated patterns match name ("host" or "[host]:port"). */
static bool
hosts_match(const char *pats, size_t len, const char *name)
{
	char pat[1024];
	const char *p = pats, *end = pats + len, *comma;
	bool negated, hit = false;
	size_t n;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		n = (size_t)((comma ? comma : end) - p);
		negated = n > 0 && *p == '!';
		if (strncmp(p, "|1|", n < 3 ? n : 3) == 0 && n > 3) {
			if (hashed_match(p, n, name))
				hit = true;
		} else if (n - negated < sizeof(pat)) {
			memcpy(pat, p + negated, n - negated);
			pat[n - negated] = '\0';
			if (glob_match(pat, name)) {
				if (negated)
					return false;
				hit = true;
			}
		}
		p += n + 1;
	}
	return hit;
}

static size_t
key_type_len(const unsigned char *blob, size_t len)
{
	size_t n;

	if (len < 4)
		return 0;
	n = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
	    (size_t)blob[2] << 8 | blob[3];
	return n <= len - 4 ? n + 4 : 0;
}

/* One line: 1 match, 0 does not apply, -1 changed, -2 revoked. */
static int
known_line(char *line, const char *name, const unsigned char *blob,
    size_t len)
{
	unsigned char key[8192];
	char *f[4], *p = line;
	size_t klen, tl;
	bool revoked = false;
	int i;

	for (i = 0; i < 4; i++) {
		p += strspn(p, " \t");
		f[i] = p;
		p += strcspn(p, " \t\r\n");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (*f[0] == '\0' || *f[0] == '#')
		return 0;
	if (*f[0] == '@') {
		if (strcmp(f[0], "@revoked") != 0)
			return 0;	/* @cert-authority: not supported */
		revoked = true;
		f[0] = f[1]; f[1] = f[2]; f[2] = f[3];
	}
	if (!hosts_match(f[0], strlen(f[0]), name))
		return 0;
	if (sodium_base642bin(key, sizeof(key), f[2], strlen(f[2]), NULL,
	    &klen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return 0;
	if (klen == len && memcmp(key, blob, len) == 0)
		return revoked ? -2 : 1;
	tl = key_type_len(blob, len);
	if (!revoked && tl != 0 && tl == key_type_len(key, klen) &&
	    memcmp(key, blob, tl) == 0)
		return -1;
	return 0;
}

int
known_hosts_check_mem(const char *name_for_msgs, const char *data,
    size_t dlen, const char *host, int port, const unsigned char *blob,
    size_t len, struct err *e)
{
	char name[300], *line = NULL;
	const char *p = data, *end = data + dlen, *nl;
	size_t n;
	int r, found = 0, changed = 0, lines = 0;

	if (port == 22 || port <= 0)
		snprintf(name, sizeof(name), "%s", host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", host, port);
	while (p < end && lines++ < MAX_KNOWN_HOSTS_LINES) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		line = xmalloc(n + 1);
		memcpy(line, p, n);
		line[n] = '\0';
		p += n;
		r = known_line(line, name, blob, len);
		free(line);
		if (r == -2) {
			found = -2;
			break;
		}
		if (r == 1)
			found = 1;
		else if (r == -1)
			changed = 1;
	}
	if (found == -2) {
		err_set(e, "host key of '%s' is revoked in '%s'", name,
		    name_for_msgs);
		return -1;
	}
	if (found == 1)
		return 1;
	if (changed) {
		err_set(e, "host key of '%s' does not match the one in '%s' "
		    "(changed host key?)", name, name_for_msgs);
		return -1;
	}
	return 0;
}

int
known_hosts_check(const char *path, const char *host, int port,
    const unsigned char *blob, size_t len, struct err *e)
{
	struct buf b = BUF_INIT(MAX_KNOWN_HOSTS_SIZE);
	int r;

	if (fs_read_file(path, MAX_KNOWN_HOSTS_SIZE, &b, e) == -1) {
		buf_release(&b);
		return -2;
	}
	r = known_hosts_check_mem(path, b.data ? b.data : "", b.len, host,
	    port, blob, len, e);
	buf_release(&b);
	return r;
}
