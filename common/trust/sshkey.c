/*
 * SSH public keys, OpenSSH's pattern lists and the verdict names: the
 * leaf of the trust layer, shared by sshsig.c and allowed_signers.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sshkey.h"

#define KT_ED25519		"ssh-ed25519"
#define KT_SK_ED25519		"sk-ssh-ed25519@openssh.com"
#define ED25519_PK_LEN		32
#define MATCH_SUBPATTERN_MAX	1023	/* OpenSSH: char sub[1024] */

int
sshrd_bytes(struct sshrd *r, size_t n, const unsigned char **out)
{
	if (r->len < n)
		return -1;
	*out = r->p;
	r->p += n;
	r->len -= n;
	return 0;
}

int
sshrd_u8(struct sshrd *r, uint8_t *v)
{
	const unsigned char *p;

	if (sshrd_bytes(r, 1, &p) != 0)
		return -1;
	*v = p[0];
	return 0;
}

int
sshrd_u32(struct sshrd *r, uint32_t *v)
{
	const unsigned char *p;

	if (r->len < 4)
		return -1;
	sshrd_bytes(r, 4, &p);
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	return 0;
}

int
sshrd_u64(struct sshrd *r, uint64_t *v)
{
	uint32_t hi, lo;

	if (r->len < 8)
		return -1;
	sshrd_u32(r, &hi);
	sshrd_u32(r, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
sshrd_string(struct sshrd *r, const unsigned char **s, size_t *len)
{
	struct sshrd save = *r;
	uint32_t n;

	if (sshrd_u32(r, &n) != 0 || n > r->len) {
		*r = save;
		return -1;
	}
	*len = n;
	return sshrd_bytes(r, n, s);
}

int
sshrd_str_eq(const unsigned char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

void
sshrd_printable(char *out, size_t outsz, const unsigned char *s, size_t len)
{
	size_t i;

	if (outsz == 0)
		return;
	for (i = 0; i < len && i < outsz - 1; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'') ?
		    (char)s[i] : '?';
	out[i] = '\0';
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
	struct sshrd r = { blob, len };
	const unsigned char *type, *pk;
	size_t type_len, pk_len;

	memset(k, 0, sizeof(*k));
	k->blob = blob;
	k->blob_len = len;
	if (sshrd_string(&r, &type, &type_len) != 0)
		return err_set(e, "truncated public key");
	sshrd_printable(k->type_name, sizeof(k->type_name), type, type_len);
	if (sshrd_str_eq(type, type_len, KT_ED25519))
		k->type = SSHSIG_KEY_ED25519;
	else if (sshrd_str_eq(type, type_len, KT_SK_ED25519))
		k->type = SSHSIG_KEY_SK_ED25519;
	else
		return 0;	/* SSHSIG_KEY_OTHER: the caller refuses it */
	if (sshrd_string(&r, &pk, &pk_len) != 0)
		return err_set(e, "truncated %s public key", k->type_name);
	if (pk_len != ED25519_PK_LEN)
		return err_set(e, "%s public key of %zu bytes instead of %d",
		    k->type_name, pk_len, ED25519_PK_LEN);
	memcpy(k->pk, pk, ED25519_PK_LEN);
	if (k->type == SSHSIG_KEY_SK_ED25519 &&
	    sshrd_string(&r, &k->app, &k->app_len) != 0)
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
		/* OpenSSH copies a sub-pattern into 1024 bytes or gives up. */
		if ((size_t)(end - p) >= MATCH_SUBPATTERN_MAX)
			return 0;
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
