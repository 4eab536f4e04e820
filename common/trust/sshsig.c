/*
 * SSH signature verification (OpenSSH PROTOCOL.sshsig) with libsodium.
 *
 * Blob layout, every field length-checked, nothing allowed after the end:
 *	byte[6]	"SSHSIG"
 *	uint32	version (1)
 *	string	public key blob
 *	string	namespace
 *	string	reserved (must be empty)
 *	string	hash algorithm ("sha256" or "sha512")
 *	string	signature: string type, string sig[64]
 *		[sk: byte flags, uint32 counter]
 * Signed data: "SSHSIG" || string(namespace) || string("") ||
 * string(hash algorithm) || string(H(payload)); an sk key signs
 * SHA256(application) || flags || counter || SHA256(signed data) instead.
 *
 * Stricter than ssh-keygen -Y verify, on purpose:
 *  - nothing may precede the BEGIN line (as ssh-keygen) and only a line
 *    break may follow the END line (ssh-keygen ignores anything there);
 *  - inside the armor only line breaks are skipped, not spaces or tabs;
 *  - the version must be exactly 1 (ssh-keygen also takes 0);
 *  - the reserved field must be empty (ssh-keygen ignores its contents);
 *  - libsodium rejects non-canonical ed25519 signatures and small-order
 *    points that OpenSSH's reference code would accept.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "caps.h"
#include "sshsig.h"

#define SSHSIG_MAGIC		"SSHSIG"
#define SSHSIG_MAGIC_LEN	(sizeof(SSHSIG_MAGIC) - 1)
#define SSHSIG_VERSION		1
#define ARMOR_BEGIN		"-----BEGIN SSH SIGNATURE-----\n"
#define ARMOR_END		"\n-----END SSH SIGNATURE-----"
#define KT_ED25519		"ssh-ed25519"
#define KT_SK_ED25519		"sk-ssh-ed25519@openssh.com"
#define SK_USER_PRESENCE	0x01
#define ED25519_PK_LEN		32
#define ED25519_SIG_LEN		64

/* A bounds-checked reader over a byte string (OpenSSH's sshbuf, read-only). */
struct reader {
	const unsigned char	*p;
	size_t			 len;
};

static int
rd_bytes(struct reader *r, size_t n, const unsigned char **out)
{
	if (r->len < n)
		return -1;
	*out = r->p;
	r->p += n;
	r->len -= n;
	return 0;
}

static int
rd_u8(struct reader *r, uint8_t *v)
{
	const unsigned char *p;

	if (rd_bytes(r, 1, &p) != 0)
		return -1;
	*v = p[0];
	return 0;
}

static int
rd_u32(struct reader *r, uint32_t *v)
{
	const unsigned char *p;

	if (rd_bytes(r, 4, &p) != 0)
		return -1;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	return 0;
}

static int
rd_string(struct reader *r, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (rd_u32(r, &n) != 0 || n > r->len)
		return -1;
	*len = n;
	return rd_bytes(r, n, s);
}

static int
str_eq(const unsigned char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* A printable copy of an untrusted name for messages. */
static void
str_printable(char *out, size_t outsz, const unsigned char *s, size_t len)
{
	size_t i;

	if (outsz == 0)
		return;
	for (i = 0; i < len && i < outsz - 1; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'') ?
		    (char)s[i] : '?';
	out[i] = '\0';
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static const char *const known_types[] = {
	"ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ssh-rsa", "ssh-dss",
	"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"sk-ecdsa-sha2-nistp256@openssh.com", "ssh-xmss@openssh.com",
	"ssh-ed25519-cert-v01@openssh.com",
	"sk-ssh-ed25519-cert-v01@openssh.com",
	"ssh-rsa-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ssh-xmss-cert-v01@openssh.com",
};

int
sshsig_keytype_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++)
		if (strcmp(name, known_types[i]) == 0)
			return 1;
	return 0;
}

int
sshsig_key_parse(struct sshsig_key *k, const unsigned char *blob, size_t len,
    struct err *e)
{
	struct reader r = { blob, len };
	const unsigned char *type, *pk;
	size_t type_len, pk_len;

	memset(k, 0, sizeof(*k));
	k->blob = blob;
	k->blob_len = len;
	if (rd_string(&r, &type, &type_len) != 0)
		return err_set(e, "truncated public key");
	str_printable(k->type_name, sizeof(k->type_name), type, type_len);
	if (str_eq(type, type_len, KT_ED25519))
		k->type = SSHSIG_KEY_ED25519;
	else if (str_eq(type, type_len, KT_SK_ED25519))
		k->type = SSHSIG_KEY_SK_ED25519;
	else
		return 0;	/* SSHSIG_KEY_OTHER: the caller refuses it */
	if (rd_string(&r, &pk, &pk_len) != 0)
		return err_set(e, "truncated %s public key", k->type_name);
	if (pk_len != ED25519_PK_LEN)
		return err_set(e, "%s public key of %zu bytes instead of %d",
		    k->type_name, pk_len, ED25519_PK_LEN);
	memcpy(k->pk, pk, ED25519_PK_LEN);
	if (k->type == SSHSIG_KEY_SK_ED25519 &&
	    rd_string(&r, &k->app, &k->app_len) != 0)
		return err_set(e, "truncated %s application", k->type_name);
	if (r.len != 0)
		return err_set(e, "%zu trailing bytes after %s public key",
		    r.len, k->type_name);
	return 0;
}

void
sshsig_fingerprint(const unsigned char *blob, size_t len, char *out,
    size_t outsz)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	crypto_hash_sha256(h, blob, len);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(out, outsz, "SHA256:%s", b64);
}

/* Iterative glob with '*' and '?' (OpenSSH match_pattern), no recursion. */
static int
match_glob(const char *s, const char *p, size_t plen)
{
	size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
	size_t slen = strlen(s);

	while (si < slen) {
		if (pi < plen && (p[pi] == '?' || p[pi] == s[si])) {
			si++;
			pi++;
		} else if (pi < plen && p[pi] == '*') {
			star_p = pi++;
			star_s = si;
		} else if (star_p != (size_t)-1) {
			pi = star_p + 1;
			si = ++star_s;
		} else
			return 0;
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

int
sshsig_match_list(const char *s, const char *list)
{
	const char *p = list, *end;
	int negated, positive = 0;

	while (*p != '\0') {
		negated = *p == '!';
		if (negated)
			p++;
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		if (match_glob(s, p, (size_t)(end - p))) {
			if (negated)
				return -1;
			positive = 1;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return positive;
}

const char *
sig_status_name(enum sig_status st)
{
	switch (st) {
	case SIG_GOOD:			return "good";
	case SIG_MALFORMED:		return "malformed";
	case SIG_BAD_SIGNATURE:		return "bad-signature";
	case SIG_UNKNOWN_KEY:		return "unknown-key";
	case SIG_REVOKED:		return "revoked";
	case SIG_EXPIRED:		return "expired";
	case SIG_NOT_YET_VALID:		return "not-yet-valid";
	case SIG_WRONG_NAMESPACE:	return "wrong-namespace";
	case SIG_UNSUPPORTED_KEY:	return "unsupported-key";
	case SIG_CERT_ONLY:		return "cert-only";
	}
	return "unknown";
}

static const unsigned char *
mem_find(const unsigned char *hay, size_t hlen, const char *needle)
{
	size_t nlen = strlen(needle), i;

	for (i = 0; nlen <= hlen && i <= hlen - nlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

/*
 * Decodes the armor into blob (MAX_SIG_BLOB bytes).  Exactly one armored
 * block: BEGIN line at offset 0, base64 with line breaks, END line, at most
 * one line break after it.
 */
static int
sshsig_dearmor(const char *armor, size_t len, unsigned char *blob,
    size_t *blob_len, struct err *e)
{
	const unsigned char *a = (const unsigned char *)armor, *body, *end;
	const unsigned char *tail;
	size_t blen = sizeof(ARMOR_BEGIN) - 1, elen = sizeof(ARMOR_END) - 1;
	size_t tlen;
	const char *b64_end = NULL;

	if (len > MAX_ARMOR_SIZE)
		return err_set(e, "signature of %zu bytes is larger than %d "
		    "bytes", len, MAX_ARMOR_SIZE);
	if (len < blen || memcmp(a, ARMOR_BEGIN, blen) != 0)
		return err_set(e, "signature does not start with "
		    "'-----BEGIN SSH SIGNATURE-----'");
	body = a + blen;
	if ((end = mem_find(body - 1, len - blen + 1, ARMOR_END)) == NULL)
		return err_set(e, "signature has no "
		    "'-----END SSH SIGNATURE-----' line");
	tail = end + elen;
	tlen = len - (size_t)(tail - a);
	if (!(tlen == 0 || (tlen == 1 && tail[0] == '\n') ||
	    (tlen == 2 && tail[0] == '\r' && tail[1] == '\n')))
		return err_set(e, "unexpected text after "
		    "'-----END SSH SIGNATURE-----'");
	if (end <= body)
		return err_set(e, "empty signature");
	if (memchr(body, '\0', (size_t)(end - body)) != NULL)
		return err_set(e, "NUL byte in signature");
	if (sodium_base642bin(blob, MAX_SIG_BLOB, (const char *)body,
	    (size_t)(end - body), "\r\n", blob_len, &b64_end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    b64_end != (const char *)end)
		return err_set(e, "invalid base64 in signature");
	return 0;
}

/* The fields of a signature blob, pointing into it. */
struct sshsig_blob {
	const unsigned char	*key, *ns, *reserved, *hashalg, *sig;
	size_t			 key_len, ns_len, reserved_len, hashalg_len,
				 sig_len;
};

static int
sshsig_blob_parse(struct sshsig_blob *b, const unsigned char *blob,
    size_t len, struct err *e)
{
	struct reader r = { blob, len };
	const unsigned char *magic;
	uint32_t version;

	if (rd_bytes(&r, SSHSIG_MAGIC_LEN, &magic) != 0 ||
	    memcmp(magic, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) != 0)
		return err_set(e, "signature lacks the 'SSHSIG' magic");
	if (rd_u32(&r, &version) != 0)
		return err_set(e, "truncated signature");
	if (version != SSHSIG_VERSION)
		return err_set(e, "unsupported signature version %lu",
		    (unsigned long)version);
	if (rd_string(&r, &b->key, &b->key_len) != 0 ||
	    rd_string(&r, &b->ns, &b->ns_len) != 0 ||
	    rd_string(&r, &b->reserved, &b->reserved_len) != 0 ||
	    rd_string(&r, &b->hashalg, &b->hashalg_len) != 0 ||
	    rd_string(&r, &b->sig, &b->sig_len) != 0)
		return err_set(e, "truncated signature");
	if (r.len != 0)
		return err_set(e, "%zu trailing bytes after signature", r.len);
	return 0;
}

/* The inner signature: type, 64 bytes, and for sk flags and counter. */
struct sshsig_inner {
	const unsigned char	*sig;
	uint8_t			 flags;
	uint32_t		 counter;
};

static int
sshsig_inner_parse(struct sshsig_inner *in, const struct sshsig_key *k,
    const unsigned char *sig, size_t len, struct err *e)
{
	struct reader r = { sig, len };
	const unsigned char *type;
	size_t type_len, slen;
	char tname[48];

	if (rd_string(&r, &type, &type_len) != 0)
		return err_set(e, "truncated signature");
	if (!str_eq(type, type_len, k->type == SSHSIG_KEY_ED25519 ?
	    KT_ED25519 : KT_SK_ED25519)) {
		str_printable(tname, sizeof(tname), type, type_len);
		return err_set(e, "signature type '%s' does not match key "
		    "type '%s'", tname, k->type_name);
	}
	if (rd_string(&r, &in->sig, &slen) != 0)
		return err_set(e, "truncated signature");
	if (slen != ED25519_SIG_LEN)
		return err_set(e, "ed25519 signature of %zu bytes instead "
		    "of %d", slen, ED25519_SIG_LEN);
	if (k->type == SSHSIG_KEY_SK_ED25519 &&
	    (rd_u8(&r, &in->flags) != 0 || rd_u32(&r, &in->counter) != 0))
		return err_set(e, "truncated signature");
	if (r.len != 0)
		return err_set(e, "%zu trailing bytes after signature", r.len);
	return 0;
}

/* Builds the signed data and checks the ed25519 signature over it. */
static int
sshsig_check(const struct sshsig_blob *b, const struct sshsig_key *k,
    const struct sshsig_inner *in, const void *payload, size_t payload_len)
{
	unsigned char h[crypto_hash_sha512_BYTES], skmsg[32 + 1 + 4 + 32];
	unsigned char *m, *p;
	size_t hlen, mlen;
	int r;

	if (str_eq(b->hashalg, b->hashalg_len, "sha256")) {
		hlen = crypto_hash_sha256_BYTES;
		crypto_hash_sha256(h, payload, payload_len);
	} else {
		hlen = crypto_hash_sha512_BYTES;
		crypto_hash_sha512(h, payload, payload_len);
	}
	/* b->ns_len and b->hashalg_len are bounded by MAX_SIG_BLOB. */
	mlen = SSHSIG_MAGIC_LEN + 4 + b->ns_len + 4 + 4 + b->hashalg_len +
	    4 + hlen;
	p = m = xmalloc(mlen);
	memcpy(p, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN);
	p += SSHSIG_MAGIC_LEN;
	put_u32(p, (uint32_t)b->ns_len);
	memcpy(p + 4, b->ns, b->ns_len);
	p += 4 + b->ns_len;
	put_u32(p, 0);			/* reserved */
	p += 4;
	put_u32(p, (uint32_t)b->hashalg_len);
	memcpy(p + 4, b->hashalg, b->hashalg_len);
	p += 4 + b->hashalg_len;
	put_u32(p, (uint32_t)hlen);
	memcpy(p + 4, h, hlen);

	if (k->type == SSHSIG_KEY_ED25519) {
		r = crypto_sign_verify_detached(in->sig, m, mlen, k->pk);
	} else {
		crypto_hash_sha256(skmsg, k->app, k->app_len);
		skmsg[32] = in->flags;
		put_u32(skmsg + 33, in->counter);
		crypto_hash_sha256(skmsg + 37, m, mlen);
		r = crypto_sign_verify_detached(in->sig, skmsg, sizeof(skmsg),
		    k->pk);
	}
	free(m);
	return r == 0 ? 0 : -1;
}

/* Parses armor and blob and checks everything that needs no signers. */
static int
sshsig_verify_blob(const unsigned char *blob, size_t blob_len,
    const void *payload, size_t payload_len, const char *ns,
    struct sshsig_key *k, struct sig_info *info, struct err *e)
{
	struct sshsig_blob b;
	struct sshsig_inner in;
	char got[64];

	if (sshsig_blob_parse(&b, blob, blob_len, e) != 0 ||
	    sshsig_key_parse(k, b.key, b.key_len, e) != 0)
		return -1;
	snprintf(info->key_type, sizeof(info->key_type), "%s", k->type_name);
	sshsig_fingerprint(b.key, b.key_len, info->fingerprint,
	    sizeof(info->fingerprint));
	if (k->type == SSHSIG_KEY_OTHER) {
		info->status = SIG_UNSUPPORTED_KEY;
		return err_set(e, "unsupported key type '%s' (only "
		    KT_ED25519 " and " KT_SK_ED25519 ")", k->type_name);
	}
	memcpy(info->key, k->pk, sizeof(info->key));
	if (!str_eq(b.hashalg, b.hashalg_len, "sha256") &&
	    !str_eq(b.hashalg, b.hashalg_len, "sha512")) {
		str_printable(got, sizeof(got), b.hashalg, b.hashalg_len);
		return err_set(e, "unsupported hash algorithm '%s'", got);
	}
	if (b.reserved_len != 0)
		return err_set(e, "signature has a non-empty reserved field");
	if (!str_eq(b.ns, b.ns_len, ns)) {
		str_printable(got, sizeof(got), b.ns, b.ns_len);
		info->status = SIG_WRONG_NAMESPACE;
		return err_set(e, "signature is for namespace '%s', not '%s'",
		    got, ns);
	}
	if (sshsig_inner_parse(&in, k, b.sig, b.sig_len, e) != 0)
		return -1;
	info->status = SIG_BAD_SIGNATURE;
	if (sshsig_check(&b, k, &in, payload, payload_len) != 0)
		return err_set(e, "bad signature by key %s", info->fingerprint);
	if (k->type == SSHSIG_KEY_SK_ED25519 &&
	    (in.flags & SK_USER_PRESENCE) == 0)
		return err_set(e, "signature by key %s lacks user presence "
		    "(flags 0x%02x)", info->fingerprint, in.flags);
	return 0;
}

int
sshsig_verify(const struct signers *s, const char *armor, size_t armor_len,
    const void *payload, size_t payload_len, const char *ns, time_t now,
    struct sig_info *info, struct err *e)
{
	struct sshsig_key k;
	unsigned char *blob = NULL;
	size_t blob_len = 0;
	int r = -1;

	memset(info, 0, sizeof(*info));
	info->status = SIG_MALFORMED;
	if (sodium_init() < 0)
		return err_set(e, "cannot initialise libsodium");
	if (s == NULL || armor == NULL || ns == NULL ||
	    (payload == NULL && payload_len != 0))
		return err_set(e, "sshsig_verify: missing argument");
	if (payload == NULL)
		payload = "";
	blob = xmalloc(MAX_SIG_BLOB);
	if (sshsig_dearmor(armor, armor_len, blob, &blob_len, e) != 0 ||
	    sshsig_verify_blob(blob, blob_len, payload, payload_len, ns, &k,
	    info, e) != 0)
		goto out;
	r = signers_check(s, &k, ns, now, info, e);
 out:
	if (r != 0 && info->status == SIG_GOOD)
		info->status = SIG_MALFORMED;	/* never report good on error */
	free(blob);
	return r;
}
