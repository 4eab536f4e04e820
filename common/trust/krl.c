/*
 * OpenSSH key revocation lists: a strict parser (see krl.h for what is
 * checked and kept, and where we are stricter than OpenSSH).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "krl.h"

#define KRL_FORMAT_VERSION	1

#define SECTION_CERTIFICATES	1
#define SECTION_EXPLICIT_KEY	2
#define SECTION_SHA1		3
#define SECTION_SIGNATURE	4
#define SECTION_SHA256		5
#define SECTION_EXTENSION	255

#define CERT_SERIAL_LIST	0x20
#define CERT_SERIAL_RANGE	0x21
#define CERT_SERIAL_BITMAP	0x22
#define CERT_KEY_ID		0x23
#define CERT_EXTENSION		0x39

#define MAX_BIGNUM_BYTES	(16384 / 8)	/* OpenSSH SSHBUF_MAX_BIGNUM */

/* One KRL being parsed: where errors point. */
struct kp {
	const unsigned char	*base;
	const char		*name;
	struct err		*e;
	struct krl		*k;
};

static int
kp_err(struct kp *kp, const struct sshrd *at, const char *what)
{
	return err_set(kp->e, "%s: KRL: %s at byte %zu", kp->name, what,
	    (size_t)(at->p - kp->base));
}

/* A string with no NUL but a final one (OpenSSH sshbuf_get_cstring). */
static int
rd_cstring(struct sshrd *r, const unsigned char **s, size_t *len)
{
	struct sshrd save = *r;
	const unsigned char *z;

	if (sshrd_string(r, s, len) != 0)
		return -1;
	if (*len > 0 && (z = memchr(*s, '\0', *len)) != NULL &&
	    z < *s + *len - 1) {
		*r = save;
		return -1;
	}
	return 0;
}

/* A section: a type byte and its data as a reader. */
static int
rd_section(struct sshrd *r, uint8_t *type, struct sshrd *sect)
{
	struct sshrd save = *r;

	if (sshrd_u8(r, type) != 0 ||
	    sshrd_string(r, &sect->p, &sect->len) != 0) {
		*r = save;
		return -1;
	}
	return 0;
}

/*
 * Extension (section or certificate subsection): parsed, then refused as
 * OpenSSH 9.2 refuses it (see krl.h).
 */
static int
extension(struct kp *kp, struct sshrd *r)
{
	const unsigned char *name, *value;
	size_t nlen, vlen;
	uint8_t critical;
	char pname[64];

	if (rd_cstring(r, &name, &nlen) != 0 || sshrd_u8(r, &critical) != 0 ||
	    sshrd_string(r, &value, &vlen) != 0)
		return kp_err(kp, r, "invalid extension");
	if (r->len != 0)
		return kp_err(kp, r, "trailing data in extension");
	sshrd_printable(pname, sizeof(pname), name, nlen);
	return err_set(kp->e, "%s: KRL: unsupported %sextension '%s'",
	    kp->name, critical != 0 ? "critical " : "", pname);
}

static void
push(unsigned char **v, size_t *n, size_t *alloc, size_t size,
    const void *item)
{
	if (*n == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 16;
		*v = xreallocarray(*v, *alloc, size);
	}
	memcpy(*v + *n * size, item, size);
	(*n)++;
}

/* Serial numbers: a list of u64, none of them 0. */
static int
serial_list(struct kp *kp, struct sshrd *r)
{
	uint64_t serial;

	while (r->len > 0) {
		if (sshrd_u64(r, &serial) != 0)
			return kp_err(kp, r, "truncated serial list");
		if (serial == 0)
			return kp_err(kp, r, "serial number 0 revoked");
	}
	return 0;
}

static int
serial_range(struct kp *kp, struct sshrd *r)
{
	uint64_t lo, hi;

	if (sshrd_u64(r, &lo) != 0 || sshrd_u64(r, &hi) != 0)
		return kp_err(kp, r, "truncated serial range");
	if (lo == 0 || lo > hi)
		return kp_err(kp, r, "invalid serial range");
	return 0;
}

/*
 * u64 offset, mpint bitmap: bit N revokes serial offset + N.  As in
 * OpenSSH: not negative, at most 2048 bits (a leading zero byte allowed),
 * no serial past 2^64 - 1 and no serial 0.
 */
static int
serial_bitmap(struct kp *kp, struct sshrd *r)
{
	const unsigned char *b;
	size_t len, nbits;
	uint64_t off;
	int top;

	if (sshrd_u64(r, &off) != 0 || sshrd_string(r, &b, &len) != 0)
		return kp_err(kp, r, "truncated serial bitmap");
	if (len > 0 && (b[0] & 0x80) != 0)
		return kp_err(kp, r, "negative serial bitmap");
	if (len > MAX_BIGNUM_BYTES + 1 ||
	    (len == MAX_BIGNUM_BYTES + 1 && b[0] != 0))
		return kp_err(kp, r, "serial bitmap too large");
	while (len > 0 && b[0] == 0) {
		b++;
		len--;
	}
	if (len == 0)
		return 0;
	for (top = 7; (b[0] & (1 << top)) == 0; top--)
		;
	nbits = (len - 1) * 8 + (size_t)top + 1;
	if (off != 0 && nbits >= 2 && (uint64_t)(nbits - 1) >= 0 - off)
		return kp_err(kp, r, "serial bitmap wraps past 2^64");
	if (off == 0 && (b[len - 1] & 1) != 0)
		return kp_err(kp, r, "serial number 0 revoked");
	return 0;
}

static int
key_ids(struct kp *kp, struct sshrd *r)
{
	const unsigned char *id;
	size_t len;

	while (r->len > 0)
		if (rd_cstring(r, &id, &len) != 0)
			return kp_err(kp, r, "invalid key ID");
	return 0;
}

/* The CA key of a certificate section (see krl.h). */
static int
ca_key(struct kp *kp, struct sshrd *at, const unsigned char *blob,
    size_t len)
{
	struct sshsig_key key;
	struct err ke;

	if (len == 0)
		return 0;
	if (sshsig_key_parse(&key, blob, len, &ke) != 0)
		return kp_err(kp, at, "invalid CA key");
	if (key.type == SSHSIG_KEY_OTHER &&
	    !sshsig_keytype_known(key.type_name))
		return kp_err(kp, at, "CA key of an unknown type");
	return 0;
}

/* Certificates: CA key, reserved, subsections (parsed, then ignored). */
static int
certificates(struct kp *kp, struct sshrd *r)
{
	const unsigned char *blob, *reserved;
	size_t len, rlen;
	struct sshrd sub;
	uint8_t type;
	int ok;

	if (sshrd_string(r, &blob, &len) != 0 ||
	    sshrd_string(r, &reserved, &rlen) != 0)
		return kp_err(kp, r, "truncated certificate section");
	if (ca_key(kp, r, blob, len) != 0)
		return -1;
	while (r->len > 0) {
		if (rd_section(r, &type, &sub) != 0)
			return kp_err(kp, r, "truncated certificate "
			    "subsection");
		switch (type) {
		case CERT_SERIAL_LIST:
			ok = serial_list(kp, &sub);
			break;
		case CERT_SERIAL_RANGE:
			ok = serial_range(kp, &sub);
			break;
		case CERT_SERIAL_BITMAP:
			ok = serial_bitmap(kp, &sub);
			break;
		case CERT_KEY_ID:
			ok = key_ids(kp, &sub);
			break;
		case CERT_EXTENSION:
			ok = extension(kp, &sub);
			break;
		default:
			return kp_err(kp, r, "unknown certificate subsection");
		}
		if (ok != 0)
			return -1;
		if (sub.len != 0)
			return kp_err(kp, &sub, "unparsed data in certificate "
			    "subsection");
	}
	return 0;
}

/* Explicit keys: any blob; ed25519 ones are kept by their point. */
static int
explicit_keys(struct kp *kp, struct sshrd *r)
{
	struct sshsig_key key;
	const unsigned char *blob;
	struct err ke;
	size_t len;

	while (r->len > 0) {
		if (sshrd_string(r, &blob, &len) != 0)
			return kp_err(kp, r, "truncated explicit key");
		if (sshsig_key_parse(&key, blob, len, &ke) == 0 &&
		    key.type != SSHSIG_KEY_OTHER)
			push(&kp->k->pk, &kp->k->npk, &kp->k->pk_alloc, 32,
			    key.pk);
	}
	return 0;
}

/* Fingerprints: hashes of hlen bytes each. */
static int
hashes(struct kp *kp, struct sshrd *r, size_t hlen)
{
	const unsigned char *h;
	size_t len;

	while (r->len > 0) {
		if (sshrd_string(r, &h, &len) != 0)
			return kp_err(kp, r, "truncated fingerprint");
		if (len != hlen)
			return kp_err(kp, r, "fingerprint of the wrong length");
		if (hlen == 20)
			push(&kp->k->sha1, &kp->k->nsha1, &kp->k->sha1_alloc,
			    20, h);
		else
			push(&kp->k->sha256, &kp->k->nsha256,
			    &kp->k->sha256_alloc, 32, h);
	}
	return 0;
}

static int
header(struct kp *kp, struct sshrd *r)
{
	const unsigned char *magic, *s;
	uint64_t v;
	uint32_t version;
	size_t len;

	if (sshrd_bytes(r, KRL_MAGIC_LEN, &magic) != 0 ||
	    memcmp(magic, KRL_MAGIC, KRL_MAGIC_LEN) != 0)
		return kp_err(kp, r, "no KRL magic");
	if (sshrd_u32(r, &version) != 0)
		return kp_err(kp, r, "truncated header");
	if (version != KRL_FORMAT_VERSION)
		return kp_err(kp, r, "unsupported format version");
	if (sshrd_u64(r, &v) != 0 || sshrd_u64(r, &v) != 0 ||
	    sshrd_u64(r, &v) != 0 || sshrd_string(r, &s, &len) != 0 ||
	    rd_cstring(r, &s, &len) != 0)
		return kp_err(kp, r, "invalid header");
	return 0;
}

static int
section(struct kp *kp, uint8_t type, struct sshrd *sect)
{
	switch (type) {
	case SECTION_CERTIFICATES:
		return certificates(kp, sect);
	case SECTION_EXPLICIT_KEY:
		return explicit_keys(kp, sect);
	case SECTION_SHA1:
		return hashes(kp, sect, 20);
	case SECTION_SHA256:
		return hashes(kp, sect, 32);
	case SECTION_EXTENSION:
		return extension(kp, sect);
	case SECTION_SIGNATURE:
		return kp_err(kp, sect, "signature section (KRL signatures "
		    "are not supported)");
	}
	return kp_err(kp, sect, "unknown section type");
}

int
krl_is(const void *buf, size_t len)
{
	return len >= KRL_MAGIC_LEN && memcmp(buf, KRL_MAGIC, KRL_MAGIC_LEN) == 0;
}

int
krl_parse(struct krl *k, const char *name, const void *buf, size_t len,
    struct err *e)
{
	struct kp kp = { buf, name, e, k };
	struct sshrd r = { buf, len }, sect;
	uint8_t type;

	if (header(&kp, &r) != 0)
		return -1;
	while (r.len > 0) {
		if (rd_section(&r, &type, &sect) != 0)
			return kp_err(&kp, &r, "truncated section");
		if (section(&kp, type, &sect) != 0)
			return -1;
		if (sect.len != 0)
			return kp_err(&kp, &sect, "unparsed data in section");
	}
	return 0;
}

int
krl_revokes(const struct krl *k, const struct sshsig_key *key)
{
	unsigned char h1[20], h256[crypto_hash_sha256_BYTES];
	size_t i;

	for (i = 0; i < k->npk; i++)
		if (memcmp(k->pk + 32 * i, key->pk, 32) == 0)
			return 1;
	if (k->nsha1 > 0) {
		krl_sha1(key->blob, key->blob_len, h1);
		for (i = 0; i < k->nsha1; i++)
			if (memcmp(k->sha1 + 20 * i, h1, 20) == 0)
				return 1;
	}
	if (k->nsha256 > 0) {
		crypto_hash_sha256(h256, key->blob, key->blob_len);
		for (i = 0; i < k->nsha256; i++)
			if (memcmp(k->sha256 + 32 * i, h256, 32) == 0)
				return 1;
	}
	return 0;
}

void
krl_release(struct krl *k)
{
	free(k->pk);
	free(k->sha1);
	free(k->sha256);
	memset(k, 0, sizeof(*k));
}

/* SHA-1 (FIPS 180-4), for KRL fingerprints only. */
static uint32_t
rol(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

static void
sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void
krl_sha1(const void *buf, size_t len, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476,
	    0xc3d2e1f0 };
	const unsigned char *p = buf;
	unsigned char last[128];
	uint64_t bits = (uint64_t)len * 8;
	size_t rest, n, i;

	for (; len >= 64; p += 64, len -= 64)
		sha1_block(h, p);
	rest = len;
	memset(last, 0, sizeof(last));
	memcpy(last, p, rest);
	last[rest] = 0x80;
	n = rest + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		last[n - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha1_block(h, last);
	if (n == 128)
		sha1_block(h, last + 64);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}
