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
#include "sshkey.h"
#include "sshsig.h"

#define SSHSIG_MAGIC		"SSHSIG"
#define SSHSIG_MAGIC_LEN	(sizeof(SSHSIG_MAGIC) - 1)
#define SSHSIG_VERSION		1
#define ARMOR_BEGIN		"-----BEGIN SSH SIGNATURE-----\n"
#define ARMOR_END		"\n-----END SSH SIGNATURE-----"
#define KT_ED25519		"ssh-ed25519"
#define KT_SK_ED25519		"sk-ssh-ed25519@openssh.com"
#define SK_USER_PRESENCE	0x01
#define ED25519_SIG_LEN		64

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
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
	struct sshrd r = { blob, len };
	const unsigned char *magic;
	uint32_t version;

	if (sshrd_bytes(&r, SSHSIG_MAGIC_LEN, &magic) != 0 ||
	    memcmp(magic, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) != 0)
		return err_set(e, "signature lacks the 'SSHSIG' magic");
	if (sshrd_u32(&r, &version) != 0)
		return err_set(e, "truncated signature");
	if (version != SSHSIG_VERSION)
		return err_set(e, "unsupported signature version %lu",
		    (unsigned long)version);
	if (sshrd_string(&r, &b->key, &b->key_len) != 0 ||
	    sshrd_string(&r, &b->ns, &b->ns_len) != 0 ||
	    sshrd_string(&r, &b->reserved, &b->reserved_len) != 0 ||
	    sshrd_string(&r, &b->hashalg, &b->hashalg_len) != 0 ||
	    sshrd_string(&r, &b->sig, &b->sig_len) != 0)
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
	struct sshrd r = { sig, len };
	const unsigned char *type;
	size_t type_len, slen;
	char tname[48];

	if (sshrd_string(&r, &type, &type_len) != 0)
		return err_set(e, "truncated signature");
	if (!sshrd_str_eq(type, type_len, k->type == SSHSIG_KEY_ED25519 ?
	    KT_ED25519 : KT_SK_ED25519)) {
		sshrd_printable(tname, sizeof(tname), type, type_len);
		return err_set(e, "signature type '%s' does not match key "
		    "type '%s'", tname, k->type_name);
	}
	if (sshrd_string(&r, &in->sig, &slen) != 0)
		return err_set(e, "truncated signature");
	if (slen != ED25519_SIG_LEN)
		return err_set(e, "ed25519 signature of %zu bytes instead "
		    "of %d", slen, ED25519_SIG_LEN);
	if (k->type == SSHSIG_KEY_SK_ED25519 &&
	    (sshrd_u8(&r, &in->flags) != 0 || sshrd_u32(&r, &in->counter) != 0))
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

	if (sshrd_str_eq(b->hashalg, b->hashalg_len, "sha256")) {
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
	if (!sshrd_str_eq(b.hashalg, b.hashalg_len, "sha256") &&
	    !sshrd_str_eq(b.hashalg, b.hashalg_len, "sha512")) {
		sshrd_printable(got, sizeof(got), b.hashalg, b.hashalg_len);
		return err_set(e, "unsupported hash algorithm '%s'", got);
	}
	if (b.reserved_len != 0)
		return err_set(e, "signature has a non-empty reserved field");
	if (!sshrd_str_eq(b.ns, b.ns_len, ns)) {
		sshrd_printable(got, sizeof(got), b.ns, b.ns_len);
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
